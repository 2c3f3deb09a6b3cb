//! Output assertions (`equals`, `oneOf`, `outputContains`, `greaterThan`, …) and the `jq`
//! paths the files use to pick a value out of JSON (`.status.phase`, `state`, `.items[0].x`).

use crate::format::OutputAssertions;

/// Checks `output` against every assertion given; the error says which one failed.
pub fn check(output: &str, a: &OutputAssertions) -> Result<(), String> {
    let trimmed = output.trim();
    if let Some(want) = &a.output_contains
        && !output.contains(want.as_str())
    {
        return Err(format!("output does not contain {want:?}"));
    }
    if let Some(want) = &a.output_not_contains
        && output.contains(want.as_str())
    {
        return Err(format!("output contains {want:?}"));
    }
    if let Some(want) = &a.equals
        && trimmed != want.trim()
    {
        return Err(format!("want {want:?}, got {trimmed:?}"));
    }
    if let Some(want) = &a.not_equals
        && trimmed == want.trim()
    {
        return Err(format!("want anything but {want:?}"));
    }
    if let Some(options) = &a.one_of
        && !options.iter().any(|o| o.trim() == trimmed)
    {
        return Err(format!("want one of {options:?}, got {trimmed:?}"));
    }
    for (bound, above) in [(&a.greater_than, true), (&a.less_than, false)] {
        let Some(bound) = bound else { continue };
        let want: f64 = bound
            .trim()
            .parse()
            .map_err(|_| format!("{bound:?} is not a number"))?;
        let got: f64 = trimmed
            .parse()
            .map_err(|_| format!("output {trimmed:?} is not a number"))?;
        if above && got <= want {
            return Err(format!("want > {want}, got {got}"));
        }
        if !above && got >= want {
            return Err(format!("want < {want}, got {got}"));
        }
    }
    Ok(())
}

/// Picks the value at a jq path (`.a.b`, `a.b`, `.items[0].name`, `.`) out of a JSON text;
/// strings come out bare, other values as JSON, a missing value as `null` (like `jq -r`).
///
/// # Errors
/// When the text is not JSON or the expression is more than a path.
pub fn jq_path(json: &str, expression: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(json.trim())
        .map_err(|e| format!("response is not JSON ({e}): {}", clip(json)))?;
    let mut current = &value;
    let null = serde_json::Value::Null;
    for step in steps(expression)? {
        current = match step {
            Step::Key(key) => current.get(&key).unwrap_or(&null),
            Step::Index(i) => current.get(i).unwrap_or(&null),
        };
    }
    Ok(match current {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

enum Step {
    Key(String),
    Index(usize),
}

fn steps(expression: &str) -> Result<Vec<Step>, String> {
    let unsupported =
        || format!("jq expression {expression:?} is not supported (only paths like .a.b[0] are)");
    let mut out = Vec::new();
    let text = expression.trim();
    let text = text.strip_prefix('.').unwrap_or(text);
    for part in text.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key
            .chars()
            .any(|c| !(c.is_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(unsupported());
        }
        if !key.is_empty() {
            out.push(Step::Key(key.to_owned()));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let (index, after) = inner.split_once(']').ok_or_else(unsupported)?;
            out.push(Step::Index(index.parse().map_err(|_| unsupported())?));
            rest = after;
        }
        if !rest.is_empty() {
            return Err(unsupported());
        }
    }
    Ok(out)
}

/// At most 300 characters of `text`, for messages.
pub fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jq_paths_pick_values_like_jq_r() {
        let json = r#"{"state":"healthy","n":3,"items":[{"name":"a"}],"ok":false}"#;
        assert_eq!(jq_path(json, "state").unwrap(), "healthy");
        assert_eq!(jq_path(json, ".n").unwrap(), "3");
        assert_eq!(jq_path(json, ".items[0].name").unwrap(), "a");
        assert_eq!(jq_path(json, ".ok").unwrap(), "false");
        assert_eq!(jq_path(json, ".missing").unwrap(), "null");
        assert!(jq_path(json, ".items | length").is_err());
        assert!(jq_path("<html>", ".a").is_err());
    }

    #[test]
    fn every_assertion_given_must_hold() {
        let a = OutputAssertions {
            equals: Some("1".into()),
            ..Default::default()
        };
        assert!(check(" 1\n", &a).is_ok());
        assert_eq!(check("2", &a).unwrap_err(), "want \"1\", got \"2\"");
        let a = OutputAssertions {
            greater_than: Some("0".into()),
            one_of: Some(vec!["2".into(), "3".into()]),
            ..Default::default()
        };
        assert!(check("2", &a).is_ok());
        assert!(check("4", &a).is_err());
        assert!(
            check(
                "x",
                &OutputAssertions {
                    greater_than: Some("0".into()),
                    ..Default::default()
                }
            )
            .is_err()
        );
        let a = OutputAssertions {
            output_contains: Some("denied".into()),
            output_not_contains: Some("created".into()),
            ..Default::default()
        };
        assert!(check("admission denied the request", &a).is_ok());
        assert!(check("created", &a).is_err());
    }
}
