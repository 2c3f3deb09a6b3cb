//! The keys templates read beside the CR (`.inputs`, `.cross`, `.metrics`), assembled the same
//! way for `ork run` and `ork template`.
//!
//! Motif inputs (spec §20.2): a `with:` binding is a template over the CR, rendered for each
//! CR before anything reads `.inputs` (admission rules included); a literal binding or an
//! input's default is used as written.

use serde_json::{Map, Value};

use crate::model::Crd;
use crate::render::{Render, RenderFailure, render_text};

/// A Motif `with:` binding that could not be rendered for a CR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot render Motif input {name:?}")]
pub struct InputError {
    /// The input's name.
    pub name: String,
    /// The engine's failure.
    #[source]
    pub source: RenderFailure,
}

/// The CRD's Motif inputs as one CR's templates read them: every binding rendered against
/// `cr` (the CR as JSON).
///
/// # Errors
/// The first binding that does not render.
pub fn render_inputs(
    crd: &Crd,
    render: &dyn Render,
    cr: &Value,
) -> Result<Map<String, Value>, InputError> {
    crd.inputs
        .iter()
        .map(|(name, binding)| {
            render_text(render, binding, cr)
                .map(|v| (name.clone(), Value::String(v.into_owned())))
                .map_err(|source| InputError {
                    name: name.clone(),
                    source,
                })
        })
        .collect()
}

/// The keys merged next to the CR's own for every template: `.cross` (the other CRDs' CRs
/// this one reads; empty without a cluster), `.metrics` (when known) and `.inputs`.
///
/// # Errors
/// A Motif binding that does not render ([`render_inputs`]).
pub fn template_keys(
    crd: &Crd,
    render: &dyn Render,
    cr: &Value,
    cross: Map<String, Value>,
    metrics: Option<Value>,
) -> Result<Map<String, Value>, InputError> {
    let mut keys = Map::new();
    keys.insert("cross".into(), Value::Object(cross));
    if let Some(metrics) = metrics {
        keys.insert("metrics".into(), metrics);
    }
    keys.insert(
        "inputs".into(),
        Value::Object(render_inputs(crd, render, cr)?),
    );
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::fixtures;
    use serde_json::json;

    #[test]
    fn templated_bindings_render_against_the_cr_and_literals_stay() {
        let mut crd = fixtures::crd("");
        crd.inputs
            .insert("image".into(), "{{ .spec.image }}".into());
        crd.inputs.insert("size".into(), "10Gi".into());
        let cr = json!({"spec": {"image": "postgres:16"}});
        let keys = template_keys(&crd, &fixtures::render(), &cr, Map::new(), None).unwrap();
        assert_eq!(
            keys["inputs"],
            json!({"image": "postgres:16", "size": "10Gi"})
        );
        assert_eq!(keys["cross"], json!({}));
        assert!(!keys.contains_key("metrics"));
    }

    #[test]
    fn a_binding_that_does_not_render_names_the_input() {
        let mut crd = fixtures::crd("");
        crd.inputs
            .insert("image".into(), "{{ .spec.image | nosuchfunc }}".into());
        let err = render_inputs(&crd, &fixtures::render(), &json!({})).unwrap_err();
        assert_eq!(err.name, "image");
    }
}
