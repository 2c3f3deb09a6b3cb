//! Properties: building is deterministic (same input, byte-identical output) and never
//! panics, whatever the CR holds and whatever scalars the declarations carry.

use katalog::build::{Builder, Hooks};
use katalog::resources::HookTemplates;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::packs::{packs, try_build_pack};
use super::render;

/// Arbitrary JSON of bounded depth.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9 .:/{}-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A scalar a declaration might carry: static text, a template, or an unknown template.
fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z0-9-]{0,8}".prop_map(Value::from),
        prop::sample::select(vec![
            "{{ .spec.a }}",
            "{{ .spec.b }}",
            "{{ .metadata.name }}-x",
            "{{ .spec.list }}",
            "{{ default 1 .spec.n }}",
            "{{ .item }}",
            "{{ nope }}",
            "{{ .spec.a",
        ])
        .prop_map(Value::from),
        any::<u16>().prop_map(Value::from),
    ]
}

/// A HookTemplates block with a few declarations of several kinds.
fn block() -> impl Strategy<Value = Value> {
    let decl = (
        text(),
        text(),
        text(),
        text(),
        any::<bool>(),
        prop::option::of(text()),
    );
    prop::collection::vec((0usize..6, decl), 0..5).prop_map(|decls| {
        let mut block = Map::new();
        for (kind, (name, image, replicas, port, reconcile, when)) in decls {
            let mut d = json!({"name": name, "reconcile": reconcile});
            if let Some(w) = when {
                d["when"] = json!([{"field": "spec.a", "equals": w}]);
            }
            let key = match kind {
                0 => {
                    d["image"] = image;
                    d["replicas"] = replicas;
                    d["port"] = port;
                    "deployments"
                }
                1 => {
                    d["port"] = port;
                    d["targetPort"] = replicas;
                    "services"
                }
                2 => {
                    d["data"] = json!({"k": image});
                    d["forEach"] = json!({"field": "spec.list", "as": "x"});
                    "configMaps"
                }
                3 => {
                    d["data"] = json!({"k": image});
                    d["once"] = json!(true);
                    "secrets"
                }
                4 => {
                    d["image"] = image;
                    d["backoffLimit"] = replicas;
                    "jobs"
                }
                _ => {
                    d = json!({"apiVersion": "x.io/v1", "kind": "Thing",
                               "metadata": {"name": name}, "spec": {"v": image, "n": port}});
                    "custom"
                }
            };
            block
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
                .unwrap()
                .push(d);
        }
        Value::Object(block)
    })
}

fn cr_with(spec: Value) -> Value {
    json!({"apiVersion": "x.io/v1", "kind": "X",
           "metadata": {"name": "cr", "namespace": "ns"}, "spec": spec})
}

/// The build result as text (objects or the error message).
fn outcome(cr: &Value, block: &HookTemplates) -> String {
    let r = render();
    match Builder::new(&r).now(crate::build::NOW).build(
        cr,
        Hooks {
            on_create: Some(block),
            on_reconcile: Some(block),
        },
        &Map::new(),
    ) {
        Ok(plan) => serde_json::to_string(&plan).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn building_arbitrary_declarations_is_deterministic_and_never_panics(
        block in block(),
        spec in prop::collection::btree_map("[a-z]{1,4}", json_value(), 0..5),
        a in json_value(),
    ) {
        let Ok(block) = serde_json::from_value::<HookTemplates>(block) else {
            return Ok(());
        };
        let mut spec: Map<String, Value> = spec.into_iter().collect();
        spec.insert("a".into(), a);
        spec.insert("list".into(), json!(["p", "q"]));
        let cr = cr_with(Value::Object(spec));
        prop_assert_eq!(outcome(&cr, &block), outcome(&cr, &block));
    }

    #[test]
    fn packs_build_deterministically_for_arbitrary_specs(
        pack in 0usize..32,
        spec in prop::collection::btree_map(
            prop::sample::select(vec!["image", "replicas", "port", "tier", "notify", "approved",
                                      "region", "team", "size", "schedule", "tag", "regions"]),
            json_value(),
            0..6,
        ),
    ) {
        let all = packs();
        let n = all.len();
        let mut p = all.into_iter().nth(pack % n).unwrap();
        let spec: Map<String, Value> = spec.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (i, f) in p.crs.iter().enumerate() {
            for (j, mut cr) in super::packs::read_crs(f).into_iter().enumerate() {
                if let Some(s) = cr.get_mut("spec").and_then(Value::as_object_mut) {
                    s.extend(spec.clone());
                }
                let path = dir.path().join(format!("cr{i}-{j}.yaml"));
                std::fs::write(&path, serde_json::to_string(&cr).unwrap()).unwrap();
                files.push(path);
            }
        }
        p.crs = files;
        let text = || serde_json::to_string(&try_build_pack(&p, &Map::new())).unwrap();
        prop_assert_eq!(text(), text());
    }
}

/// An arbitrary condition: any operator key with arbitrary text, or a time condition with
/// arbitrary bounds, days, cron and duration.
fn condition() -> impl Strategy<Value = Value> {
    let word = "[ -~]{0,16}";
    let keys = prop::sample::select(vec![
        "equals",
        "notEquals",
        "contains",
        "notContains",
        "prefix",
        "notPrefix",
        "suffix",
        "notSuffix",
        "regex",
        "greaterThan",
        "lessThan",
        "greaterThanOrEqual",
        "lessThanOrEqual",
        "min",
        "max",
        "between",
        "notBetween",
        "in",
        "notIn",
    ]);
    let ops = prop::sample::select(vec![
        "equals",
        "eq",
        "neq",
        "regex",
        "exists",
        "notExists",
        "gt",
        "lt",
        "gte",
        "lte",
        "between",
        "notBetween",
        "in",
        "notIn",
        "unique",
        "typeOf",
        "typeMap",
        "typeNull",
    ]);
    let types = prop::sample::select(vec!["string", "int", "float", "bool"]);
    prop_oneof![
        (keys, word, "[a-z.{} ]{0,12}", any::<bool>())
            .prop_map(|(k, v, f, n)| json!({"field": f, k: v, "negate": n})),
        (ops, word, "[a-z.]{0,12}", types).prop_map(
            |(o, v, f, t)| json!({"field": f, "operator": o, "value": v, "valueType": t})
        ),
        (
            word,
            word,
            "[a-zA-Z]{0,10}",
            "[0-9*/,-]{0,6}( [0-9*/,-]{0,6}){0,5}",
            word
        )
            .prop_map(|(after, before, day, cron, duration)| json!({
                "time": {"after": after, "before": before},
                "dayOfWeek": {"in": [day]},
                "cron": cron,
                "duration": duration,
            })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn conditions_never_panic_and_decide_the_same_way_twice(
        c in condition(),
        data in json_value(),
        minute in 0i64..(60 * 24 * 7),
    ) {
        let Ok(c) = serde_json::from_value::<katalog::condition::Condition>(c) else {
            return Ok(());
        };
        let data = json!({"spec": data, "metadata": {"name": "x"}});
        let r = render();
        let now = time::macros::datetime!(2026-01-05 00:00 UTC) + time::Duration::minutes(minute);
        let env = katalog::condition::Env::new(&data, &r, now);
        let once = c.evaluate(&env).map_err(|e| e.to_string());
        let twice = c.evaluate(&env).map_err(|e| e.to_string());
        prop_assert_eq!(once, twice);
        let _ = c.problems();
    }
}
