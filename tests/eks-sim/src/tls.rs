//! Per-cluster TLS: a fresh CA and a 127.0.0.1 serving certificate signed by it.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Failure to mint certificates or build the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen failed.
    #[error("generating a certificate")]
    Certificate(#[source] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("building the TLS server configuration")]
    Config(#[source] tokio_rustls::rustls::Error),
}

/// A cluster's CA (PEM, as DescribeCluster reports it base64-encoded) and server config.
pub struct ClusterTls {
    /// CA certificate, PEM.
    pub ca_pem: String,
    /// rustls server configuration presenting the 127.0.0.1 certificate.
    pub config: Arc<ServerConfig>,
}

/// Mints a CA named after `cluster_name` and a serving certificate for 127.0.0.1/localhost.
///
/// # Errors
///
/// [`TlsError`] when key generation, signing or the rustls configuration fails.
pub fn cluster_tls(cluster_name: &str) -> Result<ClusterTls, TlsError> {
    let ca_key = KeyPair::generate().map_err(TlsError::Certificate)?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(TlsError::Certificate)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("kubernetes ({cluster_name})"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(TlsError::Certificate)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(TlsError::Certificate)?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(TlsError::Certificate)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let cert = params
        .signed_by(&server_key, &issuer)
        .map_err(TlsError::Certificate)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(TlsError::Config)?;
    Ok(ClusterTls {
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    })
}
