//! Workload autoscale of a Deployment (spec §6.3 `autoscale`): evaluated every reconcile,
//! it decides the replica count the runtime writes into the built Deployment's
//! `spec.replicas` before applying it. There is no timer: the resync period is the tick.

use time::OffsetDateTime;

use super::ErrorKind;
use super::context::parse_int;
use crate::condition::{Conditions, Env, parse_duration};
use crate::render::{Text, render_text};
use crate::resources::{ScaleStep, WorkloadAutoscale};

/// What the autoscale decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleDecision {
    /// The replica count to apply.
    pub replicas: i64,
    /// Whether it differs from the current count (the runtime records the time of change
    /// for the cooldown).
    pub changed: bool,
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

/// Decides the replica count from the current one.
///
/// Scale-up (to `target`, else by `increment`, default 1) wins over scale-down (to
/// `target`, else by `decrement`, default 1);
/// the result stays within `min` (default 1) and `max` (default: no bound). Within
/// `cooldown` of the last change nothing moves except back into bounds.
///
/// # Errors
/// A bound, step or cooldown that does not render to a number or duration, or conditions
/// that cannot be evaluated.
pub fn decide(
    a: &WorkloadAutoscale,
    env: &Env<'_>,
    current: i64,
    last_change: Option<OffsetDateTime>,
) -> Result<ScaleDecision, ErrorKind> {
    let min = number(env, a.min.as_ref())?.unwrap_or(1).max(0);
    let max = number(env, a.max.as_ref())?.unwrap_or(i64::MAX).max(min);
    let cooldown = match &a.cooldown {
        Some(t) => {
            let s = render_text(env.render, t, env.data).map_err(ErrorKind::RenderFailed)?;
            match s.trim() {
                "" => time::Duration::ZERO,
                d => parse_duration(d).ok_or_else(|| ErrorKind::NotADuration(d.to_owned()))?,
            }
        }
        None => time::Duration::ZERO,
    };
    let cooling = last_change.is_some_and(|t| env.now - t < cooldown);
    let mut next = current;
    if !cooling {
        if fires(env, a.scale_up.as_ref())? {
            let up = a.scale_up.as_ref();
            next = match number(env, up.and_then(|s| s.target.as_ref()))? {
                Some(target) => target,
                None => {
                    let step = number(env, up.and_then(|s| s.increment.as_ref()))?;
                    current.saturating_add(step.unwrap_or(1).max(0))
                }
            };
        } else if fires(env, a.scale_down.as_ref())? {
            let down = a.scale_down.as_ref();
            next = match number(env, down.and_then(|s| s.target.as_ref()))? {
                Some(target) => target,
                None => {
                    let step = number(env, down.and_then(|s| s.decrement.as_ref()))?;
                    current.saturating_sub(step.unwrap_or(1).max(0))
                }
            };
        }
    }
    let replicas = next.clamp(min, max);
    Ok(ScaleDecision {
        replicas,
        changed: replicas != current,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::PathRender;
    use serde_json::json;
    use time::macros::datetime;

    fn autoscale() -> WorkloadAutoscale {
        serde_json::from_value(json!({
            "min": "2", "max": "{{ .spec.max }}", "cooldown": "2m",
            "scaleUp": {"conditions": {"when": [{"field": "status.load", "greaterThan": "80"}]},
                        "increment": "2"},
            "scaleDown": {"conditions": {"when": [{"field": "status.load", "lessThan": "20"}]}},
        }))
        .unwrap()
    }

    fn decide_at(load: i64, current: i64, last: Option<OffsetDateTime>) -> ScaleDecision {
        let data = json!({"spec": {"max": 5}, "status": {"load": load}});
        let env = Env::new(&data, &PathRender, datetime!(2026-01-05 10:00 UTC));
        decide(&autoscale(), &env, current, last).unwrap()
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
            let env = Env::new(&data, &PathRender, datetime!(2026-01-05 10:00 UTC));
            decide(&a, &env, current, None).unwrap().replicas
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
}
