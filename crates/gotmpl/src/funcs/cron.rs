//! Cron notes: five-field expressions as strings or maps (`minute`, `hour`, `dayOfMonth`,
//! `month`, `dayOfWeek`), `@`-macros, field extraction and plain-English descriptions.

use serde_json::{Map, Value as Json};

use super::{Builtin, FnCx, arg, b, int_arg, j, s, str_arg};
use crate::value::{Val, to_str};

const KEYS: [&str; 5] = ["minute", "hour", "dayOfMonth", "month", "dayOfWeek"];

pub(crate) const FUNCS: &[Builtin] = &[
    f!("cronNormalize", "cron", 1, 1, |a, _| s(normalize(
        &str_arg(&a, 0)
    )
    .unwrap_or_else(|| "* * * * *".into()))),
    f!("cronValid", "cron", 1, 1, |a, _| b(normalize(&str_arg(
        &a, 0
    ))
    .is_some())),
    f!("cronFromMap", "cron", 1, 1, |a, _| s(from_map(arg(&a, 0)))),
    f!("cronFromAny", "cron", 1, 1, |a, _| match arg(&a, 0) {
        m @ Json::Object(_) => s(from_map(m)),
        other => s(normalize(&to_str(other)).unwrap_or_else(|| "* * * * *".into())),
    }),
    f!("cronToMap", "cron", 1, 1, |a, _| {
        let expr = normalize(&str_arg(&a, 0)).unwrap_or_else(|| "* * * * *".into());
        let m: Map<String, Json> = KEYS
            .iter()
            .zip(expr.split(' '))
            .map(|(k, v)| (k.to_string(), Json::from(v)))
            .collect();
        j(Json::Object(m))
    }),
    f!("cronExpr", "cron", 5, 5, |a, _| {
        let parts: Vec<String> = (0..5).map(|k| star(&str_arg(&a, k))).collect();
        s(parts.join(" "))
    }),
    f!("cronDescribe", "cron", 1, 1, |a, _| s(describe(arg(&a, 0)))),
    f!("cronField", "cron", 2, 2, |a, cx| field(a, cx, None)),
    f!("cronMinute", "cron", 1, 1, |a, cx| field(a, cx, Some(0))),
    f!("cronHour", "cron", 1, 1, |a, cx| field(a, cx, Some(1))),
    f!("cronDom", "cron", 1, 1, |a, cx| field(a, cx, Some(2))),
    f!("cronMonth", "cron", 1, 1, |a, cx| field(a, cx, Some(3))),
    f!("cronDow", "cron", 1, 1, |a, cx| field(a, cx, Some(4))),
];

fn star(part: &str) -> String {
    match part.trim() {
        "" => "*".into(),
        p => p.to_string(),
    }
}

/// Expands `@`-macros (any case), collapses whitespace, and checks there are exactly five
/// fields. Like Orkestra, field contents are not checked.
pub(crate) fn normalize(expr: &str) -> Option<String> {
    let expr = expr.trim();
    let expanded = match expr.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => expr,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    (fields.len() == 5).then(|| fields.join(" "))
}

fn from_map(v: &Json) -> String {
    let parts: Vec<String> = KEYS
        .iter()
        .map(|k| star(&to_str(super::dig(v, &[k]))))
        .collect();
    parts.join(" ")
}

fn field<'a>(a: Vec<Val<'a>>, _: &mut FnCx, pos: Option<usize>) -> Result<Val<'a>, String> {
    let expr = match arg(&a, 0) {
        m @ Json::Object(_) => from_map(m),
        other => to_str(other).into_owned(),
    };
    if expr.trim().is_empty() {
        return s("*");
    }
    let pos = match pos {
        Some(p) => p,
        None => match int_arg(&a, 1) {
            p @ 0..=4 => p as usize,
            p => return Err(format!("position {p} out of range [0-4]")),
        },
    };
    let Some(norm) = normalize(&expr) else {
        return Err(format!(
            "invalid cron expression {expr:?}: want five fields"
        ));
    };
    s(norm.split(' ').nth(pos).unwrap_or("*"))
}

/// The next time after `after` (to the minute, UTC) that a standard cron expression fires,
/// looking up to five years ahead; `None` for malformed or never-firing expressions.
pub(crate) fn next_fire(expr: &str, after: time::OffsetDateTime) -> Option<time::OffsetDateTime> {
    let norm = normalize(expr)?;
    let f: Vec<&str> = norm.split(' ').collect();
    let minutes = field_set(f[0], 0, 59, &[])?;
    let hours = field_set(f[1], 0, 23, &[])?;
    let doms = field_set(f[2], 1, 31, &[])?;
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let months = field_set(f[3], 1, 12, MONTHS)?;
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let mut dows = field_set(f[4], 0, 7, DAYS)?;
    if dows[7] {
        dows[0] = true;
    }
    // Standard cron: when both day fields are restricted, either may match.
    let (dom_any, dow_any) = (f[2] == "*" || f[2] == "?", f[4] == "*" || f[4] == "?");
    let start =
        after.replace_second(0).ok()?.replace_nanosecond(0).ok()? + time::Duration::minutes(1);
    let mut day = start.date();
    for _ in 0..(5 * 366) {
        let dom_ok = doms[usize::from(day.day())];
        let dow_ok = dows[usize::from(day.weekday().number_days_from_sunday())];
        let day_ok = match (dom_any, dow_any) {
            (true, true) => true,
            (false, true) => dom_ok,
            (true, false) => dow_ok,
            (false, false) => dom_ok || dow_ok,
        };
        if months[usize::from(u8::from(day.month()))] && day_ok {
            for h in (0..24u8).filter(|h| hours[usize::from(*h)]) {
                for m in (0..60u8).filter(|m| minutes[usize::from(*m)]) {
                    let t = day.with_hms(h, m, 0).ok()?.assume_utc();
                    if t >= start {
                        return Some(t);
                    }
                }
            }
        }
        day = day.next_day()?;
    }
    None
}

