//! `GET /api/v1/query?query=<selector>` (§14.1): Prometheus' instant-query answer over this
//! process's own `/metrics`, for tools that speak the Prometheus HTTP API but have no
//! Prometheus to ask (the Control Center, `cross` metrics reads).
//!
//! A query is a bare metric name (`controller_queue_depth`), optionally with label matchers
//! (`controller_reconcile_total{crd="website",result!="error"}`, `=~` and `!~` anchored as in
//! Prometheus), or matchers alone (`{__name__="process_open_fds"}`). No PromQL functions,
//! operators or range selectors: those answer 400 with Prometheus' error body. A name with no
//! series answers an empty vector, as Prometheus does. Names are those of the exposition's
//! samples: `controller_reconcile_total`, `…_duration_seconds_bucket`, `process_cpu_seconds_total`.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Serialize;

/// Why a query was refused (`errorType: bad_data`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// No `query` parameter, or an empty one.
    #[error("invalid parameter \"query\": no query given")]
    Missing,
    /// Not a metric name with optional label matchers.
    #[error(
        "invalid parameter \"query\": {0}: only a metric name with optional label matchers is served (no PromQL functions or operators)"
    )]
    Unsupported(String),
    /// A `=~` or `!~` matcher's regular expression does not compile.
    #[error("invalid parameter \"query\": invalid regular expression {0:?}")]
    BadRegex(String),
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a matcher compares a label's value.
#[derive(Debug)]
enum Op {
    Equal(String),
    NotEqual(String),
    Matches(Regex),
    NotMatches(Regex),
}

/// One label matcher (`crd="website"`); an absent label has the value `""`.
#[derive(Debug)]
struct Matcher {
    label: String,
    op: Op,
}

impl Matcher {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.label).map_or("", String::as_str);
        match &self.op {
            Op::Equal(v) => value == v,
            Op::NotEqual(v) => value != v,
            Op::Matches(r) => r.is_match(value),
            Op::NotMatches(r) => !r.is_match(value),
        }
    }
}

/// A parsed query: matchers over the labels, `__name__` included.
#[derive(Debug)]
pub struct Selector {
    matchers: Vec<Matcher>,
}

/// One series of the answer.
#[derive(Debug, Serialize, PartialEq)]
pub struct Series {
    /// `__name__` and the series' labels.
    pub metric: BTreeMap<String, String>,
    /// `[evaluation time in Unix seconds, "value"]`.
    pub value: (f64, String),
}

/// `data` of a successful answer.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// Always `vector`.
    pub result_type: &'static str,
    /// The matching series, sorted by their labels.
    pub result: Vec<Series>,
}

/// The whole answer body, as Prometheus writes it.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Answer {
    /// 200.
    Success {
        /// The vector.
        data: Data,
    },
    /// 400.
    Error {
        /// `bad_data`.
        #[serde(rename = "errorType")]
        error_type: &'static str,
        /// What was wrong.
        error: String,
    },
}

impl Answer {
    /// The answer to `query` (the raw parameter) over OpenMetrics `text` at `time`.
    pub fn of(query: Option<&str>, text: &str, time: f64) -> Self {
        match query.map(str::trim).filter(|q| !q.is_empty()) {
            None => Self::refused(&Error::Missing),
            Some(q) => match Selector::parse(q) {
                Ok(selector) => Answer::Success {
                    data: Data {
                        result_type: "vector",
                        result: selector.select(text, time),
                    },
                },
                Err(e) => Self::refused(&e),
            },
        }
    }

    fn refused(e: &Error) -> Self {
        Answer::Error {
            error_type: "bad_data",
            error: e.to_string(),
        }
    }

    /// Whether this is a success (200) rather than a refusal (400).
    pub fn is_success(&self) -> bool {
        matches!(self, Answer::Success { .. })
    }
}

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':');
    chars.next().is_some_and(ok_first) && chars.all(|c| ok_first(c) || c.is_ascii_digit())
}

impl Selector {
    /// Parses `name`, `name{matchers}` or `{matchers}`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for anything else, [`Error::BadRegex`] for a bad regex.
    pub fn parse(query: &str) -> Result<Self> {
        let unsupported = || Error::Unsupported(query.to_owned());
        let (name, rest) = match query.find('{') {
            Some(at) => (query[..at].trim(), Some(&query[at..])),
            None => (query, None),
        };
        let mut matchers = Vec::new();
        if !name.is_empty() {
            if !is_name(name, true) {
                return Err(unsupported());
            }
            matchers.push(Matcher {
                label: "__name__".into(),
                op: Op::Equal(name.into()),
            });
        }
        if let Some(rest) = rest {
            let inner = rest
                .trim_end()
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .ok_or_else(unsupported)?;
            let mut labels = Labels::new(inner);
            while let Some((label, op, value)) =
                labels.next_matcher().map_err(|()| unsupported())?
            {
                let regex = |v: &str| {
                    Regex::new(&format!("^(?:{v})$")).map_err(|_| Error::BadRegex(v.to_owned()))
                };
                let op = match op {
                    "=" => Op::Equal(value),
                    "!=" => Op::NotEqual(value),
                    "=~" => Op::Matches(regex(&value)?),
                    _ => Op::NotMatches(regex(&value)?),
                };
                matchers.push(Matcher { label, op });
            }
        }
        // Prometheus refuses a selector that matches the empty name (`{}` or `{a!="b"}`).
        let empty = BTreeMap::new();
        if matchers.iter().all(|m| m.matches(&empty)) {
            return Err(unsupported());
        }
        Ok(Selector { matchers })
    }

