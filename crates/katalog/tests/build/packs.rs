//! Every conformance pack with sample CRs: building each CR yields the children its
//! EXPECT.md (and simulate file) name, by kind and name.

use std::path::{Path, PathBuf};

use gotmpl::RenderContext;
use katalog::build::{ApplyPlan, Builder, EngineRender, ProfileRegistry, engine_for, hooks_of};
use serde_json::{Map, Value};

/// A Katalog entry point and the CR files next to it.
pub struct Pack {
    /// The pack directory name (with the sub-Katalog for multi-Katalog packs).
    pub name: String,
    /// The entry file.
    pub entry: PathBuf,
    /// Sample CRs (YAML files, possibly several documents each).
    pub crs: Vec<PathBuf>,
}

fn conformance() -> PathBuf {
    crate::util::conformance_dir().join("packs")
}

fn yaml_files(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|x| x == "yaml")
                        && pred(p.file_name().unwrap().to_str().unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn is_cr_file(name: &str) -> bool {
    (name.starts_with("cr") && !name.starts_with("crd")) || name.ends_with("-cr.yaml")
}

/// Every entry point of every pack, with its CR files (a sub-Katalog also sees the pack
/// root's CRs).
pub fn packs() -> Vec<Pack> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(conformance())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let pack = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let root_crs = yaml_files(&dir, is_cr_file);
        for entry in ["komposer.yaml", "katalog.yaml"] {
            let path = dir.join(entry);
            if path.is_file() {
                out.push(Pack {
                    name: pack.clone(),
                    entry: path,
                    crs: root_crs.clone(),
                });
                break;
            }
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && p.join("katalog.yaml").is_file())
            .collect();
        subs.sort();
        for sub in subs {
            let mut crs = root_crs.clone();
            crs.extend(yaml_files(&sub, is_cr_file));
            out.push(Pack {
                name: format!("{pack}/{}", sub.file_name().unwrap().to_str().unwrap()),
                entry: sub.join("katalog.yaml"),
                crs,
            });
        }
    }
    out
}

/// The CRs in a file (multi-document YAML).
pub fn read_crs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(|v| v.get("kind").is_some())
        .collect()
}

/// Builds every CR of a pack against the CRD of its kind: (CR name, plan) pairs, with the
/// data extras a test supplies (`children`, `cross`, ...).
pub fn build_pack(pack: &Pack, extra: &Map<String, Value>) -> Vec<(String, ApplyPlan)> {
    try_build_pack(pack, extra)
        .into_iter()
        .map(|(cr, plan)| (cr, plan.unwrap_or_else(|e| panic!("{}: {e}", pack.name))))
        .collect()
}

