//! Workload autoscale of a Deployment (spec §6.3 `autoscale`): evaluated every reconcile.
//! There is no timer: the resync period is the tick.
//!
//! Building a Deployment renders its `autoscale:` block into a [`ScalePlan`]: bounds,
//! cooldown, and which step (if any) fires for this CR now, its conditions evaluated with the
//! same data as the rest of the declaration (`.metrics`, `.cross`, `.external`, forEach keys).
//! The runtime then calls [`ScalePlan::decide`] with the live Deployment's replica count and
//! the time of its last scale change, and writes the result into `spec.replicas`.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ErrorKind;
use super::context::parse_int;
use crate::condition::{Conditions, Env, parse_duration};
use crate::render::{Text, render_text};
use crate::resources::{ScaleStep, WorkloadAutoscale};

/// The cooldown when none is declared (as Orkestra's).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(60);

/// The annotation on a scaled workload holding the time of its last scale change (RFC 3339),
/// so the cooldown survives restarts.
pub const LAST_SCALE_ANNOTATION: &str = "orkestra.orkspace.io/last-scale-event";

/// What the autoscale decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleDecision {
    /// The replica count to apply.
    pub replicas: i64,
    /// Whether it differs from the current count (the runtime records the time of change
    /// for the cooldown).
    pub changed: bool,
}

/// How a step that fires moves the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ScaleMove {
    /// Jump to this count.
    To(i64),
    /// Add this many (negative: remove).
    By(i64),
}

/// A Deployment's `autoscale:` rendered for one CR at one reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalePlan {
    /// Lowest count (`min`, default the declared `replicas`).
    pub min: i64,
    /// Highest count (`max`; none: no bound).
    pub max: Option<i64>,
    /// Minimum time between two changes (default [`DEFAULT_COOLDOWN`]).
    pub cooldown: Duration,
    /// The step whose conditions hold now: scale-up wins over scale-down.
    pub step: Option<ScaleMove>,
}

fn number(env: &Env<'_>, t: Option<&Text>) -> Result<Option<i64>, ErrorKind> {
    let Some(t) = t else { return Ok(None) };
    let s = render_text(env.render, t, env.data).map_err(ErrorKind::RenderFailed)?;
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    parse_int(s)
        .map(Some)
        .ok_or_else(|| ErrorKind::NotANumber(s.to_owned()))
}

fn fires(env: &Env<'_>, step: Option<&ScaleStep>) -> Result<bool, ErrorKind> {
    let Some(step) = step else { return Ok(false) };
    let c = Conditions::new(&step.conditions.when, &step.conditions.or);
    if c.is_empty() {
        return Ok(false);
    }
    c.evaluate(env).map_err(ErrorKind::ConditionFailed)
}

/// The move of a step that fires: to `target`, else by `increment`/`decrement` (default 1).
fn step_move(env: &Env<'_>, step: &ScaleStep, up: bool) -> Result<ScaleMove, ErrorKind> {
    if let Some(target) = number(env, step.target.as_ref())? {
        return Ok(ScaleMove::To(target));
    }
    let by = if up { &step.increment } else { &step.decrement };
    let by = number(env, by.as_ref())?.unwrap_or(1).max(0);
    Ok(ScaleMove::By(if up { by } else { -by }))
}

/// Renders `a` for one CR: bounds, cooldown, and the step that fires now. `declared` is the
/// Deployment's declared replica count, the default `min`.
///
/// # Errors
/// A bound, step or cooldown that does not render to a number or duration, or conditions
/// that cannot be evaluated.
pub fn plan(a: &WorkloadAutoscale, env: &Env<'_>, declared: i64) -> Result<ScalePlan, ErrorKind> {
    let min = number(env, a.min.as_ref())?.unwrap_or(declared).max(0);
    let max = number(env, a.max.as_ref())?.map(|m| m.max(min));
    let cooldown = match &a.cooldown {
        Some(t) => {
            let s = render_text(env.render, t, env.data).map_err(ErrorKind::RenderFailed)?;
            match s.trim() {
                "" => DEFAULT_COOLDOWN,
                d => parse_duration(d)
                    .and_then(|d| Duration::try_from(d).ok())
                    .ok_or_else(|| ErrorKind::NotADuration(d.to_owned()))?,
            }
        }
        None => DEFAULT_COOLDOWN,
    };
    let step = if fires(env, a.scale_up.as_ref())? {
        a.scale_up
            .as_ref()
            .map(|s| step_move(env, s, true))
            .transpose()?
    } else if fires(env, a.scale_down.as_ref())? {
        a.scale_down
            .as_ref()
            .map(|s| step_move(env, s, false))
            .transpose()?
    } else {
        None
    };
    Ok(ScalePlan {
        min,
        max,
        cooldown,
        step,
    })
}

