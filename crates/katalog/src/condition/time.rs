//! Time conditions (spec §7.2), all in UTC: a time-of-day window, a day-of-week set, and a
//! cron window (`cron` + `duration`). Also the extended duration syntax shared by
//! `duration`, `rotateAfter`, `timeout` and `sleep` (`s m h d w mo y`, combinable).

use time::{Duration, OffsetDateTime, Weekday};

use super::{DayOfWeek, Error, Result};

/// Parses a duration with the extended units `ms s m h d w mo y` (a month is 30 days, a
/// year 365), combinable as in Go (`1h30m`). A bare number is seconds; negative durations
/// are not durations here. The grammar is the one of [`gotmpl::duration`] (which `model::duration` re-exports).
pub fn parse_duration(s: &str) -> Option<Duration> {
    if s.trim_start().starts_with('-') {
        return None;
    }
    Duration::checked_seconds_f64(gotmpl::duration::seconds(s)?)
}

/// Minutes since midnight of an `HH:MM` (24h) string.
fn parse_clock(s: &str) -> Result<u32> {
    let bad = || Error::InvalidTime(s.to_owned());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Whether `now` is inside the window. `after` is inclusive, `before` exclusive; a window
/// with `after > before` wraps past midnight.
pub(super) fn in_window(
    after: Option<&str>,
    before: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool> {
    let minute = u32::from(now.hour()) * 60 + u32::from(now.minute());
    let after = after
        .filter(|s| !s.trim().is_empty())
        .map(parse_clock)
        .transpose()?;
    let before = before
        .filter(|s| !s.trim().is_empty())
        .map(parse_clock)
        .transpose()?;
    Ok(match (after, before) {
        (Some(a), Some(b)) if a <= b => minute >= a && minute < b,
        (Some(a), Some(b)) => minute >= a || minute < b,
        (Some(a), None) => minute >= a,
        (None, Some(b)) => minute < b,
        (None, None) => true,
    })
}

fn weekday_from_name(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        "sunday" | "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// Whether today (UTC) is in the day-of-week set.
pub(super) fn in_days(d: &DayOfWeek, now: OffsetDateTime) -> Result<bool> {
    let today = now.weekday();
    let weekend = matches!(today, Weekday::Saturday | Weekday::Sunday);
    if let Some(want) = d.weekday {
        return Ok(want != weekend);
    }
    if let Some(want) = d.weekend {
        return Ok(want == weekend);
    }
    let parse = |names: &[String]| -> Result<Vec<Weekday>> {
        names
            .iter()
            .map(|n| weekday_from_name(n).ok_or_else(|| Error::InvalidDay(n.clone())))
            .collect()
    };
    if !d.in_days.is_empty() {
        return Ok(parse(&d.in_days)?.contains(&today));
    }
    if !d.not_in.is_empty() {
        return Ok(!parse(&d.not_in)?.contains(&today));
    }
    Err(Error::InvalidDay(
        "dayOfWeek needs weekday, weekend, in or notIn".into(),
    ))
}

/// A parsed five-field cron expression: one bit set per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    dom_restricted: bool,
    dow_restricted: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn cron_value(s: &str, names: &[&str], offset: u32) -> Option<u32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let lower = s.to_ascii_lowercase();
    names
        .iter()
        .position(|n| *n == lower)
        .map(|i| i as u32 + offset)
}

/// Bits `lo..=hi` of one cron field; `None` when malformed.
fn cron_field(field: &str, lo: u32, hi: u32, names: &[&str], name_offset: u32) -> Option<u64> {
    let mut bits = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (start, end) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                cron_value(a, names, name_offset)?,
                cron_value(b, names, name_offset)?,
            )
        } else {
            let v = cron_value(range, names, name_offset)?;
            (v, if part.contains('/') { hi } else { v })
        };
        if start < lo || end > hi || start > end {
            return None;
        }
        let mut v = start;
        while v <= end {
            bits |= 1 << v;
            v = match v.checked_add(step) {
                Some(next) => next,
                None => break,
            };
        }
    }
    Some(bits)
}

impl CronSchedule {
    /// Parses a five-field expression (or `@hourly`, `@daily`, `@weekly`, `@monthly`,
    /// `@yearly`).
    pub fn parse(expr: &str) -> Option<CronSchedule> {
        let expr = match expr.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let f: Vec<&str> = expr.split_whitespace().collect();
        let [mi, h, dom, mon, dow] = f.as_slice() else {
            return None;
        };
        let mut weekdays = cron_field(dow, 0, 7, &DAYS, 0)? as u8;
        if weekdays & 0x80 != 0 {
            weekdays = (weekdays & 0x7f) | 1;
        }
        Some(CronSchedule {
            minutes: cron_field(mi, 0, 59, &[], 0)?,
            hours: cron_field(h, 0, 23, &[], 0)? as u32,
            days: cron_field(dom, 1, 31, &[], 0)? as u32,
            months: cron_field(mon, 1, 12, &MONTHS, 1)? as u16,
            weekdays,
            dom_restricted: *dom != "*",
            dow_restricted: *dow != "*",
        })
    }

