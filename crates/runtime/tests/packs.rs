//! The conformance packs whose children need no running Pods, run as `ork run` runs them
//! (local-mode setup, then one OperatorBox per CRD with the Katalog's Reconciler): their sample
//! CRs produce the children each EXPECT.md names, owned by the CR, with Ready=True and the
//! declared status fields; deleting the CRs removes the children.
//!
//! The packs put their CRs in `default` and two of them name a CR `my-app`, so they run one
//! after another in one test, each cleaning up before the next.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use kube::{Client, ResourceExt};
use runtime::{BoxConfig, Metrics, Supervisor};
use serde_json::Value;

use crate::wait::eventually;

/// What one CR of a pack must produce.
struct Expect {
    /// The CRD's name in the Katalog.
    crd: &'static str,
    /// The CR's name (in `default`).
    name: &'static str,
    /// Children as (kind, name); `None` when the pack declares no name (any one child of that
    /// kind owned by the CR).
    children: &'static [(&'static str, Option<&'static str>)],
    /// Objects that must not exist (`when:` false), as (kind, name).
    absent: &'static [(&'static str, &'static str)],
    /// Status fields and their values; when any, `Ready=True` is expected too.
    status: &'static [(&'static str, &'static str)],
}

struct Pack {
    dir: &'static str,
    /// CR files the pack's e2e applies (beyond the Katalog's crFiles).
    cr_files: &'static [&'static str],
    expect: &'static [Expect],
}

const PACKS: &[Pack] = &[
    Pack {
        dir: "beginner-01-hello-website",
        cr_files: &[],
        expect: &[Expect {
            crd: "website",
            name: "hello-website",
            children: &[
                ("Deployment", Some("hello-website")),
                ("Service", Some("hello-website-svc")),
            ],
            absent: &[],
            // Its CRD has neither a status subresource nor a status schema: the API server
            // prunes whatever status ork writes, so there is none to check.
            status: &[],
        }],
    },
    Pack {
        dir: "intermediate-04-multi-resource",
        cr_files: &[],
        expect: &[Expect {
            crd: "application",
            name: "my-app",
            children: &[
                ("Deployment", Some("my-app")),
                ("Service", Some("my-app-svc")),
                ("ConfigMap", Some("my-app-config")),
            ],
            absent: &[],
            status: &[
                ("phase", "Running"),
                ("endpoint", "my-app.default.svc.cluster.local"),
            ],
        }],
    },
    Pack {
        dir: "intermediate-05-when-conditions",
        cr_files: &["cr-free.yaml"],
        expect: &[Expect {
            crd: "platform",
            name: "my-platform",
            children: &[
                ("Deployment", Some("my-platform")),
                ("Service", Some("my-platform-internal")),
            ],
            absent: &[
                ("Service", "my-platform-lb"),
                ("ConfigMap", "my-platform-monitoring"),
                ("ConfigMap", "my-platform-enterprise-config"),
            ],
            status: &[("tier", "free"), ("phase", "Running")],
        }],
    },
    Pack {
        dir: "intermediate-07-crd-file",
        cr_files: &["cr-app.yaml", "cr-database.yaml"],
        expect: &[
            Expect {
                crd: "app",
                name: "my-app",
                children: &[("Deployment", None), ("Service", None)],
                absent: &[],
                status: &[("phase", "Running")],
            },
            Expect {
                crd: "database",
                name: "my-database",
                children: &[("ConfigMap", Some("my-database-db-config"))],
                absent: &[],
                status: &[("phase", "Running"), ("engine", "postgres")],
            },
        ],
    },
    Pack {
        dir: "advanced-12-autoscale-own-metrics",
        cr_files: &[],
        expect: &[Expect {
            crd: "ingestor",
            name: "my-ingestor",
            children: &[("Deployment", None), ("Service", None)],
            absent: &[],
            status: &[
                ("phase", "Running"),
                ("autoscaleActive", "false"),
                ("workers", "2"),
            ],
        }],
    },
    Pack {
        dir: "use-cases-normalize-string-cleanup",
        cr_files: &["cr-messy.yaml", "cr-clean.yaml"],
        expect: &[
            Expect {
                crd: "tenant",
                name: "acme",
                children: &[("ConfigMap", Some("acme-config"))],
                absent: &[],
                status: &[
                    ("name", "acme corp"),
                    ("environment", "production"),
                    ("domain", "acme.example.com"),
                    ("tier", "premium"),
                ],
            },
            Expect {
                crd: "tenant",
                name: "globex",
                children: &[("ConfigMap", Some("globex-config"))],
                absent: &[],
                status: &[("environment", "staging"), ("tier", "standard")],
            },
        ],
    },
];

/// `packs/` of the conformance corpus: `$ORK_CONFORMANCE_DIR`, else the repository's sibling
/// `shared/conformance`.
fn packs_dir() -> PathBuf {
    std::env::var_os("ORK_CONFORMANCE_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
            PathBuf::from,
        )
        .join("packs")
}