    /// The series of OpenMetrics `text` that match, valued at `time`, sorted by their labels
    /// (the exposition's order of series within a family is not stable).
    pub fn select(&self, text: &str, time: f64) -> Vec<Series> {
        let mut found: Vec<Series> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(parse_sample)
            .filter(|(labels, _)| self.matchers.iter().all(|m| m.matches(labels)))
            .map(|(metric, value)| Series {
                metric,
                value: (time, value),
            })
            .collect();
        found.sort_by(|a, b| a.metric.cmp(&b.metric));
        found
    }
}

/// A sample line (`name{a="b"} 1.5 [timestamp]`) as its labels (with `__name__`) and value.
fn parse_sample(line: &str) -> Option<(BTreeMap<String, String>, String)> {
    let name_end = line.find(['{', ' '])?;
    let mut labels = BTreeMap::from([("__name__".to_owned(), line[..name_end].to_owned())]);
    let mut rest = &line[name_end..];
    if rest.starts_with('{') {
        let mut parser = Labels::new(&rest[1..]);
        while let Some((label, "=", value)) = parser.next_matcher().ok()? {
            labels.insert(label, value);
        }
        rest = parser.rest.strip_prefix('}')?;
    }
    let value = rest.split_whitespace().next()?;
    Some((labels, value.to_owned()))
}

/// A cursor over `label<op>"value"` pairs separated by commas, up to a `}` or the end.
struct Labels<'a> {
    rest: &'a str,
}

impl<'a> Labels<'a> {
    fn new(text: &'a str) -> Self {
        Self { rest: text }
    }

    /// The next `(label, op, value)`; `Ok(None)` at `}` or the end.
    fn next_matcher(&mut self) -> Result<Option<(String, &'static str, String)>, ()> {
        let text = self.rest.trim_start().trim_start_matches(',').trim_start();
        if text.is_empty() || text.starts_with('}') {
            self.rest = text;
            return Ok(None);
        }
        let label_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or(())?;
        let label = &text[..label_end];
        if !is_name(label, false) {
            return Err(());
        }
        let after = text[label_end..].trim_start();
        let op = ["=~", "!~", "!=", "="]
            .into_iter()
            .find(|op| after.starts_with(op))
            .ok_or(())?;
        let quoted = after[op.len()..].trim_start();
        let quote = quoted
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')
            .ok_or(())?;
        let mut value = String::new();
        let mut chars = quoted[1..].char_indices();
        let end = loop {
            match chars.next().ok_or(())? {
                (i, c) if c == quote => break i,
                (_, '\\') => match chars.next().ok_or(())?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        self.rest = &quoted[1 + end + quote.len_utf8()..];
        Ok(Some((label.to_owned(), op, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP controller_reconcile Reconciles.
# TYPE controller_reconcile counter
controller_reconcile_total{crd=\"website\",result=\"success\"} 2
controller_reconcile_total{crd=\"website\",result=\"error\"} 1
controller_reconcile_total{crd=\"db \\\"x\\\"\",result=\"success\"} 4
# TYPE process_open_fds gauge
process_open_fds 12
# EOF
";

    fn values(query: &str) -> Vec<(BTreeMap<String, String>, String)> {
        Selector::parse(query)
            .unwrap()
            .select(TEXT, 1.0)
            .into_iter()
            .map(|s| (s.metric, s.value.1))
            .collect()
    }

    #[test]
    fn a_bare_name_selects_every_series_of_it() {
        let found = values("controller_reconcile_total");
        assert_eq!(found.len(), 3);
        assert_eq!(
            found[0].0["crd"], "db \"x\"",
            "escapes are read; sorted by labels"
        );
        assert_eq!(found[1].0["crd"], "website");
        assert_eq!(found[1].0["__name__"], "controller_reconcile_total");
        assert_eq!(values("process_open_fds")[0].1, "12");
        assert!(values("controller_reconcile").is_empty(), "names are exact");
        assert!(values("nope").is_empty());
    }

    #[test]
    fn label_matchers_filter_as_in_prometheus() {
        let found = values(r#"controller_reconcile_total{crd="website", result!='error'}"#);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "2");
        assert_eq!(
            values(r#"controller_reconcile_total{crd=~"web.*"}"#).len(),
            2
        );
        assert_eq!(
            values(r#"controller_reconcile_total{crd!~"web"}"#).len(),
            3,
            "anchored"
        );
        assert_eq!(values(r#"{__name__="process_open_fds"}"#).len(), 1);
        assert!(values(r#"process_open_fds{crd="website"}"#).is_empty());
    }

    #[test]
    fn promql_beyond_selectors_is_refused_as_bad_data() {
        for query in [
            "rate(controller_reconcile_total[5m])",
            "sum(process_open_fds)",
            "process_open_fds + 1",
            "controller_reconcile_total{crd=website}",
            "{}",
            r#"{crd!="x"}"#,
        ] {
            let answer = Answer::of(Some(query), TEXT, 1.0);
            assert!(!answer.is_success(), "{query}");
        }
        assert_eq!(
            serde_json::to_value(Answer::of(Some(r#"a{b=~"("}"#), TEXT, 1.0)).unwrap()["errorType"],
            "bad_data"
        );
        assert!(!Answer::of(None, TEXT, 1.0).is_success());
    }

    #[test]
    fn the_answer_has_prometheus_shape() {
        let answer = serde_json::to_value(Answer::of(Some("process_open_fds"), TEXT, 1.5)).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"__name__": "process_open_fds"}, "value": [1.5, "12"]}]}})
        );
    }
}
