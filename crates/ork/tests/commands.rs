//! Which commands a build carries: the production build (`--no-default-features`, optionally
//! `--features runtime-only`, the image every bundle Deployment runs) has exactly `run`,
//! `gateway`, `control` and `version`; the developer build (feature `dev-tools`) has the rest too.

use crate::util::ork;

/// The subcommands `ork --help` lists, without clap's `help`.
fn listed_commands() -> Vec<String> {
    let output = ork().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[cfg(not(feature = "dev-tools"))]
#[test]
fn the_production_build_lists_exactly_run_gateway_control_and_version() {
    assert_eq!(listed_commands(), ["run", "gateway", "control", "version"]);
    let output = ork().args(["validate", "katalog.yaml"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "validate is not compiled in");
}

#[cfg(feature = "dev-tools")]
#[test]
fn the_developer_build_lists_every_command() {
    let commands = listed_commands();
    for command in [
        "dev",
        "run",
        "gateway",
        "control",
        "generate",
        "validate",
        "version",
        "gate",
        "notes",
        "init",
        "diff",
        "plan",
        "completions",
        "simulate",
        "control",
    ] {
        assert!(
            commands.iter().any(|c| c == command),
            "{command} in {commands:?}"
        );
    }
}
