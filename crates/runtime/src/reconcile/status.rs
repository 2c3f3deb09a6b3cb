//! The CR's status (spec §10): the three automatic conditions, `observedGeneration`, the
//! declared fields, written by JSON merge patch to `/status` — and only when something
//! semantically changed (conditions compared without `lastTransitionTime`), so a steady state
//! writes nothing and ork never triggers itself.

use katalog::condition::{Conditions, Env};
use katalog::model::StatusField;
use katalog::render::{Render, Text, render_text};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Map, Value, json};

/// Longest condition message; longer ones are cut to 253 characters plus `...`.
pub const MAX_MESSAGE: usize = 256;

/// Errors writing status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused the status patch.
    #[error("patching the status of {name}")]
    PatchFailed {
        /// The CR.
        name: String,
        /// The API failure.
        #[source]
        source: kube::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a reconcile found, as the automatic conditions report it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// Why the reconcile failed, if it did (`Ready=False`, reason `ReconcileError`).
    pub error: Option<String>,
    /// What deny rules said, if any fired (`ValidationFailed=True`, `DenyRuleViolation`).
    pub denied: Option<String>,
    /// What warn rules said, if any fired (`ValidationWarning=True`, `WarnRuleViolation`).
    pub warned: Option<String>,
}

/// How status is written for a CRD (`status.conditions`, `ignoreStatusPatch`,
/// `ignoreObservedGeneration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Write the three automatic conditions.
    pub conditions: bool,
    /// Write `observedGeneration`.
    pub observed_generation: bool,
}

/// A message cut to [`MAX_MESSAGE`] characters (253 plus `...` when longer).
pub fn clip(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE {
        return message.to_owned();
    }
    let head: String = message.chars().take(MAX_MESSAGE - 3).collect();
    format!("{head}...")
}

/// The three automatic conditions for `findings`, keeping each one's previous
/// `lastTransitionTime` when its status did not change.
pub fn conditions(
    previous: Option<&Value>,
    findings: &Findings,
    generation: Option<i64>,
    now: &str,
) -> Vec<Value> {
    let previous = previous.and_then(Value::as_array);
    let make = |type_: &str, status: bool, reason: &str, message: &str| {
        let status = if status { "True" } else { "False" };
        let since = previous
            .and_then(|list| list.iter().find(|c| c["type"] == type_))
            .filter(|c| c["status"] == status)
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(now));
        let mut c = json!({
            "type": type_,
            "status": status,
            "reason": reason,
            "message": clip(message),
            "lastTransitionTime": since,
        });
        if let Some(g) = generation {
            c["observedGeneration"] = json!(g);
        }
        c
    };
    let ready = findings.error.is_none() && findings.denied.is_none();
    let failure = findings.error.as_deref().or(findings.denied.as_deref());
    vec![
        make(
            "Ready",
            ready,
            if ready {
                "ReconcileSucceeded"
            } else {
                "ReconcileError"
            },
            failure.unwrap_or_default(),
        ),
        match &findings.denied {
            Some(m) => make("ValidationFailed", true, "DenyRuleViolation", m),
            None => make("ValidationFailed", false, "ValidationPassed", ""),
        },
        match &findings.warned {
            Some(m) => make("ValidationWarning", true, "WarnRuleViolation", m),
            None => make("ValidationWarning", false, "NoWarnings", ""),
        },
    ]
}

