//! Template rendering speed: the templated strings of a typical Deployment, rendered by the
//! engine and, as a floor, by hand-written Rust doing the same lookups and concatenation.
//!
//! Run with `cargo bench -p gotmpl --bench template`. divan prints items/s: one item is one
//! rendered string for the `*_string` benches and one whole object for the `*_object` ones.
//! The ratio engine/floor is the cost of interpretation over the minimum work.

use std::fmt::Write as _;

use divan::Bencher;
use divan::counter::ItemsCount;
use gotmpl::{Engine, RenderContext, Template};
use serde_json::{Value as Json, json};

fn main() {
    divan::main();
}

/// The templated strings of a Deployment declaration in a typical Katalog.
const DEPLOYMENT: &[&str] = &[
    "{{ .metadata.name }}-deployment",
    "{{ .metadata.namespace }}",
    "{{ .spec.image }}:{{ .spec.tag | default \"latest\" }}",
    "{{ default 1 .spec.replicas }}",
    "{{ .spec.port }}",
    "{{ .metadata.name }}",
    "{{ default \"production\" .spec.environment | toLower | trimSpace }}",
    "{{ if eq .spec.tier \"premium\" }}500m{{ else }}100m{{ end }}",
];

fn cr() -> Json {
    json!({
        "apiVersion": "demo.orkestra.io/v1",
        "kind": "Website",
        "metadata": {"name": "shop", "namespace": "prod", "uid": "abc-123", "labels": {"app": "shop"}},
        "spec": {"image": "nginx", "replicas": 3, "port": 8080, "tier": "premium", "environment": " Staging "},
    })
}

fn parsed(engine: &Engine) -> Vec<Template> {
    DEPLOYMENT
        .iter()
        .map(|s| engine.parse(s).expect("bench templates parse"))
        .collect()
}

fn fixed() -> RenderContext {
    RenderContext {
        now: time::OffsetDateTime::UNIX_EPOCH,
        seed: Some(1),
    }
}

#[divan::bench]
fn engine_object(bencher: Bencher) {
    let engine = Engine::new();
    let templates = parsed(&engine);
    let data = cr();
    let cx = fixed();
    bencher.counter(ItemsCount::new(1usize)).bench(|| {
        let mut total = 0;
        for t in &templates {
            total += engine.render_with(t, &data, &cx).expect("renders").len();
        }
        total
    });
}

#[divan::bench]
fn engine_string(bencher: Bencher) {
    let engine = Engine::new();
    let templates = parsed(&engine);
    let data = cr();
    let cx = fixed();
    bencher.counter(ItemsCount::new(templates.len())).bench(|| {
        templates
            .iter()
            .map(|t| engine.render_with(t, &data, &cx).expect("renders").len())
            .sum::<usize>()
    });
}

#[divan::bench]
fn engine_object_with_real_clock(bencher: Bencher) {
    let engine = Engine::new();
    let templates = parsed(&engine);
    let data = cr();
    bencher.counter(ItemsCount::new(1usize)).bench(|| {
        templates
            .iter()
            .map(|t| engine.render(t, &data).expect("renders").len())
            .sum::<usize>()
    });
}

/// The floor: the same eight strings built by hand from the same JSON.
#[divan::bench]
fn handwritten_object(bencher: Bencher) {
    let data = cr();
    bencher.counter(ItemsCount::new(1usize)).bench(|| {
        let get = |path: &[&str]| path.iter().fold(&data, |v, k| &v[*k]);
        let text = |v: &Json| match v {
            Json::String(s) => s.clone(),
            Json::Null => String::new(),
            other => other.to_string(),
        };
        let mut out: Vec<String> = Vec::with_capacity(8);
        let name = text(get(&["metadata", "name"]));
        out.push(format!("{name}-deployment"));
        out.push(text(get(&["metadata", "namespace"])));
        let tag = match get(&["spec", "tag"]) {
            Json::Null => "latest".to_string(),
            v => text(v),
        };
        let mut image = text(get(&["spec", "image"]));
        let _ = write!(image, ":{tag}");
        out.push(image);
        out.push(text(get(&["spec", "replicas"])));
        out.push(text(get(&["spec", "port"])));
        out.push(name);
        out.push(
            text(get(&["spec", "environment"]))
                .to_lowercase()
                .trim()
                .to_string(),
        );
        out.push(
            if get(&["spec", "tier"]) == "premium" {
                "500m"
            } else {
                "100m"
            }
            .to_string(),
        );
        out.iter().map(String::len).sum::<usize>()
    });
}

#[divan::bench]
fn parse_object(bencher: Bencher) {
    let engine = Engine::new();
    bencher
        .counter(ItemsCount::new(1usize))
        .bench(|| parsed(&engine).len());
}
