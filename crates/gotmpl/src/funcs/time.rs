//! Time notes over RFC 3339 timestamps and durations, against the render's clock
//! (`RenderContext::now`, UTC), following Orkestra: `timeSince` (seconds), `timeUntil`,
//! `timeAgo`, `timeFormat`, `isExpired`, `durationSeconds`, `durationAdd`, `durationValid`,
//! `weekday`, `weekend`, `timeInWindow`, `timeNotInWindow`, `nextCron`, `now`.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, Weekday};

use super::{Builtin, FnCx, arg, b, i, s, str_arg};
use crate::value::{Val, to_str};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("now", "time", 0, 0, |_, cx| s(rfc3339(cx.now()))),
    // Seconds since the timestamp (0 when invalid), as Orkestra.
    f!("timeSince", "time", 1, 1, |a, cx| {
        let secs = parse_time(&str_arg(&a, 0)).map_or(0.0, |t| (cx.now() - t).as_seconds_f64());
        i(secs.round() as i64)
    }),
    f!("timeUntil", "time", 1, 1, |a, cx| {
        let left = parse_time(&str_arg(&a, 0))
            .map_or(Duration::ZERO, |t| (t - cx.now()).max(Duration::ZERO));
        s(go_duration(left))
    }),
    f!("timeAgo", "time", 1, 1, |a, cx| {
        s(parse_time(&str_arg(&a, 0))
            .map(|t| ago(cx.now() - t))
            .unwrap_or_default())
    }),
    // `isExpired TS` is "TS is past"; `isExpired TS "30d"` is "TS + 30d is past".
    f!("isExpired", "time", 1, 2, |a, cx| {
        let grace = if a.len() > 1 {
            parse_duration(&str_arg(&a, 1))
        } else {
            Some(Duration::ZERO)
        };
        match (parse_time(&to_str(arg(&a, 0))), grace) {
            (Some(t), Some(d)) => b(cx.now() > t + d),
            _ => b(false),
        }
    }),
    f!("timeFormat", "time", 2, 2, time_format),
    f!("durationSeconds", "time", 1, 1, |a, _| {
        i(parse_duration(&str_arg(&a, 0)).map_or(0, |d| d.whole_seconds()))
    }),
    f!("durationValid", "time", 1, 1, |a, _| b(parse_duration(
        &str_arg(&a, 0)
    )
    .is_some())),
    // The sum of two durations as a Go duration ("1h" "90m" → "2h30m0s"); "0s" when invalid.
    f!("durationAdd", "time", 2, 2, |a, _| {
        match (
            parse_duration(&str_arg(&a, 0)),
            parse_duration(&str_arg(&a, 1)),
        ) {
            (Some(x), Some(y)) => s(go_duration(x + y)),
            _ => s("0s"),
        }
    }),
    f!("weekday", "time", 0, 0, |_, cx| b(!is_weekend(cx.now()))),
    f!("weekend", "time", 0, 0, |_, cx| b(is_weekend(cx.now()))),
    f!("timeInWindow", "time", 2, 2, |a, cx| b(in_window(&a, cx))),
    f!("timeNotInWindow", "time", 2, 2, |a, cx| b(!in_window(
        &a, cx
    ))),
    f!("nextCron", "time", 1, 1, |a, cx| {
        s(super::cron::next_fire(&str_arg(&a, 0), cx.now())
            .map(rfc3339)
            .unwrap_or_default())
    }),
];

