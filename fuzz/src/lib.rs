//! What the gateway fuzz targets share: the gateway's handlers on the Katalog in
//! `seeds/gateway.yaml`, fed with untrusted review bodies, as the webhook routes feed them.

use std::sync::OnceLock;

use gateway::admit::{self, protect, rules};
use gateway::metrics::Metrics;
use gateway::plan::Plan;
use katalog::build::EngineRender;
use serde_json::{Value, json};

/// The gateway's handler state, without a client (the handlers fuzzed here make no call).
pub struct Handlers {
    plan: Plan,
    render: EngineRender,
    metrics: Metrics,
}

/// The handlers for `seeds/gateway.yaml`, built once per process.
pub fn handlers() -> &'static Handlers {
    static HANDLERS: OnceLock<Handlers> = OnceLock::new();
    HANDLERS.get_or_init(|| {
        let text = include_str!("../seeds/gateway.yaml");
        let katalog = katalog::load_text("fuzz/seeds/gateway.yaml", text)
            .unwrap_or_else(|d| panic!("{}", d.render()))
            .katalog;
        let engine = katalog::build::engine_for(&katalog).expect("the template engine");
        Handlers {
            plan: Plan::from_katalog(&katalog),
            render: EngineRender::new(engine),
            metrics: Metrics::default(),
        }
    })
}

/// A CREATE AdmissionReview of a `Platform` whose object is `object`.
pub fn review_of(object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "fuzz", "operation": "CREATE", "name": "p", "namespace": "team-a",
            "kind": {"group": "fuzz.ork.test", "version": "v1", "kind": "Platform"},
            "resource": {"group": "fuzz.ork.test", "version": "v1", "resource": "platforms"},
            "userInfo": {"username": "fuzz"},
            "object": object,
        },
    })
}

impl Handlers {
    /// Every admission route on `body`: decoded as `/validate` decodes it, then every rule
    /// route and protection evaluated and the answer encoded. Bodies that are JSON but not a
    /// review are also tried as the object of a CREATE, so the rules see arbitrary objects.
    pub fn admission(&self, body: &[u8]) {
        self.admission_body(body);
        if let Ok(object) = serde_json::from_slice::<Value>(body) {
            if let Ok(wrapped) = serde_json::to_vec(&review_of(object)) {
                self.admission_body(&wrapped);
            }
        }
    }

    fn admission_body(&self, body: &[u8]) {
        let req = match admit::parse(body) {
            Ok(req) => req,
            Err(e) => {
                encode(&admit::invalid(&e));
                return;
            }
        };
        if let Some(target) = self.plan.target(&req.resource.group, &req.resource.resource) {
            for route in [rules::Route::Validate, rules::Route::Mutate] {
                let r = rules::decide(target, &self.render, &req, route, None);
                encode(&r.into_review());
            }
        }
        encode(&protect::deletion(&self.plan, &req).into_review());
        encode(&protect::strict(&req).into_review());
        encode(&protect::namespace(&self.plan, &req).into_review());
    }

    /// `/convert` on `body`, and the answer encoded.
    pub fn conversion(&self, body: &[u8]) {
        let review = gateway::convert::review(&self.plan, &self.render, &self.metrics, body)
            .unwrap_or_else(|unreadable| *unreadable);
        encode(&review);
    }
}

/// Serialises an answer as the server does (an answer that cannot be encoded is a bug).
fn encode(answer: &impl serde::Serialize) {
    serde_json::to_vec(answer).expect("every answer encodes");
}
