//! Network notes: `ipValid`, `ipIsPrivate`, `cidrContains`.

use std::net::IpAddr;

use super::{Builtin, b, str_arg};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("ipValid", "net", 1, 1, |a, _| b(str_arg(&a, 0)
        .trim()
        .parse::<IpAddr>()
        .is_ok())),
    f!("ipIsPrivate", "net", 1, 1, |a, _| b(str_arg(&a, 0)
        .trim()
        .parse::<IpAddr>()
        .is_ok_and(|ip| is_private(&ip)))),
    f!("cidrContains", "net", 2, 2, |a, _| b(cidr_contains(
        &str_arg(&a, 0),
        &str_arg(&a, 1)
    ))),
];

/// RFC 1918 and RFC 4193 private ranges (Go's `net.IP.IsPrivate`).
fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Whether `ip` lies in `cidr` (`10.0.0.0/8`, `fd00::/8`); false for anything malformed.
pub(crate) fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let Some((net, bits)) = cidr.trim().split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits), Ok(ip)) = (
        net.parse::<IpAddr>(),
        bits.parse::<u32>(),
        ip.trim().parse::<IpAddr>(),
    ) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn net_notes_check_addresses_and_ranges() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("ipValid", vec![json!("10.1.2.3")], "true"),
            ("ipValid", vec![json!("::1")], "true"),
            ("ipValid", vec![json!("10.1.2")], "false"),
            ("ipValid", vec![json!(null)], "false"),
            ("ipIsPrivate", vec![json!("192.168.1.1")], "true"),
            ("ipIsPrivate", vec![json!("8.8.8.8")], "false"),
            ("ipIsPrivate", vec![json!("fd12::1")], "true"),
            (
                "cidrContains",
                vec![json!("10.0.0.0/8"), json!("10.200.1.1")],
                "true",
            ),
            (
                "cidrContains",
                vec![json!("10.0.0.0/8"), json!("11.0.0.1")],
                "false",
            ),
            (
                "cidrContains",
                vec![json!("0.0.0.0/0"), json!("1.2.3.4")],
                "true",
            ),
            (
                "cidrContains",
                vec![json!("fd00::/8"), json!("fd12::1")],
                "true",
            ),
            (
                "cidrContains",
                vec![json!("10.0.0.0/8"), json!("::1")],
                "false",
            ),
            (
                "cidrContains",
                vec![json!("junk"), json!("10.0.0.1")],
                "false",
            ),
        ];
        check(&cases);
    }
}
