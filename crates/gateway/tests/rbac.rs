//! RBAC minimality of the gateway by mutation: the gateway, authenticated as a ServiceAccount
//! bound only by the ClusterRole `katalog::rbac::gateway_rules` generates, completes the
//! [`scenario`] (start, a webhook denial through the API server, conversion pointed at it,
//! a clean stop); for every rule of that role, a gateway whose role lacks exactly that rule
//! fails it with a Forbidden error naming the rule's resource and API group. [`NEEDED_BY`]
//! says what each rule is needed for (docs/rbac.md lists it too). The validation makes an
//! `external:` call with `auth.secretRef`, so the Secret read at admission is under the
//! generated role too.

use std::time::Duration;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};

use crate::util::{SETTLE, cluster, config, cr, katalog, resource, with_header};

/// The Secret the validation's `external:` call reads its token from.
const TOKEN_SECRET: &str = "rbac-check";
const TOKEN: &str = "rbac-t0ken";

/// A loopback server answering 200 to requests bearing [`TOKEN`], 401 to others; its URL.
async fn token_checker() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                // One request at a time on a kept-alive connection: its whole head (a request
                // may arrive in several reads under load), then its body, then the answer.
                let mut pending: Vec<u8> = Vec::new();
                let mut buf = vec![0u8; 8192];
                loop {
                    let head_end = loop {
                        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&pending[..head_end]).to_lowercase();
                    let body_len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    while pending.len() < head_end + body_len {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    }
                    pending.drain(..head_end + body_len);
                    let status = if head.contains(&format!("authorization: bearer {TOKEN}")) {
                        "200 OK"
                    } else {
                        "401 Unauthorized"
                    };
                    let out = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
                    if conn.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// A Katalog using every gateway feature that needs a rule: validation (with a `unique`
/// rule, and an `external:` call authenticated by `auth.secretRef` to `checker`) and
/// mutation webhooks, deletion and namespace protection, and conversion written into the CRD.
fn rbac_katalog(group: &str, checker: &str) -> String {
    with_header(
        "rbac",
        &format!(
            r#"  webhooks:
    admission: {{enabled: true}}
    failurePolicy: Ignore
  conversion: {{enabled: true}}
  deletionProtection: {{strictMode: true}}
  namespaceProtection: {{enabled: true}}
spec:
  crds:
    database:
      apiTypes: {{group: {group}, version: v1, kind: Database, plural: databases}}
      validation:
        external:
          - name: check
            url: "{checker}/check"
            auth: {{secretRef: {{name: {TOKEN_SECRET}, key: token}}}}
            continueOnError: true
        rules:
          - field: external.check.status
            equals: "200"
            message: "the checker refused: {{{{ .external.check.status }}}} {{{{ .external.check.error }}}}"
          - field: spec.engine
            prefix: "pg"
            message: "only pg engines, not {{{{ .spec.engine }}}}"
          - field: spec.dbName
            operator: unique
            message: "dbName {{{{ .spec.dbName }}}} is taken"
      mutation:
        rules:
          - {{field: spec.replicas, default: "1", valueType: int}}
      conversion:
        storageVersion: v1
        updateCRD: true
        paths:
          - from: v1alpha1
            to: v1
            spec:
              engine: "{{{{ .spec.databaseEngine }}}}"
          - from: v1
            to: v1alpha1
            spec:
              databaseEngine: "{{{{ .spec.engine }}}}"
"#
        ),
    )
}

/// A rule of the generated role, by API group, resource and resource names (joined by `,`).
type RuleKey = (String, String, String);

fn key_of(rule: &Value) -> RuleKey {
    let one = |k: &str| match rule[k].as_array().map(Vec::as_slice) {
        Some([Value::String(x)]) => x.clone(),
        other => panic!("a generated rule has exactly one group and resource: {other:?}"),
    };
    let names: Vec<&str> = rule["resourceNames"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    (one("apiGroups"), one("resources"), names.join(","))
}

/// `key` with `{group}` and `{crd}` standing for a run's CRD group and name.
fn resolve((g, r, n): &RuleKey, group: &str, crd: &str) -> RuleKey {
    (
        g.replace("{group}", group),
        r.clone(),
        n.replace("{crd}", crd),
    )
}

/// The gateway's generated rules for `text`, as the API server takes them.
fn generated_rules(text: &str) -> Vec<Value> {
    let needs = katalog::rbac::Needs::from_katalog(&katalog(text));
    katalog::rbac::gateway_rules(&needs)
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

/// Every rule the gateway's generated role holds for [`rbac_katalog`] (`{group}` is the
/// CRD's group, `{crd}` its name), what fails without it, and how the scenario fails: a
/// Forbidden error naming the rule (`""`), or, where the gateway only logs the refusal and
/// goes on (a `unique` rule passes when its list fails), the scenario step that fails. A rule
/// the generator adds without an entry here, or an entry it no longer gives, fails
/// [`every_rule_of_the_gateway_role_is_needed`].
const NEEDED_BY: &[(&str, &str, &str, &str, &str)] = &[
    (
        "",
        "namespaces",
        "",
        "labelling the gateway's namespace for deletion protection at start",
        "",
    ),
    (
        "",
        "secrets",
        "",
        "storing the generated TLS material at start; reading an `external:` call's `auth.secretRef`",
        "",
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "",
        "registering the mutating webhook at start",
        "",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "",
        "registering the validating webhooks at start",
        "",
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "",
        "listing the CRDs it pointed at itself, to restore those no longer declared (start, stop)",
        "",
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "{crd}",
        "reading and patching the CRD's conversion at start",
        "",
    ),
    (
        "{group}",
        "databases",
        "",
        "listing the CRs a `unique` rule compares with",
        "a second CR with the same dbName was admitted",
    ),
];

fn table() -> impl Iterator<Item = (RuleKey, &'static str, &'static str)> {
    NEEDED_BY
        .iter()
        .map(|(g, r, n, why, fails)| (((*g).into(), (*r).into(), (*n).into()), *why, *fails))
}

/// A client authenticated as ServiceAccount `gateway` of `ns`, bound by a ClusterRole of
/// `rules`.
async fn as_gateway(admin: &kube::Client, ns: &str, rules: Vec<Value>) -> kube::Client {
    let name = format!("{ns}-gateway");
    let role: ClusterRole =
        serde_json::from_value(json!({"metadata": {"name": name}, "rules": rules})).unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "gateway", "namespace": ns}],
    }))
    .unwrap();
    let params = PostParams::default();
    Api::<ClusterRole>::all(admin.clone())
        .create(&params, &role)
        .await
        .unwrap();
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&params, &binding)
        .await
        .unwrap();
    testenv::shared()
        .await
        .client_as(&testenv::Identity::service_account(ns, "gateway"))
        .await
        .unwrap()
}

