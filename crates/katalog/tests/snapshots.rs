//! Snapshots of the human error output (`ork validate` text), one per kind of mistake.

fn render(text: &str) -> String {
    match katalog::load_text("katalog.yaml", text) {
        Ok(_) => panic!("expected the Katalog to be invalid"),
        Err(d) => d.render(),
    }
}

const HEAD: &str =
    "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata:\n  name: demo\nspec:\n  crds:\n";

#[test]
fn several_errors_in_one_file_are_all_reported() {
    let text = format!(
        "{HEAD}    web:
      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}
      dependsOn: [databse]
      operatorBox:
        reconciler:
          workers: 80
        status:
          fields:
            - path: since
              value: \"{{{{ .metadata.creationTimestamp }}}}\"
              type: datetime
    database:
      apiTypes: {{group: demo.io, version: v1, kind: Database, plural: databases}}
      operatorBx: {{}}
"
    );
    insta::assert_snapshot!(render(&text));
}

#[test]
fn a_typo_in_a_key_suggests_the_known_key() {
    let text = format!(
        "{HEAD}    web:
      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}
      operatorBox:
        reconciler:
          workerz: 3
"
    );
    insta::assert_snapshot!(render(&text));
}

#[test]
fn a_duplicate_key_names_both_positions() {
    let text = format!(
        "{HEAD}    web:
      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}
    web:
      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}
"
    );
    insta::assert_snapshot!(render(&text));
}

#[test]
fn a_dependency_cycle_names_every_crd_on_it() {
    let text = format!(
        "{HEAD}    a:
      apiTypes: {{group: demo.io, version: v1, kind: A, plural: as}}
      dependsOn: [c]
    b:
      apiTypes: {{group: demo.io, version: v1, kind: B, plural: bs}}
      dependsOn: {{a: healthy}}
    c:
      apiTypes: {{group: demo.io, version: v1, kind: C, plural: cs}}
      dependsOn:
        b: {{condition: started}}
"
    );
    insta::assert_snapshot!(render(&text));
}

#[test]
fn a_template_error_points_into_the_string() {
    let text = format!(
        "{HEAD}    web:
      apiTypes: {{group: demo.io, version: v1, kind: Web, plural: webs}}
      operatorBox:
        onCreate:
          deployments:
            - image: \"{{{{ .spec.image | frobnicate }}}}\"
"
    );
    insta::assert_snapshot!(render(&text));
}
