//! The Katalog language: everything ork knows about a Katalog without talking to a cluster.
//!
//! Data flows one way: files are parsed strictly, resolved (includes, Komposer and Motif
//! imports, profiles), validated (every problem at once, each with file:line:col), and then
//! used to render the exact Kubernetes objects a CR produces. Nothing here does I/O beyond
//! reading the Katalog's own files.

pub mod admission;
pub mod build;
pub mod condition;
pub mod de;
pub mod diagnostic;
pub mod enrich;
pub mod labels;
mod load;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod rbac;
pub mod remote;
pub mod render;
pub mod resolve;
pub mod resources;
pub mod validate;
pub mod yaml;

pub use diagnostic::{Diagnostic, Diagnostics, Location, Severity};
pub use load::{Loaded, load, load_motif, load_text};
pub use model::{Crd, Gvk, Katalog};