/// Like [`build_pack`], keeping each CR's build error.
pub fn try_build_pack(
    pack: &Pack,
    extra: &Map<String, Value>,
) -> Vec<(String, Result<ApplyPlan, String>)> {
    let loaded = katalog::load(&pack.entry)
        .unwrap_or_else(|d| panic!("{}: {}", pack.entry.display(), d.render()));
    let k = &loaded.katalog;
    let render = EngineRender::new(engine_for(k).unwrap()).with_context(RenderContext {
        now: crate::build::NOW,
        seed: Some(1),
    });
    let profiles = ProfileRegistry::from_katalog(k);
    let mut out = Vec::new();
    for file in &pack.crs {
        for cr in read_crs(file) {
            let api = cr["apiVersion"].as_str().unwrap_or_default();
            let kind = cr["kind"].as_str().unwrap_or_default();
            let Some(crd) = k
                .crds
                .iter()
                .find(|c| c.gvk().api_version() == api && c.gvk().kind == kind)
            else {
                continue;
            };
            let plan = Builder::new(&render)
                .now(crate::build::NOW)
                .profiles(&profiles)
                .for_crd(crd)
                .build(&cr, hooks_of(crd), extra)
                .map_err(|e| e.to_string());
            out.push((
                cr["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                plan,
            ));
        }
    }
    out
}

/// The children each sample CR must produce, from the packs' EXPECT.md and simulate files:
/// (pack, CR name, children as `Kind name`). Packs without sample CRs are covered by
/// `packs_without_sample_crs_build_the_children_their_expect_files_name`.
const EXPECTED: &[(&str, &str, &[&str])] = &[
    (
        "advanced-12-autoscale-own-metrics",
        "my-ingestor",
        &[
            "Deployment my-ingestor-deployment",
            "Service my-ingestor-svc",
        ],
    ),
    // Two CRs share the name `my-database` on purpose: a Database and an App.
    (
        "advanced-13-dependencies-cross-cluster",
        "my-database",
        &[
            "StatefulSet my-database-statefulset",
            "Service my-database-svc",
        ],
    ),
    (
        "advanced-13-dependencies-cross-cluster",
        "my-database",
        &[
            "Deployment my-database-deployment",
            "Service my-database-svc",
        ],
    ),
    (
        "advanced-16-custom-resources-01-single-child",
        "dev-team",
        &["SecretVault dev-team-vault"],
    ),
    (
        "advanced-16-custom-resources-03-conditional-children",
        "dev-env",
        &[],
    ),
    (
        "advanced-16-custom-resources-03-conditional-children",
        "prod-env",
        &["CacheCluster prod-env-cache", "SearchIndex prod-env-search"],
    ),
    (
        "advanced-17-apitype-override",
        "prod-db",
        &[
            "StatefulSet prod-db-statefulset",
            "Service prod-db-svc",
            "ConfigMap prod-db-config",
        ],
    ),
    (
        "beginner-01-hello-website",
        "hello-website",
        &["Deployment hello-website", "Service hello-website-svc"],
    ),
    (
        "beginner-02-with-serviceaccount",
        "my-site",
        &[
            "ServiceAccount my-site-sa",
            "Deployment my-site",
            "Service my-site-svc",
        ],
    ),
    (
        "ecosystem-crossplane",
        "webapp-db",
        &["PostgreSQLInstance webapp-db"],
    ),
    // rogue-db is denied by the CRD's validation rules, which run before building (the
    // runtime's prepare step); its `when: spec.approved == "true"` itself passes.
    (
        "ecosystem-crossplane",
        "rogue-db",
        &["PostgreSQLInstance rogue-db"],
    ),
    (
        "intermediate-04-multi-resource",
        "my-app",
        &[
            "Deployment my-app",
            "Service my-app-svc",
            "ConfigMap my-app-config",
        ],
    ),
    (
        "intermediate-05-when-conditions",
        "my-platform",
        &["Deployment my-platform", "Service my-platform-internal"],
    ),
    (
        "intermediate-07-crd-file",
        "my-app",
        &["Deployment my-app-deployment", "Service my-app-svc"],
    ),
    (
        "intermediate-07-crd-file",
        "my-database",
        &["ConfigMap my-database-db-config"],
    ),
    (
        "intermediate-09-notes-motifs",
        "my-service",
        &["Deployment default-my-service"],
    ),
    (
        "intermediate-09-notes-motifs",
        "my-service-default",
        &["Deployment default-my-service-default"],
    ),
    // cr-bad.yaml fails validation at reconcile; the builder sees only the declarations.
    (
        "resilience-admission-protection",
        "my-chain",
        &["StatefulSet my-chain", "Service my-chain-rpc"],
    ),
    (
        "security-admission",
        "minimal-platform",
        &[
            "Deployment minimal-platform-platform",
            "Service minimal-platform-svc",
        ],
    ),
    (
        "use-cases-crd-conversion-serve-translation",
        "daily-backup",
        &["CronJob daily-backup"],
    ),
    (
        "use-cases-enrich/01-pod-health",
        "api-server",
        &["Deployment api-server"],
    ),
    // Without a Ready ManagedDatabase in `.cross.db` nothing is built yet (see
    // `cross_crd_children_appear_once_the_database_is_ready`).
    ("use-cases-full-stack-cross-crd", "my-app", &[]),
    (
        "use-cases-full-stack-cross-crd",
        "my-app-db",
        &[
            "Deployment my-app-db-postgres",
            "Service my-app-db-postgres",
        ],
    ),
    (
        "use-cases-full-stack-or",
        "my-flex-app",
        &["Deployment my-flex-app"],
    ),
    (
        "use-cases-normalize-string-cleanup",
        "acme",
        &["ConfigMap acme-config"],
    ),
    (
        "use-cases-normalize-string-cleanup",
        "globex",
        &["ConfigMap globex-config"],
    ),
    (
        "use-cases-profiles/01-resource",
        "my-service",
        &[
            "Deployment my-service-tiny",
            "Deployment my-service-small",
            "Deployment my-service-medium",
            "Deployment my-service-large",
            "Deployment my-service-burst",
            "Deployment my-service-steady",
            "Deployment my-service-compute-heavy",
            "Deployment my-service-memory-heavy",
        ],
    ),
    (
        "use-cases-profiles/06-networkpolicy",
        "my-service",
        &[
            "NetworkPolicy my-service-deny-all",
            "NetworkPolicy my-service-deny-ingress",
            "NetworkPolicy my-service-deny-egress",
            "NetworkPolicy my-service-allow-same-ns",
            "NetworkPolicy my-service-allow-dns",
        ],
    ),
];

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The plans of one pack, found by name.
fn pack_plans(name: &str, extra: &Map<String, Value>) -> Vec<(String, ApplyPlan)> {
    let pack = packs()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no pack {name}"));
    build_pack(&pack, extra)
}

#[test]
fn every_sample_cr_builds_the_children_its_pack_expects() {
    let mut checked = 0;
    let mut unexpected = Vec::new();
    for pack in packs() {
        let mut wanted: Vec<&(&str, &str, &[&str])> = EXPECTED
            .iter()
            .filter(|(p, _, _)| *p == pack.name)
            .collect();
        for (cr, plan) in build_pack(&pack, &Map::new()) {
            let got = sorted(super::names(&plan));
            let pos = wanted.iter().position(|(_, name, children)| {
                *name == cr && sorted(children.iter().map(|c| c.to_string()).collect()) == got
            });
            match pos {
                Some(i) => {
                    wanted.remove(i);
                    checked += 1;
                }
                None => unexpected.push(format!("{} {cr}: built {got:?}", pack.name)),
            }
        }
        for (p, cr, children) in wanted {
            unexpected.push(format!("{p} {cr}: expected {children:?}, not built"));
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert_eq!(checked, EXPECTED.len());
}

#[test]
fn simulate_ops_come_in_the_order_the_simulate_files_list() {
    let plans = pack_plans("beginner-02-with-serviceaccount", &Map::new());
    assert_eq!(
        super::names(&plans[0].1),
        [
            "ServiceAccount my-site-sa",
            "Deployment my-site",
            "Service my-site-svc"
        ]
    );
    let plans = pack_plans("use-cases-profiles/01-resource", &Map::new());
    let names = super::names(&plans[0].1);
    assert_eq!(
        names.first().map(String::as_str),
        Some("Deployment my-service-tiny")
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("Deployment my-service-memory-heavy")
    );
}

/// The child of `kind` named `name`.
fn child<'p>(plan: &'p ApplyPlan, kind: &str, name: &str) -> &'p Value {
    &plan
        .children
        .iter()
        .find(|c| c.object["kind"] == kind && c.object["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", super::names(plan)))
        .object
}

#[test]
fn expect_file_details_of_the_beginner_and_intermediate_packs_hold() {
    let p = &pack_plans("beginner-02-with-serviceaccount", &Map::new())[0].1;
    let d = child(p, "Deployment", "my-site");
    assert_eq!(
        d["spec"]["template"]["spec"]["serviceAccountName"],
        "my-site-sa"
    );
    assert_eq!(d["spec"]["replicas"], 2);

    let p = &pack_plans("intermediate-04-multi-resource", &Map::new())[0].1;
    assert_eq!(
        child(p, "ConfigMap", "my-app-config")["data"],
        serde_json::json!({"LOG_LEVEL": "info", "MAX_CONNECTIONS": "100"})
    );
    let svc = child(p, "Service", "my-app-svc");
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);

    let plans = pack_plans("intermediate-09-notes-motifs", &Map::new());
    for (cr, plan) in &plans {
        let (name, image) = if cr == "my-service" {
            ("default-my-service", "nginx:1.25")
        } else {
            ("default-my-service-default", "nginx:latest")
        };
        let d = child(plan, "Deployment", name);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            image
        );
    }

    let p = &pack_plans("advanced-17-apitype-override", &Map::new())[0].1;
    assert_eq!(
        child(p, "ConfigMap", "prod-db-config")["data"],
        serde_json::json!({"ENGINE": "postgres", "NODES": "2"})
    );
    assert_eq!(
        child(p, "StatefulSet", "prod-db-statefulset")["spec"]["replicas"],
        2
    );
}

