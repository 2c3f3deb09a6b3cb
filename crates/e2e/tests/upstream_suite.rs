//! The upstream acceptance suite (`upstream.rs`) in a test binary of its own, on a control
//! plane of its own: its files install and delete CRDs and work in the `default` namespace,
//! one after another for minutes, so the other tests of `ork e2e` do not share a control plane
//! with it (a runner test's CRD once vanished while both ran on one).

mod upstream;

mod util {
    /// This binary's control plane, with simulated workloads.
    pub async fn control_plane() -> &'static testenv::ControlPlane {
        testenv::shared_with(testenv::Config::new().workloads(true)).await
    }
}