    /// Whether the schedule fires at the minute of `t`.
    pub fn fires_at(&self, t: OffsetDateTime) -> bool {
        let dom_ok = self.days & (1 << t.day()) != 0;
        let dow_ok = self.weekdays & (1 << t.weekday().number_days_from_sunday()) != 0;
        let day_ok = match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom_ok || dow_ok,
            _ => dom_ok && dow_ok,
        };
        self.minutes & (1 << t.minute()) != 0
            && self.hours & (1 << t.hour()) != 0
            && self.months & (1 << u8::from(t.month())) != 0
            && day_ok
    }
}

/// Longest window scanned back for a cron fire (a longer `duration` is clamped).
const MAX_CRON_WINDOW: Duration = Duration::days(62);

/// Whether some fire of `expr` happened within `window` before `now` (inclusive of the
/// fire minute itself).
pub(super) fn in_cron_window(expr: &str, window: Duration, now: OffsetDateTime) -> Result<bool> {
    let sched = CronSchedule::parse(expr).ok_or_else(|| Error::InvalidCron(expr.to_owned()))?;
    let window = window.min(MAX_CRON_WINDOW);
    let minute_start = now
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(now);
    for k in 0.. {
        let t = minute_start - Duration::minutes(k);
        if now - t >= window {
            break;
        }
        if sched.fires_at(t) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn extended_durations_parse() {
        assert_eq!(parse_duration("90d"), Some(Duration::days(90)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("2mo"), Some(Duration::days(60)));
        assert_eq!(parse_duration("1y"), Some(Duration::days(365)));
        assert_eq!(parse_duration("45"), Some(Duration::seconds(45)));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("99999999999999999999y"), None);
    }

    #[test]
    fn windows_wrap_past_midnight() {
        let late = datetime!(2026-01-05 23:30 UTC);
        let noon = datetime!(2026-01-05 12:00 UTC);
        assert!(in_window(Some("22:00"), Some("06:00"), late).unwrap());
        assert!(!in_window(Some("22:00"), Some("06:00"), noon).unwrap());
        assert!(in_window(Some("09:00"), Some("18:00"), noon).unwrap());
        assert!(!in_window(Some("09:00"), Some("12:00"), noon).unwrap());
        assert!(in_window(None, Some("12:01"), noon).unwrap());
        assert!(in_window(Some("25:00"), None, noon).is_err());
    }

    #[test]
    fn day_sets_use_the_utc_weekday() {
        let monday = datetime!(2026-01-05 10:00 UTC);
        let sunday = datetime!(2026-01-04 10:00 UTC);
        let weekday = DayOfWeek {
            weekday: Some(true),
            ..Default::default()
        };
        assert!(in_days(&weekday, monday).unwrap());
        assert!(!in_days(&weekday, sunday).unwrap());
        let listed = DayOfWeek {
            in_days: vec!["MONDAY".into()],
            ..Default::default()
        };
        assert!(in_days(&listed, monday).unwrap());
        let excluded = DayOfWeek {
            not_in: vec!["Sunday".into()],
            ..Default::default()
        };
        assert!(!in_days(&excluded, sunday).unwrap());
        let bad = DayOfWeek {
            in_days: vec!["Caturday".into()],
            ..Default::default()
        };
        assert!(in_days(&bad, monday).is_err());
    }

    #[test]
    fn cron_windows_open_at_each_fire() {
        // Sundays at 02:00, two hours.
        let sunday_3am = datetime!(2026-01-04 03:00 UTC);
        let sunday_5am = datetime!(2026-01-04 05:00 UTC);
        let monday_3am = datetime!(2026-01-05 03:00 UTC);
        let two_hours = Duration::hours(2);
        assert!(in_cron_window("0 2 * * 0", two_hours, sunday_3am).unwrap());
        assert!(!in_cron_window("0 2 * * 0", two_hours, sunday_5am).unwrap());
        assert!(!in_cron_window("0 2 * * 0", two_hours, monday_3am).unwrap());
        assert!(
            in_cron_window(
                "*/15 * * * *",
                Duration::seconds(60),
                datetime!(2026-01-05 10:30:20 UTC)
            )
            .unwrap()
        );
        assert!(
            !in_cron_window(
                "*/15 * * * *",
                Duration::seconds(60),
                datetime!(2026-01-05 10:31:20 UTC)
            )
            .unwrap()
        );
        assert!(
            in_cron_window(
                "0 9 * * MON-FRI",
                Duration::hours(1),
                datetime!(2026-01-05 09:10 UTC)
            )
            .unwrap()
        );
        assert!(in_cron_window("not cron", two_hours, sunday_3am).is_err());
    }

    #[test]
    fn huge_steps_and_values_are_rejected_or_clamped_not_panics() {
        assert!(CronSchedule::parse("*/4294967295 * * * *").is_some());
        assert!(CronSchedule::parse("99 * * * *").is_none());
        assert!(CronSchedule::parse("*/0 * * * *").is_none());
    }

    #[test]
    fn sunday_may_be_written_as_seven() {
        let s = CronSchedule::parse("0 0 * * 7").unwrap();
        assert!(s.fires_at(datetime!(2026-01-04 00:00 UTC)));
    }
}
