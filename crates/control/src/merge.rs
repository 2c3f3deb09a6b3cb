//! Merging what every endpoint said into one picture: runtimes and gateways are grouped by
//! Katalog name, and each CRD's runtime and gateway answers are joined on its GVR key.
//!
//! The runtime's `/katalog` names a CRD's group, version and Kind (`gvk`:
//! `group/version, Kind=Kind`), the gateway's names group, version and resource (`gvr`) plus
//! the Kind. Within one API group and version a Kind has exactly one resource, so the key both
//! sides can compute, `group/version/Kind`, identifies the same GVR.
//!
//! Of several replicas of one Katalog, the answer shown is the leader's (`isKonductor: true`);
//! a follower's `pending` states would otherwise hide the live ones. Answers from endpoints that
//! stopped answering are used only when no live endpoint serves that Katalog, and the Katalog
//! is then marked unreachable.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::depends::Dependency;
use crate::history::Series;

/// What one runtime endpoint answered last.
#[derive(Clone, Debug)]
pub struct RuntimeAnswer {
    /// The endpoint's base URL.
    pub url: String,
    /// Its `GET /katalog` body.
    pub summary: Value,
    /// Whether it answered on the last poll (otherwise this is its last answer).
    pub live: bool,
    /// Each CRD's `dependsOn`, read from its `/katalog/raw`.
    pub depends_on: BTreeMap<String, Vec<Dependency>>,
}

/// What one gateway endpoint answered last.
#[derive(Clone, Debug)]
pub struct GatewayAnswer {
    /// The endpoint's base URL.
    pub url: String,
    /// Its `GET /katalog` body (`"source": "gateway"`).
    pub body: Value,
    /// Whether it answered on the last poll.
    pub live: bool,
}

/// One Katalog, merged over its runtimes and gateways.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KatalogState {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.version`, from the leader.
    pub version: String,
    /// The runtime whose answer is shown: the leader when one says so.
    pub leader: Option<String>,
    /// Whether [`KatalogState::leader`] said `isKonductor: true`.
    pub leader_confirmed: bool,
    /// Every runtime endpoint serving this Katalog.
    pub runtimes: Vec<String>,
    /// Every gateway endpoint serving this Katalog.
    pub gateways: Vec<String>,
    /// Whether some endpoint of this Katalog answered on the last poll.
    pub reachable: bool,
    /// The leader's `healthy`, `true` when only gateways serve it.
    pub healthy: bool,
    /// The leader's `statusCounts`.
    pub status_counts: Value,
    /// The leader's `degradedReason`.
    pub degraded_reason: String,
    /// The CRDs, in the leader's order, then gateway-only ones.
    pub crds: Vec<CrdState>,
}

/// One CRD, with its runtime and gateway sides.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CrdState {
    /// `group/version/Kind`, the join key.
    pub key: String,
    /// The CRD name in the Katalog.
    pub name: String,
    /// The runtime state (`pending`, `started`, `healthy`, `degraded`, `gated`), or `gateway`
    /// when no runtime serves it.
    pub state: String,
    /// The runtime's `GET /katalog/{crd}` object.
    pub runtime: Option<Value>,
    /// The gateway's entry for it, with its counters.
    pub gateway: Option<Value>,
    /// What it depends on.
    pub depends_on: Vec<Dependency>,
    /// Reconcile rate, error rate and p99 latency over the last polls.
    pub history: Option<Series>,
}

/// The join key of a runtime `gvk` (`group/version, Kind=Kind`; the core group is empty).
pub fn key_of_gvk(gvk: &str) -> Option<String> {
    let (group_version, kind) = gvk.split_once(", Kind=")?;
    let (group, version) = group_version.split_once('/').unwrap_or(("", group_version));
    Some(format!("{group}/{version}/{kind}"))
}

/// The join key of a gateway `gvr` (`group/version/resource`) and `kind`.
pub fn key_of_gvr(gvr: &str, kind: &str) -> Option<String> {
    let mut parts = gvr.rsplitn(3, '/');
    let _resource = parts.next()?;
    let version = parts.next()?;
    let group = parts.next().unwrap_or("");
    Some(format!("{group}/{version}/{kind}"))
}

/// The runtime answer shown for a Katalog: a live leader, else any live replica, else the
/// last leader seen, else any. `true` when the chosen one said it leads.
pub fn pick_leader<'a>(replicas: &[&'a RuntimeAnswer]) -> Option<(&'a RuntimeAnswer, bool)> {
    let leads = |a: &&&RuntimeAnswer| a.summary["isKonductor"].as_bool() == Some(true);
    let live: Vec<&&RuntimeAnswer> = replicas.iter().filter(|a| a.live).collect();
    let chosen = live
        .iter()
        .copied()
        .find(leads)
        .or_else(|| live.first().copied())
        .or_else(|| replicas.iter().find(leads))
        .or_else(|| replicas.first())?;
    Some((*chosen, leads(&chosen)))
}

