//! Credential documents in and out.
//!
//! In: the JSON of `aws sts get-federation-token` / `get-session-token` /
//! `assume-role`, a `credential_process` document, an instance-metadata
//! document, and this module's own `env` and `ini` outputs, so every output
//! format can be sealed again.
//!
//! Out: [`OutputFormat`]s, written into zeroizing buffers sized up front.

pub mod credentials_file;
pub mod environment;
pub mod ini;
pub(crate) mod shells;

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use self::shells::Shell;
use crate::clock;
use crate::credentials::{
    infer_kind, into_secret, reveal, AssumedRoleUser, Credentials, FederatedUser, Token,
};
use crate::documents::environment::environment;
use crate::envelope::{AssumedRoleUserWire, FederatedUserWire};
use crate::{Error, Result};

/// A credential document larger than this is refused.
pub const MAX_DOCUMENT_SIZE: usize = 1 << 20;

/// Reads a credential document from the file at `path`, at most
/// [`MAX_DOCUMENT_SIZE`] bytes, and parses it ([`parse_document`]).
pub fn read_document_file(path: &Path) -> Result<Token> {
    let io = |e| Error::io("cannot read", path, e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_or(0, |m| m.len());
    let bytes = crate::files::read_capped(&mut f, MAX_DOCUMENT_SIZE, Some(size)).map_err(io)?;
    document_from(bytes)
}

/// Reads a credential document from `r` (a pipe, named `name` in messages),
/// at most [`MAX_DOCUMENT_SIZE`] bytes, and parses it ([`parse_document`]).
pub fn read_document(mut r: impl Read, name: &str) -> Result<Token> {
    let bytes = crate::files::read_capped(&mut r, MAX_DOCUMENT_SIZE, None).map_err(|e| {
        Error::new(
            crate::ErrorKind::Io { path: name.into() },
            format!("cannot read {name}: {e}"),
        )
        .with_source(e)
    })?;
    document_from(bytes)
}

fn document_from(bytes: Option<Zeroizing<Vec<u8>>>) -> Result<Token> {
    let bytes = bytes.ok_or_else(|| {
        Error::document(format!(
            "the credential document is larger than {} KiB",
            MAX_DOCUMENT_SIZE / 1024
        ))
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::document("the credential document is not UTF-8 text"))?;
    parse_document(text)
}

/// How `open` prints credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// `export AWS_ACCESS_KEY_ID=...` lines for `eval`.
    Env,
    /// The STS-shaped JSON document (`Credentials`, `FederatedUser` or
    /// `AssumedRoleUser`, `PackedPolicySize`).
    Json,
    /// The AWS `credential_process` document.
    CredentialProcess,
    /// A section for the shared credentials file.
    Ini,
    /// `NAME=value` lines for sh, without `export` (`aws configure
    /// export-credentials --format env-no-export`).
    EnvNoExport,
    /// `set -gx NAME 'value'` lines for fish.
    Fish,
    /// `$Env:NAME = 'value'` lines for PowerShell.
    PowerShell,
    /// `set NAME=value` lines for cmd.exe; a value cmd.exe cannot take
    /// safely makes [`render`] fail.
    WindowsCmd,
    /// The instance-metadata / container-credentials document (`Code`,
    /// `LastUpdated`, `Type`, `AccessKeyId`, `SecretAccessKey`, `Token`,
    /// `Expiration`).
    Imds,
}

/// Reads a credential document: STS JSON, `credential_process` JSON,
/// instance-metadata JSON, or `env`/`ini` text as `open` prints them. The kind
/// is inferred: a federated user means federation, an assumed-role user a
/// role, a session token alone a session, else static keys.
///
/// ```
/// let doc = r#"{"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#;
/// let token = handoff::parse_document(doc)?;
/// assert_eq!(token.kind(), handoff::Kind::Static);
/// # Ok::<(), handoff::Error>(())
/// ```
pub fn parse_document(text: &str) -> Result<Token> {
    let token = parse_any(text)?;
    refuse_nul(&token)?;
    Ok(token)
}

/// A NUL byte in a value the shell formats carry (no shell variable can
/// hold one, so `open`'s default format would refuse the token): refused
/// here, so that `seal` never writes what `open` refuses.
fn refuse_nul(token: &Token) -> Result<()> {
    use secrecy::ExposeSecret;
    let fields = [
        ("AccessKeyId", Some(token.access_key_id())),
        (
            "SecretAccessKey",
            Some(token.secret_access_key().expose_secret()),
        ),
        (
            "SessionToken",
            token.session_token().map(|s| s.expose_secret()),
        ),
        ("Region", token.region()),
    ];
    for (name, value) in fields {
        if value.is_some_and(|v| v.contains('\0')) {
            return Err(Error::document(format!(
                "the document's {name} holds a NUL byte, which no shell variable can carry"
            )));
        }
    }
    Ok(())
}

fn parse_any(text: &str) -> Result<Token> {
    let t = text.trim_start();
    if t.starts_with('{') {
        parse_json(t)
    } else if t.starts_with('[') || t.starts_with('#') && t.contains("aws_access_key_id") {
        parse_ini(t)
    } else if t.contains("AWS_ACCESS_KEY_ID") {
        parse_env(t)
    } else {
        Err(Error::document(
            "not a credential document: expected the JSON of aws sts get-federation-token, \
             get-session-token or assume-role, a credential_process or instance-metadata document, \
             or handoff's env or ini output",
        ))
    }
}

#[derive(Deserialize)]
struct DocIn {
    #[serde(rename = "Credentials")]
    credentials: Option<StsCredentials>,
    #[serde(rename = "FederatedUser")]
    federated_user: Option<FederatedUserWire<String>>,
    #[serde(rename = "AssumedRoleUser")]
    assumed_role_user: Option<AssumedRoleUserWire<String>>,
    #[serde(rename = "PackedPolicySize")]
    packed_policy_size: Option<u32>,
    #[serde(rename = "Policy")]
    policy: Option<String>,
    #[serde(rename = "Region")]
    region: Option<String>,
    #[serde(rename = "Label")]
    label: Option<String>,
    // credential_process and instance metadata: the fields at the top level.
    #[serde(rename = "Version")]
    version: Option<serde_json::Value>,
    #[serde(rename = "AccessKeyId")]
    access_key_id: Option<String>,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: Option<SecretString>,
    #[serde(rename = "SessionToken")]
    session_token: Option<SecretString>,
    #[serde(rename = "Token")]
    token: Option<SecretString>,
    #[serde(rename = "Expiration")]
    expiration: Option<String>,
}

#[derive(Deserialize)]
struct StsCredentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: SecretString,
    #[serde(rename = "SessionToken")]
    session_token: Option<SecretString>,
    #[serde(rename = "Expiration")]
    expiration: Option<String>,
}

