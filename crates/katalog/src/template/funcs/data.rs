//! stub

use super::Builtin;

pub(crate) const FUNCS: &[Builtin] = &[];
