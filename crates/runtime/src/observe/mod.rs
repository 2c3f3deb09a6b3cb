//! What a box observes beyond its own CRs and children (spec §11.2–11.3): cross-CRD reads
//! served from the other boxes' caches ([`cross`]), and secondary watches that queue the
//! box's CRs when other objects change ([`secondary`]).
//!
//! Both are pure resolution over reflector stores and closures, so the boxes and the
//! supervisor only wire them: the supervisor hands a [`Sources`] to every box and a [`Cross`]
//! to each reconcile; each box registers its cache in the [`Sources`], reports each change of
//! its objects to [`Sources::changed`] and runs its secondary watches.

pub mod cross;
pub mod events;
pub mod remote;
pub mod secondary;

pub use cross::{Cross, Dependent, Source, Sources, Vitals};
pub use secondary::{Change, KeyFrom, Primary, Secondary};
