//! Math notes, as Orkestra computes them: in floating point, with a whole result returned as
//! an integer (`div 7 2` is `3.5`, `add 1.5 1.5` is `3`). Numeric strings and bools count as
//! numbers; nil and other values count as 0 (Orkestra fails the render there). Division or
//! modulo by zero gives 0.

use serde_json::Value as Json;

use super::{Builtin, arg};
use crate::value::{self, Val, as_f64, as_i64};

pub(crate) const FUNCS: &[Builtin] = &[
    f!("add", "math", 1, _, |a, _| native(fold(&a, |x, y| x + y))),
    f!("sub", "math", 2, 2, |a, _| native(fold(&a, |x, y| x - y))),
    f!("mul", "math", 1, _, |a, _| native(fold(&a, |x, y| x * y))),
    f!("div", "math", 2, 2, |a, _| native(fold(&a, |x, y| {
        if y == 0.0 { 0.0 } else { x / y }
    }))),
    f!("mod", "math", 2, 2, |a, _| {
        let (x, y) = (num(arg(&a, 0)) as i64, num(arg(&a, 1)) as i64);
        native(if y == 0 {
            0.0
        } else {
            x.wrapping_rem(y) as f64
        })
    }),
    f!("min", "math", 1, _, |a, _| native(
        a.iter().map(|v| num(v)).fold(f64::INFINITY, f64::min)
    )),
    f!("max", "math", 1, _, |a, _| native(
        a.iter().map(|v| num(v)).fold(f64::NEG_INFINITY, f64::max)
    )),
    f!("clamp", "math", 3, 3, |a, _| {
        let (v, lo, hi) = (num(arg(&a, 0)), num(arg(&a, 1)), num(arg(&a, 2)));
        native(if v < lo {
            lo
        } else if v > hi {
            hi
        } else {
            v
        })
    }),
    f!("abs", "math", 1, 1, |a, _| native(num(arg(&a, 0)).abs())),
    f!("add1", "math", 1, 1, |a, _| native(num(arg(&a, 0)) + 1.0)),
    f!("floor", "math", 1, 1, |a, _| native(
        num(arg(&a, 0)).floor()
    )),
    f!("ceil", "math", 1, 1, |a, _| native(num(arg(&a, 0)).ceil())),
    f!("round", "math", 1, 2, |a, _| {
        let p = 10f64.powi(as_i64(arg(&a, 1)).unwrap_or(0).clamp(0, 15) as i32);
        native((num(arg(&a, 0)) * p).round() / p)
    }),
];

fn num(v: &Json) -> f64 {
    as_f64(v).unwrap_or(0.0)
}

fn fold(a: &[Val<'_>], op: impl Fn(f64, f64) -> f64) -> f64 {
    a.iter()
        .skip(1)
        .fold(num(arg(a, 0)), |acc, v| op(acc, num(v)))
}

/// Orkestra's `nativeNumber`: an integer when the value is whole, a float otherwise.
fn native<'a>(f: f64) -> Result<Val<'a>, String> {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return Ok(Val::Owned(Json::from(f as i64)));
    }
    Ok(Val::Owned(value::float(f)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use serde_json::json;

    #[test]
    fn math_computes_in_floats_and_returns_whole_results_as_integers() {
        check(&[
            ("add", vec![json!(1), json!(2)], "3"),
            ("add", vec![json!(1), json!(2), json!(3)], "6"),
            ("add", vec![json!(1), json!(0.5)], "1.5"),
            ("add", vec![json!(1.5), json!(1.5)], "3"),
            ("add", vec![json!("2"), json!(null)], "2"),
            ("add", vec![json!(8080), json!(1000)], "9080"),
            ("sub", vec![json!(5), json!(7)], "-2"),
            ("mul", vec![json!(3), json!(4)], "12"),
            ("div", vec![json!(7), json!(2)], "3.5"),
            ("div", vec![json!(8), json!(2)], "4"),
            ("div", vec![json!(7), json!(0)], "0"),
            ("mod", vec![json!(7), json!(3)], "1"),
            ("mod", vec![json!(7.9), json!(3)], "1"),
            ("mod", vec![json!(7), json!(0)], "0"),
            ("min", vec![json!(3), json!(1), json!(2)], "1"),
            ("max", vec![json!(3), json!(4.5)], "4.5"),
            ("clamp", vec![json!(15), json!(1), json!(10)], "10"),
            ("clamp", vec![json!(-3), json!(1), json!(10)], "1"),
            ("abs", vec![json!(-4)], "4"),
            ("add1", vec![json!(4)], "5"),
            ("floor", vec![json!(1.7)], "1"),
            ("round", vec![json!(1.2345), json!(2)], "1.23"),
        ]);
    }
}
