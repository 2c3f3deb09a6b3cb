//! TLS material (spec §16.12): a generated CA and serving certificate (rcgen), or the user's
//! own, behind a certificate resolver that can be swapped while the server runs (rotation
//! without restart).

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

/// Why TLS material could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// rcgen refused to generate or sign.
    #[error("generating the {0}")]
    GenerateFailed(&'static str, #[source] rcgen::Error),
    /// A PEM block did not parse.
    #[error("reading the {0} PEM")]
    PemInvalid(&'static str, #[source] rustls::pki_types::pem::Error),
    /// rustls rejected the key.
    #[error("the private key is not usable")]
    KeyRejected(#[source] rustls::Error),
    /// A certificate's expiry could not be read.
    #[error("reading the certificate's expiry")]
    ExpiryUnreadable,
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// PEM certificates and key the gateway serves with. `Debug` shows the certificates, never
/// the keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Material {
    /// The CA bundle webhook configurations and CRDs carry (PEM, one or more certificates).
    pub ca_bundle: String,
    /// The CA's private key, when the gateway generated the CA.
    pub ca_key: Option<String>,
    /// The serving certificate chain.
    pub cert: String,
    /// The serving key.
    pub key: String,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |k: &Option<String>| k.as_ref().map(|_| "<redacted>");
        f.debug_struct("Material")
            .field("ca_bundle", &self.ca_bundle)
            .field("ca_key", &redacted(&self.ca_key))
            .field("cert", &self.cert)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// The default lifetime of generated certificates (spec: 1 year).
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// The default rotation threshold (spec: 30 days), capped at a third of the lifetime.
pub const DEFAULT_ROTATE_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Generates a CA and a serving certificate for `hosts` (DNS names or IPs), both valid for
/// `validity`.
///
/// # Errors
/// rcgen failures.
pub fn generate(hosts: &[String], validity: Duration) -> Result<Material> {
    let now = OffsetDateTime::now_utc();
    let not_before = now - time::Duration::minutes(1);
    let not_after = now + validity;
    let ca_key = KeyPair::generate().map_err(|e| Error::GenerateFailed("CA key", e))?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "ork-gateway-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_cert = ca
        .self_signed(&ca_key)
        .map_err(|e| Error::GenerateFailed("CA", e))?;
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().map_err(|e| Error::GenerateFailed("serving key", e))?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "ork-gateway");
    for host in hosts {
        let san = match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.as_str()
                    .try_into()
                    .map_err(|e| Error::GenerateFailed("serving certificate SAN", e))?,
            ),
        };
        params.subject_alt_names.push(san);
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| Error::GenerateFailed("serving certificate", e))?;
    Ok(Material {
        ca_bundle: ca_cert.pem(),
        ca_key: Some(ca_key.serialize_pem()),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// When the first certificate of a PEM chain expires.
///
/// # Errors
/// A PEM or certificate that does not parse.
pub fn not_after(cert_pem: &str) -> Result<OffsetDateTime> {
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| Error::PemInvalid("certificate", e))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&der).map_err(|_| Error::ExpiryUnreadable)?;
    Ok(cert.validity().not_after.to_datetime())
}

/// Whether material expiring at `expiry` must be rotated at `now`.
pub fn is_due(expiry: OffsetDateTime, rotate_before: Duration, now: OffsetDateTime) -> bool {
    now + rotate_before >= expiry
}

/// The rotation threshold for a lifetime: `rotate_before`, at most a third of the lifetime.
pub fn threshold(validity: Duration, rotate_before: Duration) -> Duration {
    rotate_before.min(validity / 3)
}

/// The SANs a serving certificate needs: the url host, or the Service's DNS names, and
/// loopback.
pub fn hosts_for(mode: &crate::ClientMode) -> Vec<String> {
    let mut hosts = match mode {
        crate::ClientMode::Url { host } => vec![host.clone()],
        crate::ClientMode::Service {
            namespace, name, ..
        } => vec![
            name.clone(),
            format!("{name}.{namespace}"),
            format!("{name}.{namespace}.svc"),
            format!("{name}.{namespace}.svc.cluster.local"),
        ],
    };
    for h in ["localhost", "127.0.0.1"] {
        if !hosts.iter().any(|x| x == h) {
            hosts.push(h.to_owned());
        }
    }
    hosts
}

fn certified_key(m: &Material) -> Result<CertifiedKey> {
    let chain = CertificateDer::pem_slice_iter(m.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::PemInvalid("certificate", e))?;
    let key = PrivateKeyDer::from_pem_slice(m.key.as_bytes())
        .map_err(|e| Error::PemInvalid("private key", e))?;
    let signer =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(Error::KeyRejected)?;
    Ok(CertifiedKey::new(chain, signer))
}

/// The protocol versions the webhook server speaks: TLS 1.3 and TLS 1.2 (rustls speaks
/// nothing older).
pub const PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The cipher suites the webhook server offers, strongest first: TLS 1.3's AEAD suites, and
/// for TLS 1.2 only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (no CBC, no RSA key
/// exchange, no SHA-1 MACs).
pub const CIPHER_SUITES: &[rustls::SupportedCipherSuite] = {
    use rustls::crypto::ring::cipher_suite as s;
    &[
        s::TLS13_AES_256_GCM_SHA384,
        s::TLS13_AES_128_GCM_SHA256,
        s::TLS13_CHACHA20_POLY1305_SHA256,
        s::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        s::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        s::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        s::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        s::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        s::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
};

/// Serves whatever certificate was last [`Resolver::swap`]ped in.
#[derive(Debug)]
pub struct Resolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl Resolver {
    /// A resolver serving `material`.
    ///
    /// # Errors
    /// Material rustls cannot use.
    pub fn new(material: &Material) -> Result<Arc<Resolver>> {
        Ok(Arc::new(Resolver {
            current: RwLock::new(Arc::new(certified_key(material)?)),
        }))
    }

    /// Serves `material` from the next handshake on.
    ///
    /// # Errors
    /// Material rustls cannot use (the old certificate stays).
    pub fn swap(&self, material: &Material) -> Result<()> {
        let key = Arc::new(certified_key(material)?);
        if let Ok(mut cur) = self.current.write() {
            *cur = key;
        }
        Ok(())
    }

    /// A rustls server configuration using this resolver (HTTP/1.1): TLS 1.3 and 1.2 only
    /// ([`PROTOCOL_VERSIONS`]), AEAD suites with ephemeral key exchange only
    /// ([`CIPHER_SUITES`]).
    pub fn server_config(self: &Arc<Self>) -> rustls::ServerConfig {
        let provider = Arc::new(rustls::crypto::CryptoProvider {
            cipher_suites: CIPHER_SUITES.to_vec(),
            ..rustls::crypto::ring::default_provider()
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(PROTOCOL_VERSIONS)
            .expect("ring supports TLS 1.2 and 1.3 with these suites")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|k| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_is_served_and_expires_when_asked() {
        let m = generate(
            &hosts_for(&crate::ClientMode::Url {
                host: "127.0.0.1".into(),
            }),
            Duration::from_secs(120),
        )
        .unwrap();
        let expiry = not_after(&m.cert).unwrap();
        let left = expiry - OffsetDateTime::now_utc();
        assert!(
            left > time::Duration::seconds(100) && left <= time::Duration::seconds(121),
            "{left}"
        );
        let now = OffsetDateTime::now_utc();
        assert!(!is_due(expiry, Duration::from_secs(30), now));
        assert!(is_due(expiry, Duration::from_secs(300), now));
        let r = Resolver::new(&m).unwrap();
        let other = generate(&["example.test".into()], Duration::from_secs(60)).unwrap();
        r.swap(&other).unwrap();
        assert!(
            r.swap(&Material {
                key: "junk".into(),
                ..other
            })
            .is_err()
        );
    }

    #[test]
    fn service_mode_names_the_service_dns_names() {
        let hosts = hosts_for(&crate::ClientMode::Service {
            namespace: "ork".into(),
            name: "gw".into(),
            port: 443,
        });
        assert!(hosts.contains(&"gw.ork.svc".to_owned()));
        assert!(hosts.contains(&"127.0.0.1".to_owned()));
    }

    #[test]
    fn the_threshold_is_at_most_a_third_of_the_lifetime() {
        assert_eq!(
            threshold(Duration::from_secs(90), DEFAULT_ROTATE_BEFORE),
            Duration::from_secs(30)
        );
        assert_eq!(
            threshold(DEFAULT_VALIDITY, DEFAULT_ROTATE_BEFORE),
            DEFAULT_ROTATE_BEFORE
        );
    }
}
