//! Rendered objects of a few packs, pinned as YAML snapshots.

use serde_json::{Map, Value};

use super::packs::{build_pack, packs};

fn objects(pack: &str, cr: &str) -> Vec<Value> {
    let p = packs().into_iter().find(|p| p.name == pack).unwrap();
    build_pack(&p, &Map::new())
        .into_iter()
        .find(|(name, _)| name == cr)
        .unwrap_or_else(|| panic!("{pack}: no CR {cr}"))
        .1
        .children
        .into_iter()
        .map(|c| c.object)
        .collect()
}

#[test]
fn beginner_02_with_serviceaccount() {
    insta::assert_yaml_snapshot!(objects("beginner-02-with-serviceaccount", "my-site"));
}

#[test]
fn intermediate_04_multi_resource() {
    insta::assert_yaml_snapshot!(objects("intermediate-04-multi-resource", "my-app"));
}

#[test]
fn use_cases_profiles_networkpolicy() {
    insta::assert_yaml_snapshot!(objects("use-cases-profiles/06-networkpolicy", "my-service"));
}

#[test]
fn ecosystem_crossplane_custom_child() {
    insta::assert_yaml_snapshot!(objects("ecosystem-crossplane", "webapp-db"));
}

#[test]
fn serve_translation_cronjob() {
    insta::assert_yaml_snapshot!(objects(
        "use-cases-crd-conversion-serve-translation",
        "daily-backup"
    ));
}

#[test]
fn one_declaration_of_every_kind() {
    let web = super::cr(
        "apiVersion: demo.io/v1\nkind: Website\nmetadata: {name: web, namespace: team}\nspec: {image: 'nginx:1.25'}",
    );
    let plan = super::plan(
        &web,
        "
namespaces: [{}]
serviceAccounts: [{imagePullSecrets: [regcred]}]
roles: [{rules: [{apiGroups: [''], resources: [pods], verbs: [get, list]}]}]
clusterRoles: [{rules: [{nonResourceURLs: [/healthz], verbs: [get]}]}]
roleBindings: [{roleRef: {name: web-role}, subjects: [{name: web-serviceaccount}]}]
clusterRoleBindings: [{roleRef: {name: web-clusterrole}, subjects: [{kind: Group, name: devs}]}]
resourceQuotas: [{profile: small}]
limitRanges: [{limits: [{type: Container, default: {cpu: 500m}}]}]
networkPolicies: [{profile: deny-all}]
secrets: [{data: {token: abc}}]
configMaps: [{data: {a: b}}]
persistentVolumes: [{storage: 10Gi, hostPath: {path: /data}}]
persistentVolumeClaims: [{storage: 1Gi, storageClassName: fast}]
deployments:
  - image: '{{ .spec.image }}'
    port: '8080'
    env: [{name: A, value: '1'}, {name: B, valueFrom: {secretKeyRef: {name: web-secret, key: token}}}]
    envFrom: {configMapRef: [{name: web-configmap}]}
    volumes: [{name: cfg, configMap: {name: web-configmap}}]
    volumeMounts: [{name: cfg, mountPath: /etc/web}]
    podSecurity: {profile: restricted}
statefulSets: [{image: postgres, replicas: '2', volumeClaimTemplates: [{storageSize: 5Gi}]}]
replicaSets: [{image: nginx, replicas: '1'}]
pods: [{image: busybox, command: [sleep, '3600'], restartPolicy: Never}]
jobs: [{image: busybox, args: [echo, hi]}]
cronJobs: [{image: busybox, schedule: '*/5 * * * *', suspend: 'false'}]
services: [{port: '80', targetPort: http, type: NodePort, nodePort: '30080'}]
ingresses: [{host: web.example.com, className: nginx}]
hpa: [{deploymentRef: web-deployment, maxReplicas: '5', behavior: {profile: web}}]
pdb: [{minAvailable: '50%'}]
custom: [{apiVersion: x.io/v1, kind: Thing, metadata: {name: web-thing}, spec: {size: small}}]
",
        None,
    );
    let objects: Vec<_> = plan.children.iter().map(|c| &c.object).collect();
    insta::assert_yaml_snapshot!(objects);
}