fn is_weekend(t: OffsetDateTime) -> bool {
    matches!(t.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Whether now (UTC) is in `[after, before)`; a window whose end is before its start runs
/// across midnight (Orkestra's is then never open). False for malformed times.
fn in_window(a: &[Val<'_>], cx: &mut FnCx) -> bool {
    let now = cx.now();
    let now = u32::from(now.hour()) * 60 + u32::from(now.minute());
    match (hhmm(&str_arg(a, 0)), hhmm(&str_arg(a, 1))) {
        (Some(from), Some(to)) if from <= to => from <= now && now < to,
        (Some(from), Some(to)) => now >= from || now < to,
        _ => false,
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Parses RFC 3339 (and `YYYY-MM-DD`) into UTC.
pub(crate) fn parse_time(st: &str) -> Option<OffsetDateTime> {
    let st = st.trim();
    if let Ok(t) = OffsetDateTime::parse(st, &Rfc3339) {
        return Some(t.to_offset(time::UtcOffset::UTC));
    }
    let date = time::Date::parse(
        st,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some(date.midnight().assume_utc())
}

/// Go's `time.Duration.String()`: `72h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`.
pub(crate) fn go_duration(d: Duration) -> String {
    let nanos = d.whole_nanoseconds();
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n == 0 {
        return "0s".into();
    }
    let frac = |value: u128, unit: u128, digits: usize| {
        let whole = value / unit;
        let rest = format!("{:0digits$}", value % unit);
        let rest = rest.trim_end_matches('0');
        if rest.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{rest}")
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", frac(n, 1_000, 3));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", frac(n, 1_000_000, 6));
    }
    let secs = frac(n % 60_000_000_000, 1_000_000_000, 9);
    let (h, m) = (n / 3_600_000_000_000, n / 60_000_000_000 % 60);
    match (h, m) {
        (0, 0) => format!("{sign}{secs}s"),
        (0, _) => format!("{sign}{m}m{secs}s"),
        _ => format!("{sign}{h}h{m}m{secs}s"),
    }
}

fn ago(d: Duration) -> String {
    let secs = d.whole_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

/// Go durations plus Orkestra's `d`, `w`, `mo` and `y`: `1h30m`, `90s`, `1.5h`, `2d`, `-5m`.
/// As in Go, a bare number other than `0` is not a duration. The grammar is the crate's one
/// ([`crate::duration`]).
pub(crate) fn parse_duration(st: &str) -> Option<Duration> {
    let t = st.trim();
    let unsigned = t.trim_start_matches(['-', '+']);
    if unsigned != "0" && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = crate::duration::seconds(t)?;
    Some(Duration::seconds_f64(secs.clamp(-1e15, 1e15)))
}

fn hhmm(st: &str) -> Option<u32> {
    let (h, m) = st.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// `timeFormat TIMESTAMP LAYOUT` with a Go reference-time layout (`2006-01-02 15:04`).
fn time_format<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let Some(t) = parse_time(&to_str(arg(&a, 0))) else {
        return s("");
    };
    s(go_layout(t, &str_arg(&a, 1)))
}

/// Formats with the common tokens of Go's reference time `Mon Jan 2 15:04:05 MST 2006`.
pub(crate) fn go_layout(t: OffsetDateTime, layout: &str) -> String {
    const TOKENS: &[&str] = &[
        "January", "Monday", "2006", "Z07:00", "-07:00", "Jan", "Mon", "MST", "01", "02", "15",
        "03", "04", "05", "06", "PM", "pm", "_2", "1", "2", "3",
    ];
    let mut out = String::with_capacity(layout.len() + 8);
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for tok in TOKENS {
            if let Some(r) = rest.strip_prefix(tok) {
                let hour12 = match t.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                let piece = match *tok {
                    "January" => t.month().to_string(),
                    "Monday" => t.weekday().to_string(),
                    "2006" => format!("{:04}", t.year()),
                    "Z07:00" | "-07:00" => {
                        if t.offset().is_utc() && *tok == "Z07:00" {
                            "Z".into()
                        } else {
                            "+00:00".into()
                        }
                    }
                    "Jan" => t.month().to_string()[..3].to_string(),
                    "Mon" => t.weekday().to_string()[..3].to_string(),
                    "MST" => "UTC".into(),
                    "01" => format!("{:02}", u8::from(t.month())),
                    "02" => format!("{:02}", t.day()),
                    "_2" => format!("{:>2}", t.day()),
                    "15" => format!("{:02}", t.hour()),
                    "03" => format!("{hour12:02}"),
                    "04" => format!("{:02}", t.minute()),
                    "05" => format!("{:02}", t.second()),
                    "06" => format!("{:02}", t.year() % 100),
                    "PM" => {
                        if t.hour() >= 12 {
                            "PM".into()
                        } else {
                            "AM".into()
                        }
                    }
                    "pm" => {
                        if t.hour() >= 12 {
                            "pm".into()
                        } else {
                            "am".into()
                        }
                    }
                    "1" => u8::from(t.month()).to_string(),
                    "2" => t.day().to_string(),
                    _ => hour12.to_string(),
                };
                out.push_str(&piece);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use super::*;
    use serde_json::json;

    #[test]
    fn time_notes_measure_against_the_render_clock() {
        // The test clock is 2026-05-19 10:30:00 UTC, a Tuesday.
        check(&[
            ("now", vec![], "2026-05-19T10:30:00Z"),
            ("timeSince", vec![json!("2026-05-16T10:30:00Z")], "259200"),
            ("timeSince", vec![json!("garbage")], "0"),
            ("timeUntil", vec![json!("2026-05-19T10:31:30Z")], "1m30s"),
            ("timeUntil", vec![json!("2020-01-01T00:00:00Z")], "0s"),
            ("timeAgo", vec![json!("2026-05-19T08:00:00Z")], "2h ago"),
            ("timeAgo", vec![json!("2026-05-19T10:29:50Z")], "10s ago"),
            ("timeAgo", vec![json!("2026-05-16T10:30:00Z")], "3d ago"),
            ("timeAgo", vec![json!(null)], ""),
            (
                "isExpired",
                vec![json!("2026-05-19T10:00:00+00:00")],
                "true",
            ),
            (
                "isExpired",
                vec![json!("2026-05-19T10:00:00Z"), json!("1h")],
                "false",
            ),
            ("isExpired", vec![json!("2026-04-01"), json!("30d")], "true"),
            ("isExpired", vec![json!("2026-05-20")], "false"),
            ("isExpired", vec![json!(null)], "false"),
            (
                "isExpired",
                vec![json!("2026-04-01"), json!("bogus")],
                "false",
            ),
            (
                "timeFormat",
                vec![
                    json!("2026-05-19T10:30:05Z"),
                    json!("2006-01-02 15:04:05 Mon Jan"),
                ],
                "2026-05-19 10:30:05 Tue May",
            ),
            (
                "timeFormat",
                vec![json!("2026-04-13T00:00:00Z"), json!("Jan 2, 2006")],
                "Apr 13, 2026",
            ),
            ("durationSeconds", vec![json!("1h30m")], "5400"),
            ("durationSeconds", vec![json!("7d")], "604800"),
            ("durationSeconds", vec![json!("1mo")], "2592000"),
            ("durationSeconds", vec![json!("nope")], "0"),
            ("durationValid", vec![json!("1.5h")], "true"),
            ("durationValid", vec![json!("5d")], "true"),
            ("durationValid", vec![json!("")], "false"),
            ("durationValid", vec![json!("5x")], "false"),
            ("durationAdd", vec![json!("5m"), json!("30s")], "5m30s"),
            ("durationAdd", vec![json!("1h"), json!("90m")], "2h30m0s"),
            ("durationAdd", vec![json!("1d"), json!("12h")], "36h0m0s"),
            ("durationAdd", vec![json!("x"), json!("12h")], "0s"),
            ("weekday", vec![], "true"),
            ("weekend", vec![], "false"),
            ("timeInWindow", vec![json!("09:00"), json!("18:00")], "true"),
            (
                "timeNotInWindow",
                vec![json!("09:00"), json!("18:00")],
                "false",
            ),
            (
                "timeInWindow",
                vec![json!("22:00"), json!("06:00")],
                "false",
            ),
            ("timeInWindow", vec![json!("bad"), json!("06:00")], "false"),
            ("nextCron", vec![json!("0 9 * * 1")], "2026-05-25T09:00:00Z"),
            (
                "nextCron",
                vec![json!("*/15 * * * *")],
                "2026-05-19T10:45:00Z",
            ),
            ("nextCron", vec![json!("@daily")], "2026-05-20T00:00:00Z"),
            ("nextCron", vec![json!("0 0 31 2 *")], ""),
            ("nextCron", vec![json!("junk")], ""),
        ]);
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::seconds(0)), "0s");
        assert_eq!(go_duration(Duration::seconds(3661)), "1h1m1s");
        assert_eq!(go_duration(Duration::seconds(-90)), "-1m30s");
        assert_eq!(go_duration(Duration::milliseconds(1500)), "1.5s");
        assert_eq!(go_duration(Duration::milliseconds(500)), "500ms");
        assert_eq!(go_duration(Duration::nanoseconds(1500)), "1.5µs");
        assert_eq!(go_duration(Duration::nanoseconds(42)), "42ns");
    }
}