fn parse_json(text: &str) -> Result<Token> {
    // (serde_json's error is not kept as the source: its words can quote
    // the input, which holds secrets)
    let doc: DocIn = serde_json::from_str(text).map_err(|e| {
        Error::new(
            crate::ErrorKind::Document {
                line: Some(e.line()),
            },
            format!("the credential document is not valid: {}", json_error(&e)),
        )
    })?;
    let (akid, secret, session, expiration) = match doc.credentials {
        Some(c) => (
            c.access_key_id,
            c.secret_access_key,
            c.session_token,
            c.expiration,
        ),
        None => {
            if let Some(v) = &doc.version {
                if v.as_u64() != Some(1) {
                    return Err(Error::document(format!(
                        "credential_process document version {v} is not supported (only 1)"
                    )));
                }
            }
            let akid = doc
                .access_key_id
                .ok_or_else(|| Error::document("the credential document has no AccessKeyId"))?;
            let secret = doc
                .secret_access_key
                .ok_or_else(|| Error::document("the credential document has no SecretAccessKey"))?;
            (
                akid,
                secret,
                doc.session_token.or(doc.token),
                doc.expiration,
            )
        }
    };
    build(
        akid,
        secret,
        session,
        expiration.as_deref(),
        doc.federated_user.map(|u| FederatedUser {
            federated_user_id: u.federated_user_id,
            arn: u.arn,
        }),
        doc.assumed_role_user.map(|u| AssumedRoleUser {
            assumed_role_id: u.assumed_role_id,
            arn: u.arn,
        }),
    )
    .map(|t| t.with_details(doc.packed_policy_size, doc.policy, doc.region, doc.label))
}

/// Describes a JSON error by position only: serde_json's messages can quote
/// the input, and the input holds secrets.
fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "it could not be read",
        Category::Syntax => "invalid JSON",
        Category::Data => "a field is missing or has the wrong type",
        Category::Eof => "it ends early",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