#[test]
fn expect_file_details_of_the_use_case_packs_hold() {
    let p = &pack_plans("use-cases-profiles/01-resource", &Map::new())[0].1;
    let cpu = |name: &str| {
        child(p, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]["resources"]
            ["requests"]["cpu"]
            .clone()
    };
    assert_eq!(cpu("my-service-tiny"), "25m");
    assert_eq!(cpu("my-service-large"), "500m");

    let p = &pack_plans("use-cases-crd-conversion-serve-translation", &Map::new())[0].1;
    let cj = child(p, "CronJob", "daily-backup");
    assert_eq!(cj["spec"]["schedule"], "0 2 * * 1-5");
    assert_eq!(cj["spec"]["suspend"], false);
    assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");

    let plans = pack_plans("ecosystem-crossplane", &Map::new());
    let (_, p) = plans.iter().find(|(cr, _)| cr == "webapp-db").unwrap();
    let db = child(p, "PostgreSQLInstance", "webapp-db");
    assert_eq!(db["spec"]["parameters"]["storageGB"], 50);
    assert_eq!(
        db["spec"]["writeConnectionSecretToRef"]["name"],
        "webapp-db-conn"
    );
    assert_eq!(
        db["spec"]["compositionSelector"]["matchLabels"],
        serde_json::json!({"provider": "aws", "team": "platform"})
    );

    let plans = pack_plans(
        "advanced-16-custom-resources-03-conditional-children",
        &Map::new(),
    );
    let (_, p) = plans.iter().find(|(cr, _)| cr == "prod-env").unwrap();
    assert_eq!(
        child(p, "CacheCluster", "prod-env-cache")["spec"]["ttl"],
        7200
    );
    assert_eq!(
        child(p, "SearchIndex", "prod-env-search")["spec"]["replicas"],
        3
    );
}

