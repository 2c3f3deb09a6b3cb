//! Built-in functions, one file per family, and the helpers they share.
//!
//! Every function is pure and nil-safe: a missing or ill-typed argument gives the zero value of
//! the result (`""`, `0`, `false`, nil), never a panic. Errors are kept for real misuse
//! (`required` on an empty value, a failing `fail`, output that would exceed the caps).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value as Json;

use super::parse::Arity;
use super::value::{self, Val};

/// Declares a built-in: `f!("name", "domain", min, max, fn)`; `max` is `_` for variadic.
macro_rules! f {
    ($name:literal, $domain:literal, $min:literal, _, $call:expr) => {
        $crate::funcs::Builtin {
            name: $name,
            domain: $domain,
            arity: $crate::parse::Arity {
                min: $min,
                max: None,
            },
            call: $call,
        }
    };
    ($name:literal, $domain:literal, $min:literal, $max:literal, $call:expr) => {
        $crate::funcs::Builtin {
            name: $name,
            domain: $domain,
            arity: $crate::parse::Arity {
                min: $min,
                max: Some($max),
            },
            call: $call,
        }
    };
}

/// Declares a one-argument note returning the string at a fixed path of its argument:
/// `text_note!("phase", "kubernetes", ["status", "phase"])`.
macro_rules! text_note {
    ($name:literal, $domain:literal, [$($seg:literal),+]) => {
        f!($name, $domain, 1, 1, |a, _| {
            $crate::funcs::s($crate::funcs::kube::text(
                $crate::funcs::arg(&a, 0),
                &[$($seg),+],
            ))
        })
    };
}

/// Declares a one-argument note returning the integer at a fixed path of its argument.
macro_rules! int_note {
    ($name:literal, $domain:literal, [$($seg:literal),+]) => {
        f!($name, $domain, 1, 1, |a, _| {
            $crate::funcs::i($crate::funcs::kube::int(
                $crate::funcs::arg(&a, 0),
                &[$($seg),+],
            ))
        })
    };
}

mod collections;
mod conditional;
mod cron;
mod data;
mod go;
mod kube;
mod math;
mod net;
mod pods;
mod prometheus;
mod quantity;
mod random;
mod semver;
mod sprig;
mod strings;
mod time;
mod types;
mod validation;
mod workloads;

pub use types::type_of;

/// The largest string a function may build (the output cap).
pub(crate) const MAX_STRING: usize = 1 << 20;

/// What a built-in function is called with and returns.
pub(crate) type Call = for<'a> fn(Vec<Val<'a>>, &mut FnCx) -> Result<Val<'a>, String>;

/// A built-in function.
#[derive(Debug)]
pub(crate) struct Builtin {
    /// Its name in templates.
    pub name: &'static str,
    /// The family it belongs to (for docs and listings).
    pub domain: &'static str,
    /// How many arguments it takes.
    pub arity: Arity,
    /// The implementation.
    pub call: Call,
}

/// What functions may use besides their arguments: the clock and the random source, both
/// made on first use so renders that need neither pay for neither.
#[derive(Debug)]
pub(crate) struct FnCx {
    now: Option<::time::OffsetDateTime>,
    seed: Option<u64>,
    rng: Option<Rng>,
}

impl FnCx {
    /// A context with a fixed clock (or the real one when `None`) and seed (or real randomness).
    pub(crate) fn new(now: Option<::time::OffsetDateTime>, seed: Option<u64>) -> FnCx {
        FnCx {
            now,
            seed,
            rng: None,
        }
    }

    /// The render's notion of now (UTC).
    pub(crate) fn now(&mut self) -> ::time::OffsetDateTime {
        *self.now.get_or_insert_with(::time::OffsetDateTime::now_utc)
    }

    /// The render's random source.
    pub(crate) fn rng(&mut self) -> &mut Rng {
        let seed = self.seed;
        self.rng
            .get_or_insert_with(|| seed.map_or_else(Rng::from_entropy, Rng::new))
    }
}

