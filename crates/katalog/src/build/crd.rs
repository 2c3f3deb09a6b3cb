//! Glue from a loaded [`Katalog`] to the builder: the template engine with the Katalog's
//! notes, its profiles, and a [`Builder`] set up with one CRD's settings.

use std::collections::BTreeSet;

use gotmpl::{Engine, Note, NotesError};
use serde_json::{Value, json};

use super::{Builder, Hooks, ProfileClass, ProfileRegistry};
use crate::model::{Crd, Katalog};
use crate::resources::{HookTemplates, Kind};

impl ProfileRegistry {
    /// The Katalog's own profiles (`profiles:` and included profile files).
    pub fn from_katalog(katalog: &Katalog) -> ProfileRegistry {
        let p = &katalog.profiles;
        let mut out = ProfileRegistry::new();
        let classes = [
            (ProfileClass::Resources, &p.resources),
            (ProfileClass::Probes, &p.probes),
            (ProfileClass::ContainerSecurity, &p.container_security),
            (ProfileClass::PodSecurity, &p.pod_security),
            (ProfileClass::RollingUpdate, &p.rolling_update),
            (ProfileClass::Hpa, &p.hpa),
            (ProfileClass::Pdb, &p.pdb),
            (ProfileClass::NetworkPolicies, &p.network_policies),
            (ProfileClass::ResourceQuotas, &p.resource_quotas),
            (ProfileClass::LimitRanges, &p.limit_ranges),
        ];
        for (class, profiles) in classes {
            for (name, value) in profiles {
                out.insert(class, name.clone(), normalize(class, value.value.clone()));
            }
        }
        out
    }
}

/// Brings a user profile to the shape its class expands to: HPA profiles may give
/// `scaleUp`/`scaleDown` at top level.
fn normalize(class: ProfileClass, value: Value) -> Value {
    match (class, value) {
        (ProfileClass::Hpa, Value::Object(mut m)) if !m.contains_key("behavior") => {
            let mut behavior = serde_json::Map::new();
            for key in ["scaleUp", "scaleDown"] {
                if let Some(v) = m.remove(key) {
                    behavior.insert(key.into(), v);
                }
            }
            if !behavior.is_empty() {
                m.insert("behavior".into(), Value::Object(behavior));
            }
            Value::Object(m)
        }
        (_, v) => v,
    }
}

/// A template engine knowing the Katalog's notes.
///
/// # Errors
/// Notes that are invalid together (see [`Engine::with_notes`]).
pub fn engine_for(katalog: &Katalog) -> Result<Engine, NotesError> {
    Engine::new().with_notes(katalog.notes.iter().map(|n| Note {
        name: n.name.value.clone(),
        expression: n.expression.value.clone(),
        description: n.description.clone(),
    }))
}

/// The `onCreate` and `onReconcile` blocks of a CRD.
pub fn hooks_of(crd: &Crd) -> Hooks<'_> {
    let ob = crd.operator_box();
    Hooks {
        on_create: ob.on_create.as_ref(),
        on_reconcile: ob.on_reconcile.as_ref(),
    }
}

impl<'a> Builder<'a> {
    /// A builder with this CRD's settings: `forceConflict` and the namespace guard.
    #[must_use]
    pub fn for_crd(mut self, crd: &Crd) -> Self {
        let e = &crd.entry;
        let list = |v: &Option<crate::de::Spanned<Vec<String>>>| {
            v.as_ref().map(|s| s.value.clone()).unwrap_or_default()
        };
        self = self.force_conflict(e.force_conflict);
        self.namespaces(list(&e.allowed_namespaces), list(&e.restricted_namespaces))
    }
}

/// Every block of a CRD's operatorBox: onCreate, onReconcile, onDelete and their groups.
pub fn blocks_of(crd: &Crd) -> Vec<&HookTemplates> {
    fn walk<'a>(h: &'a HookTemplates, out: &mut Vec<&'a HookTemplates>) {
        out.push(h);
        for g in &h.groups {
            walk(g, out);
        }
    }
    let ob = crd.operator_box();
    let mut out = Vec::new();
    for h in [&ob.on_create, &ob.on_reconcile, &ob.on_delete]
        .into_iter()
        .flatten()
    {
        walk(h, &mut out);
    }
    out
}

/// Every `(apiVersion, kind)` a CRD's templates may produce (all blocks and groups; custom
/// children whose type is written without templates), sorted. The runtime watches and
/// prunes these kinds by the owner label.
pub fn child_types(crd: &Crd) -> Vec<(String, String)> {
    let mut out = BTreeSet::new();
    for h in blocks_of(crd) {
        for kind in Kind::ALL {
            if let (Some(api), Some(k)) = (kind.api_version(), kind.kube_kind())
                && !h.declarations(kind).is_empty()
            {
                out.insert((api.to_owned(), k.to_owned()));
            }
        }
        for c in &h.custom {
            if let (Some(api), Some(k)) = (&c.api_version, &c.kind)
                && !api.is_template()
                && !k.is_template()
            {
                out.insert((api.0.clone(), k.0.clone()));
            }
        }
    }
    out.into_iter().collect()
}

/// A CR skeleton of a CRD's kind (apiVersion and kind filled in), for tests and tooling.
pub fn cr_skeleton(crd: &Crd, name: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": crd.gvk().api_version(),
        "kind": crd.gvk().kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {},
    })
}