#[test]
fn custom_children_are_built_in_turn_by_their_own_crds() {
    // A Workspace makes a SecretVault; the SecretVault, built as a CR of its own CRD,
    // makes its Deployment and Service (advanced-16-01).
    for (pack, expected) in [
        (
            "advanced-16-custom-resources-01-single-child",
            vec![vec![
                "Deployment dev-team-vault-deployment",
                "Service dev-team-vault-svc",
            ]],
        ),
        (
            "advanced-16-custom-resources-03-conditional-children",
            vec![
                vec![
                    "Deployment prod-env-cache-deployment",
                    "Service prod-env-cache-svc",
                ],
                vec![
                    "Deployment prod-env-search-deployment",
                    "Service prod-env-search-svc",
                ],
            ],
        ),
    ] {
        let p = packs().into_iter().find(|p| p.name == pack).unwrap();
        let loaded = katalog::load(&p.entry).unwrap();
        let render = EngineRender::new(engine_for(&loaded.katalog).unwrap());
        let mut got = Vec::new();
        for (_, plan) in build_pack(&p, &Map::new()) {
            for c in &plan.children {
                let api = c.object["apiVersion"].as_str().unwrap();
                let kind = c.object["kind"].as_str().unwrap();
                let crd = loaded
                    .katalog
                    .crds
                    .iter()
                    .find(|d| d.gvk().api_version() == api && d.gvk().kind == kind)
                    .unwrap();
                let child_plan = Builder::new(&render)
                    .now(crate::build::NOW)
                    .for_crd(crd)
                    .build(&c.object, hooks_of(crd), &Map::new())
                    .unwrap();
                got.push(sorted(super::names(&child_plan)));
            }
        }
        let expected: Vec<Vec<String>> = expected
            .into_iter()
            .map(|v| sorted(v.into_iter().map(String::from).collect()))
            .collect();
        assert_eq!(got, expected, "{pack}");
    }
}

#[test]
fn cross_crd_children_appear_once_the_database_is_ready() {
    let mut extra = Map::new();
    extra.insert(
        "cross".into(),
        serde_json::json!({"db": {
            "found": true,
            "apiVersion": "advanced.orkestra.io/v1alpha1", "kind": "ManagedDatabase",
            "metadata": {"name": "my-app-db", "namespace": "default"},
            "spec": {},
            "status": {"phase": "Ready", "endpoint": "my-app-db-postgres.default.svc.cluster.local:5432"},
        }}),
    );
    let plans = pack_plans("use-cases-full-stack-cross-crd", &extra);
    let (_, p) = plans.iter().find(|(cr, _)| cr == "my-app").unwrap();
    assert_eq!(
        sorted(super::names(p)),
        ["ConfigMap my-app-config", "Deployment my-app"]
    );
    assert_eq!(
        child(p, "ConfigMap", "my-app-config")["data"]["DB_HOST"],
        "my-app-db-postgres.default.svc.cluster.local:5432"
    );
    assert!(p.deletions.is_empty());
}