/// The values a cron field allows, as a table indexed by value: `*`, `?`, `a`, `a-b`, `*/n`,
/// `a-b/n`, `a/n`, comma lists and (for months and weekdays) three-letter names.
fn field_set(field: &str, lo: u32, hi: u32, names: &[&str]) -> Option<Vec<bool>> {
    let value = |s: &str| -> Option<u32> {
        let lower = s.to_ascii_lowercase();
        let v = match names.iter().position(|n| *n == lower) {
            Some(k) => k as u32 + if lo == 1 { 1 } else { 0 },
            None => s.parse().ok()?,
        };
        (lo..=hi).contains(&v).then_some(v)
    };
    let mut set = vec![false; hi as usize + 1];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u32>().ok().filter(|n| *n > 0)?),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, hi),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        if from > to {
            return None;
        }
        for v in (from..=to).step_by(step as usize) {
            set[v as usize] = true;
        }
    }
    Some(set)
}

/// Orkestra's descriptions, word for word (they end up in status fields).
fn describe(v: &Json) -> String {
    let expr = match v {
        m @ Json::Object(_) => from_map(m),
        other => to_str(other).into_owned(),
    };
    let norm = normalize(&expr).unwrap_or_else(|| "* * * * *".into());
    let f: Vec<&str> = norm.split(' ').collect();
    let (min, hr, dom, mon, dow) = (f[0], f[1], f[2], f[3], f[4]);
    if let Some(n) = min.strip_prefix("*/")
        && [hr, dom, mon, dow].iter().all(|x| *x == "*")
    {
        return format!("Every {n} minutes");
    }
    match (min, hr, dom, mon, dow) {
        ("0", "*", "*", "*", "*") => "Every hour".into(),
        (m, h, "*", "*", "*") if m != "*" && h != "*" => format!("At {h}:{m} every day"),
        (m, h, "*", "*", d) if d != "*" => format!("At {h}:{m} on day-of-week {d}"),
        (m, h, d, "*", "*") if d != "*" => format!("At {h}:{m} on day {d} of every month"),
        _ => format!("Cron: {norm}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn cron_notes_normalise_extract_and_describe() {
        let map = json!({"minute": "*/5", "hour": "2"});
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("cronNormalize", vec![json!("@daily")], "0 0 * * *"),
            (
                "cronNormalize",
                vec![json!("  */5   * * * * ")],
                "*/5 * * * *",
            ),
            ("cronNormalize", vec![json!("")], "* * * * *"),
            ("cronNormalize", vec![json!("1 2 3")], "* * * * *"),
            ("cronNormalize", vec![json!("@DAILY")], "0 0 * * *"),
            ("cronValid", vec![json!("0 2 * * 0")], "true"),
            ("cronValid", vec![json!("@hourly")], "true"),
            ("cronValid", vec![json!("not cron")], "false"),
            ("cronValid", vec![json!("a b c d e")], "true"),
            ("cronValid", vec![json!(null)], "false"),
            ("cronFromMap", vec![map.clone()], "*/5 2 * * *"),
            ("cronFromAny", vec![map.clone()], "*/5 2 * * *"),
            ("cronFromAny", vec![json!("@weekly")], "0 0 * * 0"),
            (
                "cronToMap",
                vec![json!("1 2 3 4 5")],
                "map[dayOfMonth:3 dayOfWeek:5 hour:2 minute:1 month:4]",
            ),
            (
                "cronExpr",
                vec![json!("*/1"), json!(""), json!(null), json!("*"), json!("1")],
                "*/1 * * * 1",
            ),
            ("cronMinute", vec![json!("*/5 2 * * 1")], "*/5"),
            ("cronHour", vec![json!("*/5 2 * * 1")], "2"),
            ("cronDom", vec![json!("0 0 15 * *")], "15"),
            ("cronMonth", vec![json!("0 0 1 6 *")], "6"),
            ("cronDow", vec![json!("0 0 * * 1")], "1"),
            ("cronMinute", vec![json!("")], "*"),
            (
                "cronMinute",
                vec![json!("bad")],
                "error: invalid cron expression \"bad\": want five fields",
            ),
            ("cronField", vec![json!("0 0 1 6 *"), json!(3)], "6"),
            (
                "cronDescribe",
                vec![json!("*/5 * * * *")],
                "Every 5 minutes",
            ),
            ("cronDescribe", vec![json!("0 * * * *")], "Every hour"),
            ("cronDescribe", vec![json!("0 2 * * *")], "At 2:0 every day"),
            (
                "cronDescribe",
                vec![json!("0 2 * * 1")],
                "At 2:0 on day-of-week 1",
            ),
            ("cronDescribe", vec![json!("@daily")], "At 0:0 every day"),
            (
                "cronDescribe",
                vec![json!("0 3 1 * *")],
                "At 3:0 on day 1 of every month",
            ),
            ("cronDescribe", vec![json!("0 3 1 6 *")], "Cron: 0 3 1 6 *"),
            ("cronDescribe", vec![json!(null)], "Cron: * * * * *"),
            (
                "cronField",
                vec![json!("0 0 1 6 *"), json!(7)],
                "error: position 7 out of range [0-4]",
            ),
        ];
        check(&cases);
    }
}
