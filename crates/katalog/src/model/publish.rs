//! `publish:` (spec §20.5): signing and push gates for `ork push`.

use serde::Deserialize;

/// `publish:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Publish {
    /// Signature verification of the pushed artifact.
    pub signing: Option<Signing>,
    /// Checks that must pass before a push.
    pub tests: Option<PublishTests>,
}

/// `publish.signing`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Signing {
    /// Verify the signature.
    pub verify: Option<bool>,
    /// Signer identities that are accepted.
    #[serde(default)]
    pub expected_identities: Vec<String>,
}

/// `publish.tests`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublishTests {
    /// Run the end-to-end tests.
    pub e2e: Option<bool>,
    /// Run the simulation.
    pub simulate: Option<bool>,
}