/// The random source: the operating system's CSPRNG (random notes make passwords and keys),
/// or, for tests, a splitmix64 sequence from a fixed seed.
#[derive(Debug, Clone)]
pub(crate) enum Rng {
    /// Deterministic, from `RenderContext::seed`.
    Seeded(u64),
    /// Cryptographically secure, from the operating system.
    Os,
}

impl Rng {
    /// A deterministic generator from a seed.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng::Seeded(seed)
    }

    /// The operating system's generator.
    pub(crate) fn from_entropy() -> Rng {
        Rng::Os
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        match self {
            Rng::Seeded(state) => {
                *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = *state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            }
            Rng::Os => {
                let mut buf = [0u8; 8];
                // The OS generator only fails on a broken platform; Orkestra panics there, and a
                // predictable fallback would be worse for passwords, so the same happens here.
                getrandom::fill(&mut buf).expect("the operating system random source works");
                u64::from_le_bytes(buf)
            }
        }
    }

    /// A uniform number in `0..n` (`n > 0`), without modulo bias.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
}

/// Every family of built-ins.
const FAMILIES: &[&[Builtin]] = &[
    go::FUNCS,
    strings::FUNCS,
    math::FUNCS,
    conditional::FUNCS,
    types::FUNCS,
    data::FUNCS,
    random::FUNCS,
    time::FUNCS,
    cron::FUNCS,
    semver::FUNCS,
    net::FUNCS,
    quantity::FUNCS,
    collections::FUNCS,
    kube::FUNCS,
    pods::FUNCS,
    sprig::FUNCS,
    workloads::FUNCS,
    validation::FUNCS,
    prometheus::FUNCS,
];

/// Every built-in, by name (and `and`/`or`, which the evaluator handles itself, are not here).
pub(crate) fn builtins() -> &'static HashMap<&'static str, &'static Builtin> {
    static MAP: OnceLock<HashMap<&'static str, &'static Builtin>> = OnceLock::new();
    MAP.get_or_init(|| {
        let families = FAMILIES;
        let mut map = HashMap::new();
        for f in families.iter().copied().flatten() {
            let previous = map.insert(f.name, f);
            debug_assert!(previous.is_none(), "built-in {} declared twice", f.name);
        }
        map
    })
}

// ---- argument helpers ----

/// The `i`th argument, nil when absent.
pub(crate) fn arg<'x>(args: &'x [Val<'_>], i: usize) -> &'x Json {
    args.get(i).map_or(&value::NIL, |v| v.as_ref())
}

/// The `i`th argument as a string (nil is "", other values printed).
pub(crate) fn str_arg<'x>(args: &'x [Val<'_>], i: usize) -> Cow<'x, str> {
    value::to_str(arg(args, i))
}

/// The `i`th argument as an integer (0 when not a number).
pub(crate) fn int_arg(args: &[Val<'_>], i: usize) -> i64 {
    value::as_i64(arg(args, i)).unwrap_or(0)
}

/// Takes the `i`th argument out (nil when absent).
pub(crate) fn take<'a>(args: &mut [Val<'a>], i: usize) -> Val<'a> {
    args.get_mut(i).map_or(Cow::Borrowed(&value::NIL), |v| {
        std::mem::replace(v, Cow::Borrowed(&value::NIL))
    })
}

/// A string result.
pub(crate) fn s<'a>(v: impl Into<String>) -> Result<Val<'a>, String> {
    Ok(Cow::Owned(Json::String(v.into())))
}

/// A string result, refused when longer than the output cap.
pub(crate) fn bounded<'a>(v: String) -> Result<Val<'a>, String> {
    if v.len() > MAX_STRING {
        return Err(format!("result longer than {MAX_STRING} bytes"));
    }
    s(v)
}

