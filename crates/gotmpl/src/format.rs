//! Go `fmt.Sprintf` for template values: the verbs Katalogs use (`%s %d %v %q %f %e %g %x %X
//! %o %b %t %c %%`) with flags (`-+# 0`), width and precision.
//!
//! Deliberate leniencies against Go, all where Go would print a `%!verb(...)` marker: nil prints
//! as the empty string under `%s`/`%v` (a missing key never leaks `%!s(<nil>)`), numbers print
//! under `%s` as under `%v`, integers are accepted by `%f %e %g`, and numeric strings by `%d`.

use serde_json::Value as Json;

use super::funcs::MAX_STRING;
use super::value::{self, as_f64, go_string, is_int};

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` by `fmt` as Go's `Sprintf` would.
pub(crate) fn sprintf(fmt: &str, args: &[&Json]) -> Result<String, String> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut next = 0usize;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = number(&mut chars, args, &mut next)?;
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(number(&mut chars, args, &mut next)?.unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        write_arg(&mut out, verb, spec, arg);
        if out.len() > MAX_STRING {
            return Err(format!("result longer than {MAX_STRING} bytes"));
        }
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[next..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(type_name(a));
            out.push('=');
            out.push_str(&go_string(a));
        }
        out.push(')');
    }
    Ok(out)
}

/// Writes one argument; lists and maps get the verb applied to each element, as in Go.
fn write_arg(out: &mut String, verb: char, spec: Spec, arg: &Json) {
    match arg {
        Json::Array(items) if !matches!(verb, 'v' | 's') => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                write_arg(out, verb, spec, item);
            }
            out.push(']');
        }
        Json::Object(map) if !matches!(verb, 'v' | 's') => {
            out.push_str("map[");
            for (k, (key, item)) in value::sorted_entries(map).into_iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                write_arg(out, verb, spec, &Json::String(key.clone()));
                out.push(':');
                write_arg(out, verb, spec, item);
            }
            out.push(']');
        }
        _ => pad(out, &verb_body(verb, spec, arg), spec, verb),
    }
}

fn number(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[&Json],
    next: &mut usize,
) -> Result<Option<usize>, String> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let n = args
            .get(*next)
            .and_then(|a| value::as_i64(a))
            .unwrap_or(0)
            .max(0) as usize;
        *next += 1;
        return check(n).map(Some);
    }
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
    }
    n.map(check).transpose()
}

fn check(n: usize) -> Result<usize, String> {
    if n > MAX_STRING {
        return Err(format!("width or precision {n} too large"));
    }
    Ok(n)
}

/// Go's name for the dynamic type of a value, for `%!verb(type=value)` and `typeOf`.
pub(crate) fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "<nil>",
        Json::Bool(_) => "bool",
        Json::Number(_) if is_int(v) => "int64",
        Json::Number(_) => "float64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

fn bad(verb: char, v: &Json) -> String {
    format!("%!{verb}({}={})", type_name(v), go_string(v))
}

fn verb_body(verb: char, spec: Spec, v: &Json) -> String {
    match verb {
        'v' | 's' => match v {
            Json::Null => String::new(),
            Json::Number(_) if is_int(v) => {
                int_body(value::as_i64(v).unwrap_or(0), 10, spec, false)
            }
            Json::Number(_) => float_body(as_f64(v).unwrap_or(0.0), 'g', spec),
            Json::String(s) if verb == 's' => truncate(s, spec.prec),
            _ => go_string(v),
        },
        'd' => match integral(v) {
            Some(i) => int_body(i, 10, spec, false),
            None => bad(verb, v),
        },
        'o' | 'b' => match integral(v) {
            Some(i) => int_body(i, if verb == 'o' { 8 } else { 2 }, spec, false),
            None => bad(verb, v),
        },
        'x' | 'X' => {
            let s = match v {
                Json::String(s) => s.bytes().map(|b| format!("{b:02x}")).collect::<String>(),
                _ => match integral(v) {
                    Some(i) => int_body(i, 16, spec, spec.sharp),
                    None => match as_f64(v) {
                        Some(f) => format!("{f}"),
                        None => return bad(verb, v),
                    },
                },
            };
            if verb == 'X' { s.to_uppercase() } else { s }
        }
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' => match v {
            Json::Number(_) => float_body(as_f64(v).unwrap_or(0.0), verb, spec),
            _ => bad(verb, v),
        },
        't' => match v {
            Json::Bool(b) => b.to_string(),
            _ => bad(verb, v),
        },
        'q' => match v {
            Json::Number(_) if is_int(v) => {
                let c = char::from_u32(value::as_i64(v).unwrap_or(0) as u32).unwrap_or('\u{fffd}');
                format!("'{c}'")
            }
            Json::Null => "\"\"".into(),
            _ => quote(&value::to_str(v)),
        },
        'c' => match integral(v) {
            Some(i) => char::from_u32(i as u32).unwrap_or('\u{fffd}').to_string(),
            None => bad(verb, v),
        },
        other => format!("%!{other}({}={})", type_name(v), go_string(v)),
    }
}

fn integral(v: &Json) -> Option<i64> {
    match v {
        Json::Number(_) if is_int(v) => value::as_i64(v),
        // Go refuses integer verbs for floats (`%!d(float64=1e+06)`).
        Json::Number(_) => None,
        Json::String(s) => s.trim().parse().ok(),
        Json::Bool(_) | Json::Null | Json::Array(_) | Json::Object(_) => None,
    }
}

fn truncate(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn sign(neg: bool, spec: Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn int_body(i: i64, radix: u32, spec: Spec, prefix: bool) -> String {
    let mag = i.unsigned_abs();
    let digits = match radix {
        2 => format!("{mag:b}"),
        8 => format!("{mag:o}"),
        16 => format!("{mag:x}"),
        _ => mag.to_string(),
    };
    let digits = match spec.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    let pre = if prefix && radix == 16 { "0x" } else { "" };
    format!("{}{pre}{digits}", sign(i < 0, spec))
}

/// Go float formatting for `%f %e %g` (and `%v`).
fn float_body(f: f64, verb: char, spec: Spec) -> String {
    let neg = f.is_sign_negative() && f != 0.0;
    let a = f.abs();
    let body = match verb {
        'f' | 'F' => format!("{a:.*}", spec.prec.unwrap_or(6)),
        'e' | 'E' => go_exp(&format!("{a:.*e}", spec.prec.unwrap_or(6)), verb == 'E'),
        _ => match spec.prec {
            None => {
                let mut s = String::new();
                value::write_float(&mut s, a);
                if verb == 'G' { s.to_uppercase() } else { s }
            }
            Some(p) => {
                let p = p.max(1);
                let sci = format!("{a:.*e}", p - 1);
                let exp: i32 = sci
                    .split_once('e')
                    .and_then(|(_, e)| e.parse().ok())
                    .unwrap_or(0);
                if exp < -4 || exp >= p as i32 {
                    let (m, _) = sci.split_once('e').unwrap_or((&sci, ""));
                    let m = if m.contains('.') {
                        m.trim_end_matches('0').trim_end_matches('.')
                    } else {
                        m
                    };
                    go_exp(&format!("{m}e{exp}"), verb == 'G')
                } else {
                    let s = format!("{a:.*}", (p as i32 - 1 - exp).max(0) as usize);
                    if s.contains('.') {
                        s.trim_end_matches('0').trim_end_matches('.').to_string()
                    } else {
                        s
                    }
                }
            }
        },
    };
    format!("{}{body}", sign(neg, spec))
}

/// Rust's `1.5e3` to Go's `1.5e+03`.
fn go_exp(rust: &str, upper: bool) -> String {
    let (m, e) = rust.split_once('e').unwrap_or((rust, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let letter = if upper { 'E' } else { 'e' };
    format!(
        "{m}{letter}{}{:02}",
        if e < 0 { '-' } else { '+' },
        e.unsigned_abs()
    )
}

/// Go's `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn pad(out: &mut String, body: &str, spec: Spec, verb: char) {
    let len = body.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.push_str(body);
        return;
    }
    let fill = width - len;
    if spec.minus {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && "dfFeEgGxXob".contains(verb) {
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), &body[1..]),
            _ => (String::new(), body),
        };
        out.push_str(&sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(fmt: &str, args: &[Json]) -> String {
        let refs: Vec<&Json> = args.iter().collect();
        sprintf(fmt, &refs).unwrap()
    }

    #[test]
    fn verbs_format_like_go() {
        let cases: Vec<(&str, Vec<Json>, &str)> = vec![
            ("%s-%s", vec![json!("a"), json!("b")], "a-b"),
            ("%d", vec![json!(42)], "42"),
            (
                "%5d|%-5d|%05d",
                vec![json!(42), json!(42), json!(-42)],
                "   42|42   |-0042",
            ),
            ("%v", vec![json!([1, "a"])], "[1 a]"),
            ("%q", vec![json!("a\"b\n")], "\"a\\\"b\\n\""),
            ("%f", vec![json!(1.5)], "1.500000"),
            ("%.2f", vec![json!(1.23456)], "1.23"),
            ("%.2f", vec![json!(3)], "3.00"),
            ("%x %X", vec![json!(255), json!("hi")], "ff 6869"),
            ("%t", vec![json!(true)], "true"),
            ("%5s|%-5s|", vec![json!("ab"), json!("ab")], "   ab|ab   |"),
            ("100%%", vec![], "100%"),
            ("%e", vec![json!(1234.5678)], "1.234568e+03"),
            ("%g", vec![json!(0.000012)], "1.2e-05"),
            ("%.3s", vec![json!("abcdef")], "abc"),
            ("%c", vec![json!(65)], "A"),
            ("%+d", vec![json!(5)], "+5"),
            ("%v", vec![json!(1e6)], "1e+06"),
        ];
        for (fmt, args, want) in cases {
            assert_eq!(f(fmt, &args), want, "format {fmt:?}");
        }
    }

    #[test]
    fn missing_extra_and_mismatched_arguments_are_reported_inline_like_go() {
        assert_eq!(f("%s %d", &[json!("a")]), "a %!d(MISSING)");
        assert_eq!(f("%s", &[json!("a"), json!(1)]), "a%!(EXTRA int64=1)");
        assert_eq!(f("%d", &[json!("x")]), "%!d(string=x)");
    }

    #[test]
    fn nil_prints_empty_under_s_and_v() {
        assert_eq!(f("[%s][%v]", &[Json::Null, Json::Null]), "[][]");
    }

    #[test]
    fn huge_widths_are_refused_not_allocated() {
        assert!(sprintf("%999999999s", &[&json!("x")]).is_err());
    }
}
