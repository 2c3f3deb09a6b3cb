//! Math notes. Integers stay integers (Go `int64` arithmetic, division truncates); any float
//! argument makes the result a float. Non-numbers count as 0; division by zero gives 0.

use serde_json::Value as Json;

use super::{Builtin, FnCx, arg, fl, i};
use crate::template::value::{Val, as_f64, as_i64};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("add", "math", 1, _, |a, _| fold(
        &a,
        |x, y| x.checked_add(y),
        |x, y| x + y
    )),
    f!("sub", "math", 2, 2, |a, _| fold(
        &a,
        |x, y| x.checked_sub(y),
        |x, y| x - y
    )),
    f!("mul", "math", 1, _, |a, _| fold(
        &a,
        |x, y| x.checked_mul(y),
        |x, y| x * y
    )),
    f!("div", "math", 2, 2, |a, _| fold(
        &a,
        |x, y| if y == 0 { Some(0) } else { x.checked_div(y) },
        |x, y| if y == 0.0 { 0.0 } else { x / y }
    )),
    f!("mod", "math", 2, 2, |a, _| fold(
        &a,
        |x, y| if y == 0 { Some(0) } else { x.checked_rem(y) },
        |x, y| if y == 0.0 { 0.0 } else { x % y }
    )),
    f!("min", "math", 1, _, |a, _| pick(&a, |x, y| x < y)),
    f!("max", "math", 1, _, |a, _| pick(&a, |x, y| x > y)),
    f!("clamp", "math", 3, 3, clamp),
    f!("abs", "math", 1, 1, |a, _| match num(arg(&a, 0)) {
        Num::Int(x) => i(x.saturating_abs()),
        Num::Float(x) => fl(x.abs()),
    }),
    f!("add1", "math", 1, 1, |a, _| fold(
        &[a[0].clone(), Val::Owned(Json::from(1))],
        |x, y| x.checked_add(y),
        |x, y| x + y
    )),
    f!("floor", "math", 1, 1, |a, _| fl(as_f64(arg(&a, 0))
        .unwrap_or(0.0)
        .floor())),
    f!("ceil", "math", 1, 1, |a, _| fl(as_f64(arg(&a, 0))
        .unwrap_or(0.0)
        .ceil())),
    f!("round", "math", 1, 2, |a, _| {
        let p = 10f64.powi(as_i64(arg(&a, 1)).unwrap_or(0).clamp(0, 15) as i32);
        fl((as_f64(arg(&a, 0)).unwrap_or(0.0) * p).round() / p)
    }),
];

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

fn num(v: &Json) -> Num {
    match v {
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Num::Float(n.as_f64().unwrap_or(0.0)), Num::Int),
        Json::String(st) => {
            let t = st.trim();
            t.parse()
                .map(Num::Int)
                .unwrap_or_else(|_| Num::Float(t.parse().unwrap_or(0.0)))
        }
        Json::Bool(b) => Num::Int(i64::from(*b)),
        _ => Num::Int(0),
    }
}

fn as_float(n: Num) -> f64 {
    match n {
        Num::Int(x) => x as f64,
        Num::Float(x) => x,
    }
}

fn fold<'a>(
    a: &[Val<'_>],
    int: impl Fn(i64, i64) -> Option<i64>,
    float: impl Fn(f64, f64) -> f64,
) -> Result<Val<'a>, String> {
    let mut acc = num(arg(a, 0));
    for v in &a[1.min(a.len())..] {
        let y = num(v);
        acc = match (acc, y) {
            (Num::Int(x), Num::Int(y)) => match int(x, y) {
                Some(r) => Num::Int(r),
                None => Num::Float(float(x as f64, y as f64)),
            },
            (x, y) => Num::Float(float(as_float(x), as_float(y))),
        };
    }
    match acc {
        Num::Int(x) => i(x),
        Num::Float(x) => fl(x),
    }
}

fn pick<'a>(a: &[Val<'_>], better: impl Fn(f64, f64) -> bool) -> Result<Val<'a>, String> {
    let mut best = num(arg(a, 0));
    for v in &a[1..] {
        let y = num(v);
        if better(as_float(y), as_float(best)) {
            best = y;
        }
    }
    match best {
        Num::Int(x) => i(x),
        Num::Float(x) => fl(x),
    }
}

fn clamp<'a>(a: Vec<Val<'a>>, _: &mut FnCx) -> Result<Val<'a>, String> {
    let (v, lo, hi) = (num(arg(&a, 0)), num(arg(&a, 1)), num(arg(&a, 2)));
    let out = if as_float(v) < as_float(lo) {
        lo
    } else if as_float(v) > as_float(hi) {
        hi
    } else {
        v
    };
    match out {
        Num::Int(x) => i(x),
        Num::Float(x) => fl(x),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn math_keeps_integers_and_promotes_to_float() {
        let cases: Vec<(&str, Vec<serde_json::Value>, &str)> = vec![
            ("add", vec![json!(1), json!(2)], "3"),
            ("add", vec![json!(1), json!(2), json!(3)], "6"),
            ("add", vec![json!(1), json!(0.5)], "1.5"),
            ("add", vec![json!("2"), json!(null)], "2"),
            ("sub", vec![json!(5), json!(7)], "-2"),
            ("mul", vec![json!(3), json!(4)], "12"),
            ("div", vec![json!(7), json!(2)], "3"),
            ("div", vec![json!(7.0), json!(2)], "3.5"),
            ("div", vec![json!(7), json!(0)], "0"),
            ("mod", vec![json!(7), json!(3)], "1"),
            ("mod", vec![json!(7), json!(0)], "0"),
            ("min", vec![json!(3), json!(1), json!(2)], "1"),
            ("max", vec![json!(3), json!(4.5)], "4.5"),
            ("clamp", vec![json!(15), json!(1), json!(10)], "10"),
            ("clamp", vec![json!(-3), json!(1), json!(10)], "1"),
            ("abs", vec![json!(-4)], "4"),
            ("add1", vec![json!(4)], "5"),
            ("floor", vec![json!(1.7)], "1"),
            ("round", vec![json!(1.2345), json!(2)], "1.23"),
            (
                "add",
                vec![json!(i64::MAX), json!(1)],
                "9.223372036854776e+18",
            ),
        ];
        check(&cases);
    }
}