/// The scenario, as ServiceAccount `gateway` of a new namespace bound by the generated role
/// less `drop`: start; a CR the validation rule denies is denied through the API server;
/// the CRD's conversion points at the gateway; stop cleanly. `Err` says what failed.
/// Whatever happens, what the gateway left in the cluster is removed as admin afterwards.
/// `drop`'s group `{group}` stands for the run's CRD group; an `Err` of a run without a rule
/// must be a Forbidden error naming that rule, or contain `fails` when that is not empty.
async fn scenario(prefix: &str, drop: Option<&RuleKey>, fails: &str) -> Result<(), String> {
    let admin = cluster().await;
    let ns = testenv::namespace(&admin, prefix).await;
    let group = format!("{}.ork.test", testenv::unique_name("rbac"));
    let crd_name = testenv::install_crd(&admin, &group, "Database", &["v1alpha1", "v1"]).await;
    let mut secret: k8s_openapi::api::core::v1::Secret = Default::default();
    secret.metadata.name = Some(TOKEN_SECRET.into());
    secret.string_data = Some([("token".to_owned(), TOKEN.to_owned())].into());
    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let text = rbac_katalog(&group, &token_checker().await);
    let mut rules = generated_rules(&text);
    let drop = drop.map(|k| resolve(k, &group, &crd_name));
    if let Some(drop) = &drop {
        let before = rules.len();
        rules.retain(|r| key_of(r) != *drop);
        assert_eq!(rules.len() + 1, before, "one generated rule is {drop:?}");
    }
    let client = as_gateway(&admin, &ns, rules).await;
    let instance = testenv::unique_name("gw-rbac");
    let config = config(&instance).namespace(ns.clone());
    let result = run_scenario(&admin, client, &ns, &group, &crd_name, &text, config).await;
    let leftovers = gateway::Cluster::new(admin.clone(), instance, Some(ns));
    leftovers
        .remove_all()
        .await
        .expect("removing what the gateway left");
    if let (Some(drop), Err(e)) = (&drop, &result) {
        let refused = e.replace('\\', "");
        let on_that_rule = if fails.is_empty() {
            refused.to_lowercase().contains("forbidden") && refused.contains(&naming(drop))
        } else {
            e.contains(fails)
        };
        assert!(
            on_that_rule,
            "without {drop:?} the scenario failed, but not on that rule: {e}"
        );
    }
    result
}

