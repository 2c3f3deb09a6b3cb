//! Durations as Katalogs write them: Go durations plus the extended units `d`, `w`, `mo`, `y`.

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
    let t = t.strip_prefix('+').unwrap_or(t);
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if let Ok(seconds) = t.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let invalid = || Error::Invalid(text.to_string());
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        if number_len == 0 {
            return Err(invalid());
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
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
            _ => return Err(invalid()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e12 {
        return Err(invalid());
    }
    Ok(Duration::from_secs_f64(total))
}

/// True when `text` is a template (contains `{{`), which is checked when rendered, not here.
pub fn is_template(text: &str) -> bool {
    text.contains("{{")
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
    fn malformed_durations_are_rejected() {
        assert!(matches!(parse("30 seconds"), Err(Error::Invalid(_))));
        assert!(matches!(parse("s"), Err(Error::Invalid(_))));
        assert!(matches!(parse("10x"), Err(Error::Invalid(_))));
        assert!(matches!(parse("-5s"), Err(Error::Negative(_))));
        assert_eq!(parse(""), Err(Error::Empty));
    }
}