#[test]
fn or_gated_jobs_follow_the_phase_and_the_notify_flag() {
    let pack = packs()
        .into_iter()
        .find(|p| p.name == "use-cases-full-stack-or")
        .unwrap();
    let loaded = katalog::load(&pack.entry).unwrap();
    let crd = &loaded.katalog.crds[0];
    let render = EngineRender::new(engine_for(&loaded.katalog).unwrap());
    let mut cr = read_crs(&pack.crs[0]).remove(0);
    cr["spec"]["notify"] = "true".into();
    cr["status"] = serde_json::json!({"phase": "Running"});
    let plan = Builder::new(&render)
        .now(crate::build::NOW)
        .for_crd(crd)
        .build(&cr, hooks_of(crd), &Map::new())
        .unwrap();
    assert_eq!(
        sorted(super::names(&plan)),
        ["Deployment my-flex-app", "Job my-flex-app-notify"]
    );
    cr["status"]["phase"] = "Succeeded".into();
    let plan = Builder::new(&render)
        .now(crate::build::NOW)
        .for_crd(crd)
        .build(&cr, hooks_of(crd), &Map::new())
        .unwrap();
    assert_eq!(
        sorted(super::names(&plan)),
        [
            "Deployment my-flex-app",
            "Job my-flex-app-cleanup",
            "Job my-flex-app-notify"
        ]
    );
}

#[test]
fn packs_without_sample_crs_build_the_children_their_expect_files_name() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "security-deletion-protection",
            "App",
            "my-app",
            &["Deployment my-app-app", "Service my-app-svc"],
        ),
        (
            "security-deletion-protection",
            "Database",
            "db",
            &["ConfigMap db-db-config"],
        ),
        (
            "security-deletion-protection",
            "Cache",
            "c",
            &["ConfigMap c-cache-config"],
        ),
        (
            "advanced-14-cross-operator-in-binary",
            "Producer",
            "p",
            &["Deployment p-deployment", "Service p-svc"],
        ),
        (
            "advanced-14-cross-operator-in-binary",
            "Consumer",
            "p",
            &["Deployment p-deployment", "Service p-svc"],
        ),
    ];
    for (pack, kind, name, expected) in cases {
        let p = packs().into_iter().find(|p| p.name == *pack).unwrap();
        let loaded = katalog::load(&p.entry).unwrap();
        let crd = loaded
            .katalog
            .crds
            .iter()
            .find(|c| c.gvk().kind == *kind)
            .unwrap();
        let render = EngineRender::new(engine_for(&loaded.katalog).unwrap());
        let mut cr = katalog::build::cr_skeleton(crd, name, "default");
        cr["spec"] = serde_json::json!({"image": "nginx:1.25", "replicas": 1, "port": 8080});
        let plan = Builder::new(&render)
            .now(crate::build::NOW)
            .for_crd(crd)
            .build(&cr, hooks_of(crd), &Map::new())
            .unwrap();
        let want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(sorted(super::names(&plan)), sorted(want), "{pack} {kind}");
    }
}

#[test]
fn child_types_list_every_kind_a_crd_can_produce() {
    let p = packs()
        .into_iter()
        .find(|p| p.name == "use-cases-full-stack-or")
        .unwrap();
    let loaded = katalog::load(&p.entry).unwrap();
    let types = katalog::build::child_types(&loaded.katalog.crds[0]);
    assert_eq!(
        types,
        [
            ("apps/v1".to_owned(), "Deployment".to_owned()),
            ("batch/v1".to_owned(), "Job".to_owned())
        ]
    );
    let p = packs()
        .into_iter()
        .find(|p| p.name == "ecosystem-crossplane")
        .unwrap();
    let loaded = katalog::load(&p.entry).unwrap();
    let types = katalog::build::child_types(&loaded.katalog.crds[0]);
    assert_eq!(
        types,
        [(
            "database.myorg.io/v1alpha1".to_owned(),
            "PostgreSQLInstance".to_owned()
        )]
    );
}

#[test]
fn map_form_env_reads_the_cross_endpoint() {
    let mut extra = Map::new();
    extra.insert(
        "cross".into(),
        serde_json::json!({"database": {"status": {"endpoint": "my-database.default.svc:5432"}}}),
    );
    let plans = pack_plans("advanced-13-dependencies-cross-cluster", &extra);
    let (_, app) = plans
        .iter()
        .find(|(_, p)| p.children.iter().any(|c| c.object["kind"] == "Deployment"))
        .unwrap();
    let d = child(app, "Deployment", "my-database-deployment");
    assert_eq!(d["spec"]["replicas"], 2);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["env"],
        serde_json::json!([{"name": "DB_HOST", "value": "my-database.default.svc:5432"}])
    );
    assert_eq!(c["ports"][0]["containerPort"], 8080);
}
