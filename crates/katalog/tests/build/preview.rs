//! `ork template`'s library half: picking the CRD and adding placeholder owners.

use katalog::build::{PLACEHOLDER_UID, PreviewError, preview};

use super::packs::{packs, read_crs};

fn pack(name: &str) -> (katalog::Loaded, Vec<serde_json::Value>) {
    let p = packs().into_iter().find(|p| p.name == name).unwrap();
    let crs = p.crs.iter().flat_map(|f| read_crs(f)).collect();
    (katalog::load(&p.entry).unwrap(), crs)
}

#[test]
fn the_crs_kind_picks_the_crd_and_children_get_placeholder_owners() {
    let (loaded, crs) = pack("beginner-02-with-serviceaccount");
    let objects = preview(&loaded.katalog, &crs[0], None).unwrap();
    assert_eq!(objects.len(), 3);
    for o in &objects {
        assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], PLACEHOLDER_UID);
        assert_eq!(o["metadata"]["ownerReferences"][0]["kind"], "Website");
    }
}

#[test]
fn a_kind_no_crd_has_or_an_unknown_crd_name_is_an_error() {
    let (loaded, crs) = pack("beginner-02-with-serviceaccount");
    let mut other = crs[0].clone();
    other["kind"] = "Gadget".into();
    assert!(matches!(
        preview(&loaded.katalog, &other, None),
        Err(PreviewError::NoCrdForKind { .. })
    ));
    assert!(matches!(
        preview(&loaded.katalog, &crs[0], Some("nope")),
        Err(PreviewError::UnknownCrd(_))
    ));
    assert_eq!(
        preview(&loaded.katalog, &crs[0], Some("website"))
            .unwrap()
            .len(),
        3
    );
}