impl ScalePlan {
    /// Decides the replica count from the `current` one, last changed at `last_change`.
    ///
    /// Within the cooldown of the last change nothing moves except back into bounds; the
    /// result always stays within `min`/`max`.
    pub fn decide(
        &self,
        current: i64,
        last_change: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> ScaleDecision {
        let cooling = last_change.is_some_and(|t| (now - t).unsigned_abs() < self.cooldown);
        let next = match self.step {
            Some(_) if cooling => current,
            Some(ScaleMove::To(n)) => n,
            Some(ScaleMove::By(n)) => current.saturating_add(n),
            None => current,
        };
        let replicas = next.clamp(self.min, self.max.unwrap_or(i64::MAX));
        ScaleDecision {
            replicas,
            changed: replicas != current,
        }
    }
}

impl ScalePlan {
    /// Settles the built workload `object` about to be applied: its `spec.replicas` becomes
    /// the decision from the live count (`live_replicas`; none: the declared one), and its
    /// [`LAST_SCALE_ANNOTATION`] the time of this change, or the `last_change` it keeps.
    /// `ork template` settles with no live object, as the first apply does. Returns
    /// `(from, to)` when the count moves.
    pub fn settle(
        &self,
        object: &mut Value,
        live_replicas: Option<i64>,
        last_change: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Option<(i64, i64)> {
        let declared = object.pointer("/spec/replicas").and_then(Value::as_i64);
        let current = live_replicas.or(declared).unwrap_or(1);
        let decision = self.decide(current, last_change, now);
        let stamp = if decision.changed {
            Some(now)
        } else {
            last_change
        };
        if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), json!(decision.replicas));
        }
        if let Some(stamp) = stamp
            && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
            && let Value::Object(a) = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()))
        {
            a.insert(LAST_SCALE_ANNOTATION.into(), rfc3339(stamp).into());
        }
        decision.changed.then_some((current, decision.replicas))
    }
}

/// The annotation's form of a time: RFC 3339, whole seconds.
fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::PathRender;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-05 10:00 UTC);

    fn autoscale() -> WorkloadAutoscale {
        serde_json::from_value(json!({
            "min": "2", "max": "{{ .spec.max }}", "cooldown": "2m",
            "scaleUp": {"conditions": {"when": [{"field": "status.load", "greaterThan": "80"}]},
                        "increment": "2"},
            "scaleDown": {"conditions": {"when": [{"field": "status.load", "lessThan": "20"}]}},
        }))
        .unwrap()
    }

    fn plan_at(a: &WorkloadAutoscale, data: serde_json::Value) -> ScalePlan {
        let env = Env::new(&data, &PathRender, NOW);
        plan(a, &env, 3).unwrap()
    }

    fn decide_at(load: i64, current: i64, last: Option<OffsetDateTime>) -> ScaleDecision {
        let data = json!({"spec": {"max": 5}, "status": {"load": load}});
        plan_at(&autoscale(), data).decide(current, last, NOW)
    }

    #[test]
    fn load_above_the_threshold_scales_up_by_the_increment_within_max() {
        assert_eq!(
            decide_at(90, 2, None),
            ScaleDecision {
                replicas: 4,
                changed: true
            }
        );
        assert_eq!(decide_at(90, 4, None).replicas, 5);
    }

    #[test]
    fn low_load_scales_down_by_one_but_not_below_min() {
        assert_eq!(decide_at(10, 4, None).replicas, 3);
        assert_eq!(
            decide_at(10, 2, None),
            ScaleDecision {
                replicas: 2,
                changed: false
            }
        );
    }

    #[test]
    fn a_target_jumps_to_that_count_within_bounds() {
        let a: WorkloadAutoscale = serde_json::from_value(json!({
            "min": "2", "max": "8",
            "scaleUp": {"conditions": {"when": [{"field": "status.load", "greaterThan": "80"}]},
                        "target": "6"},
            "scaleDown": {"conditions": {"when": [{"field": "status.load", "lessThan": "20"}]},
                          "target": "{{ .spec.floor }}"},
        }))
        .unwrap();
        let at = |load: i64, current: i64| {
            let data = json!({"spec": {"floor": 1}, "status": {"load": load}});
            plan_at(&a, data).decide(current, None, NOW).replicas
        };
        assert_eq!(at(90, 2), 6, "up to the target, not by a step");
        assert_eq!(
            at(90, 7),
            6,
            "a target below the current count still applies"
        );
        assert_eq!(at(10, 5), 2, "down to the target, held at min");
        assert_eq!(at(50, 5), 5, "no step fires");
    }

    #[test]
    fn the_cooldown_holds_the_count_but_not_outside_bounds() {
        let recent = Some(datetime!(2026-01-05 09:59 UTC));
        let old = Some(datetime!(2026-01-05 09:50 UTC));
        assert_eq!(decide_at(90, 3, recent).replicas, 3);
        assert_eq!(decide_at(90, 3, old).replicas, 5);
        assert_eq!(decide_at(50, 9, recent).replicas, 5);
    }

    #[test]
    fn min_defaults_to_the_declared_replicas_and_cooldown_to_a_minute() {
        let a: WorkloadAutoscale = serde_json::from_value(json!({
            "max": "10",
            "scaleDown": {"conditions": {"when": [{"field": "status.load", "lessThan": "20"}]},
                          "decrement": "5"},
        }))
        .unwrap();
        let p = plan_at(&a, json!({"status": {"load": 1}}));
        assert_eq!(p.min, 3);
        assert_eq!(p.cooldown, DEFAULT_COOLDOWN);
        assert_eq!(p.decide(6, None, NOW).replicas, 3);
    }
}