fn build(
    access_key_id: String,
    secret: SecretString,
    session_token: Option<SecretString>,
    expiration: Option<&str>,
    federated_user: Option<FederatedUser>,
    assumed_role_user: Option<AssumedRoleUser>,
) -> Result<Token> {
    if access_key_id.trim().is_empty() {
        return Err(Error::document(
            "the credential document has an empty AccessKeyId",
        ));
    }
    if reveal(&secret).is_empty() {
        return Err(Error::document(
            "the credential document has an empty SecretAccessKey",
        ));
    }
    let session_token = session_token.filter(|t| !reveal(t).is_empty());
    let expiration = match expiration.filter(|e| !e.trim().is_empty()) {
        Some(e) => Some(clock::parse_rfc3339(e).ok_or_else(|| {
            // The value is not quoted: a misplaced secret must not be echoed.
            Error::document(
                "the Expiration is not an ISO 8601 date and time from 1970 to 9999 UTC (like 2026-11-26T18:00:00Z)",
            )
        })?),
        None => None,
    };
    let kind = infer_kind(
        federated_user.is_some(),
        assumed_role_user.is_some(),
        session_token.is_some(),
    );
    let mut token = Token::new(
        kind,
        Credentials::new(access_key_id, secret, session_token, expiration),
    );
    if let Some(u) = federated_user {
        token = token.with_federated_user(u);
    }
    if let Some(u) = assumed_role_user {
        token = token.with_assumed_role_user(u);
    }
    Ok(token)
}

/// Reads `export NAME='value'` / `NAME=value` lines.
fn parse_env(text: &str) -> Result<Token> {
    let mut fields = Fields::default();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        // the region as the env formats write it: the caller's, else the
        // token's: AWS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-'eu-west-1'}}
        let value = match value.strip_prefix("${") {
            Some(v) => v
                .rsplit_once(":-")
                .map_or("", |(_, d)| d.trim_end_matches('}')),
            None => value,
        };
        // unquoted (a copy) only for the names read: a copy of any other
        // line's value would be dropped unwiped
        match name.trim() {
            "AWS_ACCESS_KEY_ID" => fields.akid = Some(unquote(value)),
            "AWS_SECRET_ACCESS_KEY" => fields.secret = Some(into_secret(unquote(value))),
            "AWS_SESSION_TOKEN" | "AWS_SECURITY_TOKEN" => {
                fields.session = Some(into_secret(unquote(value)))
            }
            "AWS_CREDENTIAL_EXPIRATION" => fields.expiration = Some(unquote(value)),
            "AWS_REGION" if !value.is_empty() => fields.region = Some(unquote(value)),
            _ => {}
        }
    }
    fields.finish("env")
}

/// Reads the first section of a shared-credentials-file snippet.
fn parse_ini(text: &str) -> Result<Token> {
    let mut fields = Fields::default();
    let mut sections = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            sections += 1;
            if sections > 1 {
                break;
            }
            continue;
        }
        if let Some(exp) = line.strip_prefix(INI_EXPIRES) {
            fields.expiration = Some(exp.trim().to_string());
            continue;
        }
        // A comment (`#`, `;`) needs no test of its own: its key would
        // start with the comment character and so name no field.
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_string();
        match key.trim() {
            "aws_access_key_id" => fields.akid = Some(value),
            "aws_secret_access_key" => fields.secret = Some(into_secret(value)),
            "aws_session_token" | "aws_security_token" => fields.session = Some(into_secret(value)),
            "region" => fields.region = Some(value),
            _ => {}
        }
    }
    fields.finish("ini")
}

#[derive(Default)]
struct Fields {
    akid: Option<String>,
    secret: Option<SecretString>,
    session: Option<SecretString>,
    expiration: Option<String>,
    region: Option<String>,
}

impl Fields {
    fn finish(self, what: &str) -> Result<Token> {
        let akid = self
            .akid
            .ok_or_else(|| Error::document(format!("the {what} document has no access key id")))?;
        let secret = self.secret.ok_or_else(|| {
            Error::document(format!("the {what} document has no secret access key"))
        })?;
        let mut t = build(
            akid,
            secret,
            self.session,
            self.expiration.as_deref(),
            None,
            None,
        )?;
        if let Some(r) = self.region {
            t = t.with_region(r);
        }
        Ok(t)
    }
}

fn unquote(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        inner.replace("'\\''", "'")
    } else if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        inner.to_string()
    } else {
        v.to_string()
    }
}

const INI_EXPIRES: &str = "# handoff: expires";

/// The default section name of [`OutputFormat::Ini`].
pub const DEFAULT_INI_SECTION: &str = "handoff";

