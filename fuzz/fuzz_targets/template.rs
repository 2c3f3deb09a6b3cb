//! Fuzzes the template engine: any text as a template must parse or fail with a parse error,
//! and a parsed template must render over a small CR or fail with a render error, never
//! panic, hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let engine = gotmpl::Engine::new();
    if let Ok(template) = engine.parse(&text) {
        let cr = serde_json::json!({
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"image": "nginx", "replicas": 3, "ports": [80, 443], "tier": "premium"},
        });
        let cx = gotmpl::RenderContext {
            seed: Some(1),
            ..Default::default()
        };
        let _ = engine.render_with(&template, &cr, &cx);
    }
});
