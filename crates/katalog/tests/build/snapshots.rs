//! Rendered objects of a few packs, pinned as YAML snapshots.

use serde_json::{Map, Value};

use super::packs::{build_pack, packs};

fn objects(pack: &str, cr: &str) -> Vec<Value> {
    let p = packs().into_iter().find(|p| p.name == pack).unwrap();
    build_pack(&p, &Map::new())
        .into_iter()
        .find(|(name, _)| name == cr)
        .unwrap_or_else(|| panic!("{pack}: no CR {cr}"))
        .1
        .children
        .into_iter()
        .map(|c| c.object)
        .collect()
}

#[test]
fn beginner_02_with_serviceaccount() {
    insta::assert_yaml_snapshot!(objects("beginner-02-with-serviceaccount", "my-site"));
}

#[test]
fn intermediate_04_multi_resource() {
    insta::assert_yaml_snapshot!(objects("intermediate-04-multi-resource", "my-app"));
}

#[test]
fn use_cases_profiles_networkpolicy() {
    insta::assert_yaml_snapshot!(objects("use-cases-profiles/06-networkpolicy", "my-service"));
}

#[test]
fn ecosystem_crossplane_custom_child() {
    insta::assert_yaml_snapshot!(objects("ecosystem-crossplane", "webapp-db"));
}

#[test]
fn serve_translation_cronjob() {
    insta::assert_yaml_snapshot!(objects(
        "use-cases-crd-conversion-serve-translation",
        "daily-backup"
    ));
}
