//! Load + validate benchmark: a generated Katalog of 50 CRDs with 10 resources each.
//!
//! Run with `cargo bench -p katalog --bench load`. Prints the median and best time of
//! `katalog::load` over several runs, and the floor (reading and YAML-parsing the same file
//! without decoding or validation) measured in the same run.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn generate(crds: usize, resources: usize) -> String {
    let mut out = String::from(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata:\n  name: bench\nspec:\n  crds:\n",
    );
    for c in 0..crds {
        let _ = write!(
            out,
            "    crd-{c}:\n      apiTypes:\n        group: bench{c}.example.io\n        version: v1\n        kind: Kind{c}\n        plural: kind{c}s\n"
        );
        if c > 0 {
            let _ = writeln!(out, "      dependsOn: [crd-{}]", c - 1);
        }
        out.push_str("      operatorBox:\n        reconciler:\n          workers: 4\n          resync: 30s\n");
        out.push_str("        status:\n          fields:\n            - path: phase\n              value: Running\n            - path: ready\n              value: \"{{ .spec.replicas }}\"\n");
        out.push_str("        onReconcile:\n          deployments:\n");
        for r in 0..resources / 2 {
            let _ = write!(
                out,
                "            - name: \"{{{{ .metadata.name }}}}-d{r}\"\n              image: \"{{{{ .spec.image }}}}\"\n              replicas: \"{{{{ .spec.replicas }}}}\"\n              port: \"8080\"\n              when:\n                - field: spec.tier\n                  equals: pro\n"
            );
        }
        out.push_str("          services:\n");
        for r in 0..resources - resources / 2 {
            let _ = write!(
                out,
                "            - name: \"{{{{ .metadata.name }}}}-s{r}\"\n              port: \"80\"\n              targetPort: \"8080\"\n"
            );
        }
    }
    out
}

fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    (samples[runs / 2], samples[0])
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ork-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("katalog.yaml");
    let text = generate(50, 10);
    std::fs::write(&path, &text).expect("write katalog");
    let loaded = katalog::load(&path)
        .unwrap_or_else(|d| panic!("generated Katalog is invalid:\n{}", d.render()));
    assert_eq!(loaded.katalog.crds.len(), 50);

    let runs = 30;
    let (median, best) = time(runs, || {
        let _ = std::hint::black_box(katalog::load(&path));
    });
    let (floor_median, _) = time(runs, || {
        let text = std::fs::read_to_string(&path).expect("read");
        let _ = std::hint::black_box(katalog::yaml::parse_single(&text, 0));
    });
    println!(
        "load+validate 50 CRDs x 10 resources ({} bytes): median {:.2} ms, best {:.2} ms; floor (read+parse YAML) {:.2} ms; ratio {:.1}x",
        text.len(),
        median.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3,
        floor_median.as_secs_f64() * 1e3,
        median.as_secs_f64() / floor_median.as_secs_f64().max(1e-9),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
