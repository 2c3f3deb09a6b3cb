//! What a box observes beyond its own CRs and children (spec §11.2–11.3): cross-CRD reads
//! served from the other boxes' caches ([`cross`]), and secondary watches that queue the
//! box's CRs when other objects change ([`watch`]).
//!
//! Both are pure resolution over reflector stores and closures, so the boxes and the
//! supervisor only wire them: the supervisor registers each box's cache in [`Sources`], hands
//! a [`Cross`] to each reconcile, and reports each change of a box's objects to
//! [`Sources::changed`].

pub mod cross;
pub mod watch;

pub use cross::{Cross, Dependent, Source, Sources};
pub use watch::{Change, KeyFrom, Primary, Secondary};
