//! Durations as Katalogs write them: Go durations plus the extended units `d`, `w`, `mo`, `y`.
//!
//! The grammar lives in [`gotmpl::duration`], so settings, conditions and the template time
//! functions read durations the same way.

pub use gotmpl::duration::{Error, parse, seconds};
pub use gotmpl::is_template;
