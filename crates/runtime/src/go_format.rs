//! Times and durations printed as Orkestra (Go) prints them, for the health record and the
//! HTTP API alike.

use std::fmt::Write as _;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 3339 to the second, as Go prints `time.Time` in JSON after truncation; empty for none.
pub fn format_time(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.replace_nanosecond(0).ok())
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Whole seconds in Go's `time.Duration` format: `0s`, `47s`, `11m47s`, `2h0m5s`.
pub fn format_go_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut text = String::new();
    if hours > 0 {
        let _ = write!(text, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(text, "{minutes}m");
    }
    let _ = write!(text, "{seconds}s");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_does() {
        let cases = [
            (0, "0s"),
            (47, "47s"),
            (60, "1m0s"),
            (707, "11m47s"),
            (7205, "2h0m5s"),
        ];
        for (seconds, text) in cases {
            assert_eq!(format_go_duration(Duration::from_secs(seconds)), text);
        }
    }
}