/// Writes a token's credentials in `format`. `ini_section` names the section
/// of the `ini` format. The shell formats follow the rule of
/// [`environment`](crate::environment()); they fail only where a value cannot be
/// quoted safely for the shell (cmd.exe, and control characters for
/// PowerShell).
pub fn render(token: &Token, format: OutputFormat, ini_section: &str) -> Result<Zeroizing<String>> {
    let c = token.credentials();
    let mut out = Zeroizing::new(String::with_capacity(render_capacity(token, ini_section)));
    let expiration = c.expiration().map(clock::format_rfc3339);
    match format {
        OutputFormat::Env
        | OutputFormat::EnvNoExport
        | OutputFormat::Fish
        | OutputFormat::PowerShell
        | OutputFormat::WindowsCmd => {
            let shell = match format {
                OutputFormat::Fish => Shell::Fish,
                OutputFormat::PowerShell => Shell::Pwsh,
                OutputFormat::WindowsCmd => Shell::Cmd,
                f => Shell::Sh {
                    export: f == OutputFormat::Env,
                },
            };
            shells::write(&mut out, &environment(token), shell)?;
        }
        OutputFormat::Imds => {
            #[derive(Serialize)]
            struct Doc<'a> {
                #[serde(rename = "Code")]
                code: &'a str,
                #[serde(rename = "LastUpdated")]
                last_updated: &'a str,
                #[serde(rename = "Type")]
                kind: &'a str,
                #[serde(rename = "AccessKeyId")]
                access_key_id: &'a str,
                #[serde(rename = "SecretAccessKey")]
                secret_access_key: &'a str,
                #[serde(rename = "Token", skip_serializing_if = "Option::is_none")]
                token: Option<&'a str>,
                #[serde(rename = "Expiration", skip_serializing_if = "Option::is_none")]
                expiration: Option<&'a str>,
            }
            let updated = clock::format_rfc3339(token.issued_at().unwrap_or_else(clock::now));
            let doc = Doc {
                code: "Success",
                last_updated: &updated,
                kind: "AWS-HMAC",
                access_key_id: c.access_key_id(),
                secret_access_key: reveal(c.secret_access_key()),
                token: c.session_token().map(reveal),
                expiration: expiration.as_deref(),
            };
            write_json(&mut out, &doc);
        }
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                #[serde(rename = "Credentials")]
                credentials: Creds<'a>,
                #[serde(rename = "FederatedUser", skip_serializing_if = "Option::is_none")]
                federated_user: Option<FederatedUserWire<&'a str>>,
                #[serde(rename = "AssumedRoleUser", skip_serializing_if = "Option::is_none")]
                assumed_role_user: Option<AssumedRoleUserWire<&'a str>>,
                #[serde(rename = "PackedPolicySize", skip_serializing_if = "Option::is_none")]
                packed_policy_size: Option<u32>,
                #[serde(rename = "Policy", skip_serializing_if = "Option::is_none")]
                policy: Option<&'a str>,
                #[serde(rename = "Region", skip_serializing_if = "Option::is_none")]
                region: Option<&'a str>,
                #[serde(rename = "Label", skip_serializing_if = "Option::is_none")]
                label: Option<&'a str>,
            }
            let doc = Doc {
                credentials: Creds {
                    access_key_id: c.access_key_id(),
                    secret_access_key: reveal(c.secret_access_key()),
                    session_token: c.session_token().map(reveal),
                    expiration: expiration.as_deref(),
                },
                federated_user: token.federated_user().map(|u| FederatedUserWire {
                    federated_user_id: u.federated_user_id.as_str(),
                    arn: u.arn.as_str(),
                }),
                assumed_role_user: token.assumed_role_user().map(|u| AssumedRoleUserWire {
                    assumed_role_id: u.assumed_role_id.as_str(),
                    arn: u.arn.as_str(),
                }),
                packed_policy_size: token.packed_policy_size(),
                policy: token.policy(),
                region: token.region(),
                label: token.label(),
            };
            write_json(&mut out, &doc);
        }
        OutputFormat::CredentialProcess => {
            #[derive(Serialize)]
            struct Doc<'a> {
                #[serde(rename = "Version")]
                version: u8,
                #[serde(flatten)]
                credentials: Creds<'a>,
            }
            let doc = Doc {
                version: 1,
                credentials: Creds {
                    access_key_id: c.access_key_id(),
                    secret_access_key: reveal(c.secret_access_key()),
                    session_token: c.session_token().map(reveal),
                    expiration: expiration.as_deref(),
                },
            };
            write_json(&mut out, &doc);
        }
        OutputFormat::Ini => {
            let _ = writeln!(out, "[{ini_section}]");
            if let Some(e) = &expiration {
                let _ = writeln!(out, "{INI_EXPIRES} {e}");
            }
            let _ = writeln!(out, "aws_access_key_id = {}", c.access_key_id());
            let _ = writeln!(
                out,
                "aws_secret_access_key = {}",
                reveal(c.secret_access_key())
            );
            if let Some(t) = c.session_token() {
                let _ = writeln!(out, "aws_session_token = {}", reveal(t));
            }
        }
    }
    Ok(out)
}

