//! `ork completions`: scripts for each shell that know the commands and their flags.

use crate::util::ork;

#[test]
fn each_shell_gets_a_script_naming_the_commands_and_flags() {
    for (shell, marker) in [
        ("bash", "_ork()"),
        ("zsh", "#compdef ork"),
        ("fish", "complete -c ork"),
    ] {
        let output = ork().args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {marker:?} missing");
        for word in ["gate", "notes", "init", "plan", "diff", "validate", "pack"] {
            assert!(script.contains(word), "{shell}: {word:?} missing");
        }
    }
    let output = ork().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}