/// A boolean result.
pub(crate) fn b<'a>(v: bool) -> Result<Val<'a>, String> {
    Ok(Cow::Owned(Json::Bool(v)))
}

/// An integer result.
pub(crate) fn i<'a>(v: i64) -> Result<Val<'a>, String> {
    Ok(Cow::Owned(Json::from(v)))
}

/// A float result (non-finite becomes nil).
pub(crate) fn fl<'a>(v: f64) -> Result<Val<'a>, String> {
    Ok(Cow::Owned(value::float(v)))
}

/// An owned JSON result.
pub(crate) fn j<'a>(v: Json) -> Result<Val<'a>, String> {
    Ok(Cow::Owned(v))
}

/// A float as Go's `%v` prints it, as text.
pub(crate) fn float_text(f: f64) -> String {
    let mut out = String::new();
    value::write_float(&mut out, f);
    out
}

/// The nil result.
pub(crate) fn nil<'a>() -> Result<Val<'a>, String> {
    Ok(Cow::Borrowed(&value::NIL))
}

/// Follows `path` through maps (and lists, by numeric segment); nil when any step is missing.
pub(crate) fn dig<'j>(mut v: &'j Json, path: &[&str]) -> &'j Json {
    for seg in path {
        v = match v {
            Json::Object(m) => m.get(*seg).unwrap_or(&value::NIL),
            Json::Array(a) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .unwrap_or(&value::NIL),
            _ => &value::NIL,
        };
    }
    v
}

/// Moves a sub-value out of a value, borrowing when the value is borrowed.
pub(crate) fn project<'a>(v: Val<'a>, path: &[&str]) -> Val<'a> {
    match v {
        Cow::Borrowed(j) => Cow::Borrowed(dig(j, path)),
        Cow::Owned(j) => Cow::Owned(dig(&j, path).clone()),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Table-test helpers: call a built-in by name with JSON arguments.

    use super::*;

    /// Calls a built-in with a fixed clock and seed; panics on unknown names.
    pub(crate) fn call(name: &str, args: &[Json]) -> Result<Json, String> {
        let f = builtins()
            .get(name)
            .unwrap_or_else(|| panic!("no built-in {name}"));
        let mut cx = FnCx::new(
            Some(::time::macros::datetime!(2026-05-19 10:30:00 UTC)),
            Some(7),
        );
        let args = args.iter().map(Cow::Borrowed).collect();
        (f.call)(args, &mut cx).map(Cow::into_owned)
    }

    /// Checks a table of `(function, arguments, printed result)` rows.
    pub(crate) fn check(cases: &[(&str, Vec<Json>, &str)]) {
        for (name, args, want) in cases {
            assert_eq!(show(name, args), *want, "{name} {args:?}");
        }
    }

    /// Calls a built-in and prints its result as a template would.
    pub(crate) fn show(name: &str, args: &[Json]) -> String {
        match call(name, args) {
            Ok(v) => {
                let mut s = String::new();
                value::write_value(&mut s, &v);
                s
            }
            Err(e) => format!("error: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_has_a_unique_name_and_sane_arity() {
        let all: Vec<&Builtin> = FAMILIES.iter().copied().flatten().collect();
        assert_eq!(all.len(), builtins().len(), "a name is declared twice");
        for f in all {
            assert!(
                f.arity.max.is_none_or(|m| m >= f.arity.min),
                "{} arity",
                f.name
            );
        }
    }

    #[test]
    fn seeded_random_sources_repeat() {
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        assert_eq!((a.next_u64(), a.next_u64()), (b.next_u64(), b.next_u64()));
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn dig_follows_maps_and_list_indexes_and_yields_nil_when_missing() {
        let v = serde_json::json!({"a": {"b": [10, {"c": "x"}]}});
        assert_eq!(dig(&v, &["a", "b", "1", "c"]), "x");
        assert!(dig(&v, &["a", "zz", "c"]).is_null());
        assert!(dig(&v, &["a", "b", "9"]).is_null());
    }
}
