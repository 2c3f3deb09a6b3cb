//! Collection notes (`listHas`, `mapGet`, `asList`, ...), safe access (`getOr`, ...) and
//! Sprig's list and dict functions (`list`, `dict`, `hasKey`, `dig`, `keys`, ...).

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

use super::{Builtin, FnCx, arg, b, dig, i, int_arg, j, nil, s, str_arg, take};
use crate::funcs::conditional::empty;
use crate::funcs::go::equal;
use crate::value::{self, Val, as_i64, to_str};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("listHas", "collections", 2, 2, |a, _| b(items(arg(&a, 0))
        .iter()
        .any(|x| equal(x, arg(&a, 1))))),
    f!("has", "collections", 2, 2, |a, _| b(items(arg(&a, 1))
        .iter()
        .any(|x| equal(x, arg(&a, 0))))),
    f!("listGet", "collections", 2, 2, list_get),
    f!("listLen", "collections", 1, 1, |a, _| i(
        items(arg(&a, 0)).len() as i64
    )),
    f!("mapGet", "collections", 2, 2, map_get),
    f!("mapKeys", "collections", 1, 1, |a, _| j(keys(arg(&a, 0)))),
    f!("keys", "collections", 1, 1, |a, _| j(keys(arg(&a, 0)))),
    f!("mapValues", "collections", 1, 1, |a, _| j(values(arg(
        &a, 0
    )))),
    f!("values", "collections", 1, 1, |a, _| j(values(arg(&a, 0)))),
    f!("mapPick", "collections", 1, _, |a, _| j(pick(&a, true))),
    f!("pick", "collections", 1, _, |a, _| j(pick(&a, true))),
    f!("mapOmit", "collections", 1, _, |a, _| j(pick(&a, false))),
    f!("omit", "collections", 1, _, |a, _| j(pick(&a, false))),
    f!("asList", "collections", 1, 1, |mut a, _| match arg(&a, 0) {
        Json::Array(_) => Ok(take(&mut a, 0)),
        Json::String(st) => j(match serde_json::from_str::<Json>(st) {
            Ok(list @ Json::Array(_)) => list,
            _ => Json::Array(Vec::new()),
        }),
        _ => j(Json::Array(Vec::new())),
    }),
    f!("asMap", "collections", 1, 1, |mut a, _| match arg(&a, 0) {
        Json::Object(_) => Ok(take(&mut a, 0)),
        Json::String(st) => j(match serde_json::from_str::<Json>(st) {
            Ok(map @ Json::Object(_)) => map,
            _ => Json::Object(Map::new()),
        }),
        _ => j(Json::Object(Map::new())),
    }),
    f!("asString", "collections", 1, 1, |a, _| match arg(&a, 0) {
        v @ (Json::Array(_) | Json::Object(_)) => s(v.to_string()),
        v => s(to_str(v)),
    }),
    // Safe access: the value when it is non-empty / of the right type, else the default.
    f!("getOr", "safeaccess", 2, 2, |mut a, _| {
        let k = if empty(arg(&a, 0)) { 1 } else { 0 };
        Ok(take(&mut a, k))
    }),
    f!(
        "getStringOr",
        "safeaccess",
        2,
        2,
        |mut a, _| match arg(&a, 0) {
            Json::String(st) if !st.is_empty() => Ok(take(&mut a, 0)),
            _ => s(str_arg(&a, 1)),
        }
    ),
    f!("getIntOr", "safeaccess", 2, 2, |a, _| match arg(&a, 0) {
        v @ Json::Number(_) => i(as_i64(v).unwrap_or(0)),
        _ => i(int_arg(&a, 1)),
    }),
    f!("getBoolOr", "safeaccess", 2, 2, |a, _| match arg(&a, 0) {
        Json::Bool(v) => b(*v),
        _ => b(value::truthy(arg(&a, 1))),
    }),
    // Sprig lists and dicts.
    f!("list", "collections", 0, _, |a, _| j(Json::Array(
        a.into_iter().map(Cow::into_owned).collect()
    ))),
    f!("dict", "collections", 0, _, |a, _| {
        let mut m = Map::new();
        let mut it = a.into_iter();
        while let Some(k) = it.next() {
            let v = it.next().map_or(Json::Null, Cow::into_owned);
            m.insert(to_str(&k).into_owned(), v);
        }
        j(Json::Object(m))
    }),
    f!("hasKey", "collections", 2, 2, |a, _| b(arg(&a, 0)
        .as_object()
        .is_some_and(|m| m.contains_key(str_arg(&a, 1).as_ref())))),
    f!("dig", "collections", 2, _, dig_fn),
    f!("first", "collections", 1, 1, |a, _| j(items(arg(&a, 0))
        .first()
        .cloned()
        .unwrap_or(Json::Null))),
    f!("last", "collections", 1, 1, |a, _| j(items(arg(&a, 0))
        .last()
        .cloned()
        .unwrap_or(Json::Null))),
    f!("rest", "collections", 1, 1, |a, _| j(Json::Array(
        items(arg(&a, 0)).iter().skip(1).cloned().collect()
    ))),
    f!("initial", "collections", 1, 1, |a, _| {
        let l = items(arg(&a, 0));
        j(Json::Array(l[..l.len().saturating_sub(1)].to_vec()))
    }),
    f!("append", "collections", 2, 2, |a, _| {
        let mut l = items(arg(&a, 0)).to_vec();
        l.push(arg(&a, 1).clone());
        j(Json::Array(l))
    }),
    f!("prepend", "collections", 2, 2, |a, _| {
        let mut l = vec![arg(&a, 1).clone()];
        l.extend(items(arg(&a, 0)).iter().cloned());
        j(Json::Array(l))
    }),
    // Orkestra's `concat` joins strings (`concat "*." .spec.domain`); with only lists it is
    // Sprig's list concatenation.
    f!("concat", "collections", 0, _, |a, _| {
        if !a.is_empty() && a.iter().all(|v| v.is_array()) {
            return j(Json::Array(
                a.iter().flat_map(|l| items(l).iter().cloned()).collect(),
            ));
        }
        s(a.iter().map(|v| to_str(v)).collect::<String>())
    }),
    f!("uniq", "collections", 1, 1, |a, _| {
        let mut out: Vec<Json> = Vec::new();
        for x in items(arg(&a, 0)) {
            if !out.iter().any(|y| equal(x, y)) {
                out.push(x.clone());
            }
        }
        j(Json::Array(out))
    }),
    f!("compact", "collections", 1, 1, |a, _| j(Json::Array(
        items(arg(&a, 0))
            .iter()
            .filter(|x| !empty(x))
            .cloned()
            .collect()
    ))),
    f!("without", "collections", 1, _, |a, _| {
        let drop = &a[1..];
        j(Json::Array(
            items(arg(&a, 0))
                .iter()
                .filter(|x| !drop.iter().any(|d| equal(x, d)))
                .cloned()
                .collect(),
        ))
    }),
    f!("sortAlpha", "collections", 1, 1, |a, _| {
        let mut l: Vec<String> = items(arg(&a, 0))
            .iter()
            .map(|x| to_str(x).into_owned())
            .collect();
        l.sort();
        j(Json::Array(l.into_iter().map(Json::String).collect()))
    }),
    f!("merge", "collections", 1, _, |a, _| {
        // Sprig: earlier dicts win.
        let mut out = Map::new();
        for m in a.iter().filter_map(|m| m.as_object()) {
            for (k, v) in m {
                out.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        j(Json::Object(out))
    }),
    f!("pluck", "collections", 2, _, |a, _| {
        let key = str_arg(&a, 0);
        j(Json::Array(
            a[1..]
                .iter()
                .filter_map(|m| m.as_object()?.get(key.as_ref()).cloned())
                .collect(),
        ))
    }),
    f!("until", "collections", 1, 1, |a, _| {
        let n = int_arg(&a, 0).clamp(0, 100_000);
        j(Json::Array((0..n).map(Json::from).collect()))
    }),
];

/// The items of a list (empty for anything else).
pub(crate) fn items(v: &Json) -> &[Json] {
    match v {
        Json::Array(l) => l,
        _ => &[],
    }
}

fn keys(v: &Json) -> Json {
    let mut k: Vec<&String> = v
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    k.sort();
    Json::Array(k.into_iter().map(|s| Json::String(s.clone())).collect())
}

fn values(v: &Json) -> Json {
    Json::Array(
        v.as_object()
            .map(|m| {
                value::sorted_entries(m)
                    .into_iter()
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default(),
    )
}

fn pick(a: &[Val<'_>], keep: bool) -> Json {
    let names: Vec<std::borrow::Cow<'_, str>> = a[1..].iter().map(|v| to_str(v)).collect();
    let m = arg(a, 0).as_object().map(|m| {
        m.iter()
            .filter(|(k, _)| names.iter().any(|n| n == k.as_str()) == keep)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    Json::Object(m.unwrap_or_default())
}

fn list_get<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let idx = as_i64(arg(&a, 1)).unwrap_or(-1);
    if idx < 0 {
        return nil();
    }
    let path = [idx.to_string()];
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match arg(&a, 0) {
        Json::Array(_) => Ok(super::project(
            a.into_iter().next().unwrap_or_default(),
            &path,
        )),
        _ => nil(),
    }
}

fn map_get<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let key = str_arg(&a, 1).into_owned();
    match arg(&a, 0) {
        Json::Object(_) => Ok(super::project(
            a.into_iter().next().unwrap_or_default(),
            &[&key],
        )),
        _ => nil(),
    }
}

/// Sprig's `dig "a" "b" DEFAULT DICT`.
fn dig_fn<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let n = a.len();
    let keys: Vec<String> = a[..n - 2].iter().map(|k| to_str(k).into_owned()).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let found = dig(arg(&a, n - 1), &keys);
    if found.is_null() {
        return j(arg(&a, n - 2).clone());
    }
    j(found.clone())
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn collection_notes_are_nil_safe_and_follow_the_tables() {
        let regions = json!(["us-east-1", "eu-west-1"]);
        let labels = json!({"app": "frontend", "tier": "web"});
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("listHas", vec![regions.clone(), json!("us-east-1")], "true"),
            ("listHas", vec![json!(null), json!("x")], "false"),
            ("listGet", vec![regions.clone(), json!(1)], "eu-west-1"),
            ("listGet", vec![json!([]), json!(0)], ""),
            ("listLen", vec![regions.clone()], "2"),
            ("listLen", vec![json!("x")], "0"),
            ("mapGet", vec![labels.clone(), json!("app")], "frontend"),
            ("mapGet", vec![json!(null), json!("app")], ""),
            ("mapKeys", vec![labels.clone()], "[app tier]"),
            ("mapValues", vec![labels.clone()], "[frontend web]"),
            (
                "mapPick",
                vec![labels.clone(), json!("tier")],
                "map[tier:web]",
            ),
            (
                "mapOmit",
                vec![labels.clone(), json!("tier")],
                "map[app:frontend]",
            ),
            ("asList", vec![json!("[\"a\"]")], "[a]"),
            ("asList", vec![json!("nope")], "[]"),
            ("asMap", vec![json!("{\"k\":1}")], "map[k:1]"),
            ("asString", vec![json!({"key": "val"})], "{\"key\":\"val\"}"),
            ("asString", vec![json!(3)], "3"),
            ("getOr", vec![json!(null), json!(1)], "1"),
            ("getOr", vec![json!(3), json!(1)], "3"),
            ("getStringOr", vec![json!(3), json!("nginx")], "nginx"),
            ("getIntOr", vec![json!(3.0), json!(1)], "3"),
            ("getIntOr", vec![json!("3"), json!(1)], "1"),
            ("getBoolOr", vec![json!("true"), json!(false)], "false"),
            ("list", vec![json!(1), json!("a")], "[1 a]"),
            (
                "dict",
                vec![json!("a"), json!(1), json!("b")],
                "map[a:1 b:<nil>]",
            ),
            ("hasKey", vec![labels.clone(), json!("app")], "true"),
            (
                "dig",
                vec![
                    json!("a"),
                    json!("b"),
                    json!("dflt"),
                    json!({"a": {"b": "x"}}),
                ],
                "x",
            ),
            (
                "dig",
                vec![json!("a"), json!("z"), json!("dflt"), json!({"a": {}})],
                "dflt",
            ),
            ("first", vec![regions.clone()], "us-east-1"),
            ("last", vec![json!([])], ""),
            ("uniq", vec![json!([1, 1, 2])], "[1 2]"),
            ("compact", vec![json!(["a", "", null, "b"])], "[a b]"),
            ("without", vec![json!([1, 2, 3]), json!(2)], "[1 3]"),
            ("append", vec![json!([1]), json!(2)], "[1 2]"),
            ("concat", vec![json!("*."), json!("api.io")], "*.api.io"),
            ("concat", vec![json!([1]), json!([2, 3])], "[1 2 3]"),
            ("has", vec![json!(2), json!([1, 2])], "true"),
            (
                "merge",
                vec![json!({"a": 1}), json!({"a": 2, "b": 3})],
                "map[a:1 b:3]",
            ),
            ("sortAlpha", vec![json!(["b", "a"])], "[a b]"),
            ("until", vec![json!(3)], "[0 1 2]"),
        ];
        check(&cases);
    }
}
