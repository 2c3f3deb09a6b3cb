//! `.children` for status fields (spec §8.2): the children the converge pass applied,
//! grouped by kind ([`view`]).

pub mod view;

use serde_json::{Map, Value};

pub use view::ChildrenView;

use super::Reconciler;

impl Reconciler {
    /// The `.children` map of `view`.
    pub(super) async fn enrich(&self, view: ChildrenView, _data: &Value) -> Map<String, Value> {
        view.to_map()
    }
}
