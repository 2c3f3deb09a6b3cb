//! The operator vocabulary of field conditions: every name and alias an `operator:` may
//! take, in one table. The deserializer ([`Operator`]'s `Deserialize`) and `ork validate`
//! both read [`OPERATORS`], so what loads and what validates cannot drift apart.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Equal.
    Equals,
    /// Not equal.
    NotEquals,
    /// Substring.
    Contains,
    /// Not a substring.
    NotContains,
    /// Starts with.
    Prefix,
    /// Does not start with.
    NotPrefix,
    /// Ends with.
    Suffix,
    /// Does not end with.
    NotSuffix,
    /// RE2 regular expression match.
    Regex,
    /// Present and non-empty.
    Exists,
    /// Absent or empty.
    NotExists,
    /// Numerically greater.
    Gt,
    /// Numerically less.
    Lt,
    /// Numerically greater or equal.
    Gte,
    /// Numerically less or equal.
    Lte,
    /// Inclusive numeric range `"min,max"`.
    Between,
    /// Outside the inclusive range.
    NotBetween,
    /// One of a comma-separated list.
    In,
    /// None of a comma-separated list.
    NotIn,
    /// Unique among all CRs of the CRD.
    Unique,
    /// The field's YAML type name equals the value (`map`, `list`, `string`, `number`,
    /// `bool`, `null`).
    TypeOf,
    /// The field is a map.
    TypeMap,
    /// The field is a list.
    TypeList,
    /// The field is a string.
    TypeString,
    /// The field is a number.
    TypeNumber,
    /// The field is a boolean.
    TypeBool,
    /// The field is null or absent.
    TypeNull,
}

/// Every spelling an `operator:` may take, with the operator it means. The first spelling
/// of each operator is its canonical name (the one written back by `Serialize`); the
/// others are aliases.
pub const OPERATORS: &[(&str, Operator)] = &[
    ("equals", Operator::Equals),
    ("eq", Operator::Equals),
    ("notEquals", Operator::NotEquals),
    ("neq", Operator::NotEquals),
    ("ne", Operator::NotEquals),
    ("contains", Operator::Contains),
    ("notContains", Operator::NotContains),
    ("prefix", Operator::Prefix),
    ("notPrefix", Operator::NotPrefix),
    ("suffix", Operator::Suffix),
    ("notSuffix", Operator::NotSuffix),
    ("regex", Operator::Regex),
    ("exists", Operator::Exists),
    ("notExists", Operator::NotExists),
    ("gt", Operator::Gt),
    ("greaterThan", Operator::Gt),
    ("lt", Operator::Lt),
    ("lessThan", Operator::Lt),
    ("gte", Operator::Gte),
    ("greaterThanOrEqual", Operator::Gte),
    ("min", Operator::Gte),
    ("lte", Operator::Lte),
    ("lessThanOrEqual", Operator::Lte),
    ("max", Operator::Lte),
    ("between", Operator::Between),
    ("notBetween", Operator::NotBetween),
    ("in", Operator::In),
    ("notIn", Operator::NotIn),
    ("unique", Operator::Unique),
    ("typeOf", Operator::TypeOf),
    ("typeMap", Operator::TypeMap),
    ("typeList", Operator::TypeList),
    ("typeString", Operator::TypeString),
    ("typeNumber", Operator::TypeNumber),
    ("typeBool", Operator::TypeBool),
    ("typeNull", Operator::TypeNull),
];

/// An `operator:` value that is not in [`OPERATORS`]; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operator `{name}`{}; valid operators: {}", hint(.name), Operator::valid_list())]
pub struct UnknownOperator {
    /// The spelling that was written.
    pub name: String,
}

impl Operator {
    /// The operator a spelling (name or alias) means.
    pub fn parse(name: &str) -> Result<Operator, UnknownOperator> {
        OPERATORS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, op)| *op)
            .ok_or_else(|| UnknownOperator { name: name.into() })
    }

    /// The canonical name (the first spelling in [`OPERATORS`]).
    pub fn name(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(_, op)| *op == self)
            .map(|(n, _)| *n)
            .expect("every operator has a name in OPERATORS")
    }

    /// Every accepted spelling, names and aliases, in table order.
    pub fn spellings() -> impl Iterator<Item = &'static str> {
        OPERATORS.iter().map(|(n, _)| *n)
    }

    /// The valid spellings, comma-separated, for messages and help texts.
    pub fn valid_list() -> String {
        Operator::spellings().collect::<Vec<_>>().join(", ")
    }
}

/// `, did you mean `x`?` when a spelling is close to `name`.
fn hint(name: &str) -> String {
    let all: Vec<&str> = Operator::spellings().collect();
    crate::de::did_you_mean(name, &all)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Operator {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Operator {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Operator::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_deserializes_to_its_operator_and_serializes_canonically() {
        for (name, op) in OPERATORS {
            let got: Operator = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(got, *op, "{name}");
            let back = serde_json::to_value(got).unwrap();
            assert_eq!(Operator::parse(back.as_str().unwrap()), Ok(*op));
        }
    }

    #[test]
    fn an_unknown_operator_is_refused_with_the_valid_list() {
        let err = serde_json::from_value::<Operator>(serde_json::json!("greaterThen"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown operator `greaterThen`"), "{err}");
        assert!(err.contains("did you mean `greaterThan`?"), "{err}");
        assert!(
            err.contains("valid operators: equals, eq, notEquals"),
            "{err}"
        );
    }
}
