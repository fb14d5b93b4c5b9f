//! The TLS side of the transport: rustls configured as reqwest would, with
//! the system's roots loaded at the first handshake, and TLS failures told
//! in words.

use std::path::Path;
use std::sync::{Arc, OnceLock};

/// A verifier that trusts the certificates of the PEM file at `path`, and
/// only them.
fn bundle_verifier(
    path: &Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> std::result::Result<Arc<dyn rustls::client::danger::ServerCertVerifier>, String> {
    use rustls::pki_types::pem::PemObject;
    let bad = |why: String| format!("the CA bundle {}: {why}", path.display());
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(bad("holds no usable certificate".into()));
    }
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| bad(e.to_string()))?;
    Ok(verifier)
}

/// The TLS configuration reqwest would build for itself (rustls with the
/// process's default provider, ring unless one was installed; TLS 1.2 and
/// 1.3; SNI; ALPN http/1.1; certificates checked by rustls-platform-verifier
/// against the system's roots), except that the verifier, and so the loading
/// of the system's roots, waits for the first TLS handshake. Loading and
/// parsing the roots (every file in /etc/ssl/certs) is most of the work of
/// minting against an http:// endpoint, which never uses them.
///
/// With `ca_bundle` (`AWS_CA_BUNDLE`, or `ca_bundle` in the profile, as the
/// AWS CLI and SDKs take them), the certificates of that PEM file are the
/// only roots trusted, as botocore trusts them; the system's are not read.
pub(super) fn tls_config(
    ca_bundle: Option<&Path>,
) -> std::result::Result<rustls::ClientConfig, String> {
    // Installing fails harmlessly if the process already has a provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match ca_bundle {
        Some(path) => bundle_verifier(path, provider.clone())?,
        None => Arc::new(LazyVerifier {
            provider: provider.clone(),
            verifier: OnceLock::new(),
        }),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// rustls-platform-verifier's verifier, made on first use. Every check is
/// the platform verifier's own; only when it reads the roots changes.
#[derive(Debug)]
pub(super) struct LazyVerifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    verifier: OnceLock<std::result::Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn get(&self) -> std::result::Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl rustls::client::danger::ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        // What the platform verifier answers, without loading the roots:
        // the schemes its provider can verify.
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls error in `e`'s chain, if any.
pub(super) fn find_tls<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    // The chain, with io::Error's wrapped errors (which its `source()` skips).
    let mut stack = vec![e];
    while let Some(err) = stack.pop() {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            stack.push(inner);
        }
        if let Some(next) = err.source() {
            stack.push(next);
        }
    }
    None
}

/// When the TLS handshake failed on the server's certificate (untrusted,
/// expired, wrong name), what was wrong, in words (rustls's own messages
/// show its enums' Debug form: `Other(OtherError(CaUsedAsEndEntity))`).
/// Told from the types alone: rustls's errors, and webpki's inside them.
pub(super) fn certificate_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::CertificateError as C;
    let what = match find_tls(e)? {
        rustls::Error::NoCertificatesPresented => "the server presented no certificate",
        rustls::Error::InvalidCertificate(c) => match c {
            C::BadEncoding => "the server's certificate is malformed",
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired",
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet"
            }
            C::Revoked => "the server's certificate has been revoked",
            C::UnknownIssuer => {
                "the server's certificate is not signed by an authority this system trusts"
            }
            C::BadSignature
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                "the server's certificate has a bad or unsupported signature"
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate is not valid for this host name"
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the server's certificate is not one for a TLS server"
            }
            C::Other(other)
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                ) =>
            {
                "the server's certificate is a certificate authority's, not a server's"
            }
            _ => "the server's certificate was refused",
        },
        _ => return None,
    };
    Some(what.to_string())
}

/// Any other TLS failure, in words (rustls's messages hold Debug forms:
/// `received corrupt message of type InvalidContentType`).
pub(super) fn tls_words(tls: &rustls::Error) -> &'static str {
    use rustls::Error as E;
    match tls {
        E::AlertReceived(_) => "the server ended the TLS handshake with an alert",
        E::PeerIncompatible(_) => {
            "the server's TLS is not compatible with handoff's (versions or ciphers)"
        }
        E::InvalidMessage(_)
        | E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. }
        | E::PeerMisbehaved(_)
        | E::PeerSentOversizedRecord => {
            "the server does not speak TLS as it should (an http:// endpoint given as https://?)"
        }
        _ => "the TLS handshake failed",
    }
}