/// Evaluates declared status fields (§10.2) into `status`: declaration order, later entries
/// win on the same path, values cast to their `type`; after a failed reconcile only fields
/// with conditions are evaluated; `clearOnFalse` writes `""` when the conditions fail.
/// Fields that cannot be evaluated are skipped with a warning, never failing the reconcile.
pub fn declared_fields(
    status: &mut Map<String, Value>,
    fields: &[&StatusField],
    data: &Value,
    render: &dyn Render,
    now: time::OffsetDateTime,
    failed: bool,
) {
    for field in fields {
        let Some(path) = field.path.as_deref().filter(|p| !p.is_empty()) else {
            continue;
        };
        let conditional = !field.when.is_empty() || !field.or.is_empty();
        if failed && !conditional {
            continue;
        }
        let pass =
            match Conditions::new(&field.when, &field.or).evaluate(&Env::new(data, render, now)) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(path, error = %e, "status field conditions cannot be evaluated");
                    continue;
                }
            };
        let value = if pass {
            let text = Text::new(field.value.value.clone());
            let rendered = match render_text(render, &text, data) {
                Ok(s) => s.into_owned(),
                Err(e) => {
                    tracing::warn!(path, error = %e, "status field cannot be rendered");
                    continue;
                }
            };
            let kind = field.kind.as_ref().map(|k| k.value.as_str());
            match cast(&rendered, kind) {
                Some(v) => v,
                None => {
                    tracing::warn!(path, value = rendered, ?kind, "status field cannot be cast");
                    continue;
                }
            }
        } else if field.clear_on_false == Some(true) {
            json!("")
        } else {
            continue;
        };
        set_path(status, path, value);
    }
}

/// Casts rendered text to a status field `type` (§10.2); `None` when it does not parse.
pub fn cast(text: &str, kind: Option<&str>) -> Option<Value> {
    let t = text.trim();
    match kind.unwrap_or("").to_ascii_lowercase().as_str() {
        "" | "string" | "str" | "default" => Some(json!(text)),
        "int" | "integer" => t
            .parse::<i64>()
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            })
            .map(|i| json!(i)),
        "float" => t.parse::<f64>().ok().map(|f| json!(f)),
        "bool" | "boolean" => t.parse::<bool>().ok().map(|b| json!(b)),
        "auto" => Some(if let Ok(i) = t.parse::<i64>() {
            json!(i)
        } else if let Ok(f) = t.parse::<f64>() {
            json!(f)
        } else if let Ok(b) = t.parse::<bool>() {
            json!(b)
        } else {
            json!(text)
        }),
        _ => None,
    }
}

/// Sets a dot path (`db.host`) under `map`, creating objects on the way.
fn set_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut at = map;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            at.insert(part.to_owned(), value);
            return;
        }
        let slot = at
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else { return };
        at = next;
    }
}

/// RFC 7386 merge of `patch` into `target` (null deletes).
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let Value::Object(t) = target else { return };
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// `status` without the conditions' `lastTransitionTime`, for comparing.
fn comparable(status: &Value) -> Value {
    let mut s = status.clone();
    if let Some(list) = s.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in list {
            if let Some(c) = c.as_object_mut() {
                c.remove("lastTransitionTime");
            }
        }
    }
    s
}

/// Whether merging `patch` into `current` changes anything but transition times.
pub fn changes(current: Option<&Value>, patch: &Map<String, Value>) -> bool {
    let current = current.cloned().unwrap_or(Value::Object(Map::new()));
    let mut merged = current.clone();
    merge(&mut merged, &Value::Object(patch.clone()));
    comparable(&merged) != comparable(&current)
}

/// What [`publish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The status was written.
    Written,
    /// Nothing changed; nothing was written.
    Unchanged,
    /// The API server answered 404: the CR is gone, or its CRD serves no status
    /// subresource. Which of the two only discovery can tell (see
    /// [`super::subresource::StatusSubresource`]).
    NotFound,
}

