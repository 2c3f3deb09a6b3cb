//! Semver notes, as Orkestra (Masterminds semver): `semverValid` (lenient: `v1`, `1.2` are
//! versions), `semverMajor`/`Minor`/`Patch` (`""` when invalid), `semverCompare` (-1/0/1),
//! `semverBump VERSION major|minor|patch`, and `semverConstraint VERSION CONSTRAINT`
//! (`>=1.2.0, <2`, `^1.2`, `~1.2.3`, `1.x`, `a || b`).

use std::cmp::Ordering;

use super::{Builtin, b, i, s, str_arg};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("semverValid", "semver", 1, 1, |a, _| b(Version::loose(
        &str_arg(&a, 0)
    )
    .is_some())),
    f!("semverMajor", "semver", 1, 1, |a, _| s(part(
        &str_arg(&a, 0),
        0
    ))),
    f!("semverMinor", "semver", 1, 1, |a, _| s(part(
        &str_arg(&a, 0),
        1
    ))),
    f!("semverPatch", "semver", 1, 1, |a, _| s(part(
        &str_arg(&a, 0),
        2
    ))),
    f!("semverCompare", "semver", 2, 2, |a, _| {
        i(
            match (
                Version::loose(&str_arg(&a, 0)),
                Version::loose(&str_arg(&a, 1)),
            ) {
                (Some(x), Some(y)) => match x.cmp(&y) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                },
                _ => 0,
            },
        )
    }),
    // Drops pre-release and build; an invalid version or unknown part comes back unchanged.
    f!("semverBump", "semver", 2, 2, |a, _| {
        let text = str_arg(&a, 0);
        let Some(v) = Version::loose(&text) else {
            return s(text);
        };
        let [ma, mi, pa] = v.nums;
        s(match str_arg(&a, 1).to_ascii_lowercase().as_str() {
            "major" => format!("{}.0.0", ma + 1),
            "minor" => format!("{ma}.{}.0", mi + 1),
            "patch" => format!("{ma}.{mi}.{}", pa + 1),
            _ => text.into_owned(),
        })
    }),
    f!("semverConstraint", "semver", 2, 2, |a, _| {
        b(Version::loose(&str_arg(&a, 0)).is_some_and(|v| satisfies(&str_arg(&a, 1), &v)))
    }),
];

fn part(text: &str, k: usize) -> String {
    Version::loose(text)
        .map(|v| v.nums[k].to_string())
        .unwrap_or_default()
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    nums: [u64; 3],
    pre: Vec<String>,
}

