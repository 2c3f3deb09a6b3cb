//! Admission rules, evaluated without a cluster: validation (spec §16.3), mutation (§16.4)
//! and declared conversion (§16.5).
//!
//! One implementation, two callers: the gateway answers AdmissionReview and
//! ConversionReview requests with it, and the runtime re-validates every CR at reconcile
//! time with it. Everything here is pure: the caller supplies the object, the template
//! renderer, the clock, the [`Stage`] and, for `unique` rules, the sibling values
//! ([`Siblings`]).
//!
//! - [`validate`] turns a CRD's validation rules into a [`Verdict`]: every violated `deny`
//!   rule's rendered message, and every violated `warn` rule's as a warning.
//! - [`mutate`] applies a CRD's mutation rules in order and returns the changed object with
//!   the JSON patch ([`PatchOp`]) that produces it.
//! - [`admit`] is the admission order: mutation first, then validation of the mutated object.
//! - [`Conversion`] reads a declared `conversion:` block and [`convert`] renders one object
//!   into another version.

mod convert;
#[cfg(test)]
mod fixtures;
mod mutate;
mod normalize;
mod rule;
mod validate;

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;

use crate::model::{Crd, Fires};
use crate::render::Render;

pub use convert::{Conversion, ConversionPath, convert};
pub use mutate::{Mutated, PatchOp, mutate};
pub use normalize::{NormalizeChange, Normalized, normalize};
pub use rule::condition_of;
pub use validate::{Finding, Verdict, unique_fields, validate};

/// Why a rule or a conversion could not be evaluated (as opposed to failing).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The rule names an operator the condition language does not know.
    #[error(transparent)]
    UnknownOperator(#[from] crate::condition::UnknownOperator),
    /// The rule's `valueType` is not `string`, `int`, `float` or `bool`.
    #[error("unknown valueType {0:?}")]
    UnknownValueType(String),
    /// A shorthand operand is a map, which no operator compares against.
    #[error("the {0} operand is a map")]
    OperandIsMap(&'static str),
    /// The rule's condition (its own, `when` or `or`) could not be evaluated.
    #[error("cannot evaluate the rule's {what}")]
    ConditionFailed {
        /// `rule`, `when` or `or`.
        what: &'static str,
        /// The condition engine's failure.
        #[source]
        source: crate::condition::Error,
    },
    /// A template in a message, a mutation value or a conversion field failed to render.
    #[error("cannot render {what}")]
    RenderFailed {
        /// Which part.
        what: String,
        /// The engine's failure.
        #[source]
        source: crate::render::RenderFailure,
    },
    /// A mutation rule has no `field`, or neither or both of `default` and `override`.
    #[error("a mutation rule needs a field and exactly one of default and override")]
    IncompleteMutation,
    /// A mutated value does not convert to its `valueType`.
    #[error("value {value:?} is not a valid {value_type}")]
    ValueTypeMismatch {
        /// The value as text.
        value: String,
        /// The declared type.
        value_type: &'static str,
    },
    /// A mutation path runs through something that is not a map.
    #[error("cannot set {0}: a parent is not a map")]
    ParentNotAMap(String),
    /// The `conversion:` block does not have the documented shape.
    #[error("invalid conversion block")]
    InvalidConversion(#[source] serde_json::Error),
    /// The object has no usable `apiVersion`.
    #[error("the object has no apiVersion")]
    NoApiVersion,
    /// No declared path converts between these versions.
    #[error("no conversion path declared from {from} to {to}")]
    NoPath {
        /// Source version.
        from: String,
        /// Desired version.
        to: String,
    },
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a rule is being evaluated: rules with `fires.reconcile: false` run at admission only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// In the gateway, answering an AdmissionReview.
    Admission,
    /// In the runtime, before a reconcile.
    Reconcile,
}

impl Stage {
    /// Whether a rule with these `fires` settings runs at this stage.
    pub fn fires(self, fires: Option<&Fires>) -> bool {
        match self {
            Stage::Admission => true,
            Stage::Reconcile => fires.and_then(|f| f.reconcile) != Some(false),
        }
    }
}

/// For `unique` rules: the rule's `field` → that field's values in every *other* CR of the
/// CRD. A rule whose field is missing here passes (best effort, as Orkestra's admission).
pub type Siblings = BTreeMap<String, Vec<Value>>;

/// What one evaluation reads.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    /// The object under admission (the CR as sent, or as read at reconcile).
    pub object: &'a Value,
    /// Renders messages, template fields and values.
    pub render: &'a dyn Render,
    /// The clock time conditions see.
    pub now: OffsetDateTime,
    /// Admission or reconcile.
    pub stage: Stage,
    /// Values `unique` rules compare against; `None` when not known.
    pub siblings: Option<&'a Siblings>,
}

impl<'a> Input<'a> {
    /// An input at `stage`, at the current time, with no sibling values.
    pub fn new(object: &'a Value, render: &'a dyn Render, stage: Stage) -> Self {
        Input {
            object,
            render,
            now: OffsetDateTime::now_utc(),
            stage,
            siblings: None,
        }
    }

    /// The same input evaluated at `now`.
    #[must_use]
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = now;
        self
    }

    /// The same input with the values `unique` rules compare against.
    #[must_use]
    pub fn with_siblings(mut self, siblings: &'a Siblings) -> Self {
        self.siblings = Some(siblings);
        self
    }

    /// The same input over another object (the mutated one).
    #[must_use]
    pub fn with_object(mut self, object: &'a Value) -> Self {
        self.object = object;
        self
    }
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("stage", &self.stage)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// The outcome of admitting one object: mutation, then validation of the mutated object.
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    /// The mutated object, its patch and mutation failures.
    pub mutated: Mutated,
    /// Validation of the mutated object.
    pub verdict: Verdict,
}