/// Room in [`render`]'s buffer for the text of the longest format besides
/// its fields: variable names, `export`, the shells' region lines, JSON keys
/// and indentation, the dates.
const RENDER_FIXED: usize = 1024;

/// The buffer [`render`] writes into, sized so that it never grows (growing
/// would leave an unwiped copy of the secrets): [`RENDER_FIXED`], the ini
/// section's name, and every field the formats show six times over, the
/// most any format makes of one byte (JSON writes a control character as
/// `\u00XX`; sh a `'` as `'\''`, four).
fn render_capacity(token: &Token, ini_section: &str) -> usize {
    let fields = token.text_len();
    RENDER_FIXED + ini_section.len() + 6 * fields
}

/// The credentials as JSON: STS's `Credentials`, and the body of a
/// `credential_process` document.
#[derive(Serialize)]
struct Creds<'a> {
    #[serde(rename = "AccessKeyId")]
    access_key_id: &'a str,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: &'a str,
    #[serde(rename = "SessionToken", skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    #[serde(rename = "Expiration", skip_serializing_if = "Option::is_none")]
    expiration: Option<&'a str>,
}

fn write_json<T: Serialize>(out: &mut Zeroizing<String>, doc: &T) {
    // A Vec with the String's spare capacity: serializing never reallocates.
    let mut buf = Zeroizing::new(Vec::with_capacity(out.capacity()));
    if serde_json::to_writer_pretty(&mut *buf, doc).is_ok() {
        if let Ok(s) = std::str::from_utf8(&buf) {
            out.push_str(s);
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_nul_byte_in_a_shell_value_is_refused_at_parse() {
        for doc in [
            "[default]\naws_access_key_id = AKIAIOSFODNN\u{0}7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            r#"{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalr\u0000XUtnFEMI", "Token": "t", "Expiration": "2099-01-01T00:00:00Z"}"#,
        ] {
            let e = parse_document(doc).unwrap_err();
            assert!(e.to_string().contains("holds a NUL byte"), "{e}");
            assert_eq!(e.kind(), &crate::ErrorKind::Document { line: None });
        }
    }

    use super::*;

    const STS: &str = r#"{
        "Credentials": {
            "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "SessionToken": "AQoDYXdzEPT//////////wEXAMPLEtc764",
            "Expiration": "2030-01-01T00:00:00+00:00"
        },
        "FederatedUser": {
            "FederatedUserId": "123456789012:TestUser",
            "Arn": "arn:aws:sts::123456789012:federated-user/TestUser"
        },
        "PackedPolicySize": 6
    }"#;

    #[test]
    fn sts_federation_document() {
        let t = parse_document(STS).unwrap();
        assert_eq!(t.kind(), crate::Kind::Federation);
        assert_eq!(t.packed_policy_size(), Some(6));
        assert_eq!(
            t.arn(),
            Some("arn:aws:sts::123456789012:federated-user/TestUser")
        );
        assert_eq!(t.expiration(), clock::parse_rfc3339("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn other_shapes() {
        let role = r#"{"Credentials": {"AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T00:00:00Z"},
                       "AssumedRoleUser": {"AssumedRoleId": "AROA1:s", "Arn": "arn:aws:sts::123456789012:assumed-role/r/s"}}"#;
        assert_eq!(parse_document(role).unwrap().kind(), crate::Kind::Role);
        let session = r#"{"Credentials": {"AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T00:00:00Z"}}"#;
        assert_eq!(
            parse_document(session).unwrap().kind(),
            crate::Kind::Session
        );
        let process = r#"{"Version": 1, "AccessKeyId": "AKIA1", "SecretAccessKey": "s"}"#;
        assert_eq!(parse_document(process).unwrap().kind(), crate::Kind::Static);
        let imds = r#"{"Code": "Success", "LastUpdated": "2026-11-26T12:00:00Z", "Type": "AWS-HMAC",
                       "AccessKeyId": "ASIA1", "SecretAccessKey": "s", "Token": "t", "Expiration": "2030-01-01T00:00:00Z"}"#;
        let t = parse_document(imds).unwrap();
        assert_eq!(t.kind(), crate::Kind::Session);
        assert_eq!(t.session_token().map(reveal), Some("t"));
    }

    #[test]
    fn broken_documents_never_echo_secrets() {
        let cases = [
            "",
            "hello",
            "{",
            r#"{"Credentials": {"AccessKeyId": "A"}}"#,
            r#"{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "SECRETMARKER", "Expiration": "tomorrow"}}"#,
            r#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "SECRETMARKER"}"#,
            r#"{"AccessKeyId": "A", "SecretAccessKey": 5}"#,
            r#"{"AccessKeyId": "", "SecretAccessKey": "SECRETMARKER"}"#,
            r#"{"AccessKeyId": "A", "SecretAccessKey": "SECRETMARKER""#,
            "export AWS_ACCESS_KEY_ID=A\n",
            "[x]\naws_secret_access_key = SECRETMARKER\n",
        ];
        for c in cases {
            let e = parse_document(c).unwrap_err();
            assert!(
                matches!(e.kind(), crate::ErrorKind::Document { .. }),
                "{c}: {e}"
            );
            assert!(!e.to_string().contains("SECRETMARKER"), "{c}: {e}");
        }
    }

    #[test]
    fn every_format_round_trips_through_the_parser() {
        let t = parse_document(STS).unwrap().with_region("eu-west-1");
        for f in [
            OutputFormat::Env,
            OutputFormat::EnvNoExport,
            OutputFormat::Json,
            OutputFormat::CredentialProcess,
            OutputFormat::Ini,
            OutputFormat::Imds,
        ] {
            let out = render(&t, f, "work").unwrap();
            let back = parse_document(&out).unwrap();
            assert_eq!(back.access_key_id(), t.access_key_id(), "{f:?}");
            assert_eq!(
                reveal(back.secret_access_key()),
                reveal(t.secret_access_key()),
                "{f:?}"
            );
            assert_eq!(
                back.session_token().map(reveal),
                t.session_token().map(reveal),
                "{f:?}"
            );
            assert_eq!(back.expiration(), t.expiration(), "{f:?}");
            if matches!(
                f,
                OutputFormat::Env | OutputFormat::EnvNoExport | OutputFormat::Json
            ) {
                assert_eq!(back.region(), Some("eu-west-1"), "{f:?}");
            }
            if f == OutputFormat::Json {
                assert_eq!(back.kind(), crate::Kind::Federation);
                assert_eq!(back.federated_user(), t.federated_user());
                assert_eq!(back.packed_policy_size(), Some(6));
            }
        }
    }

    const ALL_FORMATS: [OutputFormat; 9] = [
        OutputFormat::Env,
        OutputFormat::EnvNoExport,
        OutputFormat::Fish,
        OutputFormat::PowerShell,
        OutputFormat::WindowsCmd,
        OutputFormat::Json,
        OutputFormat::CredentialProcess,
        OutputFormat::Ini,
        OutputFormat::Imds,
    ];

    #[test]
    fn render_capacity_known_answer() {
        // 20 + 40 + 34 + 21 + 49 + 104 (the policy) + 9 + 13 bytes of fields
        let t = parse_document(STS)
            .unwrap()
            .with_policy(crate::Policy::new().allow("DescribeImages").to_string())
            .with_region("eu-west-1")
            .with_label("for the build");
        assert_eq!(render_capacity(&t, "work"), 1024 + 4 + 6 * 290);
        let role = Token::new(
            crate::Kind::Role,
            Credentials::new("A", "ss".into(), None, None),
        )
        .with_assumed_role_user(AssumedRoleUser {
            assumed_role_id: "abc".into(),
            arn: "abcd".into(),
        });
        assert_eq!(render_capacity(&role, ""), 1024 + 6 * 10);
    }

    /// Every format, for tokens each of whose fields in turn is long and made
    /// of the characters its quoting expands most: the buffer `render` made
    /// is the one it returns, never grown (a grown buffer leaves an unwiped
    /// copy of the secrets behind).
    #[test]
    fn render_never_grows_its_buffer() {
        let plain = || Credentials::new("AKIAIOSFODNN7EXAMPLE", "s".into(), None, None);
        for unit in ["'", "\"", "\\", "\u{1}", "\u{2018}", "A"] {
            let long = unit.repeat(3000);
            let creds = |ak: &str, sk: &str, st: Option<&str>| {
                Credentials::new(ak, sk.into(), st.map(Into::into), None)
            };
            let tokens = [
                Token::new(crate::Kind::Static, creds(&long, "s", None)),
                Token::new(crate::Kind::Static, creds("A", &long, None)),
                Token::new(crate::Kind::Session, creds("A", "s", Some(&long))),
                Token::new(crate::Kind::Federation, plain()).with_federated_user(FederatedUser {
                    federated_user_id: long.clone(),
                    arn: long.clone(),
                }),
                Token::new(crate::Kind::Role, plain()).with_assumed_role_user(AssumedRoleUser {
                    assumed_role_id: long.clone(),
                    arn: long.clone(),
                }),
                Token::new(crate::Kind::Static, plain()).with_policy(long.clone()),
                Token::new(crate::Kind::Static, plain()).with_region(long.clone()),
                Token::new(crate::Kind::Static, plain()).with_label(long.clone()),
            ];
            for (i, t) in tokens.iter().enumerate() {
                for f in ALL_FORMATS {
                    let section = unit.repeat(2000);
                    // cmd.exe and PowerShell refuse what they cannot quote
                    if let Ok(out) = render(t, f, &section) {
                        assert_eq!(
                            out.capacity(),
                            render_capacity(t, &section),
                            "{f:?}, token {i}, {unit:?}: the buffer grew"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn env_quotes_for_the_shell() {
        let quote = |v: &str| {
            let mut s = String::new();
            crate::documents::shells::push_sh_quoted(&mut s, v);
            s
        };
        // quoted even where sh would take it bare: zsh would not
        assert_eq!(quote("abc/+="), "'abc/+='");
        assert_eq!(quote("=ls"), "'=ls'");
        assert_eq!(quote("it's $HOME"), r#"'it'\''s $HOME'"#);
        assert_eq!(quote(""), "''");
        let t = Token::new(
            crate::Kind::Static,
            Credentials::new("AKIA1", "a'b $c".into(), None, None),
        );
        let out = render(&t, OutputFormat::Env, "x").unwrap();
        assert!(
            out.contains(r#"export AWS_SECRET_ACCESS_KEY='a'\''b $c'"#),
            "{}",
            *out
        );
        assert_eq!(
            reveal(parse_document(&out).unwrap().secret_access_key()),
            "a'b $c"
        );
    }

    fn doc_error(text: &str) -> String {
        let e = parse_document(text).unwrap_err();
        match e.kind() {
            crate::ErrorKind::Document { .. } => e.to_string(),
            _ => panic!("not a document error: {e}"),
        }
    }

    #[test]
    fn document_errors_say_which_and_where() {
        let e = parse_document("{\n]").unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::Document { line: Some(2) });
        assert!(
            std::error::Error::source(&e).is_none(),
            "serde's words may quote secrets"
        );
        for (text, want) in [
            ("{", "the credential document is not valid: it ends early at line 1 column 1"),
            ("{]", "the credential document is not valid: invalid JSON at line 1 column 2"),
            (
                r#"{"AccessKeyId": 5}"#,
                "the credential document is not valid: a field is missing or has the wrong type at line 1 column 17",
            ),
            (
                r#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s"}"#,
                "credential_process document version 2 is not supported (only 1)",
            ),
            (
                r#"{"Version": "1", "AccessKeyId": "A", "SecretAccessKey": "s"}"#,
                "credential_process document version \"1\" is not supported (only 1)",
            ),
            (r#"{"SecretAccessKey": "s"}"#, "the credential document has no AccessKeyId"),
            (r#"{"AccessKeyId": "A"}"#, "the credential document has no SecretAccessKey"),
            (
                r#"{"AccessKeyId": " ", "SecretAccessKey": "s"}"#,
                "the credential document has an empty AccessKeyId",
            ),
            (
                r#"{"AccessKeyId": "A", "SecretAccessKey": ""}"#,
                "the credential document has an empty SecretAccessKey",
            ),
            (
                r#"{"AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": "soon"}"#,
                "the Expiration is not an ISO 8601 date and time from 1970 to 9999 UTC (like 2026-11-26T18:00:00Z)",
            ),
            ("export AWS_ACCESS_KEY_ID=A\n", "the env document has no secret access key"),
            ("AWS_SECRET_ACCESS_KEY=s AWS_ACCESS_KEY_ID\n", "the env document has no access key id"),
            ("[x]\naws_access_key_id = A\n", "the ini document has no secret access key"),
            ("[x]\naws_secret_access_key = s\n", "the ini document has no access key id"),
        ] {
            assert_eq!(doc_error(text), want, "{text}");
        }
        assert!(doc_error("# notes\nnothing here").starts_with("not a credential document"));
    }

    #[test]
    fn empty_optional_fields_are_absent() {
        let t = parse_document(
            r#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "", "Expiration": " "}"#,
        )
        .unwrap();
        assert!(t.session_token().is_none() && t.expiration().is_none());
        assert_eq!(t.kind(), crate::Kind::Static);
        // SessionToken wins over Token
        let t = parse_document(
            r#"{"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "st", "Token": "t"}"#,
        )
        .unwrap();
        assert_eq!(t.session_token().map(reveal), Some("st"));
        let t = parse_document(
            r#"{"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "s"}, "Policy": "p", "Region": "r", "Label": "l", "PackedPolicySize": 3}"#,
        )
        .unwrap();
        assert_eq!(
            (t.policy(), t.region(), t.label(), t.packed_policy_size()),
            (Some("p"), Some("r"), Some("l"), Some(3))
        );
    }

    #[test]
    fn env_documents_as_shells_write_them() {
        let t = parse_document(
            "# from handoff\nexport AWS_ACCESS_KEY_ID='ASIA1'\n  AWS_SECRET_ACCESS_KEY=\"s'q\"\n\
             export AWS_SECURITY_TOKEN='it'\\''s'\nAWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z\n\
             export AWS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-'eu-west-1'}}\nOTHER='x'\nno equals\n",
        )
        .unwrap();
        assert_eq!(t.access_key_id(), "ASIA1");
        assert_eq!(reveal(t.secret_access_key()), "s'q");
        assert_eq!(t.session_token().map(reveal), Some("it's"));
        assert_eq!(t.expiration(), clock::parse_rfc3339("2030-01-01T00:00:00Z"));
        assert_eq!(t.region(), Some("eu-west-1"));
        assert_eq!(t.kind(), crate::Kind::Session);
        let t = parse_document(
            "AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=s\nAWS_REGION=\nAWS_SESSION_TOKEN=t\n",
        )
        .unwrap();
        assert_eq!(t.region(), None);
        assert_eq!(t.session_token().map(reveal), Some("t"));
        let t = parse_document(
            "AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=s\nAWS_REGION=${AWS_REGION}\n",
        )
        .unwrap();
        assert_eq!(t.region(), None);
        assert_eq!(unquote("'a'\\''b'"), "a'b");
        assert_eq!(unquote("\"a\""), "a");
        assert_eq!(unquote("'a"), "'a");
        assert_eq!(unquote("\"a"), "\"a");
        assert_eq!(unquote("a"), "a");
    }

    #[test]
    fn ini_documents_read_their_first_section() {
        let t = parse_document(
            "# handoff: expires 2030-01-01T00:00:00Z\n[work]\n; c\n# c = d\naws_access_key_id = A\n\
             aws_secret_access_key = s\naws_security_token = t\nregion = eu-west-1\nno equals\n\
             [other]\naws_access_key_id = B\n",
        )
        .unwrap();
        assert_eq!(t.access_key_id(), "A");
        assert_eq!(t.session_token().map(reveal), Some("t"));
        assert_eq!(t.region(), Some("eu-west-1"));
        assert_eq!(t.expiration(), clock::parse_rfc3339("2030-01-01T00:00:00Z"));
        let t = parse_document(
            "[a]\naws_access_key_id = A\naws_secret_access_key = s\naws_session_token = u\n",
        )
        .unwrap();
        assert_eq!(t.session_token().map(reveal), Some("u"));
        assert_eq!(t.region(), None);
        // a comment first, then the keys: ini; env names in it do not matter
        let t = parse_document(
            "# AWS_ACCESS_KEY_ID\naws_access_key_id = A\naws_secret_access_key = s\n",
        )
        .unwrap();
        assert_eq!(t.access_key_id(), "A");
    }

    #[test]
    fn documents_from_files_and_pipes_are_bounded_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("doc.json");
        let doc = r#"{"AccessKeyId": "A", "SecretAccessKey": "s"}"#;
        std::fs::write(&p, doc).unwrap();
        assert_eq!(read_document_file(&p).unwrap().access_key_id(), "A");
        assert_eq!(
            read_document(doc.as_bytes(), "stdin")
                .unwrap()
                .access_key_id(),
            "A"
        );
        let mut big = doc.as_bytes().to_vec();
        big.resize(MAX_DOCUMENT_SIZE + 1, b' ');
        std::fs::write(&p, &big).unwrap();
        for e in [
            read_document_file(&p).unwrap_err(),
            read_document(&big[..], "stdin").unwrap_err(),
        ] {
            assert_eq!(
                e.to_string(),
                Error::document("the credential document is larger than 1024 KiB").to_string()
            );
        }
        big.truncate(MAX_DOCUMENT_SIZE);
        assert!(read_document(&big[..], "stdin").is_ok());
        let e = read_document(&b"\xff"[..], "stdin").unwrap_err();
        assert!(
            e.to_string()
                .contains("the credential document is not UTF-8 text"),
            "{e}"
        );
        let none = dir.path().join("none");
        let e = read_document_file(&none).unwrap_err();
        assert!(e.to_string().starts_with("cannot read"), "{e}");
        assert_eq!(e.kind(), &crate::ErrorKind::Io { path: none });
    }
}
