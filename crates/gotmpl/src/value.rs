//! Runtime values: JSON values borrowed from the data or owned by the evaluator, Go truthiness,
//! and Go's `fmt` `%v` printing of them.

use std::borrow::Cow;

use serde_json::{Map, Number, Value as Json};

/// A value during evaluation: borrowed from the data or the template, or computed.
pub(crate) type Val<'a> = Cow<'a, Json>;

/// The nil value, for borrowing.
pub(crate) static NIL: Json = Json::Null;

/// Go truthiness: false, 0, "", nil, empty list and empty map are false.
pub(crate) fn truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(m) => !m.is_empty(),
    }
}

/// Writes a value the way an action prints it: nil prints nothing, everything else as Go `%v`.
pub(crate) fn write_value(out: &mut String, v: &Json) {
    match v {
        Json::Null => {}
        Json::String(s) => out.push_str(s),
        other => write_go(out, other),
    }
}

/// Writes a value as Go's `fmt` `%v` prints an `interface{}` holding it (nil is `<nil>`).
pub(crate) fn write_go(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("<nil>"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => write_number(out, n),
        Json::String(s) => out.push_str(s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push_str("map[");
            for (i, (k, val)) in sorted_entries(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_go(out, val);
            }
            out.push(']');
        }
    }
}

/// A map's entries in sorted key order, whatever order the map keeps.
pub(crate) fn sorted_entries(map: &Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut entries: Vec<_> = map.iter().collect();
    if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
        entries.sort_by(|a, b| a.0.cmp(b.0));
    }
    entries
}

/// Writes a JSON number: integers in decimal, floats as Go's `%v`.
pub(crate) fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        write_float(out, f);
    }
}

/// Writes a float as Go's `%v` (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits,
/// exponent form when the exponent is below -4 or at least 6 (so 1e6 prints "1e+06", as in Go).
pub(crate) fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. "1.2345e6" or "-5e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

/// The value as a string argument: strings as they are, nil as "", anything else printed.
pub(crate) fn to_str(v: &Json) -> Cow<'_, str> {
    match v {
        Json::String(s) => Cow::Borrowed(s.as_str()),
        Json::Null => Cow::Borrowed(""),
        other => {
            let mut s = String::new();
            write_go(&mut s, other);
            Cow::Owned(s)
        }
    }
}

/// The value as a float: numbers, numeric strings and bools (1/0); anything else is `None`.
pub(crate) fn as_f64(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        Json::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// The value as an integer: integers, integral floats (truncated), numeric strings, bools.
pub(crate) fn as_i64(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => {
            let s = s.trim();
            s.parse()
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
        }
        Json::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Whether a number is held as an integer (not a float).
pub(crate) fn is_int(v: &Json) -> bool {
    matches!(v, Json::Number(n) if n.is_i64() || n.is_u64())
}

/// A float as JSON; non-finite floats become nil (JSON cannot hold them).
pub(crate) fn float(f: f64) -> Json {
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// Whether a value is heavier than `limit`, counting string bytes and 8 per node and key; stops
/// counting as soon as the limit is passed, so the cost is at most the limit.
pub(crate) fn heavier_than(v: &Json, limit: usize) -> bool {
    fn walk(v: &Json, budget: &mut usize) -> bool {
        let own = match v {
            Json::String(s) => s.len() + 8,
            Json::Object(m) => 8 + m.keys().map(|k| k.len() + 8).sum::<usize>(),
            _ => 8,
        };
        if own > *budget {
            return true;
        }
        *budget -= own;
        match v {
            Json::Array(items) => items.iter().any(|x| walk(x, budget)),
            Json::Object(m) => m.values().any(|x| walk(x, budget)),
            _ => false,
        }
    }
    let mut budget = limit;
    walk(v, &mut budget)
}

/// Go's `fmt.Sprint` of one value into a new string.
pub(crate) fn go_string(v: &Json) -> String {
    let mut s = String::new();
    write_go(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float_text(f: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, f);
        s
    }

    #[test]
    fn floats_print_like_go_percent_v() {
        let cases = [
            (3.0, "3"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-2.25, "-2.25"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.0, "0"),
        ];
        for (f, want) in cases {
            assert_eq!(float_text(f), want, "printing {f}");
        }
    }

    #[test]
    fn maps_and_lists_print_like_go_interfaces() {
        let v = json!({"b": [1, "x", null], "a": {"k": true}});
        assert_eq!(go_string(&v), "map[a:map[k:true] b:[1 x <nil>]]");
    }

    #[test]
    fn weight_counts_strings_and_nodes_and_stops_at_the_limit() {
        assert!(!heavier_than(&json!("abc"), 11));
        assert!(heavier_than(&json!("abc"), 10));
        let nested = Json::Array(vec![
            Json::Array(vec![Json::Array(vec![json!("x"); 10]); 10]);
            10
        ]);
        assert!(heavier_than(&nested, 1000));
        assert!(!heavier_than(&json!({"k": [1, 2]}), 100));
    }

    #[test]
    fn nil_prints_empty_at_top_level() {
        let mut s = String::new();
        write_value(&mut s, &Json::Null);
        assert_eq!(s, "");
    }

    #[test]
    fn truthiness_follows_go() {
        for v in [
            json!(0),
            json!(0.0),
            json!(""),
            json!(null),
            json!([]),
            json!({}),
            json!(false),
        ] {
            assert!(!truthy(&v), "{v} should be false");
        }
        for v in [
            json!(1),
            json!(-0.5),
            json!("0"),
            json!([0]),
            json!({"a": null}),
            json!(true),
        ] {
            assert!(truthy(&v), "{v} should be true");
        }
    }
}