impl Admitted {
    /// Whether the object is admitted: no deny rule violated and every mutation applied.
    pub fn is_allowed(&self) -> bool {
        self.verdict.is_allowed() && self.mutated.errors.is_empty()
    }
}

/// Admits one object of `crd` as Orkestra's gateway does: its mutation rules run first
/// (when `mutate` is true), then its validation rules (when `validate` is true) see the
/// mutated object.
pub fn admit(crd: &Crd, input: &Input<'_>, mutate: bool, validate: bool) -> Admitted {
    let mutated = match (&crd.entry.mutation, mutate) {
        (Some(m), true) => self::mutate(&m.rules, input),
        _ => Mutated::unchanged(input.object.clone()),
    };
    let verdict = match (&crd.entry.validation, validate) {
        (Some(v), true) => self::validate(&v.rules, &input.with_object(&mutated.object)),
        _ => Verdict::default(),
    };
    Admitted { mutated, verdict }
}

/// An error and its causes on one line: `outer: inner: innermost` (how rule failures appear
/// in admission messages).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// How a rule is named in messages: its `name`, else its `field`, else `rules[i]`.
pub(crate) fn rule_name(name: Option<&String>, field: Option<&String>, i: usize) -> String {
    name.or(field)
        .cloned()
        .unwrap_or_else(|| format!("rules[{i}]"))
}

/// Whether a rule's `when`/`or` gates let it apply.
pub(crate) fn gates_pass(
    when: &[crate::condition::Condition],
    or: &[crate::condition::Condition],
    env: &crate::condition::Env<'_>,
) -> Result<bool> {
    crate::condition::Conditions::new(when, or)
        .evaluate(env)
        .map_err(|source| Error::ConditionFailed {
            what: "when/or",
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_only_rules_are_skipped_at_reconcile() {
        let off = Fires {
            reconcile: Some(false),
        };
        let on = Fires {
            reconcile: Some(true),
        };
        assert!(Stage::Admission.fires(Some(&off)));
        assert!(!Stage::Reconcile.fires(Some(&off)));
        assert!(Stage::Reconcile.fires(Some(&on)));
        assert!(Stage::Reconcile.fires(None));
    }

    /// The rules of the conformance pack `security-admission`.
    const PLATFORM: &str = r#"validation:
  rules:
    - {field: spec.image, prefix: "registry.internal/", message: "images must come from the internal registry (registry.internal/)", action: deny}
    - {field: spec.replicas, greaterThan: 0, message: "replicas must be at least 1", action: deny}
    - {field: spec.environment, operator: in, value: "development,staging,production", message: "environment must be one of: development, staging, production", action: deny}
    - {field: spec.rateLimit, operator: exists, message: "declare spec.rateLimit for production readiness", action: warn}
mutation:
  mutateFirst: true
  rules:
    - {field: spec.replicas, default: "2", valueType: "int"}
    - {field: spec.environment, default: "development"}
    - {field: spec.rateLimit, default: "100", valueType: "int"}
"#;

    #[test]
    fn mutation_runs_before_validation_as_in_the_security_admission_pack() {
        let crd = &fixtures::crd(PLATFORM);
        let r = fixtures::render();
        let cr = serde_json::json!({
            "apiVersion": "admission.orkestra.io/v1alpha1", "kind": "Platform",
            "metadata": {"name": "minimal-platform", "namespace": "default"},
            "spec": {"image": "registry.internal/my-platform:v1.0"},
        });
        let input = Input::new(&cr, &r, Stage::Admission);
        let admitted = admit(crd, &input, true, true);
        assert!(admitted.is_allowed(), "{:?}", admitted.verdict);
        assert_eq!(
            admitted.mutated.object["spec"],
            serde_json::json!({
                "image": "registry.internal/my-platform:v1.0",
                "replicas": 2, "environment": "development", "rateLimit": 100,
            })
        );
        assert!(admitted.verdict.warnings.is_empty());
        // Without mutation the same CR violates nothing it cannot default, but warns.
        let unmutated = admit(crd, &input, false, true);
        assert_eq!(unmutated.verdict.warnings.len(), 1);
        assert_eq!(
            unmutated.verdict.message(),
            "replicas must be at least 1; environment must be one of: development, staging, production"
        );
    }

    #[test]
    fn chains_print_every_cause() {
        let e = Error::ConditionFailed {
            what: "when",
            source: crate::condition::Error::InvalidRange("1".into()),
        };
        assert_eq!(
            chain(&e),
            "cannot evaluate the rule's when: range \"1\" is not \"min,max\""
        );
    }
}