impl Version {
    /// `v1.2.3-rc.1+build`; with `strict` all three numbers are required.
    fn parse(st: &str, strict: bool) -> Option<Version> {
        if st.trim().is_empty() {
            return None;
        }
        let st = st.trim();
        let st = st.strip_prefix('v').unwrap_or(st);
        let st = st.split_once('+').map_or(st, |(v, _)| v);
        let (core, pre) = match st.split_once('-') {
            Some((c, p)) if !p.is_empty() => (c, p.split('.').map(str::to_string).collect()),
            Some(_) => return None,
            None => (st, Vec::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 || (strict && parts.len() != 3) {
            return None;
        }
        let mut nums = [0u64; 3];
        for (k, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            nums[k] = p.parse().ok()?;
        }
        Some(Version { nums, pre })
    }

    fn loose(st: &str) -> Option<Version> {
        Version::parse(st, false)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.nums
            .cmp(&other.nums)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (x, y) in self.pre.iter().zip(&other.pre) {
                        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                            (Ok(p), Ok(q)) => p.cmp(&q),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            _ => x.cmp(y),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

/// Whether `v` meets a constraint: `||` alternatives of space/comma-separated comparisons.
fn satisfies(constraint: &str, v: &Version) -> bool {
    constraint.split("||").any(|alt| {
        let terms: Vec<&str> = alt.split([' ', ',']).filter(|t| !t.is_empty()).collect();
        !terms.is_empty() && terms.iter().all(|t| term(t, v))
    })
}

fn term(t: &str, v: &Version) -> bool {
    let ops = [">=", "<=", "!=", ">", "<", "=", "^", "~"];
    let (op, rest) = ops
        .iter()
        .find_map(|op| t.strip_prefix(op).map(|r| (*op, r)))
        .unwrap_or(("", t));
    // Wildcards: `1.x`, `1.2.*`, `*`.
    let rest_parts: Vec<&str> = rest.trim_start_matches('v').split('.').collect();
    let wild = rest_parts
        .iter()
        .position(|p| matches!(*p, "x" | "X" | "*"));
    let given = wild.unwrap_or(rest_parts.len()).min(3);
    let base_text = rest_parts[..given].join(".");
    if given == 0 {
        return true;
    }
    let Some(base) = Version::loose(&base_text) else {
        return false;
    };
    let upper = |level: usize| {
        let mut n = base.nums;
        n[level] += 1;
        for x in n.iter_mut().skip(level + 1) {
            *x = 0;
        }
        Version {
            nums: n,
            pre: vec!["0".into()],
        }
    };
    let partial = given < 3;
    match op {
        "" | "=" if partial => *v >= base && *v < upper(given - 1),
        "" | "=" => *v == base,
        "!=" => *v != base,
        ">" => *v > base,
        ">=" => *v >= base,
        "<" => *v < base,
        "<=" => *v <= base,
        "~" => *v >= base && *v < upper(if given >= 2 { 1 } else { 0 }),
        _ => {
            // `^`: up to the next change of the leftmost non-zero number.
            let level = base
                .nums
                .iter()
                .take(given)
                .position(|n| *n != 0)
                .unwrap_or(given - 1);
            *v >= base && *v < upper(level)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn semver_notes_parse_compare_bump_and_match_constraints() {
        check(&[
            ("semverValid", vec![json!("v1.2.3")], "true"),
            ("semverValid", vec![json!("1.2.3-rc.1+b5")], "true"),
            ("semverValid", vec![json!("1.2")], "true"),
            ("semverValid", vec![json!("latest")], "false"),
            ("semverValid", vec![json!(null)], "false"),
            ("semverMajor", vec![json!("v2.0.0")], "2"),
            ("semverMinor", vec![json!("3.4.5")], "4"),
            ("semverPatch", vec![json!("junk")], ""),
            ("semverCompare", vec![json!("1.2.3"), json!("1.3.0")], "-1"),
            ("semverCompare", vec![json!("2.0.0"), json!("1.9.9")], "1"),
            (
                "semverCompare",
                vec![json!("1.0.0"), json!("1.0.0-rc.1")],
                "1",
            ),
            (
                "semverCompare",
                vec![json!("1.0.0-rc.2"), json!("1.0.0-rc.10")],
                "-1",
            ),
            ("semverCompare", vec![json!("x"), json!("1.0.0")], "0"),
            ("semverBump", vec![json!("1.2.3"), json!("minor")], "1.3.0"),
            (
                "semverBump",
                vec![json!("v1.2.3-alpha"), json!("patch")],
                "1.2.4",
            ),
            ("semverBump", vec![json!("1.2.3"), json!("huge")], "1.2.3"),
            (
                "semverBump",
                vec![json!("latest"), json!("major")],
                "latest",
            ),
            (
                "semverConstraint",
                vec![json!("1.2.3"), json!(">=1.0.0,<2.0.0")],
                "true",
            ),
            (
                "semverConstraint",
                vec![json!("2.1.0"), json!("^1.0")],
                "false",
            ),
            (
                "semverConstraint",
                vec![json!("1.9.9"), json!(">=1.2.0 <2")],
                "true",
            ),
            (
                "semverConstraint",
                vec![json!("1.9.0"), json!("^1.2")],
                "true",
            ),
            (
                "semverConstraint",
                vec![json!("0.3.0"), json!("^0.2.3")],
                "false",
            ),
            (
                "semverConstraint",
                vec![json!("1.2.9"), json!("~1.2.3")],
                "true",
            ),
            (
                "semverConstraint",
                vec![json!("1.3.0"), json!("~1.2.3")],
                "false",
            ),
            (
                "semverConstraint",
                vec![json!("1.7.0"), json!("1.x")],
                "true",
            ),
            (
                "semverConstraint",
                vec![json!("3.1.0"), json!("<1 || >=3")],
                "true",
            ),
            (
                "semverConstraint",
                vec![json!("nope"), json!(">=1")],
                "false",
            ),
        ]);
    }
}
