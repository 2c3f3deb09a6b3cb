//! The builder's rules, one behaviour per test.

use katalog::build::{Apply, Builder, Hooks, ProfileClass, ProfileRegistry, add_owner_reference};
use serde_json::{Map, json};

use super::{cr, hooks, names, plan, render};

const WEB: &str = "
apiVersion: demo.io/v1
kind: Website
metadata: {name: web, namespace: team}
spec: {image: 'nginx:1.25', replicas: 2, port: 8080, regions: [eu, us], tier: free}
";

#[test]
fn undeclared_names_default_to_the_cr_name_and_kind_suffix() {
    let p = plan(
        &cr(WEB),
        "
deployments: [{image: nginx}]
services: [{port: '80'}]
configMaps: [{data: {a: b}}]
persistentVolumeClaims: [{storage: 1Gi}]
",
        None,
    );
    assert_eq!(
        names(&p),
        [
            "ConfigMap web-configmap",
            "PersistentVolumeClaim web-pvc",
            "Deployment web-deployment",
            "Service web-svc"
        ]
    );
    for c in &p.children {
        assert_eq!(c.object["metadata"]["namespace"], "team");
    }
}

#[test]
fn children_carry_the_system_labels_and_select_the_owners_pods() {
    let p = plan(
        &cr(WEB),
        "
deployments:
  - name: '{{ .metadata.name }}'
    image: '{{ .spec.image }}'
    replicas: '{{ .spec.replicas }}'
    port: '{{ .spec.port }}'
    labels: {app: web, orkestra-owner: spoofed}
services: [{port: '80', targetPort: '{{ .spec.port }}'}]
",
        None,
    );
    let d = &p.children[0].object;
    assert_eq!(
        d["metadata"]["labels"]["orkestra.orkspace.io/managed"],
        "true"
    );
    assert_eq!(d["metadata"]["labels"]["orkestra-owner"], "web");
    assert_eq!(d["metadata"]["labels"]["app"], "web");
    assert_eq!(
        d["spec"]["selector"]["matchLabels"],
        json!({"orkestra-owner": "web"})
    );
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        d["metadata"]["labels"]
    );
    assert_eq!(d["spec"]["replicas"], 2);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "web");
    assert_eq!(c["image"], "nginx:1.25");
    assert_eq!(
        c["ports"],
        json!([{"containerPort": 8080, "protocol": "TCP"}])
    );
    let s = &p.children[1].object;
    assert_eq!(s["spec"]["selector"], json!({"orkestra-owner": "web"}));
    assert_eq!(
        s["spec"]["ports"],
        json!([{"port": 80, "targetPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(s["spec"]["type"], "ClusterIP");
}

#[test]
fn absent_or_empty_replicas_and_port_are_not_sent() {
    let p = plan(
        &cr("apiVersion: v1\nkind: W\nmetadata: {name: w}\nspec: {image: nginx}"),
        "deployments: [{image: '{{ .spec.image }}', replicas: '{{ .spec.replicas }}', port: '{{ .spec.port }}'}]",
        None,
    );
    let d = &p.children[0].object;
    assert!(d["spec"].get("replicas").is_none());
    assert!(
        d["spec"]["template"]["spec"]["containers"][0]
            .get("ports")
            .is_none()
    );
    assert_eq!(d["metadata"]["namespace"], "default");
}

#[test]
fn on_create_entries_are_created_once_unless_they_reconcile_and_on_reconcile_follows() {
    let p = plan(
        &cr(WEB),
        "
configMaps: [{name: once, data: {a: b}}, {name: kept, data: {a: b}, reconcile: true}]
jobs: [{name: migrate, image: busybox, reconcile: true}]
",
        Some("configMaps: [{name: always, data: {a: b}}]"),
    );
    let modes: Vec<(String, Apply)> = p
        .children
        .iter()
        .map(|c| {
            (
                c.object["metadata"]["name"].as_str().unwrap().to_owned(),
                c.apply,
            )
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("once".into(), Apply::CreateIfAbsent),
            ("kept".into(), Apply::Converge),
            ("migrate".into(), Apply::CreateIfAbsent),
            ("always".into(), Apply::Converge),
        ]
    );
}

#[test]
fn force_conflict_prefers_the_resource_then_the_crd_then_true() {
    let r = render();
    let h = hooks(
        "configMaps: [{name: a}, {name: b, forceConflict: true}, {name: c, forceConflict: false}]",
    );
    let web = cr(WEB);
    let build = |crd: Option<bool>| {
        Builder::new(&r)
            .now(crate::build::NOW)
            .force_conflict(crd)
            .build(
                &web,
                Hooks {
                    on_create: Some(&h),
                    on_reconcile: None,
                },
                &Map::new(),
            )
            .unwrap()
            .children
            .iter()
            .map(|c| c.force)
            .collect::<Vec<_>>()
    };
    assert_eq!(build(None), [true, true, false]);
    assert_eq!(build(Some(false)), [false, true, false]);
}

#[test]
fn failing_conditions_delete_reconciled_children_unless_another_declaration_wins() {
    let p = plan(
        &cr(WEB),
        "
services:
  - name: web-lb
    port: '80'
    type: LoadBalancer
    reconcile: true
    when: [{field: spec.tier, notEquals: free}]
  - name: web-edge
    port: '80'
    reconcile: true
    when: [{field: spec.tier, equals: enterprise}]
  - name: web-edge
    port: '8080'
    when: [{field: spec.tier, equals: free}]
  - name: web-quiet
    port: '80'
    when: [{field: spec.tier, equals: enterprise}]
",
        None,
    );
    assert_eq!(names(&p), ["Service web-edge"]);
    assert_eq!(p.children[0].object["spec"]["ports"][0]["port"], 8080);
    let deleted: Vec<String> = p.deletions.iter().map(|d| d.to_string()).collect();
    assert_eq!(deleted, ["Service team/web-lb"]);
}

#[test]
fn on_reconcile_entries_with_failing_conditions_are_deletion_candidates() {
    let p = plan(
        &cr(WEB),
        "{}",
        Some(
            "jobs: [{name: cleanup, image: busybox, or: [{field: status.phase, equals: Failed}]}]",
        ),
    );
    assert!(p.children.is_empty());
    assert_eq!(p.deletions[0].to_string(), "Job team/cleanup");
}

#[test]
fn for_each_makes_one_object_per_element() {
    let p = plan(
        &cr(WEB),
        "
configMaps:
  - name: '{{ .metadata.name }}-{{ .region }}'
    forEach: {field: spec.regions, as: region}
    data: {index: '{{ .index }}', item: '{{ .item }}'}
",
        None,
    );
    assert_eq!(names(&p), ["ConfigMap web-eu", "ConfigMap web-us"]);
    assert_eq!(
        p.children[1].object["data"],
        json!({"index": "1", "item": "us"})
    );
    assert_eq!(p.children[1].path, "configMaps[0]#1");
}

#[test]
fn secrets_carry_once_and_rotation_and_encode_their_data() {
    let p = plan(
        &cr(WEB),
        "
secrets:
  - name: creds
    once: true
    rotateAfter: 90d
    data: {user: admin}
  - name: live
    once: true
    reconcile: true
",
        None,
    );
    let creds = &p.children[0];
    assert_eq!(creds.apply, Apply::CreateIfAbsent);
    let flags = creds.secret.as_ref().unwrap();
    assert!(flags.once);
    assert_eq!(
        flags.rotate_after,
        Some(std::time::Duration::from_secs(90 * 86_400))
    );
    assert_eq!(creds.object["data"]["user"], "YWRtaW4=");
    assert_eq!(creds.object["type"], "Opaque");
    let live = &p.children[1];
    assert_eq!(live.apply, Apply::Converge);
    assert!(!live.secret.as_ref().unwrap().once);
    assert!(live.object["metadata"].get("annotations").is_none());
}

#[test]
fn to_namespaces_copies_one_declaration_into_each_namespace() {
    let p = plan(
        &cr(WEB),
        "configMaps: [{name: shared, toNamespaces: [a, b]}]",
        None,
    );
    let ns: Vec<_> = p
        .children
        .iter()
        .map(|c| c.object["metadata"]["namespace"].clone())
        .collect();
    assert_eq!(ns, [json!("a"), json!("b")]);
}

/// Regression: `beginner/03-secret-copy` writes `toNamespaces: ["{{ .spec.targetNamespaces }}"]`
/// over a list field. Rendered as text it became `[team-alpha team-beta]`, one "namespace"
/// that reached the API inside a request path ("invalid uri character").
#[test]
fn a_to_namespaces_entry_naming_a_list_field_copies_into_each_listed_namespace() {
    let p = plan(
        &cr("
apiVersion: demo.io/v1
kind: SecretDistribution
metadata: {name: db-creds, namespace: default}
spec: {secretName: creds, sourceNamespace: platform, targetNamespaces: [team-alpha, '', team-beta]}
"),
        "secrets:
  - name: '{{ .spec.secretName }}'
    fromSecret: '{{ .spec.secretName }}'
    fromNamespace: '{{ .spec.sourceNamespace }}'
    toNamespaces: ['{{ .spec.targetNamespaces }}', ops]",
        None,
    );
    let ns: Vec<_> = p
        .children
        .iter()
        .map(|c| c.object["metadata"]["namespace"].clone())
        .collect();
    assert_eq!(ns, [json!("team-alpha"), json!("team-beta"), json!("ops")]);
    assert!(
        p.children
            .iter()
            .all(|c| c.object["metadata"]["name"] == "creds")
    );
}

#[test]
fn a_rendered_namespace_that_is_not_a_namespace_name_is_an_error_at_its_field() {
    let r = render();
    let build = |decl: &str| {
        let h = hooks(decl);
        Builder::new(&r)
            .now(crate::build::NOW)
            .build(
                &cr(WEB),
                Hooks {
                    on_create: Some(&h),
                    on_reconcile: None,
                },
                &Map::new(),
            )
            .unwrap_err()
            .to_string()
    };
    // A list rendered as text by a template that is more than a bare field reference.
    assert_eq!(
        build("configMaps: [{name: c, toNamespaces: ['{{ .spec.regions | toString }}']}]"),
        "onCreate.configMaps[0].toNamespaces[0]: \"[eu us]\" is not a namespace name \
         (lowercase letters, digits and `-`, at most 63)"
    );
    assert!(
        build("configMaps: [{name: c, namespace: '{{ .spec.tier }}-Team'}]")
            .starts_with("onCreate.configMaps[0].namespace: \"free-Team\" is not a namespace name")
    );
    assert!(
        build("secrets: [{name: c, fromSecret: s, fromNamespace: '{{ .spec.regions }}'}]")
            .starts_with("onCreate.secrets[0].fromNamespace: \"[eu us]\" is not a namespace name")
    );
}

#[test]
fn cluster_scoped_children_have_no_namespace() {
    let p = plan(
        &cr(WEB),
        "namespaces: [{name: '{{ .metadata.name }}-ns'}]\nclusterRoles: [{rules: []}]",
        None,
    );
    assert!(p.children.iter().all(|c| c.cluster_scoped));
    assert!(
        p.children
            .iter()
            .all(|c| c.object["metadata"].get("namespace").is_none())
    );
    assert_eq!(
        names(&p),
        ["Namespace web-ns", "ClusterRole web-clusterrole"]
    );
}

#[test]
fn the_namespace_guard_skips_objects_outside_the_allowed_namespaces() {
    let r = render();
    let h = hooks("configMaps: [{name: in}, {name: out, namespace: kube-system}]");
    let p = Builder::new(&r)
        .now(crate::build::NOW)
        .namespaces(vec!["team".into()], vec![])
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap();
    assert_eq!(names(&p), ["ConfigMap in"]);
    assert_eq!(p.skipped[0].object.to_string(), "ConfigMap kube-system/out");
}

#[test]
fn errors_name_the_phase_declaration_and_field() {
    let r = render();
    let h = hooks("deployments: [{image: nginx}, {name: broken}]");
    let err = Builder::new(&r)
        .now(crate::build::NOW)
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "onCreate.deployments[1].image: is required"
    );
    let h = hooks("deployments: [{image: nginx, replicas: lots}]");
    let err = Builder::new(&r)
        .now(crate::build::NOW)
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "onCreate.deployments[0].replicas: \"lots\" is not a number"
    );
}

#[test]
fn profiles_expand_and_user_profiles_win() {
    let p = plan(
        &cr(WEB),
        "
deployments:
  - image: nginx
    port: '80'
    resources: {profile: tiny}
    rollingUpdate: {profile: safe}
    securityContext: {profile: restricted}
    probes: {liveness: {type: http, path: /healthz, profile: fast}}
networkPolicies: [{profile: allow-dns-egress}]
pdb: [{behavior: {profile: rolling}}]
",
        None,
    );
    let d = &p.children[1].object;
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"]["requests"]["cpu"], "25m");
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(
        c["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": 80})
    );
    assert_eq!(c["livenessProbe"]["periodSeconds"], 10);
    assert_eq!(
        d["spec"]["strategy"]["rollingUpdate"],
        json!({"maxSurge": 1, "maxUnavailable": 0})
    );
    let np = &p.children[0].object;
    assert_eq!(np["spec"]["policyTypes"], json!(["Egress"]));
    assert_eq!(np["spec"]["podSelector"], json!({}));
    assert_eq!(p.children[2].object["spec"]["maxUnavailable"], 1);

    let r = render();
    let mine = ProfileRegistry::new().with(
        ProfileClass::Resources,
        "tiny",
        json!({"requests": {"cpu": "5m"}}),
    );
    let h = hooks("deployments: [{image: nginx, resources: {profile: tiny}}]");
    let p = Builder::new(&r)
        .now(crate::build::NOW)
        .profiles(&mine)
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap();
    let c = &p.children[0].object["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"], json!({"requests": {"cpu": "5m"}}));
}

