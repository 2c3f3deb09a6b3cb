//! Object-building throughput: 10,000 CRs of `intermediate-04-multi-resource` (a
//! Deployment, a Service and a ConfigMap each) built on one core.
//!
//! Prints objects rendered per second per core, and the ratio to a floor measured in the
//! same run: serializing the same objects to JSON, the least work any applier does with
//! them. Run with `cargo bench -p katalog --bench render`; set `ORK_CONFORMANCE_DIR` when
//! the corpus is not at `../shared/conformance`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use katalog::build::{Builder, EngineRender, ProfileRegistry, engine_for, hooks_of};
use serde_json::{Map, Value, json};

const CRS: usize = 10_000;

fn pack_dir() -> PathBuf {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance");
    std::env::var_os("ORK_CONFORMANCE_DIR")
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
        .join("packs/intermediate-04-multi-resource")
}

fn main() {
    let loaded = katalog::load(pack_dir().join("katalog.yaml")).unwrap_or_else(|d| {
        eprint!("{}", d.render());
        std::process::exit(1)
    });
    let k = &loaded.katalog;
    let crd = &k.crds[0];
    let render = EngineRender::new(engine_for(k).expect("notes compile"));
    let profiles = ProfileRegistry::from_katalog(k);
    let builder = Builder::new(&render).profiles(&profiles).for_crd(crd);
    let crs: Vec<Value> = (0..CRS)
        .map(|i| {
            json!({
                "apiVersion": crd.gvk().api_version(),
                "kind": crd.gvk().kind,
                "metadata": {"name": format!("app-{i}"), "namespace": format!("ns-{}", i % 50),
                             "uid": format!("uid-{i}")},
                "spec": {"image": "nginx:1.25", "replicas": 1 + i % 5, "port": 8080,
                         "logLevel": "info", "maxConnections": 100 + i},
            })
        })
        .collect();
    let extra = Map::new();

    // Warm the template cache and the allocator.
    for cr in crs.iter().take(100) {
        black_box(builder.build(cr, hooks_of(crd), &extra).expect("builds"));
    }

    let start = Instant::now();
    let mut objects = Vec::with_capacity(CRS * 3);
    for cr in &crs {
        let plan = builder.build(cr, hooks_of(crd), &extra).expect("builds");
        objects.extend(plan.children.into_iter().map(|c| c.object));
    }
    let build = start.elapsed();

    let start = Instant::now();
    let mut bytes = 0;
    for o in &objects {
        bytes += black_box(serde_json::to_vec(o).expect("serializes")).len();
    }
    let floor = start.elapsed();

    let n = objects.len() as f64;
    let per_sec = n / build.as_secs_f64();
    println!(
        "render: {CRS} CRs -> {} objects in {:.3}s",
        objects.len(),
        build.as_secs_f64()
    );
    println!("render: {per_sec:.0} objects/s per core (aim > 20000)");
    println!(
        "floor (serialize the same objects, {} bytes): {:.0} objects/s; render costs {:.1}x the floor",
        bytes,
        n / floor.as_secs_f64(),
        build.as_secs_f64() / floor.as_secs_f64()
    );
}