/// Merges every answer into one state per Katalog, sorted by name. `history` gives each
/// CRD's series by Katalog and CRD name.
pub fn merge(
    runtimes: &[RuntimeAnswer],
    gateways: &[GatewayAnswer],
    history: &dyn Fn(&str, &str) -> Option<Series>,
) -> Vec<KatalogState> {
    let mut by_name: BTreeMap<String, Vec<&RuntimeAnswer>> = BTreeMap::new();
    for answer in runtimes {
        let name = answer.summary["name"].as_str().unwrap_or_default();
        by_name.entry(name.to_owned()).or_default().push(answer);
    }
    let mut gateways_by_name: BTreeMap<String, Vec<&GatewayAnswer>> = BTreeMap::new();
    for answer in gateways {
        let name = answer.body["katalog"].as_str().unwrap_or_default();
        gateways_by_name
            .entry(name.to_owned())
            .or_default()
            .push(answer);
        by_name.entry(name.to_owned()).or_default();
    }
    by_name
        .into_iter()
        .map(|(name, replicas)| {
            let gateways = gateways_by_name.remove(&name).unwrap_or_default();
            merge_katalog(name, &replicas, &gateways, history)
        })
        .collect()
}

fn merge_katalog(
    name: String,
    replicas: &[&RuntimeAnswer],
    gateways: &[&GatewayAnswer],
    history: &dyn Fn(&str, &str) -> Option<Series>,
) -> KatalogState {
    let leader = pick_leader(replicas);
    let summary = leader.map(|(a, _)| &a.summary);
    let mut crds: Vec<CrdState> = summary
        .and_then(|s| s["crds"].as_array())
        .into_iter()
        .flatten()
        .map(|crd| {
            let crd_name = crd["name"].as_str().unwrap_or_default().to_owned();
            CrdState {
                key: key_of_gvk(crd["gvk"].as_str().unwrap_or_default()).unwrap_or_default(),
                state: crd["state"].as_str().unwrap_or("pending").to_owned(),
                runtime: Some(crd.clone()),
                gateway: None,
                depends_on: leader
                    .and_then(|(a, _)| a.depends_on.get(&crd_name).cloned())
                    .unwrap_or_default(),
                history: history(&name, &crd_name),
                name: crd_name,
            }
        })
        .collect();
    let gateway = gateways
        .iter()
        .find(|g| g.live)
        .or_else(|| gateways.first());
    if let Some(gateway) = gateway {
        join_gateway(&mut crds, &gateway.body);
    }
    KatalogState {
        version: summary
            .and_then(|s| s["version"].as_str())
            .unwrap_or_default()
            .to_owned(),
        leader: leader.map(|(a, _)| a.url.clone()),
        leader_confirmed: leader.is_some_and(|(_, leads)| leads),
        runtimes: replicas.iter().map(|a| a.url.clone()).collect(),
        gateways: gateways.iter().map(|g| g.url.clone()).collect(),
        reachable: replicas.iter().any(|a| a.live) || gateways.iter().any(|g| g.live),
        healthy: summary.is_none_or(|s| s["healthy"].as_bool() != Some(false)),
        status_counts: summary
            .map(|s| s["statusCounts"].clone())
            .unwrap_or(Value::Null),
        degraded_reason: summary
            .and_then(|s| s["degradedReason"].as_str())
            .unwrap_or_default()
            .to_owned(),
        crds,
        name,
    }
}

