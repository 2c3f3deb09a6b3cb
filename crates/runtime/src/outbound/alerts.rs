//! `notify:` on status field conditions (spec §16.8, Orkestra's NotifyBlock): a condition of
//! `status.fields[].when`/`or` that carries `notify: {teams, message}` sends a notice to those
//! teams, and only those, when it starts to hold for a CR.
//!
//! Decisions:
//! - **Which conditions.** Those of `status.fields` (where Orkestra's generated Katalogs put
//!   them); validation refuses `notify:` on any other condition, and a team that
//!   `notification.teams` does not declare.
//! - **When.** Each such condition is evaluated on its own, at every status write, against
//!   what templates see (its siblings in the list do not gate it). A notice goes when it holds
//!   and did not hold at this CR's previous reconcile in this process (a restart forgets, so a
//!   condition still holding after it sends once more, as Orkestra's in-process interval
//!   clock does). The gateway's throttle (per team, CR, condition and status) applies on top.
//! - **What.** `{crd, name, namespace, condition: "status.<path> when[<i>]" (or `or[<i>]`),
//!   status: "True", reason: "ConditionMet", message, teams}`; `message` is the rendered
//!   `notify.message`, else one naming the condition's field. A message that fails to render
//!   sends the template's error instead, so the team still hears of it.

use std::collections::HashSet;
use std::sync::Mutex;

use katalog::Crd;
use katalog::condition::{Condition, Env};
use katalog::render::{Render, render_text};
use serde_json::Value;
use time::OffsetDateTime;

/// One `notify:` condition of a CRD.
#[derive(Debug)]
struct Alert {
    /// `status.<path> when[<i>]`.
    name: String,
    condition: Condition,
    teams: Vec<String>,
    message: Option<String>,
}

/// What one alert that started to hold sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// `status.<path> when[<i>]`.
    pub condition: String,
    /// The teams to tell.
    pub teams: Vec<String>,
    /// The rendered message.
    pub message: String,
}

/// The `notify:` conditions of one CRD and which held at each CR's last reconcile.
#[derive(Debug)]
pub struct Alerts {
    alerts: Vec<Alert>,
    /// (CR uid, alert index) of the alerts holding at the CR's last evaluation.
    holding: Mutex<HashSet<(String, usize)>>,
}

impl Alerts {
    /// The alerts `crd` declares (none: `None`).
    pub fn of(crd: &Crd) -> Option<Self> {
        let mut alerts = Vec::new();
        for field in crd.operator_box().status.iter().flat_map(|s| &s.fields) {
            let field = &field.value;
            let path = field.path.as_deref().unwrap_or_default();
            for (list, conditions) in [("when", &field.when), ("or", &field.or)] {
                for (i, c) in conditions.iter().enumerate() {
                    if let Some(notify) = c.notify.as_ref().filter(|n| !n.teams.is_empty()) {
                        alerts.push(Alert {
                            name: format!("status.{path} {list}[{i}]"),
                            condition: c.clone(),
                            teams: notify.teams.clone(),
                            message: notify.message.clone(),
                        });
                    }
                }
            }
        }
        (!alerts.is_empty()).then(|| Alerts {
            alerts,
            holding: Mutex::new(HashSet::new()),
        })
    }

    /// Evaluates every alert for the CR `uid` against `data` (what templates see); returns
    /// those that hold now and did not at its previous evaluation.
    pub fn fired(
        &self,
        uid: &str,
        data: &Value,
        render: &dyn Render,
        now: OffsetDateTime,
    ) -> Vec<Fired> {
        let env = Env::new(data, render, now);
        let mut holding = self.holding.lock().unwrap_or_else(|e| e.into_inner());
        let mut fired = Vec::new();
        for (i, alert) in self.alerts.iter().enumerate() {
            let holds = match alert.condition.evaluate(&env) {
                Ok(h) => h,
                Err(error) => {
                    tracing::debug!(condition = %alert.name, %error, "notify: condition cannot be evaluated");
                    false
                }
            };
            let key = (uid.to_owned(), i);
            if !holds {
                holding.remove(&key);
                continue;
            }
            if holding.insert(key) {
                fired.push(Fired {
                    condition: alert.name.clone(),
                    teams: alert.teams.clone(),
                    message: message(alert, data, render),
                });
            }
        }
        fired
    }

    /// Forgets the CR `uid` (it is gone).
    pub fn forget(&self, uid: &str) {
        self.holding
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(u, _)| u != uid);
    }
}

fn message(alert: &Alert, data: &Value, render: &dyn Render) -> String {
    let Some(template) = &alert.message else {
        let field = alert
            .condition
            .field
            .as_ref()
            .map(|f| f.as_str().to_owned())
            .unwrap_or_default();
        return format!("condition {field} holds");
    };
    match render_text(render, template, data) {
        Ok(text) => text.trim().to_owned(),
        Err(error) => format!("notify message did not render: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use katalog::build::EngineRender;
    use serde_json::json;

    fn alerts() -> Alerts {
        let text = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: alerts}
notification:
  teams: [{name: ops, email: ops@example.test}, {name: dev, email: dev@example.test}]
spec:
  crds:
    site:
      apiTypes: {group: a.test, version: v1, kind: Site, plural: sites}
      operatorBox:
        status:
          fields:
            - path: phase
              value: Down
              when:
                - field: spec.up
                  equals: "false"
                  notify: {teams: [ops], message: "{{ .metadata.name }} is down"}
                - field: spec.tier
                  equals: gold
                  notify: [dev]
"#;
        let loaded = katalog::load_text("/nonexistent/katalog.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        Alerts::of(loaded.katalog.crd("site").unwrap()).unwrap()
    }

    #[test]
    fn an_alert_fires_once_when_it_starts_to_hold_and_again_after_it_stopped() {
        let alerts = alerts();
        let render = EngineRender::new(gotmpl::Engine::new());
        let now = OffsetDateTime::now_utc();
        let cr = |up: &str, tier: &str| json!({"metadata": {"name": "web"}, "spec": {"up": up, "tier": tier}});
        let fired = alerts.fired("u1", &cr("false", "basic"), &render, now);
        assert_eq!(
            fired,
            vec![Fired {
                condition: "status.phase when[0]".into(),
                teams: vec!["ops".into()],
                message: "web is down".into(),
            }]
        );
        assert!(
            alerts
                .fired("u1", &cr("false", "basic"), &render, now)
                .is_empty()
        );
        let fired = alerts.fired("u1", &cr("true", "gold"), &render, now);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].teams, ["dev"]);
        assert_eq!(fired[0].message, "condition spec.tier holds");
        assert_eq!(
            alerts.fired("u1", &cr("false", "gold"), &render, now).len(),
            1
        );
        assert_eq!(
            alerts.fired("u2", &cr("false", "gold"), &render, now).len(),
            2
        );
        alerts.forget("u2");
        assert_eq!(
            alerts.fired("u2", &cr("false", "gold"), &render, now).len(),
            2
        );
    }
}
