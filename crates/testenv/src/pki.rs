//! The control plane's keys and certificates, generated in Rust (no openssl).
//!
//! Two CAs: one signs the API server's serving certificate (SANs `127.0.0.1`, `localhost`,
//! `kubernetes.default.svc`), the other signs client certificates. The API server trusts the
//! client CA, so any certificate it signs authenticates as its CN (user) and O (groups): that is
//! how tests get an admin (`system:masters`) and non-admin identities such as a ServiceAccount.
//! One ECDSA key signs and verifies ServiceAccount tokens.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// Errors generating or reading key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// rcgen refused to generate or sign.
    #[error("generating {what}")]
    GenerateFailed {
        /// Which certificate or key.
        what: &'static str,
        /// The cause.
        #[source]
        source: rcgen::Error,
    },
    /// A PKI file could not be written.
    #[error("writing {0}")]
    WriteFailed(PathBuf, #[source] std::io::Error),
    /// A PKI file of an existing state directory could not be read or parsed.
    #[error("key material in {0} is unreadable or corrupt")]
    Corrupt(PathBuf),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A certificate and its private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct CertKey {
    /// The certificate, PEM.
    pub cert: String,
    /// The private key, PEM (PKCS#8).
    pub key: String,
}

/// Who a client certificate authenticates as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user name (certificate CN).
    pub user: String,
    /// The groups (certificate O entries).
    pub groups: Vec<String>,
}

impl Identity {
    /// A cluster administrator: group `system:masters`, which RBAC always allows.
    pub fn admin() -> Self {
        Self {
            user: "ork-admin".into(),
            groups: vec!["system:masters".into()],
        }
    }

    /// The identity Kubernetes gives a ServiceAccount's token, so RBAC bound to that
    /// ServiceAccount applies exactly as in a cluster.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            user: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }

    /// A plain user with the given groups and no special rights.
    pub fn user(name: &str, groups: &[&str]) -> Self {
        Self {
            user: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

/// All key material of one control plane, as files in one directory.
#[derive(Debug, Clone)]
pub struct Pki {
    dir: PathBuf,
    serving_ca: CertKey,
    client_ca: CertKey,
    admin: CertKey,
}

const SERVING_CA: &str = "serving-ca";
const SERVING: &str = "serving";
const CLIENT_CA: &str = "client-ca";
const ADMIN: &str = "admin";
const SA_KEY: &str = "service-account.key";
const SA_PUB: &str = "service-account.pub";

impl Pki {
    /// Generates fresh key material and writes it into `dir`.
    pub fn generate(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::WriteFailed(dir.to_path_buf(), e))?;
        let serving_ca = ca("ork-testenv-serving-ca")?;
        let client_ca = ca("ork-testenv-client-ca")?;
        let serving = sign_serving(&serving_ca)?;
        let admin = sign_client(&client_ca, &Identity::admin())?;
        let sa = KeyPair::generate().map_err(|source| Error::GenerateFailed {
            what: "service-account key",
            source,
        })?;
        write_pair(dir, SERVING_CA, &serving_ca)?;
        write_pair(dir, SERVING, &serving)?;
        write_pair(dir, CLIENT_CA, &client_ca)?;
        write_pair(dir, ADMIN, &admin)?;
        write(&dir.join(SA_KEY), &sa.serialize_pem())?;
        write(&dir.join(SA_PUB), &sa.public_key_pem())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            serving_ca,
            client_ca,
            admin,
        })
    }

    /// Reads the key material a previous [`Pki::generate`] wrote into `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let pki = Self {
            dir: dir.to_path_buf(),
            serving_ca: read_pair(dir, SERVING_CA)?,
            client_ca: read_pair(dir, CLIENT_CA)?,
            admin: read_pair(dir, ADMIN)?,
        };
        for file in [
            format!("{SERVING}.crt"),
            format!("{SERVING}.key"),
            SA_KEY.into(),
        ] {
            if !dir.join(&file).is_file() {
                return Err(Error::Corrupt(dir.join(file)));
            }
        }
        // A key that does not parse means the directory is damaged; find out now, not at
        // the first client certificate.
        KeyPair::from_pem(&pki.client_ca.key).map_err(|_| Error::Corrupt(dir.join(CLIENT_CA)))?;
        Ok(pki)
    }

    /// The CA that signed the API server's certificate (what clients must trust).
    pub fn serving_ca_pem(&self) -> &str {
        &self.serving_ca.cert
    }

    /// The admin client certificate and key.
    pub fn admin(&self) -> &CertKey {
        &self.admin
    }

    /// Signs a new client certificate for `identity`.
    pub fn client(&self, identity: &Identity) -> Result<CertKey> {
        sign_client(&self.client_ca, identity)
    }

    /// Path of a file in the PKI directory, for command-line flags.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// `--tls-cert-file` of the API server.
    pub fn serving_cert_file(&self) -> PathBuf {
        self.path(&format!("{SERVING}.crt"))
    }

    /// `--tls-private-key-file` of the API server.
    pub fn serving_key_file(&self) -> PathBuf {
        self.path(&format!("{SERVING}.key"))
    }

    /// `--client-ca-file` of the API server.
    pub fn client_ca_file(&self) -> PathBuf {
        self.path(&format!("{CLIENT_CA}.crt"))
    }

    /// The CA bundle that verifies the serving certificate (`--root-ca-file`).
    pub fn serving_ca_file(&self) -> PathBuf {
        self.path(&format!("{SERVING_CA}.crt"))
    }

    /// The ServiceAccount token signing key (private, PKCS#8).
    pub fn service_account_key_file(&self) -> PathBuf {
        self.path(SA_KEY)
    }

    /// The public half of the ServiceAccount key, which verifies tokens.
    pub fn service_account_public_key_file(&self) -> PathBuf {
        self.path(SA_PUB)
    }
}

