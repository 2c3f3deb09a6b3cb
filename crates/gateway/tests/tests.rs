//! Integration tests of the gateway against the real control plane (testenv): the API server
//! calls the gateway's webhooks over TLS (url mode, caBundle), and the gateway leaves no trace
//! when it stops. Each test runs the gateway in-process; what only a real process shows
//! (signals, SIGKILL, exit codes) is tested on `ork gateway` in `crates/ork/tests/gateway.rs`.

mod admission;
mod certificates;
mod conversion;
mod external;
mod includes;
mod lifecycle;
mod limits;
mod notify;
mod protection;
mod rbac;
mod secret_logs;
mod tls_policy;
mod util;
