//! Building and signing Query API requests: a form-encoded POST
//! (`Action=...&Version=...&...`) and its SigV4 headers, by the `aws-sigv4`
//! crate. Pure: [`sign`] is a function of the request, the credentials, the
//! region, the service and an explicit time.

use std::time::SystemTime;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::{Error, Result};

/// The content type of Query API requests.
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A form-encoded Query API request, before signing.
pub(crate) struct FormRequest {
    /// The URL it goes to.
    pub url: String,
    /// Its headers (the content type).
    pub headers: Vec<(&'static str, &'static str)>,
    /// The form-encoded parameters.
    pub body: Vec<u8>,
}

/// Builds the request for `params` (`Action` and `Version` among them,
/// first) to `endpoint`.
///
/// Names and values are percent-encoded as the AWS SDKs encode Query API
/// bodies: everything but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`), so a space is `%20` and `*` is `%2A`. (The
/// HTML form encoding leaves `*` bare and writes a space as `+`; AWS takes
/// either, but emulators that re-encode the body before checking the
/// signature, as moto does, only agree with the SDKs' form.)
pub(crate) fn form_request(endpoint: &str, params: &[(&str, &str)]) -> FormRequest {
    let mut body = Vec::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        percent_encode(k, &mut body);
        body.push(b'=');
        percent_encode(v, &mut body);
    }
    FormRequest {
        url: endpoint.to_string(),
        headers: vec![("content-type", FORM_CONTENT_TYPE)],
        body,
    }
}

pub(crate) fn percent_encode(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// A header the signature adds: `x-amz-date`, `authorization`, and for
/// temporary credentials `x-amz-security-token`.
pub(crate) struct SignedHeader {
    pub name: &'static str,
    pub value: Zeroizing<String>,
    pub sensitive: bool,
}

/// Signs a request with SigV4: a pure function of the request (method,
/// URL, headers, body), the credentials, the region, the service and the
/// time. Returns the headers to add. The session token, when there is one,
/// is signed (`X-Amz-Security-Token` is part of the canonical request).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<Vec<SignedHeader>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    let creds = aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key().expose_secret().to_string(),
        credentials
            .session_token()
            .map(|t| t.expose_secret().to_string()),
        None,
        "handoff",
    );
    let identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Error::other(format!("cannot sign the request: {e}")))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Error::other(format!("cannot sign the request to {url}: {e}")))?;
    let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| Error::other(format!("cannot sign the request to {url}: {e}")))?
        .into_parts();
    let (headers, _query) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| SignedHeader {
            name: h.name(),
            value: Zeroizing::new(h.value().to_string()),
            sensitive: h.sensitive() || h.name() == "authorization",
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The authorization header and the session token are marked sensitive
    /// (never logged); the date and the body's hash are not.
    #[test]
    fn secret_headers_are_marked_sensitive() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            Some("token".into()),
            None,
        );
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        let signed = sign(
            "POST",
            "https://sts.amazonaws.com/",
            &[("content-type", FORM_CONTENT_TYPE)],
            b"Action=GetCallerIdentity&Version=2011-06-15",
            &creds,
            "us-east-1",
            "sts",
            time,
        )
        .unwrap();
        let sensitive = |name: &str| {
            signed
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.sensitive)
                .unwrap_or_else(|| panic!("no {name} header"))
        };
        assert!(sensitive("authorization"));
        assert!(sensitive("x-amz-security-token"));
        assert!(!sensitive("x-amz-date"));
    }
}
