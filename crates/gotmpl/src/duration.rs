//! Durations as Katalogs and their templates write them: Go durations plus the extended units
//! `d`, `w`, `mo`, `y`. The one duration grammar: the time functions use it, and `katalog`
//! re-exports it for settings and conditions.

use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is empty.
    #[error("empty duration")]
    Empty,
    /// A number is missing, malformed or followed by an unknown unit.
    #[error(
        "invalid duration `{0}`: expected a number followed by ns, us, ms, s, m, h, d, w, mo or y (e.g. 30s, 1h30m, 90d)"
    )]
    Invalid(String),
    /// Negative durations are not allowed here.
    #[error("negative duration `{0}`")]
    Negative(String),
}

/// Parses `30s`, `1h30m`, `500ms`, `90d`, `2w`, `6mo`, `1y`, or a bare number of seconds.
///
/// A month is 30 days and a year 365 days, as in Orkestra.
pub fn parse(text: &str) -> Result<Duration, Error> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::Empty);
    }
    if t.starts_with('-') {
        return Err(Error::Negative(text.to_string()));
    }
    match seconds(t) {
        Some(s) if s <= 1e12 => Ok(Duration::from_secs_f64(s)),
        _ => Err(Error::Invalid(text.to_string())),
    }
}

/// The number of seconds in a duration text, signed: Go units plus `d`, `w`, `mo` (30 d) and
/// `y` (365 d), or a bare number of seconds; `None` when it is not a duration. The one
/// duration grammar: template functions and Katalog conditions share it.
pub fn seconds(text: &str) -> Option<f64> {
    let t = text.trim();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    if t.is_empty() {
        return None;
    }
    if let Ok(whole) = t.parse::<u64>() {
        return Some(sign * whole as f64);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 7.0 * 86_400.0,
            "mo" => 30.0 * 86_400.0,
            "y" => 365.0 * 86_400.0,
            _ => return None,
        };
        total += number * unit;
        rest = &rest[unit_len..];
    }
    total.is_finite().then_some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_and_extended_units_parse() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse("6mo"), Ok(Duration::from_secs(180 * 86_400)));
        assert_eq!(parse("1y"), Ok(Duration::from_secs(365 * 86_400)));
        assert_eq!(parse("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn seconds_are_signed_and_none_for_non_durations() {
        assert_eq!(seconds("-1m30s"), Some(-90.0));
        assert_eq!(seconds("2h"), Some(7200.0));
        assert_eq!(seconds("h"), None);
        assert_eq!(seconds(""), None);
    }

    #[test]
    fn malformed_durations_are_rejected() {
        assert!(matches!(parse("30 seconds"), Err(Error::Invalid(_))));
        assert!(matches!(parse("s"), Err(Error::Invalid(_))));
        assert!(matches!(parse("10x"), Err(Error::Invalid(_))));
        assert!(matches!(parse("-5s"), Err(Error::Negative(_))));
        assert_eq!(parse(""), Err(Error::Empty));
    }
}