#[test]
fn unknown_profiles_are_errors() {
    let r = render();
    let h = hooks("deployments: [{image: nginx, resources: {profile: huge}}]");
    let err = Builder::new(&r)
        .now(crate::build::NOW)
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "onCreate.deployments[0].resources.profile: unknown resources profile \"huge\""
    );
}

#[test]
fn custom_children_render_their_spec_and_coerce_rendered_values() {
    let p = plan(
        &cr(WEB),
        "
custom:
  - apiVersion: db.io/v1
    kind: Database
    metadata:
      name: '{{ .metadata.name }}-db'
      labels: [{key: team, value: web}]
    spec:
      replicas: '{{ .spec.replicas }}'
      static: '2'
      engine: postgres
      regions: '{{ toJson .spec.regions }}'
    hasStatus: false
    writeConnectionSecretToRef: {name: '{{ .metadata.name }}-conn'}
",
        None,
    );
    let c = &p.children[0];
    assert_eq!(c.object["apiVersion"], "db.io/v1");
    assert_eq!(c.object["metadata"]["namespace"], "team");
    assert_eq!(c.object["metadata"]["labels"]["team"], "web");
    assert_eq!(c.object["spec"]["replicas"], 2);
    assert_eq!(c.object["spec"]["static"], "2");
    assert_eq!(c.object["spec"]["regions"], json!(["eu", "us"]));
    assert_eq!(c.object["writeConnectionSecretToRef"]["name"], "web-conn");
    assert_eq!(c.has_status, Some(false));
}

