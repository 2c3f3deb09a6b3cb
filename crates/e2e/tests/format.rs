//! The E2E file format is strict: unknown keys and missing files are errors with their place.

use e2e::load::FILE_NOT_FOUND;

#[test]
fn unknown_keys_are_errors_with_file_line_and_column() {
    let dir = crate::util::hello_test(
        "default",
        "    - name: typo\n      after: cr-applied\n      resourcs:\n        - kind: Deployment\n",
    );
    let err = e2e::load(&crate::util::e2e_file(dir.path())).unwrap_err();
    let d = err
        .items
        .iter()
        .find(|d| d.message.contains("resourcs"))
        .unwrap_or_else(|| panic!("no diagnostic names the key: {}", err.render()));
    assert!(d.is_error());
    assert_eq!((d.line, d.col), (14, 7), "{}", err.render());
    assert_eq!(d.hint.as_deref(), Some("did you mean `resources`?"));
}

#[test]
fn missing_files_and_bad_durations_are_named() {
    let dir = crate::util::hello_test(
        "default",
        "    - name: slow\n      timeout: soon\n    - include: ./more.yaml\n",
    );
    let err = e2e::load(&crate::util::e2e_file(dir.path())).unwrap_err();
    let missing = err
        .items
        .iter()
        .find(|d| d.code == FILE_NOT_FOUND)
        .expect("missing include reported");
    assert!(
        missing.message.contains("./more.yaml"),
        "{}",
        missing.message
    );
    assert_eq!((missing.line, missing.col), (14, 16));
    assert!(
        err.items
            .iter()
            .any(|d| d.message.contains("`soon` is not a duration")),
        "{}",
        err.render()
    );
}

#[test]
fn imports_include_and_setup_forms_load() {
    let dir = crate::util::hello_test("default", "    - include: ./more.yaml\n");
    std::fs::write(
        dir.path().join("more.yaml"),
        "expect:\n  - name: from include\n    timeout: 5s\n    resources:\n      - {kind: Site, name: hello}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("all.yaml"),
        "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: all}\nimports:\n  - ./e2e.yaml\n  - {path: ./e2e.yaml, wait: 1s, freshCluster: true}\n",
    )
    .unwrap();
    let suite = e2e::load(&dir.path().join("all.yaml")).unwrap();
    assert_eq!(suite.tests.len(), 2);
    assert_eq!(suite.tests[0].spec.expect.len(), 1);
    assert_eq!(suite.tests[0].spec.expect[0].name, "from include");
    assert!(suite.tests[1].fresh_cluster);
    assert_eq!(
        suite.tests[1].wait_before,
        Some(std::time::Duration::from_secs(1))
    );
}
