//! `ork simulate --envtest`: the same run on the real local control plane (etcd and
//! kube-apiserver from `testenv`) as in memory — same cycles, same ops, same expectations.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use simulate::api::Backend;
use simulate::suite::{self, Settings, Verdict};

fn pack(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join("simulate.yaml")
}

async fn run(path: &Path, backend: Backend) -> suite::Report {
    let settings = Settings {
        backend,
        ..Settings::default()
    };
    let mut reports = suite::run_file(path, &settings, &mut HashSet::new()).await;
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

/// The report without its wall times (`… in 1.2ms`), which differ between runs.
fn without_times(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" in ") {
            Some(at) if l.contains("Steady state") => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hello_pack_passes_on_the_control_plane_with_the_memory_runs_output() {
    let file = pack("beginner/01-hello-website");
    let memory = run(&file, Backend::Memory).await;
    assert_eq!(memory.verdict, Verdict::Passed, "{}", memory.text);
    let envtest = run(&file, Backend::Envtest).await;
    assert_eq!(envtest.verdict, Verdict::Passed, "{}", envtest.text);
    assert!(envtest.text.contains("+ deployments/"), "{}", envtest.text);
    assert_eq!(without_times(&envtest.text), without_times(&memory.text));
}

/// The state machine advances when its Job completes: on the control plane the stand-in
/// Job controller's status write must be one the API server accepts (start and completion
/// times), or the run stops at cycle 2 where memory goes on to the test Job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_jobs_advance_the_state_machine_on_the_control_plane_as_in_memory() {
    let file = pack("intermediate/07-state-machine");
    let memory = run(&file, Backend::Memory).await;
    assert!(
        memory.text.contains("+ jobs/release-test"),
        "{}",
        memory.text
    );
    let envtest = run(&file, Backend::Envtest).await;
    assert_eq!(envtest.verdict, Verdict::Passed, "{}", envtest.text);
    assert_eq!(without_times(&envtest.text), without_times(&memory.text));
}