#[test]
fn extra_data_is_visible_to_templates_and_conditions() {
    let r = render();
    let h = hooks(
        "configMaps: [{name: c, data: {host: '{{ .cross.db.status.endpoint }}'}, when: [{field: cross.db.found, equals: 'true'}]}]",
    );
    let mut extra = Map::new();
    extra.insert(
        "cross".into(),
        json!({"db": {"found": true, "status": {"endpoint": "db:5432"}}}),
    );
    let p = Builder::new(&r)
        .now(crate::build::NOW)
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &extra,
        )
        .unwrap();
    assert_eq!(p.children[0].object["data"]["host"], "db:5432");
}

#[test]
fn the_owner_reference_helper_points_at_the_cr() {
    let web = cr(WEB);
    let mut p = plan(&web, "configMaps: [{name: c}]", None);
    add_owner_reference(&mut p.children[0].object, &web, "uid-1");
    assert_eq!(
        p.children[0].object["metadata"]["ownerReferences"],
        json!([{"apiVersion": "demo.io/v1", "kind": "Website", "name": "web", "uid": "uid-1",
                "controller": true, "blockOwnerDeletion": true}])
    );
}

#[test]
fn on_delete_plans_ordered_groups_and_awaited_jobs() {
    let r = render();
    let h = hooks(
        "
ordered: true
timeout: 2m
groups:
  - name: drain
    jobs: [{name: '{{ .metadata.name }}-drain', image: busybox}]
  - name: data
    statefulSets: [{name: '{{ .metadata.name }}-db'}]
  - name: never
    when: [{field: spec.tier, equals: enterprise}]
    configMaps: [{name: x}]
",
    );
    let plan = Builder::new(&r)
        .now(crate::build::NOW)
        .build_delete(&cr(WEB), &h, &Map::new())
        .unwrap();
    assert!(plan.ordered);
    assert_eq!(plan.timeout, std::time::Duration::from_secs(120));
    let groups: Vec<_> = plan
        .groups
        .iter()
        .map(|g| g.name.clone().unwrap())
        .collect();
    assert_eq!(groups, ["drain", "data"]);
    assert_eq!(
        plan.groups[0].jobs[0].object["metadata"]["name"],
        "web-drain"
    );
    assert!(
        plan.groups[0].jobs[0].object["metadata"]
            .get("ownerReferences")
            .is_none()
    );
    assert_eq!(
        plan.groups[1].deletes[0].to_string(),
        "StatefulSet team/web-db"
    );
}