/// Writes `status` by merge patch to `/status` when it changes the CR's current status,
/// calling `writing` just before the patch is sent.
///
/// # Errors
/// The API server refused the patch (a 404 is not an error: see [`Published::NotFound`]).
pub async fn publish(
    api: &Api<DynamicObject>,
    cr: &DynamicObject,
    manager: &str,
    status: Map<String, Value>,
    writing: impl FnOnce(),
) -> Result<Published> {
    if !changes(cr.data.get("status"), &status) {
        return Ok(Published::Unchanged);
    }
    writing();
    let name = cr.metadata.name.clone().unwrap_or_default();
    let body = json!({ "status": status });
    match api
        .patch_status(
            &name,
            &PatchParams {
                field_manager: Some(manager.to_owned()),
                ..PatchParams::default()
            },
            &Patch::Merge(&body),
        )
        .await
    {
        Ok(_) => Ok(Published::Written),
        Err(kube::Error::Api(e)) if e.is_not_found() => Ok(Published::NotFound),
        Err(source) => Err(Error::PatchFailed { name, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-03-29T09:02:33Z";

    #[test]
    fn success_gives_ready_true_and_the_two_validation_conditions_false() {
        let c = conditions(None, &Findings::default(), Some(3), NOW);
        let types: Vec<_> = c.iter().map(|c| c["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["Ready", "ValidationFailed", "ValidationWarning"]);
        assert_eq!(c[0]["status"], "True");
        assert_eq!(c[0]["reason"], "ReconcileSucceeded");
        assert_eq!(c[0]["observedGeneration"], 3);
        assert_eq!(c[1]["reason"], "ValidationPassed");
        assert_eq!(c[2]["reason"], "NoWarnings");
        assert_eq!(c[0]["lastTransitionTime"], NOW);
    }

    #[test]
    fn a_deny_makes_ready_false_and_validation_failed_true_with_the_message() {
        let f = Findings {
            denied: Some("field \"spec.replicas\": too many".into()),
            ..Findings::default()
        };
        let c = conditions(None, &f, None, NOW);
        assert_eq!(c[0]["status"], "False");
        assert_eq!(c[0]["reason"], "ReconcileError");
        assert_eq!(c[1]["status"], "True");
        assert_eq!(c[1]["reason"], "DenyRuleViolation");
        assert_eq!(c[1]["message"], "field \"spec.replicas\": too many");
        assert!(c[0].get("observedGeneration").is_none());
    }

    #[test]
    fn transition_time_is_kept_while_the_status_stays_and_renewed_when_it_flips() {
        let first = json!(conditions(None, &Findings::default(), Some(1), "t1"));
        let same = conditions(Some(&first), &Findings::default(), Some(2), "t2");
        assert_eq!(same[0]["lastTransitionTime"], "t1");
        let failed = Findings {
            error: Some("boom".into()),
            ..Findings::default()
        };
        let flipped = conditions(Some(&first), &failed, Some(2), "t2");
        assert_eq!(flipped[0]["lastTransitionTime"], "t2");
        assert_eq!(flipped[1]["lastTransitionTime"], "t1");
    }

    #[test]
    fn long_messages_are_cut_to_256_characters() {
        let long = "x".repeat(300);
        let cut = clip(&long);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with("..."));
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn values_are_cast_to_their_declared_type() {
        assert_eq!(cast("3", Some("int")), Some(json!(3)));
        assert_eq!(cast("3.0", Some("integer")), Some(json!(3)));
        assert_eq!(cast("x", Some("int")), None);
        assert_eq!(cast("true", Some("bool")), Some(json!(true)));
        assert_eq!(cast("1.5", Some("float")), Some(json!(1.5)));
        assert_eq!(cast("7", None), Some(json!("7")));
        assert_eq!(cast("7", Some("auto")), Some(json!(7)));
        assert_eq!(cast("hello", Some("auto")), Some(json!("hello")));
    }

    #[test]
    fn dot_paths_create_nested_objects() {
        let mut m = Map::new();
        set_path(&mut m, "db.host", json!("h"));
        set_path(&mut m, "db.port", json!(5));
        assert_eq!(Value::Object(m), json!({"db": {"host": "h", "port": 5}}));
    }

    #[test]
    fn an_unchanged_status_differs_only_in_transition_times_and_needs_no_write() {
        let current = json!({"phase": "Ready", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "t1"}]});
        let same = json!({"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "t2"}]});
        assert!(!changes(Some(&current), same.as_object().unwrap()));
        let phase = json!({"phase": "Failed"});
        assert!(changes(Some(&current), phase.as_object().unwrap()));
        assert!(changes(None, phase.as_object().unwrap()));
    }
}
