//! Cost of a change of a cross-read source: how long `Sources::changed` takes to find the
//! readers among N cached CRs of a box whose `cross:` selects by a templated name.
//!
//! `floor` walks the same store taking each CR's key (no template), in the same run, so the
//! figure can be read as a ratio against it.
//!
//! Run with `cargo bench -p runtime --bench cross`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use divan::Bencher;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::watcher::Event;
use runtime::Key;
use runtime::observe::{Cross, Dependent, Sources};

fn main() {
    divan::main();
}

const KATALOG: &str = "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: bench}
spec:
  crds:
    database:
      apiTypes: {group: example.com, version: v1, kind: Database, plural: databases}
    app:
      apiTypes: {group: example.com, version: v1, kind: App, plural: apps}
      operatorBox:
        cross:
          - crd: database
            selector: {name: \"{{ .metadata.name }}-db\"}
            as: db
";

fn apps(n: usize) -> Store<DynamicObject> {
    let resource = ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "App".into(),
        plural: "apps".into(),
    };
    let mut writer = Writer::new(resource.clone());
    writer.apply_watcher_event(&Event::Init);
    for i in 0..n {
        let mut cr = DynamicObject::new(&format!("app-{i}"), &resource)
            .within("default")
            .data(serde_json::json!({"spec": {"image": "nginx", "replicas": 3}}));
        cr.metadata.uid = Some(format!("uid-{i}"));
        cr.metadata.resource_version = Some("1".into());
        writer.apply_watcher_event(&Event::InitApply(cr));
    }
    writer.apply_watcher_event(&Event::InitDone);
    writer.as_reader()
}

fn sources(n: usize, queued: Arc<AtomicUsize>) -> Sources {
    let katalog = katalog::load_text("/bench/katalog.yaml", KATALOG)
        .expect("the bench Katalog is valid")
        .katalog;
    let engine = katalog::build::engine_for(&katalog).expect("no notes to load");
    let render = Arc::new(katalog::build::EngineRender::new(engine));
    let cross = Arc::new(Cross::new(&katalog, katalog.crd("app").unwrap(), render));
    let sources = Sources::default();
    cross.bind(&sources);
    sources.subscribe(Dependent {
        crd: "app".into(),
        cross,
        store: apps(n),
        enqueue: Arc::new(move |_: Key| {
            queued.fetch_add(1, Ordering::Relaxed);
        }),
    });
    sources
}

/// One source change among N readers (one of which reads it).
#[divan::bench(args = [100, 1000])]
fn changed(bencher: Bencher, n: usize) {
    let queued = Arc::new(AtomicUsize::new(0));
    let sources = sources(n, Arc::clone(&queued));
    let object = kube::api::ObjectMeta {
        name: Some("app-7-db".into()),
        namespace: Some("default".into()),
        ..Default::default()
    };
    bencher.bench_local(|| sources.changed("database", &object));
    assert!(queued.load(Ordering::Relaxed) > 0, "the reader was queued");
}

/// The same store walked, each CR's key taken.
#[divan::bench(args = [100, 1000])]
fn floor(bencher: Bencher, n: usize) {
    let store = apps(n);
    bencher.bench_local(|| {
        store
            .state()
            .iter()
            .filter_map(|cr| Key::of(&cr.metadata))
            .filter(|k| k.name == "app-7")
            .count()
    });
}
