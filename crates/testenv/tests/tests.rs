//! Integration tests of the local control plane: they start the real etcd, kube-apiserver and
//! kube-controller-manager. Nothing here is skipped; without the binaries they fail and say how
//! to build them.

mod util;

mod control_plane_faults;
mod crd_watch;
mod failures;
mod fault_proxy;
mod garbage_collection;
mod isolation;
mod lifecycle;
mod status;