/// Attaches each of a gateway's CRD entries to the runtime CRD of the same key, or adds it as a
/// gateway-only CRD.
fn join_gateway(crds: &mut Vec<CrdState>, body: &Value) {
    let Some(entries) = body["crds"].as_object() else {
        return;
    };
    for (name, entry) in entries {
        let key = key_of_gvr(
            entry["gvr"].as_str().unwrap_or_default(),
            entry["kind"].as_str().unwrap_or_default(),
        )
        .unwrap_or_default();
        match crds.iter_mut().find(|c| c.key == key) {
            Some(crd) => crd.gateway = Some(entry.clone()),
            None => crds.push(CrdState {
                key,
                name: name.clone(),
                state: "gateway".to_owned(),
                runtime: None,
                gateway: Some(entry.clone()),
                depends_on: Vec::new(),
                history: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn runtime(url: &str, leads: bool, live: bool, state: &str) -> RuntimeAnswer {
        RuntimeAnswer {
            url: url.to_owned(),
            summary: json!({
                "name": "shop", "version": "1.2.0", "healthy": state != "degraded",
                "isKonductor": leads, "statusCounts": {"healthy": 1},
                "degradedReason": "",
                "crds": [
                    {"name": "website", "gvk": "web.example.io/v1, Kind=Website", "state": state},
                    {"name": "pods", "gvk": "/v1, Kind=Pod", "state": state},
                ],
            }),
            live,
            depends_on: BTreeMap::new(),
        }
    }

    fn gateway(live: bool) -> GatewayAnswer {
        GatewayAnswer {
            url: "http://gw:8080".to_owned(),
            body: json!({
                "source": "gateway", "katalog": "shop",
                "crds": {
                    "website": {"gvr": "web.example.io/v1/websites", "kind": "Website",
                                "admission": {"validationTotal": 7}},
                    "pods": {"gvr": "/v1/pods", "kind": "Pod"},
                    "guarded": {"gvr": "guard.example.io/v2/guards", "kind": "Guard"},
                },
            }),
            live,
        }
    }

    fn no_history(_: &str, _: &str) -> Option<Series> {
        None
    }

    #[test]
    fn keys_agree_between_gvk_and_gvr_including_the_core_group() {
        assert_eq!(
            key_of_gvk("web.example.io/v1, Kind=Website"),
            key_of_gvr("web.example.io/v1/websites", "Website")
        );
        assert_eq!(key_of_gvk("/v1, Kind=Pod").unwrap(), "/v1/Pod");
        assert_eq!(key_of_gvk("v1, Kind=Pod").unwrap(), "/v1/Pod");
        assert_eq!(key_of_gvr("/v1/pods", "Pod").unwrap(), "/v1/Pod");
        assert_eq!(key_of_gvk("no kind here"), None);
    }

    #[test]
    fn a_gateway_entry_joins_the_runtime_crd_of_the_same_gvr() {
        let merged = merge(
            &[runtime("http://a:8080", true, true, "healthy")],
            &[gateway(true)],
            &no_history,
        );
        assert_eq!(merged.len(), 1);
        let shop = &merged[0];
        assert_eq!(shop.gateways, ["http://gw:8080"]);
        let names: Vec<&str> = shop.crds.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["website", "pods", "guarded"]);
        let website = &shop.crds[0];
        assert_eq!(website.state, "healthy");
        assert_eq!(
            website.gateway.as_ref().unwrap()["admission"]["validationTotal"],
            7
        );
        assert!(
            shop.crds[1].gateway.is_some(),
            "the core-group Pod joins too"
        );
        let guarded = &shop.crds[2];
        assert_eq!(
            (guarded.state.as_str(), guarded.runtime.is_none()),
            ("gateway", true)
        );
    }

    #[test]
    fn a_gateway_alone_makes_a_katalog_of_gateway_only_crds() {
        let merged = merge(&[], &[gateway(true)], &no_history);
        assert_eq!(merged[0].name, "shop");
        assert_eq!(merged[0].leader, None);
        assert!(merged[0].crds.iter().all(|c| c.state == "gateway"));
    }

    #[test]
    fn the_leaders_answer_is_shown_over_a_followers() {
        let follower = runtime("http://a:8080", false, true, "pending");
        let leader = runtime("http://b:8080", true, true, "healthy");
        let merged = merge(&[follower, leader], &[], &no_history);
        let shop = &merged[0];
        assert_eq!(shop.leader.as_deref(), Some("http://b:8080"));
        assert!(shop.leader_confirmed);
        assert_eq!(shop.runtimes, ["http://a:8080", "http://b:8080"]);
        assert_eq!(shop.crds[0].state, "healthy");
    }

    #[test]
    fn a_live_follower_wins_over_a_leader_that_stopped_answering() {
        let gone = runtime("http://b:8080", true, false, "healthy");
        let follower = runtime("http://a:8080", false, true, "pending");
        let merged = merge(&[gone, follower], &[], &no_history);
        assert_eq!(merged[0].leader.as_deref(), Some("http://a:8080"));
        assert!(!merged[0].leader_confirmed);
        assert!(merged[0].reachable);
    }

    #[test]
    fn a_katalog_whose_endpoints_all_stopped_keeps_its_last_answer_marked_unreachable() {
        let merged = merge(
            &[runtime("http://a:8080", true, false, "degraded")],
            &[],
            &no_history,
        );
        let shop = &merged[0];
        assert!(!shop.reachable);
        assert!(!shop.healthy);
        assert_eq!(shop.crds[0].state, "degraded");
    }

    #[test]
    fn katalogs_of_different_names_stay_apart() {
        let mut other = runtime("http://c:8080", true, true, "healthy");
        other.summary["name"] = json!("billing");
        let merged = merge(
            &[runtime("http://a:8080", true, true, "healthy"), other],
            &[gateway(true)],
            &no_history,
        );
        let names: Vec<&str> = merged.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["billing", "shop"]);
        assert!(merged[0].gateways.is_empty());
    }
}