#[test]
fn on_delete_without_order_is_one_group_with_a_five_minute_timeout() {
    let r = render();
    let h = hooks("jobs: [{name: bye, image: busybox}]\nservices: [{name: s, port: '80'}]");
    let plan = Builder::new(&r)
        .now(crate::build::NOW)
        .build_delete(&cr(WEB), &h, &Map::new())
        .unwrap();
    assert!(!plan.ordered);
    assert_eq!(plan.timeout, std::time::Duration::from_secs(300));
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].jobs.len(), 1);
    assert_eq!(plan.groups[0].deletes[0].to_string(), "Service team/s");
}

#[test]
fn a_template_failure_names_its_place_and_keeps_the_engine_message_as_cause() {
    let r = render();
    let h = hooks("configMaps: [{name: c, data: {k: '{{ frobnicate .spec.image }}'}}]");
    let err = Builder::new(&r)
        .now(crate::build::NOW)
        .build(
            &cr(WEB),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "onCreate.configMaps[0].data.k: cannot render"
    );
    let cause = std::error::Error::source(&err)
        .expect("a cause")
        .to_string();
    assert!(cause.contains("frobnicate"), "{cause}");
}

#[test]
fn a_cr_that_is_not_an_object_is_an_error_not_a_panic() {
    let r = render();
    let h = hooks("configMaps: [{name: c}]");
    let err = Builder::new(&r)
        .now(crate::build::NOW)
        .build(
            &json!("text"),
            Hooks {
                on_create: Some(&h),
                on_reconcile: None,
            },
            &Map::new(),
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "onCreate: the CR is not an object");
}

#[test]
fn an_ingress_that_creates_tls_gets_its_secret_just_before_it() {
    let p = plan(
        &cr(WEB),
        "
ingresses:
  - host: web.example.com
    servicePort: '80'
    reconcile: true
    tls: {create: true, hosts: [web.example.com], validFor: 90d}
",
        None,
    );
    assert_eq!(names(&p), ["Secret web-tls", "Ingress web-ingress"]);
    let secret = &p.children[0];
    assert_eq!(secret.apply, Apply::CreateIfAbsent);
    assert_eq!(secret.object["type"], "kubernetes.io/tls");
    let tls = secret.secret.as_ref().unwrap().tls.as_ref().unwrap();
    assert_eq!(tls.dns_names, ["web.example.com"]);
    assert_eq!(tls.valid_for, std::time::Duration::from_secs(90 * 86_400));
    let ingress = &p.children[1].object;
    assert_eq!(
        ingress["spec"]["tls"],
        json!([{"hosts": ["web.example.com"], "secretName": "web-tls"}])
    );
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"],
        json!({"service": {"name": "web-svc", "port": {"number": 80}}})
    );
}