fn child_resource(kind: &str) -> ApiResource {
    match kind {
        "Deployment" => ApiResource::erase::<Deployment>(&()),
        "Service" => ApiResource::erase::<Service>(&()),
        "ConfigMap" => ApiResource::erase::<ConfigMap>(&()),
        other => panic!("no resource for {other} in this test"),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `cr` owns `child` as its controller.
fn owns(cr: &DynamicObject, child: &DynamicObject) -> bool {
    child
        .owner_references()
        .iter()
        .any(|r| Some(&r.uid) == cr.metadata.uid.as_ref() && r.controller == Some(true))
}

/// The children of `expect` that `cr` does not own yet, as readable lines.
async fn missing(client: &Client, cr: &DynamicObject, expect: &Expect) -> Vec<String> {
    let mut missing = Vec::new();
    for (kind, name) in expect.children {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), "default", &child_resource(kind));
        let Ok(list) = api.list(&ListParams::default()).await else {
            missing.push(format!("{kind}: list failed"));
            continue;
        };
        let child = list
            .items
            .iter()
            .find(|child| name.is_none_or(|n| child.name_any() == n) && owns(cr, child));
        match child {
            None => missing.push(format!("{kind} {name:?}")),
            Some(child)
                if child
                    .labels()
                    .get("orkestra.orkspace.io/managed")
                    .map(String::as_str)
                    != Some("true") =>
            {
                missing.push(format!("{kind} {name:?} without the managed label"));
            }
            Some(_) => {}
        }
    }
    missing
}

/// Checks one CR's children, absences and status; returns the CR's API for the cleanup.
async fn check(
    client: &Client,
    katalog: &katalog::Katalog,
    supervisor: &Supervisor,
    expect: &Expect,
) -> Api<DynamicObject> {
    let crd = katalog.crd(expect.crd).expect("the CRD is in the Katalog");
    let config = BoxConfig::from_crd(crd);
    let crs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", config.resource());
    let health = supervisor.operator_box(expect.crd).unwrap().health();
    let what = format!("{} {}: children and status", expect.crd, expect.name);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let cr = loop {
        let (cr, problems) = match crs.get_opt(expect.name).await {
            Ok(Some(cr)) => {
                let mut problems = missing(client, &cr, expect).await;
                let ready = cr.data["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
                if !expect.status.is_empty() && !ready {
                    problems.push(format!("not Ready: {:?}", cr.data.get("status")));
                }
                (Some(cr), problems)
            }
            other => (None, vec![format!("the CR: {other:?}")]),
        };
        if problems.is_empty() {
            break cr.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {problems:?}; box health {:?}",
            health.snapshot(expect.crd)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (kind, name) in expect.absent {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), "default", &child_resource(kind));
        assert!(
            api.get_opt(name).await.unwrap().is_none(),
            "{kind} {name} exists but its `when` is false"
        );
    }
    for (field, value) in expect.status {
        assert_eq!(
            text(&cr.data["status"][field]),
            *value,
            "{} {}: status.{field}",
            expect.crd,
            expect.name
        );
    }
    crs
}

#[tokio::test]
async fn packs_that_need_no_pods_produce_their_expected_children() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("runtime=debug")
        .with_test_writer()
        .try_init();
    let cp = testenv::shared().await;
    let client = cp.client().await.unwrap();
    for pack in PACKS {
        let dir = packs_dir().join(pack.dir);
        let loaded = katalog::load(dir.join("katalog.yaml"))
            .unwrap_or_else(|d| panic!("{}: {}", pack.dir, d.render()));
        runtime::cluster::prepare(&client, &loaded.katalog, Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("{}: preparing: {e:?}", pack.dir));
        for file in pack.cr_files {
            runtime::cluster::apply_file(&client, &dir.join(file))
                .await
                .unwrap_or_else(|e| panic!("{}: applying {file}: {e:?}", pack.dir));
        }
        let supervisor = crate::support::supervise(&client, &loaded.katalog, &Metrics::new()).await;
        let mut created = Vec::new();
        for expect in pack.expect {
            created.push((
                check(&client, &loaded.katalog, &supervisor, expect).await,
                expect,
            ));
        }
        for (crs, expect) in &created {
            crs.delete(expect.name, &DeleteParams::default())
                .await
                .unwrap();
        }
        for (crs, expect) in &created {
            let what = format!("{} {} deleted (finalizer removed)", expect.crd, expect.name);
            eventually(&what, Duration::from_secs(30), || async {
                crs.get_opt(expect.name).await.ok()?.is_none().then_some(())
            })
            .await;
            // Garbage collection of the children is tested elsewhere; it waits for the
            // collector to discover each new CRD (up to 30 s), so the next pack, which reuses
            // names, gets a clean namespace by deleting them here.
            for (kind, _) in expect.children {
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), "default", &child_resource(kind));
                for child in api.list(&ListParams::default()).await.unwrap().items {
                    if child.labels().get("orkestra-owner").map(String::as_str) == Some(expect.name)
                    {
                        let _ = api
                            .delete(&child.name_any(), &DeleteParams::default())
                            .await;
                    }
                }
            }
        }
        supervisor.stop().await.unwrap();
    }
}
