//! Prometheus notes over the result of a `protocol: prometheus` external call
//! (`.external.<name>`): `promValue`, `promSum`, `promMax`, `promAboveThreshold`,
//! `promBelowThreshold`, `promSeriesCount`, `promLabelValues`.
//!
//! The result is found as the Prometheus API's `data` object in the value itself, in its
//! `body` (as an object or as JSON text), so both the raw response and the external-call map
//! work. Values come back as strings, as in Orkestra.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::collections::items;
use super::{Builtin, arg, dig, float_text, s, str_arg};
use crate::value::{as_f64, to_str};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("promValue", "prometheus", 1, 1, |a, _| s(values(arg(
        &a, 0
    ))
    .first()
    .map(|v| float_text(*v))
    .unwrap_or_default())),
    f!("promSum", "prometheus", 1, 1, |a, _| {
        let v = values(arg(&a, 0));
        s(if v.is_empty() {
            String::new()
        } else {
            float_text(v.iter().sum())
        })
    }),
    f!("promMax", "prometheus", 1, 1, |a, _| s(values(arg(&a, 0))
        .into_iter()
        .reduce(f64::max)
        .map(float_text)
        .unwrap_or_default())),
    f!("promAboveThreshold", "prometheus", 2, 2, |a, _| s(
        threshold(arg(&a, 0), arg(&a, 1), |v, t| v > t)
    )),
    f!("promBelowThreshold", "prometheus", 2, 2, |a, _| s(
        threshold(arg(&a, 0), arg(&a, 1), |v, t| v < t)
    )),
    f!("promSeriesCount", "prometheus", 1, 1, |a, _| s(series(
        arg(&a, 0)
    )
    .len()
    .to_string())),
    f!("promLabelValues", "prometheus", 2, 2, |a, _| {
        let label = str_arg(&a, 1);
        let vals: Vec<String> = series(arg(&a, 0))
            .iter()
            .map(|x| to_str(dig(x, &["metric", &label])).into_owned())
            .filter(|x| !x.is_empty())
            .collect();
        s(vals.join(", "))
    }),
];

/// The API's `data` object, wherever the call result keeps it.
fn data(v: &Json) -> Cow<'_, Json> {
    for candidate in [dig(v, &["data"]), dig(v, &["body", "data"])] {
        if candidate.is_object() {
            return Cow::Borrowed(candidate);
        }
    }
    match dig(v, &["body"]) {
        Json::String(body) => Cow::Owned(
            serde_json::from_str::<Json>(body)
                .map(|j| j["data"].clone())
                .unwrap_or(Json::Null),
        ),
        _ => Cow::Owned(Json::Null),
    }
}

fn series(v: &Json) -> Vec<Json> {
    let d = data(v);
    match dig(&d, &["resultType"]).as_str() {
        Some("scalar") | Some("string") => vec![Json::Object(
            [("value".to_string(), dig(&d, &["result"]).clone())]
                .into_iter()
                .collect(),
        )],
        _ => items(dig(&d, &["result"])).to_vec(),
    }
}

fn values(v: &Json) -> Vec<f64> {
    series(v)
        .iter()
        .filter_map(|x| as_f64(dig(x, &["value", "1"])))
        .collect()
}

fn threshold(v: &Json, t: &Json, cmp: fn(f64, f64) -> bool) -> String {
    match (values(v).first(), as_f64(t)) {
        (Some(v), Some(t)) => cmp(*v, t).to_string(),
        _ => "false".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn prometheus_notes_read_vector_and_scalar_results() {
        let vector = json!({"status": 200, "body": {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"namespace": "a"}, "value": [1.0, "3"]},
            {"metric": {"namespace": "b"}, "value": [1.0, "4.5"]}]}}});
        let scalar_text =
            json!({"body": "{\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"0.25\"]}}"});
        check(&[
            ("promValue", vec![vector.clone()], "3"),
            ("promSum", vec![vector.clone()], "7.5"),
            ("promMax", vec![vector.clone()], "4.5"),
            ("promSeriesCount", vec![vector.clone()], "2"),
            (
                "promLabelValues",
                vec![vector.clone(), json!("namespace")],
                "a, b",
            ),
            ("promAboveThreshold", vec![vector.clone(), json!(2)], "true"),
            (
                "promBelowThreshold",
                vec![vector.clone(), json!("2")],
                "false",
            ),
            ("promValue", vec![scalar_text.clone()], "0.25"),
            ("promValue", vec![json!(null)], ""),
            ("promSeriesCount", vec![json!(null)], "0"),
            ("promAboveThreshold", vec![json!(null), json!(1)], "false"),
        ]);
    }
}
