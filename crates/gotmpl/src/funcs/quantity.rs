//! Kubernetes quantity notes: `parseQuantity` (to a number in base units), `formatQuantity`,
//! `sumQuantity` and `compareQuantity`.

use std::cmp::Ordering;

use super::{Builtin, arg, fl, i, s, str_arg};
use crate::value::{self, to_str};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("parseQuantity", "quantity", 1, 1, |a, _| number(
        parse(&str_arg(&a, 0)).unwrap_or(0.0)
    )),
    f!("formatQuantity", "quantity", 1, 2, |a, _| {
        let v = value::as_f64(arg(&a, 0))
            .or_else(|| parse(&str_arg(&a, 0)))
            .unwrap_or(0.0);
        // Orkestra keeps milli-unit precision (`0.1` → `100m`).
        s(format(
            (v * 1000.0).trunc() / 1000.0,
            Style::of(&str_arg(&a, 1)),
        ))
    }),
    f!("sumQuantity", "quantity", 0, _, |a, _| {
        let style = a.first().map_or(Style::Decimal, |q| Style::of(&to_str(q)));
        s(format(
            a.iter().filter_map(|q| parse(&to_str(q))).sum(),
            style,
        ))
    }),
    f!("subtractQuantity", "quantity", 2, 2, |a, _| {
        let (x, y) = (str_arg(&a, 0), str_arg(&a, 1));
        let diff = parse(&x).unwrap_or(0.0) - parse(&y).unwrap_or(0.0);
        s(format(diff, Style::of(&x)))
    }),
    f!("compareQuantity", "quantity", 2, 2, |a, _| {
        let (x, y) = (
            parse(&str_arg(&a, 0)).unwrap_or(0.0),
            parse(&str_arg(&a, 1)).unwrap_or(0.0),
        );
        i(match x.partial_cmp(&y) {
            Some(Ordering::Less) => -1,
            Some(Ordering::Greater) => 1,
            _ => 0,
        })
    }),
];

fn number<'a>(v: f64) -> Result<crate::value::Val<'a>, String> {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        i(v as i64)
    } else {
        fl(v)
    }
}

const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1048576.0),
    ("Gi", 1073741824.0),
    ("Ti", 1099511627776.0),
    ("Pi", 1125899906842624.0),
    ("Ei", 1152921504606846976.0),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

/// A quantity (`500m`, `1Gi`, `2.5`, `1e3`) in base units.
pub(crate) fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    for (suffix, scale) in SUFFIXES {
        if let Some(num) = q.strip_suffix(suffix)
            && let Ok(v) = num.parse::<f64>()
            && !num.ends_with(['e', 'E'])
        {
            return Some(v * scale);
        }
    }
    q.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Binary,
    Decimal,
}

impl Style {
    /// The format a quantity was written in: binary for `Ki`..`Ei`, decimal otherwise.
    fn of(q: &str) -> Style {
        if q.trim().ends_with('i') {
            Style::Binary
        } else {
            Style::Decimal
        }
    }
}

/// Kubernetes' canonical quantity text: the largest suffix that leaves a whole number, in the
/// format of the input (binary `Ki`..`Ei`, else decimal `n`..`E`); binary values that are not
/// whole bytes fall back to decimal, as Kubernetes does.
fn format(v: f64, style: Style) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let v = v.abs();
    let whole = |x: f64| (x - x.round()).abs() < 1e-9 * x.abs().max(1.0);
    if style == Style::Binary && whole(v) {
        for (suffix, scale) in SUFFIXES[..6].iter().rev() {
            if v >= *scale && whole(v / scale) {
                return format!("{sign}{}{suffix}", (v / scale).round() as i64);
            }
        }
        return format!("{sign}{}", v.round() as i64);
    }
    if v == 0.0 {
        return "0".into();
    }
    const DECIMAL: &[(&str, i32)] = &[
        ("E", 18),
        ("P", 15),
        ("T", 12),
        ("G", 9),
        ("M", 6),
        ("k", 3),
        ("", 0),
        ("m", -3),
        ("u", -6),
        ("n", -9),
    ];
    for (suffix, exp) in DECIMAL {
        let mantissa = v / 10f64.powi(*exp);
        if mantissa >= 1.0 && whole(mantissa) {
            return format!("{sign}{}{suffix}", mantissa.round() as i64);
        }
    }
    // Below a nano-unit: Kubernetes rounds up to 1n.
    format!("{sign}1n")
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn quantity_notes_parse_sum_and_format_canonically() {
        check(&[
            ("parseQuantity", vec![json!("500m")], "0.5"),
            ("parseQuantity", vec![json!("100m")], "0.1"),
            ("parseQuantity", vec![json!("1Gi")], "1073741824"),
            ("parseQuantity", vec![json!("2k")], "2000"),
            ("parseQuantity", vec![json!("1e3")], "1000"),
            ("parseQuantity", vec![json!("junk")], "0"),
            ("parseQuantity", vec![json!(null)], "0"),
            ("formatQuantity", vec![json!(0.1)], "100m"),
            ("formatQuantity", vec![json!(0.25)], "250m"),
            ("formatQuantity", vec![json!(1.0)], "1"),
            ("formatQuantity", vec![json!(1500)], "1500"),
            ("formatQuantity", vec![json!(2000)], "2k"),
            ("formatQuantity", vec![json!(1073741824_i64)], "1073741824"),
            (
                "formatQuantity",
                vec![json!(2147483648_i64), json!("Gi")],
                "2Gi",
            ),
            ("sumQuantity", vec![json!("100m"), json!("200m")], "300m"),
            ("sumQuantity", vec![json!("500m"), json!("500m")], "1"),
            ("sumQuantity", vec![json!("1Gi"), json!("512Mi")], "1536Mi"),
            ("sumQuantity", vec![json!("512Mi"), json!("512Mi")], "1Gi"),
            ("sumQuantity", vec![json!("1Ki"), json!("0.5")], "1024500m"),
            ("sumQuantity", vec![], "0"),
            (
                "subtractQuantity",
                vec![json!("1Gi"), json!("512Mi")],
                "512Mi",
            ),
            ("subtractQuantity", vec![json!("500m"), json!("500m")], "0"),
            (
                "subtractQuantity",
                vec![json!("100m"), json!("200m")],
                "-100m",
            ),
            ("compareQuantity", vec![json!("1Gi"), json!("1000Mi")], "1"),
            ("compareQuantity", vec![json!("100m"), json!("0.1")], "0"),
        ]);
    }
}
