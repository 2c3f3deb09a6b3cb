//! kubeconfig files for the local control plane, and `kube` clients built from them the way
//! kubectl would read them.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::pki::CertKey;

/// Errors turning a kubeconfig into a client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The generated kubeconfig did not parse (a bug in this module).
    #[error("parsing the generated kubeconfig")]
    ParseFailed(#[source] kube::config::KubeconfigError),
    /// kube could not build a client configuration from it.
    #[error("building a client configuration")]
    ConfigFailed(#[source] kube::config::KubeconfigError),
    /// kube could not build the client.
    #[error("building a client")]
    ClientFailed(#[source] kube::Error),
    /// The file could not be written.
    #[error("writing {0}")]
    WriteFailed(std::path::PathBuf, #[source] std::io::Error),
}

/// Renders a kubeconfig with one cluster, one user and one context, all named `name`.
pub fn render(name: &str, server: &str, ca_pem: &str, user: &CertKey) -> String {
    let ca = STANDARD.encode(ca_pem);
    let cert = STANDARD.encode(&user.cert);
    let key = STANDARD.encode(&user.key);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {name}
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: {name}
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
contexts:
- name: {name}
  context:
    cluster: {name}
    user: {name}
current-context: {name}
"
    )
}

/// Writes a kubeconfig readable only by the current user (it holds a private key).
pub fn write(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| Error::WriteFailed(tmp.clone(), e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::WriteFailed(tmp.clone(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::WriteFailed(path.to_path_buf(), e))
}

/// A `kube::Config` from kubeconfig text, resolved exactly as for a user's kubeconfig.
pub async fn config(text: &str) -> Result<kube::Config, Error> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(text).map_err(Error::ParseFailed)?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(Error::ConfigFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rendered_kubeconfig_is_understood_by_kube() {
        let dir = tempfile::tempdir().unwrap();
        let pki = crate::pki::Pki::generate(dir.path()).unwrap();
        let text = render(
            "t",
            "https://127.0.0.1:6443",
            pki.serving_ca_pem(),
            pki.admin(),
        );
        let config = config(&text).await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:6443/");
    }
}
