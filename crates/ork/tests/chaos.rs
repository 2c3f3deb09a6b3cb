//! `ork bench chaos` as a smoke test: five rounds of 100 CRs, each with one fault (ork, the
//! API server or etcd SIGKILLed, ork cut off, a 429 storm), all converging without orphans,
//! duplicates, an exit of `ork run`, or any write by ork once converged (the audit log over a
//! 2 s window), after ork's own restart included: the bench exits 0.

use crate::util::ork;

#[test]
fn five_chaos_rounds_of_100_crs_converge_without_orphans_duplicates_or_steady_writes() {
    let output = ork()
        .args([
            "bench",
            "chaos",
            "--rounds",
            "5",
            "--chaos-crs",
            "100",
            "--max-fault",
            "3s",
            "--steady",
            "2s",
        ])
        .env("ORK_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "ork bench chaos failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // One table row per fault of the five rounds, each converged in its one round.
    for fault in ["kill-ork", "apiserver", "etcd", "cut", "storm"] {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(fault))
            .unwrap_or_else(|| panic!("no table row for {fault}:\n{stdout}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1..3], ["1", "1"], "{row}");
        // orphans, duplicates, steady writes, exits
        assert_eq!(cells[5..9], ["0", "0", "0", "0"], "{row}");
    }
}
