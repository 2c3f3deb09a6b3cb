//! Fixed addresses for outbound destinations, as curl's `--resolve host:port:addr`: a call
//! to a pinned host and port connects to the pinned socket address, with no DNS lookup and
//! no proxy; the request itself (its `Host` header, TLS server name) is unchanged.
//!
//! The table is process-wide, as the outbound client is. `ork e2e --dev-server` pins the
//! in-cluster address of Orkestra's dev server (`orkestra-dev-server.orkestra-system.svc:9999`,
//! which the `external:` example packs call) to the dev server it runs on loopback: its
//! operator runs outside the cluster, where no cluster DNS answers for that name.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{PoisonError, RwLock};

use http::Uri;

static PINNED: RwLock<Option<HashMap<(String, u16), SocketAddr>>> = RwLock::new(None);

/// From now on, calls to `host:port` (host compared without case) connect to `addr`.
pub fn pin(host: &str, port: u16, addr: SocketAddr) {
    PINNED
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert((host.to_ascii_lowercase(), port), addr);
}

/// The address `dst` is pinned to, if any (the port defaults by scheme: 80, or 443 for
/// `https`).
pub fn lookup(dst: &Uri) -> Option<SocketAddr> {
    let table = PINNED.read().unwrap_or_else(PoisonError::into_inner);
    let table = table.as_ref()?;
    let host = dst.host()?.to_ascii_lowercase();
    let port = dst.port_u16().unwrap_or(match dst.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    table.get(&(host, port)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_host_and_port_resolve_to_the_address_others_do_not() {
        let addr: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        pin("pinned-lookup.test.invalid", 9999, addr);
        let at = |u: &str| lookup(&u.parse().unwrap());
        assert_eq!(at("http://PINNED-lookup.test.invalid:9999/x"), Some(addr));
        assert_eq!(at("http://pinned-lookup.test.invalid/x"), None);
        assert_eq!(at("http://pinned-lookup.test.invalid:9998/x"), None);
        assert_eq!(at("http://other.test.invalid:9999/x"), None);
        pin("pinned-lookup.test.invalid", 443, addr);
        assert_eq!(at("https://pinned-lookup.test.invalid/"), Some(addr));
    }
}