async fn run_scenario(
    admin: &kube::Client,
    client: kube::Client,
    ns: &str,
    group: &str,
    crd_name: &str,
    text: &str,
    config: gateway::Config,
) -> Result<(), String> {
    let chain = |e: gateway::Error| katalog::admission::chain(&e);
    let gw = gateway::Gateway::start(katalog(text), client, config)
        .await
        .map_err(|e| format!("start: {}", chain(e)))?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(admin.clone(), ns, &resource(group, "v1", "Database"));
    let bad = cr(
        "Database",
        &format!("{group}/v1"),
        "bad",
        json!({"engine": "mysql"}),
    );
    let denied = tokio::time::timeout(SETTLE, async {
        loop {
            match api.create(&PostParams::default(), &bad).await {
                Err(kube::Error::Api(s)) if s.message.contains("only pg engines") => break,
                Err(e) => panic!("unexpected error: {e}"),
                Ok(_) => {
                    let _ = api.delete("bad", &Default::default()).await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    })
    .await;
    let unique = if denied.is_ok() {
        let name = json!({"engine": "pg", "dbName": "orders"});
        api.create(
            &PostParams::default(),
            &cr("Database", &format!("{group}/v1"), "first", name.clone()),
        )
        .await
        .map_err(|e| format!("the first CR: {e}"))?;
        match api
            .create(
                &PostParams::default(),
                &cr("Database", &format!("{group}/v1"), "second", name),
            )
            .await
        {
            Err(kube::Error::Api(s)) if s.message.contains("is taken") => Ok(()),
            Err(e) => Err(format!("the second CR: {e}")),
            Ok(_) => Err("a second CR with the same dbName was admitted".to_owned()),
        }
    } else {
        Ok(())
    };
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    let strategy = crds
        .get(crd_name)
        .await
        .ok()
        .and_then(|c| c.spec.conversion)
        .map(|c| c.strategy);
    let stopped = gw.stop().await.map_err(|e| format!("stop: {}", chain(e)));
    if denied.is_err() {
        return Err("the validating webhook never denied".into());
    }
    if strategy.as_deref() != Some("Webhook") {
        return Err(format!("the CRD's conversion is {strategy:?}, not Webhook"));
    }
    unique?;
    stopped
}

fn naming((group, resource, _): &RuleKey) -> String {
    format!(r#"resource "{resource}" in API group "{group}""#)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_gateway_role_completes_the_scenario() {
    scenario("gw-rbac-ok", None, "").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rule_of_the_gateway_role_is_needed() {
    let (group, crd) = ("g.ork.test", "databases.g.ork.test");
    let generated: Vec<RuleKey> = generated_rules(&rbac_katalog(group, "http://127.0.0.1:1"))
        .iter()
        .map(key_of)
        .collect();
    let table_keys: Vec<RuleKey> = table().map(|(k, ..)| resolve(&k, group, crd)).collect();
    assert_eq!(
        generated, table_keys,
        "the generated rules and NEEDED_BY differ"
    );
    // One run per rule, all at once on the shared control plane.
    let runs = table()
        .enumerate()
        .map(|(i, (key, why, fails))| async move {
            let outcome = scenario(&format!("gw-rbac-less-{i}"), Some(&key), fails).await;
            (key, why, outcome)
        });
    let mut needless = Vec::new();
    for (key, why, outcome) in futures::future::join_all(runs).await {
        match outcome {
            Ok(()) => needless.push(format!("{key:?} ({why})")),
            Err(e) => eprintln!("without {key:?}: {e}"),
        }
    }
    assert!(needless.is_empty(), "rules not needed: {needless:?}");
}