fn ca(common_name: &str) -> Result<CertKey> {
    let what = "certificate authority";
    let key = KeyPair::generate().map_err(|source| Error::GenerateFailed { what, source })?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params
        .self_signed(&key)
        .map_err(|source| Error::GenerateFailed { what, source })?;
    Ok(CertKey {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

fn issuer(ca: &CertKey, what: &'static str) -> Result<Issuer<'static, KeyPair>> {
    let key =
        KeyPair::from_pem(&ca.key).map_err(|source| Error::GenerateFailed { what, source })?;
    Issuer::from_ca_cert_pem(&ca.cert, key).map_err(|source| Error::GenerateFailed { what, source })
}

fn sign_serving(ca: &CertKey) -> Result<CertKey> {
    let what = "API server serving certificate";
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
    ])
    .map_err(|source| Error::GenerateFailed { what, source })?;
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    sign_leaf(ca, what, params, ExtendedKeyUsagePurpose::ServerAuth)
}

fn sign_client(ca: &CertKey, identity: &Identity) -> Result<CertKey> {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, identity.user.as_str());
    for group in &identity.groups {
        params
            .distinguished_name
            .push(DnType::OrganizationName, group.as_str());
    }
    sign_leaf(
        ca,
        "client certificate",
        params,
        ExtendedKeyUsagePurpose::ClientAuth,
    )
}

/// Signs a leaf certificate for a fresh key with `ca`, for server or client use.
fn sign_leaf(
    ca: &CertKey,
    what: &'static str,
    mut params: CertificateParams,
    usage: ExtendedKeyUsagePurpose,
) -> Result<CertKey> {
    let issuer = issuer(ca, what)?;
    let key = KeyPair::generate().map_err(|source| Error::GenerateFailed { what, source })?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|source| Error::GenerateFailed { what, source })?;
    Ok(CertKey {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| Error::WriteFailed(path.to_path_buf(), e))
}

fn write_pair(dir: &Path, name: &str, pair: &CertKey) -> Result<()> {
    write(&dir.join(format!("{name}.crt")), &pair.cert)?;
    write(&dir.join(format!("{name}.key")), &pair.key)
}

fn read_pair(dir: &Path, name: &str) -> Result<CertKey> {
    let read = |ext: &str| {
        let path = dir.join(format!("{name}.{ext}"));
        fs::read_to_string(&path)
            .ok()
            .filter(|text| text.contains("-----BEGIN"))
            .ok_or(Error::Corrupt(path))
    };
    Ok(CertKey {
        cert: read("crt")?,
        key: read("key")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_round_trips_through_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let made = Pki::generate(dir.path()).unwrap();
        let loaded = Pki::load(dir.path()).unwrap();
        assert_eq!(made.serving_ca_pem(), loaded.serving_ca_pem());
        assert_eq!(made.admin().cert, loaded.admin().cert);
        assert!(
            loaded
                .client(&Identity::service_account("ns", "sa"))
                .is_ok()
        );
    }

    #[test]
    fn a_damaged_directory_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        Pki::generate(dir.path()).unwrap();
        fs::write(dir.path().join("client-ca.key"), "garbage").unwrap();
        let err = Pki::load(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn service_account_identity_matches_what_kubernetes_assigns() {
        let id = Identity::service_account("orkestra-system", "ork-runtime");
        assert_eq!(id.user, "system:serviceaccount:orkestra-system:ork-runtime");
        assert!(
            id.groups
                .contains(&"system:serviceaccounts:orkestra-system".to_string())
        );
    }
}
