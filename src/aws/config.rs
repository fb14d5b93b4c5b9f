//! Who signs, in which region, and at which endpoint: the AWS CLI's rules.
//!
//! [`Settings`] holds what the caller said explicitly (the CLI's
//! `--profile`, `--region`, `--endpoint-url`, `--verbose`);
//! [`Settings::resolve`] fills in the rest from the environment and the
//! shared files and returns a [`ClientConfig`] for one [`Service`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::{Error, Result};

/// How long to wait for a TCP (and TLS) connection: 3 seconds, what the AWS
/// SDKs use. An endpoint that does not accept a connection by then is
/// unreachable, and the retry gets another chance.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long to wait for the answer to start and for each later read of it:
/// 20 seconds. STS and the EC2 `Describe*` calls answer in well under a
/// second; 20 s leaves room for a slow link or a loaded region while still
/// failing (exit 6) well before a person gives up. The SDKs set no read
/// timeout at all. Override it with [`ClientConfig::with_read_timeout`], or
/// for a whole process with the `HANDOFF_READ_TIMEOUT_MS` environment
/// variable (milliseconds; the tests use it to provoke a timeout quickly).
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one call may take in all, retries and backoff included: 60
/// seconds. No attempt starts, no backoff waits and no read of an answer
/// begins after it; a read already waiting when it passes ends by the read
/// timeout, or sooner when the deadline was nearer than the read timeout
/// when the attempt started. So a call ends within `CALL_DEADLINE +`
/// [`READ_TIMEOUT`] (80 s) at the very worst, whatever the endpoint does
/// (a server that drips one byte a second never lets the read timeout
/// fire). Override it with [`ClientConfig::with_deadline`], or for a whole
/// process with `HANDOFF_DEADLINE_MS` (milliseconds).
pub const CALL_DEADLINE: Duration = Duration::from_secs(60);

/// What the caller chose explicitly. Everything left `None` comes from the
/// environment and the shared AWS files, as the AWS CLI finds it.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The profile in the shared credentials and config files (`--profile`).
    /// When given, its keys are used even if `AWS_ACCESS_KEY_ID` is set, as
    /// the AWS CLI does. Else `AWS_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// The region (`--region`). Else `AWS_REGION`, `AWS_DEFAULT_REGION`, the
    /// profile's `region`.
    pub region: Option<String>,
    /// The endpoint URL (`--endpoint-url`). Else `AWS_ENDPOINT_URL_STS` /
    /// `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL_IAM` /
    /// `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`,
    /// else AWS's own.
    pub endpoint_url: Option<String>,
    /// Print one line per request and per retry on stderr (never a body,
    /// a secret or a signature).
    pub verbose: bool,
}

/// The AWS services handoff calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// AWS Security Token Service (Query API version 2011-06-15).
    Sts,
    /// Amazon EC2 (Query API version 2016-11-15).
    Ec2,
    /// AWS Identity and Access Management (Query API version 2010-05-08):
    /// one global endpoint, `https://iam.amazonaws.com/`, signed for
    /// `us-east-1` whatever the region.
    Iam,
    /// Amazon DynamoDB (JSON protocol, target prefix `DynamoDB_20120810`):
    /// the team ledger's table. Needs a region, as EC2 does (signed for
    /// `us-east-1` with an endpoint URL and no region, as STS is).
    Dynamodb,
}

impl Service {
    /// The signing name and endpoint prefix: `sts`, `ec2`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Ec2 => "ec2",
            Service::Iam => "iam",
            Service::Dynamodb => "dynamodb",
        }
    }

    /// The Query API version sent with every request.
    pub(crate) fn api_version(self) -> &'static str {
        match self {
            Service::Sts => "2011-06-15",
            Service::Ec2 => "2016-11-15",
            Service::Iam => "2010-05-08",
            Service::Dynamodb => "2012-08-10",
        }
    }

    /// The service-specific endpoint variable, read before
    /// `AWS_ENDPOINT_URL`.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Service::Sts => crate::documents::environment::ENDPOINT_VAR_STS,
            Service::Ec2 => crate::documents::environment::ENDPOINT_VAR_EC2,
            Service::Iam => crate::documents::environment::ENDPOINT_VAR_IAM,
            Service::Dynamodb => crate::documents::environment::ENDPOINT_VAR_DYNAMODB,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a client needs for one service: credentials, region, signing
/// region, endpoint, timeouts. Made by [`Settings::resolve`] or
/// [`Settings::resolve_with`]. `Debug` shows the access key id and redacts
/// the secrets.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    service: Service,
    credentials: Credentials,
    credentials_source: String,
    region: Option<String>,
    signing_region: String,
    endpoint: String,
    endpoint_source: String,
    verbose: bool,
    connect_timeout: Duration,
    read_timeout: Duration,
    deadline: Duration,
    ca_bundle: Option<PathBuf>,
}

impl ClientConfig {
    /// The service this configuration is for.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The credentials requests are signed with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Where the credentials came from, for messages: `environment`,
    /// `profile default in /home/me/.aws/credentials`, `given`.
    pub fn credentials_source(&self) -> &str {
        &self.credentials_source
    }

    /// The region, when one was given or configured.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The region requests are signed for: the region, or `us-east-1` for
    /// the global STS endpoint.
    pub fn signing_region(&self) -> &str {
        &self.signing_region
    }

    /// The endpoint URL requests go to (always with a path, at least `/`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Where the endpoint came from, for `verbose`: `--endpoint-url`,
    /// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, `the default for
    /// eu-west-1`, `the global default (no region)`.
    pub fn endpoint_source(&self) -> &str {
        &self.endpoint_source
    }

    /// Whether requests and retries are reported on stderr.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// The connect timeout ([`CONNECT_TIMEOUT`] unless changed).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The read timeout ([`READ_TIMEOUT`] unless changed).
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// Changes the read timeout.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The overall deadline of one call, retries included
    /// ([`CALL_DEADLINE`] unless changed).
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Changes the overall deadline of each call.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Changes the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The PEM file whose certificates are the only roots trusted for
    /// https endpoints: `AWS_CA_BUNDLE`, else the profile's `ca_bundle` in
    /// the config file, as the AWS CLI and SDKs take it; `None` trusts the
    /// system's roots.
    pub fn ca_bundle(&self) -> Option<&Path> {
        self.ca_bundle.as_deref()
    }
}

impl Settings {
    /// The configuration for `service`, signing with the caller's long-term
    /// credentials from the standard chain:
    ///
    /// 1. the profile named in [`Settings::profile`], if any;
    /// 2. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with
    ///    `AWS_SESSION_TOKEN`);
    /// 3. the profile `AWS_PROFILE`, else `default`: `aws_access_key_id` and
    ///    `aws_secret_access_key` in `[NAME]` of the shared credentials file
    ///    (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), else in
    ///    `[profile NAME]` (or `[default]`) of the config file
    ///    (`AWS_CONFIG_FILE`, else `~/.aws/config`).
    ///
    /// Profiles that get their credentials some other way (`role_arn`,
    /// `credential_process`, SSO) are not followed; the error says so.
    ///
    /// Region: [`Settings::region`], `AWS_REGION`, `AWS_DEFAULT_REGION`, the
    /// profile's `region` in the config file. Endpoint:
    /// [`Settings::endpoint_url`], `AWS_ENDPOINT_URL_STS` /
    /// `AWS_ENDPOINT_URL_EC2`, `AWS_ENDPOINT_URL`, else
    /// `https://sts.REGION.amazonaws.com` (`https://sts.amazonaws.com`, signed
    /// for `us-east-1`, when there is no region) or
    /// `https://ec2.REGION.amazonaws.com`. EC2 needs a region
    /// ([`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) otherwise).
    ///
    /// No credentials anywhere is [`ErrorKind::Other`](crate::ErrorKind::Other), naming what was searched.
    /// A variable that is set but not UTF-8, a profile, region or endpoint
    /// given but empty, and an endpoint whose port is outside 1–65535 are
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) (exit status 2), naming what is wrong.
    pub fn resolve(&self, service: Service) -> Result<ClientConfig> {
        Resolver::process().resolve(self, service, None)
    }

    /// Checks what was given explicitly, without reading anything: a
    /// profile, region or endpoint given but empty (a mistake, not "use the
    /// default"), a region that is not a region name, an endpoint that is
    /// not an http(s) URL or whose port is outside 1–65535 are
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument). [`Settings::resolve`] checks the same; calling it
    /// first refuses bad flags before any other work (a request made with
    /// other settings, say).
    pub fn check(&self) -> Result<()> {
        for (what, value) in [
            ("the profile name", &self.profile),
            ("the region", &self.region),
            ("the endpoint URL", &self.endpoint_url),
        ] {
            if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
                return Err(Error::usage(format!("{what} is empty")));
            }
        }
        if let Some(r) = &self.region {
            check_region(r.trim())?;
        }
        if let Some(url) = &self.endpoint_url {
            check_endpoint(url)?;
        }
        Ok(())
    }

    /// Like [`Settings::resolve`], but signing with `credentials` (say, the
    /// temporary ones a recipient opened) instead of the chain's.
    pub fn resolve_with(&self, service: Service, credentials: Credentials) -> Result<ClientConfig> {
        Resolver::process().resolve(self, service, Some(credentials))
    }
}

/// The cause of the [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument)
/// that resolving settings for a regional service (EC2) without a region
/// gives: its [`source`](std::error::Error::source), so that a caller can
/// tell it from the other invalid settings and say how it takes a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRegion;

impl std::fmt::Display for NoRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no region")
    }
}

impl std::error::Error for NoRegion {}

/// A table of variables standing in for the environment (in tests).
type Table<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The environment the chain reads: the process's, or a table in tests.
pub(crate) struct Resolver<'a> {
    env: Option<Table<'a>>,
}

pub(crate) use crate::documents::environment::env_var;

/// The proxy variables reqwest reads, checked: each that is set must be a
/// proxy URL (`http://HOST:PORT`, the scheme optional as curl has it), not
/// silently ignored as reqwest does. Returns whether `NO_PROXY` (else
/// `no_proxy`) holds `*`, which bypasses the proxy for every host, IP
/// addresses included, as curl and the AWS CLI read it (reqwest applies it
/// to names only).
pub(crate) fn proxy_env() -> Result<bool> {
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        if let Some(value) = env_var(name)? {
            check_proxy(name, value.trim())?;
        }
    }
    let (upper, lower) = (env_var("NO_PROXY")?, env_var("no_proxy")?);
    let no_proxy = upper.or(lower);
    Ok(no_proxy.is_some_and(|v| v.split(',').any(|h| h.trim() == "*")))
}

/// A proxy URL as reqwest takes it. The value is not quoted: it may carry a
/// password.
fn check_proxy(name: &str, value: &str) -> Result<()> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let bad = || {
        Error::usage(format!(
            "{name} is not a proxy URL (like http://proxy.example.com:3128); correct it or unset it"
        ))
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    if url.port() == Some(0) {
        return Err(bad());
    }
    Ok(())
}

impl<'a> Resolver<'a> {
    fn process() -> Resolver<'static> {
        Resolver { env: None }
    }

    #[cfg(test)]
    pub(crate) fn with_env(env: Table<'a>) -> Resolver<'a> {
        Resolver { env: Some(env) }
    }

    /// A variable, with empty treated as unset ([`env_var`]).
    fn var(&self, name: &str) -> Result<Option<String>> {
        match self.env {
            None => env_var(name),
            Some(env) => Ok(env(name).filter(|v| !v.trim().is_empty())),
        }
    }

    fn home(&self) -> Result<Option<PathBuf>> {
        Ok(self.var("HOME")?.map(PathBuf::from))
    }

    /// `~/` expanded, as the AWS CLI does for the file variables.
    fn path_from(&self, value: String) -> Result<PathBuf> {
        Ok(match (value.strip_prefix("~/"), self.home()?) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(value),
        })
    }

    fn credentials_file(&self) -> Result<Option<PathBuf>> {
        match self.var("AWS_SHARED_CREDENTIALS_FILE")? {
            Some(p) => self.path_from(p).map(Some),
            None => Ok(self.home()?.map(|h| h.join(".aws").join("credentials"))),
        }
    }

    fn config_file(&self) -> Result<Option<PathBuf>> {
        match self.var("AWS_CONFIG_FILE")? {
            Some(p) => self.path_from(p).map(Some),
            None => Ok(self.home()?.map(|h| h.join(".aws").join("config"))),
        }
    }

    pub(crate) fn resolve(
        &self,
        settings: &Settings,
        service: Service,
        given: Option<Credentials>,
    ) -> Result<ClientConfig> {
        settings.check()?;
        let explicit_profile = settings.profile.clone();
        let (profile_name, named) = match explicit_profile.clone() {
            Some(p) => (p, true),
            None => match self.var(crate::documents::environment::PROFILE_VAR)? {
                Some(p) => (p, true),
                None => ("default".to_string(), false),
            },
        };
        // The shared files are read only when something is needed from them.
        let mut loaded: Option<Profiles> = None;

        let (credentials, credentials_source) = match given {
            Some(c) => (c, "given".to_string()),
            None => {
                let from_env = if explicit_profile.is_some() {
                    None
                } else {
                    self.env_credentials()?
                };
                match from_env {
                    Some(c) => (c, "environment".to_string()),
                    None => Profiles::get(&mut loaded, self, &profile_name)?
                        .credentials(&profile_name, named)?,
                }
            }
        };

        let (env_region, env_default_region) = (
            self.var(crate::documents::environment::REGION_VARS[0])?,
            self.var(crate::documents::environment::REGION_VARS[1])?,
        );
        let region = settings
            .region
            .clone()
            .or(env_region)
            .or(env_default_region);
        let region = match region {
            Some(r) => Some(r),
            None => Profiles::get(&mut loaded, self, &profile_name)?
                .config
                .as_ref()
                .and_then(|s| s.get("region")),
        }
        .map(|r| r.trim().to_string());
        if let Some(r) = &region {
            check_region(r)?;
        }

        // Every variable is read (and so checked) whether or not an
        // earlier one wins.
        let from_service = self.var(service.endpoint_variable())?;
        let from_all = self.var(crate::documents::environment::ENDPOINT_VAR)?;
        let endpoint = match (&settings.endpoint_url, from_service, from_all) {
            (Some(url), _, _) => Some((url.clone(), "--endpoint-url".to_string())),
            (None, Some(url), _) => Some((url, service.endpoint_variable().to_string())),
            (None, None, Some(url)) => {
                Some((url, crate::documents::environment::ENDPOINT_VAR.to_string()))
            }
            (None, None, None) => None,
        };
        let (endpoint, endpoint_source, signing_region) = match (endpoint, &region, service) {
            // IAM is global: one endpoint, signed for us-east-1 (China's
            // partition has its own).
            (Some((url, from)), r, Service::Iam) => {
                let signing = r
                    .as_deref()
                    .map_or("us-east-1".to_string(), iam_signing_region);
                (check_endpoint(&url)?, from, signing)
            }
            (None, r, Service::Iam) => {
                let signing = r
                    .as_deref()
                    .map_or("us-east-1".to_string(), iam_signing_region);
                let host = if signing == "cn-north-1" {
                    "https://iam.cn-north-1.amazonaws.com.cn/"
                } else {
                    "https://iam.amazonaws.com/"
                };
                (host.to_string(), "the global default".to_string(), signing)
            }
            (Some((url, from)), Some(r), _) => (check_endpoint(&url)?, from, r.clone()),
            (Some((url, from)), None, Service::Sts | Service::Dynamodb) => {
                (check_endpoint(&url)?, from, "us-east-1".to_string())
            }
            (None, Some(r), s) => (
                default_endpoint(s, r),
                format!("the default for {r}"),
                r.clone(),
            ),
            (None, None, Service::Sts) => (
                "https://sts.amazonaws.com/".to_string(),
                "the global default (no region)".to_string(),
                "us-east-1".to_string(),
            ),
            (_, None, Service::Ec2) => return Err(Error::usage(
                "EC2 needs a region: set Settings::region, AWS_REGION or AWS_DEFAULT_REGION, \
                     or region in the profile's section of ~/.aws/config",
            )
            .with_source(NoRegion)),
            (None, None, Service::Dynamodb) => return Err(Error::usage(
                "DynamoDB needs a region: give one with ?region=R in the ledger's URL, AWS_REGION or \
                     AWS_DEFAULT_REGION, or set region in the profile's section of ~/.aws/config",
            )),
        };

        // The CA bundle, as botocore finds it: AWS_CA_BUNDLE, else the
        // profile's ca_bundle (the config file is read for it only when an
        // https endpoint will use it).
        let ca_bundle = match self.var("AWS_CA_BUNDLE")? {
            Some(p) => Some(self.path_from(p)?),
            None if endpoint.starts_with("https:") => {
                match Profiles::get(&mut loaded, self, &profile_name)?
                    .config
                    .as_ref()
                    .and_then(|s| s.get("ca_bundle"))
                {
                    Some(p) => Some(self.path_from(p)?),
                    None => None,
                }
            }
            None => None,
        };

        let read_timeout = self
            .milliseconds("HANDOFF_READ_TIMEOUT_MS")?
            .unwrap_or(READ_TIMEOUT);
        let deadline = self
            .milliseconds("HANDOFF_DEADLINE_MS")?
            .unwrap_or(CALL_DEADLINE);

        Ok(ClientConfig {
            service,
            credentials,
            credentials_source,
            region,
            signing_region,
            endpoint,
            endpoint_source,
            verbose: settings.verbose,
            connect_timeout: CONNECT_TIMEOUT,
            read_timeout,
            deadline,
            ca_bundle,
        })
    }

    /// A duration variable in milliseconds.
    fn milliseconds(&self, name: &str) -> Result<Option<Duration>> {
        self.var(name)?
            .map(|ms| {
                ms.trim().parse().map(Duration::from_millis).map_err(|_| {
                    Error::usage(format!(
                        "{name} must be a number of milliseconds, not {ms:?}"
                    ))
                })
            })
            .transpose()
    }

    fn env_credentials(&self) -> Result<Option<Credentials>> {
        let akid = self.var(crate::documents::environment::KEY_VARS[0])?;
        let secret = self
            .var(crate::documents::environment::KEY_VARS[1])?
            .map(crate::credentials::into_trimmed_secret);
        let token = self
            .var("AWS_SESSION_TOKEN")?
            .map(crate::credentials::into_trimmed_secret);
        match (akid, secret) {
            (Some(a), Some(s)) => Ok(Some(Credentials::new(a.trim(), s, token, None))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::other(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
            )),
            (None, Some(_)) => Err(Error::other(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
            )),
        }
    }
}

/// The region IAM requests are signed for: `cn-north-1` in China's
/// partition, else `us-east-1`.
fn iam_signing_region(region: &str) -> String {
    if region.starts_with("cn-") {
        "cn-north-1".to_string()
    } else {
        "us-east-1".to_string()
    }
}

fn default_endpoint(service: Service, region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{}.{region}.{suffix}/", service.name())
}

/// A region name goes into a host name: lower-case letters, digits and `-`.
pub(crate) fn check_region(region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{region:?} is not a region name (lower-case letters, digits and '-', like us-east-1)"
        )))
    }
}

/// An endpoint must be an http(s) URL with a host and no query or fragment;
/// returned with at least `/` as its path.
pub(crate) fn check_endpoint(url: &str) -> Result<String> {
    let url = url.trim();
    let bad = |why: &str| Error::usage(format!("endpoint URL {url:?} {why}"));
    let uri: http::Uri = url.parse().map_err(|_| bad("is not a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err(bad("must start with http:// or https://")),
    }
    match uri.host() {
        Some(h) if !h.is_empty() => {}
        _ => return Err(bad("has no host")),
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(bad("must not have a query or fragment"));
    }
    if url.contains('@') {
        return Err(bad("must not carry a user name or password"));
    }
    // http::Uri takes any digits as a port and then has none for 65536.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let after_host = match authority.rfind(']') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    if let Some((_, port)) = after_host.rsplit_once(':') {
        match port.parse::<u32>() {
            Ok(1..=65535) => {}
            _ if port.is_empty() => return Err(bad("has an empty port")),
            _ => return Err(bad("has a port outside 1-65535")),
        }
    }
    if uri.path().is_empty() || uri.path() == "/" {
        Ok(format!("{}/", url.trim_end_matches('/')))
    } else {
        Ok(url.to_string())
    }
}

/// The chosen profile's sections of the two shared files.
struct Profiles {
    credentials_file: Option<PathBuf>,
    config_file: Option<PathBuf>,
    credentials: Option<Section>,
    config: Option<Section>,
}

impl Profiles {
    /// The profiles in `slot`, read on first use.
    fn get<'s>(
        slot: &'s mut Option<Profiles>,
        r: &Resolver<'_>,
        name: &str,
    ) -> Result<&'s Profiles> {
        let p = match slot.take() {
            Some(p) => p,
            None => Profiles::load(r, name)?,
        };
        Ok(slot.insert(p))
    }

    fn load(r: &Resolver<'_>, name: &str) -> Result<Profiles> {
        let credentials_file = r.credentials_file()?;
        let config_file = r.config_file()?;
        let credentials = match &credentials_file {
            Some(p) => read_section(p, |ini| ini.into_section(name))?,
            None => None,
        };
        let config = match &config_file {
            Some(p) => read_section(p, |ini| ini.into_config_profile(name))?,
            None => None,
        };
        Ok(Profiles {
            credentials_file,
            config_file,
            credentials,
            config,
        })
    }

    fn credentials(&self, name: &str, named: bool) -> Result<(Credentials, String)> {
        for (section, file) in [
            (&self.credentials, &self.credentials_file),
            (&self.config, &self.config_file),
        ] {
            let (Some(section), Some(file)) = (section, file) else {
                continue;
            };
            let akid = section.get("aws_access_key_id");
            let secret = section.secret("aws_secret_access_key");
            match (akid, secret) {
                (Some(a), Some(s)) => {
                    let token = section
                        .secret("aws_session_token")
                        .or_else(|| section.secret("aws_security_token"));
                    return Ok((
                        Credentials::new(a, s, token, None),
                        format!("profile {name} in {}", file.display()),
                    ));
                }
                (Some(_), None) | (None, Some(_)) => {
                    return Err(Error::document(format!(
                        "profile {name} in {} has only one of aws_access_key_id and aws_secret_access_key",
                        file.display()
                    )))
                }
                (None, None) => {}
            }
        }
        let files = [&self.credentials_file, &self.config_file]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>();
        let files = if files.is_empty() {
            "no shared files (HOME is not set)".to_string()
        } else {
            files.join(" or ")
        };
        let indirect = self.config.as_ref().and_then(|c| {
            [
                "credential_process",
                "role_arn",
                "sso_session",
                "sso_start_url",
                "web_identity_token_file",
            ]
            .into_iter()
            .find(|k| c.get(k).is_some())
        });
        if let Some(key) = indirect {
            return Err(Error::other(format!(
                "profile {name} gets its credentials through {key}, which handoff does not follow; \
                 export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. with `aws configure export-credentials --format env`)"
            )));
        }
        if named && self.credentials.is_none() && self.config.is_none() {
            return Err(Error::other(format!(
                "no AWS credentials: profile {name} is not in {files}"
            )));
        }
        Err(Error::other(format!(
            "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, \
             and profile {name} has no aws_access_key_id in {files}"
        )))
    }
}

fn read_profile_file(path: &Path) -> Result<Option<Zeroizing<String>>> {
    crate::documents::ini::read_file(path)
}

/// Reads the file at `path` and takes one section out of it.
fn read_section(
    path: &Path,
    take: impl FnOnce(crate::documents::ini::Ini) -> Option<crate::documents::ini::Section>,
) -> Result<Option<Section>> {
    let Some(text) = read_profile_file(path)? else {
        return Ok(None);
    };
    let ini = crate::documents::ini::parse(&text)
        .map_err(|e| crate::documents::ini::refused(path, &e))?;
    Ok(take(ini).map(|inner| Section { inner }))
}

/// One profile's section of a shared file, read by [`crate::documents::ini`]. An empty
/// value counts as none.
struct Section {
    inner: crate::documents::ini::Section,
}

impl Section {
    fn get(&self, key: &str) -> Option<String> {
        self.inner
            .get(key)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn secret(&self, key: &str) -> Option<SecretString> {
        self.inner
            .get(key)
            .filter(|v| !v.is_empty())
            .map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn resolve_in(
        vars: &[(&str, &str)],
        settings: &Settings,
        service: Service,
    ) -> Result<ClientConfig> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        Resolver::with_env(&env).resolve(settings, service, None)
    }

    fn home_with(credentials: &str, config: &str) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(home.path().join(".aws/credentials"), credentials).unwrap();
        std::fs::write(home.path().join(".aws/config"), config).unwrap();
        home
    }

    const CREDS: &str = "\
# my keys
[default]
aws_access_key_id = AKIADEFAULTEXAMPLE
aws_secret_access_key = defaultsecretEXAMPLEKEY

[work]
aws_access_key_id=AKIAWORKEXAMPLE
aws_secret_access_key=worksecretEXAMPLEKEY
aws_session_token = worktokenEXAMPLE
";
    const CONFIG: &str = "\
[default]
region = eu-west-1
s3 =
  max_concurrent_requests = 20
  region = nope

[profile work]
region = ap-southeast-2

[profile cfgonly]
aws_access_key_id = AKIACFGEXAMPLE
aws_secret_access_key = cfgsecretEXAMPLEKEY

[profile sso]
sso_session = corp
";

    #[test]
    fn environment_comes_first_then_profiles() {
        let home = home_with(CREDS, CONFIG);
        let h = home.path().to_str().unwrap();
        let c = resolve_in(
            &[
                ("HOME", h),
                ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
            ],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.credentials().access_key_id(), "AKIAENVEXAMPLE");
        assert_eq!(c.credentials_source(), "environment");
        assert_eq!(c.region(), Some("eu-west-1"));
        assert_eq!(c.endpoint(), "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(c.signing_region(), "eu-west-1");

        let c = resolve_in(&[("HOME", h)], &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.credentials().access_key_id(), "AKIADEFAULTEXAMPLE");
        assert!(c.credentials_source().starts_with("profile default in "));

        // An explicit profile wins over the environment, as in the AWS CLI.
        let work = Settings {
            profile: Some("work".into()),
            ..Settings::default()
        };
        let c = resolve_in(
            &[
                ("HOME", h),
                ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
            ],
            &work,
            Service::Ec2,
        )
        .unwrap();
        assert_eq!(c.credentials().access_key_id(), "AKIAWORKEXAMPLE");
        assert_eq!(
            c.credentials().secret_access_key().expose_secret(),
            "worksecretEXAMPLEKEY"
        );
        assert_eq!(
            c.credentials().session_token().map(|t| t.expose_secret()),
            Some("worktokenEXAMPLE")
        );
        assert_eq!(c.region(), Some("ap-southeast-2"));
        assert_eq!(c.endpoint(), "https://ec2.ap-southeast-2.amazonaws.com/");

        // AWS_PROFILE, and keys found only in the config file.
        let c = resolve_in(
            &[("HOME", h), ("AWS_PROFILE", "cfgonly")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.credentials().access_key_id(), "AKIACFGEXAMPLE");
        assert_eq!(c.region(), None);
        assert_eq!(c.endpoint(), "https://sts.amazonaws.com/");
        assert_eq!(c.signing_region(), "us-east-1");
    }

    #[test]
    fn file_variables_and_region_order() {
        let dir = home_with(CREDS, CONFIG);
        let creds = dir.path().join(".aws/credentials");
        let config = dir.path().join(".aws/config");
        let (creds, config) = (creds.to_str().unwrap(), config.to_str().unwrap());
        let vars = [
            ("HOME", "/nonexistent"),
            ("AWS_SHARED_CREDENTIALS_FILE", creds),
            ("AWS_CONFIG_FILE", config),
            ("AWS_DEFAULT_REGION", "us-west-1"),
        ];
        let c = resolve_in(&vars, &Settings::default(), Service::Ec2).unwrap();
        assert_eq!(c.credentials().access_key_id(), "AKIADEFAULTEXAMPLE");
        assert_eq!(c.region(), Some("us-west-1"));
        let mut more = vars.to_vec();
        more.push(("AWS_REGION", "us-west-2"));
        let c = resolve_in(&more, &Settings::default(), Service::Ec2).unwrap();
        assert_eq!(c.region(), Some("us-west-2"));
        let s = Settings {
            region: Some("cn-north-1".into()),
            ..Settings::default()
        };
        let c = resolve_in(&more, &s, Service::Sts).unwrap();
        assert_eq!(c.endpoint(), "https://sts.cn-north-1.amazonaws.com.cn/");
    }

    #[test]
    fn endpoints() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:5001/ec2"),
        ];
        let c = resolve_in(&keys, &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:5000/");
        assert_eq!(c.signing_region(), "us-east-1");
        assert_eq!(c.endpoint_source(), "AWS_ENDPOINT_URL");
        let c = resolve_in(&keys[..2], &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.endpoint_source(), "the global default (no region)");
        let c = resolve_in(
            &[keys[0], keys[1], ("AWS_DEFAULT_REGION", "eu-west-3")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.endpoint(), "https://sts.eu-west-3.amazonaws.com/");
        assert_eq!(c.endpoint_source(), "the default for eu-west-3");
        let r = Settings {
            region: Some("us-east-2".into()),
            ..Settings::default()
        };
        let c = resolve_in(&keys, &r, Service::Ec2).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:5001/ec2");
        assert_eq!(c.signing_region(), "us-east-2");
        assert_eq!(c.endpoint_source(), "AWS_ENDPOINT_URL_EC2");
        let e = Settings {
            endpoint_url: Some("https://example.com:8443/".into()),
            ..r.clone()
        };
        let c = resolve_in(&keys, &e, Service::Ec2).unwrap();
        assert_eq!(c.endpoint(), "https://example.com:8443/");
        assert_eq!(c.endpoint_source(), "--endpoint-url");
        for url in ["http://127.0.0.1:1", "http://[::1]:65535/", "http://[::1]/"] {
            let e = Settings {
                endpoint_url: Some(url.into()),
                ..r.clone()
            };
            resolve_in(&keys, &e, Service::Sts).unwrap();
        }

        for bad in [
            "ftp://x",
            "localhost:5000",
            "http://",
            "http://h/?a=b",
            "http://u:p@h/",
            "http://h:0",
            "http://h:65536/",
            "http://h:99999999999",
            "http://h:/",
            "http://[::1]:70000",
            "",
            " ",
        ] {
            let s = Settings {
                endpoint_url: Some(bad.into()),
                ..r.clone()
            };
            let err = resolve_in(&keys, &s, Service::Sts).unwrap_err();
            assert_eq!(
                err.kind(),
                &crate::ErrorKind::InvalidArgument,
                "{bad}: {err}"
            );
        }
        let s = Settings {
            region: Some("us-east-1.evil.com/".into()),
            ..Settings::default()
        };
        assert_eq!(
            resolve_in(&keys, &s, Service::Sts).unwrap_err().kind(),
            &crate::ErrorKind::InvalidArgument
        );

        // EC2 without a region says how to give one.
        let err = resolve_in(&keys, &Settings::default(), Service::Ec2).unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidArgument);
        let cause = std::error::Error::source(&err);
        assert!(cause.is_some_and(|c| c.is::<NoRegion>()), "{err:?}");
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
    }

    #[test]
    fn missing_credentials_name_what_was_searched() {
        let home = home_with("", CONFIG);
        let h = home.path().to_str().unwrap();
        let err = resolve_in(&[("HOME", h)], &Settings::default(), Service::Sts).unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Other);
        let msg = err.to_string();
        assert!(msg.contains("AWS_ACCESS_KEY_ID"), "{msg}");
        assert!(
            msg.contains(".aws/credentials") && msg.contains(".aws/config"),
            "{msg}"
        );

        let err = resolve_in(
            &[("HOME", h), ("AWS_PROFILE", "nosuch")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("profile nosuch is not in"),
            "{err}"
        );

        let err = resolve_in(
            &[("HOME", h), ("AWS_PROFILE", "sso")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap_err();
        assert!(err.to_string().contains("sso_session"), "{err}");

        let err = resolve_in(
            &[("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("AWS_SECRET_ACCESS_KEY is not"),
            "{err}"
        );

        // Nothing at all, not even HOME.
        let err = resolve_in(&[], &Settings::default(), Service::Sts).unwrap_err();
        assert!(err.to_string().contains("HOME is not set"), "{err}");
    }

    #[test]
    fn shared_files_are_read_only_when_needed() {
        // A config "file" that cannot be read: a directory.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let vars = [("AWS_CONFIG_FILE", d), ("AWS_SHARED_CREDENTIALS_FILE", d)];
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        let r = Resolver::with_env(&env);
        let given = || Credentials::new("ASIAGIVENEXAMPLE", "s".into(), Some("t".into()), None);
        let with_region = Settings {
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            ..Settings::default()
        };
        let c = r
            .resolve(&with_region, Service::Ec2, Some(given()))
            .unwrap();
        assert_eq!(c.credentials_source(), "given");
        assert_eq!(c.credentials().access_key_id(), "ASIAGIVENEXAMPLE");
        // Without a region, the profile's is looked up, and the unreadable
        // file is reported.
        let e = r
            .resolve(&Settings::default(), Service::Ec2, Some(given()))
            .unwrap_err();
        assert!(e.to_string().contains("is not a regular file"), "{e}");
    }

    #[test]
    fn dynamodb_endpoints_and_region() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
        ];
        // No region, no endpoint: a usage error naming the URL's ?region=.
        let e = resolve_in(&keys, &Settings::default(), Service::Dynamodb).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("?region="), "{e}");
        let mut v = keys.to_vec();
        v.push(("AWS_REGION", "eu-west-1"));
        let c = resolve_in(&v, &Settings::default(), Service::Dynamodb).unwrap();
        assert_eq!(c.endpoint(), "https://dynamodb.eu-west-1.amazonaws.com/");
        assert_eq!(c.signing_region(), "eu-west-1");
        v.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"));
        v.push(("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5003"));
        let c = resolve_in(&v, &Settings::default(), Service::Dynamodb).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:5003/");
        assert_eq!(c.endpoint_source(), "AWS_ENDPOINT_URL_DYNAMODB");
        let flag = Settings {
            endpoint_url: Some("http://127.0.0.1:5004".into()),
            ..Settings::default()
        };
        let c = resolve_in(&v, &flag, Service::Dynamodb).unwrap();
        assert_eq!(c.endpoint_source(), "--endpoint-url");
        // An endpoint and no region: signed for us-east-1, as STS is.
        let c = resolve_in(&keys, &flag, Service::Dynamodb).unwrap();
        assert_eq!(c.signing_region(), "us-east-1");
        assert_eq!(c.service().name(), "dynamodb");
    }

    #[test]
    fn iam_has_one_global_endpoint() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
            ("AWS_REGION", "eu-west-1"),
        ];
        let c = resolve_in(&keys, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "https://iam.amazonaws.com/");
        assert_eq!(c.signing_region(), "us-east-1");
        assert_eq!(c.endpoint_source(), "the global default");
        assert_eq!(c.service().api_version(), "2010-05-08");
        let mut v = keys.to_vec();
        v.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"));
        let c = resolve_in(&v, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:5000/");
        v.push(("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:5002"));
        let c = resolve_in(&v, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:5002/");
        assert_eq!(c.endpoint_source(), "AWS_ENDPOINT_URL_IAM");
        assert_eq!(c.signing_region(), "us-east-1");
    }

    #[test]
    fn proxy_urls() {
        for ok in [
            "http://proxy.example:3128",
            "proxy.example:3128",
            "https://u:p@proxy.example",
            "http://[::1]:8080",
        ] {
            check_proxy("HTTPS_PROXY", ok).unwrap();
        }
        for bad in [
            "http://u:hunter2@[::1",
            "http://proxy.example:99999",
            "ftp://proxy.example",
            "http://",
            "::::",
            "http://proxy.example:0",
        ] {
            let e = check_proxy("HTTPS_PROXY", bad).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument, "{bad}");
            assert!(
                e.to_string().starts_with("HTTPS_PROXY is not a proxy URL"),
                "{e}"
            );
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn read_timeout_variable() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
        ];
        let c = resolve_in(&keys, &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.read_timeout(), READ_TIMEOUT);
        assert_eq!(c.connect_timeout(), CONNECT_TIMEOUT);
        let mut v = keys.to_vec();
        v.push(("HANDOFF_READ_TIMEOUT_MS", "250"));
        let c = resolve_in(&v, &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.read_timeout(), Duration::from_millis(250));
        assert_eq!(c.deadline(), CALL_DEADLINE);
        let mut d = keys.to_vec();
        d.push(("HANDOFF_DEADLINE_MS", "1500"));
        let c = resolve_in(&d, &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.deadline(), Duration::from_millis(1500));
        d[2].1 = "a minute";
        let e = resolve_in(&d, &Settings::default(), Service::Sts).unwrap_err();
        assert!(e.to_string().contains("HANDOFF_DEADLINE_MS"), "{e}");
        v.push(("HANDOFF_READ_TIMEOUT_MS", "soon"));
        let v: Vec<_> = v.into_iter().filter(|(_, x)| *x != "250").collect();
        assert_eq!(
            resolve_in(&v, &Settings::default(), Service::Sts)
                .unwrap_err()
                .kind(),
            &crate::ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = resolve_in(
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
                ("AWS_SESSION_TOKEN", "envtokenEXAMPLE"),
            ],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("AKIAENVEXAMPLE"), "{d}");
        assert!(!d.contains("envsecret") && !d.contains("envtoken"), "{d}");
    }

    #[test]
    fn iam_is_global_and_signed_for_us_east_1() {
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "envsecretEXAMPLEKEY"),
            ("AWS_REGION", "eu-west-1"),
        ];
        let c = resolve_in(&keys, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "https://iam.amazonaws.com/");
        assert_eq!(c.signing_region(), "us-east-1");
        assert_eq!(c.region(), Some("eu-west-1"));
        assert_eq!(Service::Iam.api_version(), "2010-05-08");
        // No region at all: the same.
        let c = resolve_in(&keys[..2], &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "https://iam.amazonaws.com/");
        // China has its own.
        let cn = [keys[0], keys[1], ("AWS_REGION", "cn-northwest-1")];
        let c = resolve_in(&cn, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "https://iam.cn-north-1.amazonaws.com.cn/");
        assert_eq!(c.signing_region(), "cn-north-1");
        // AWS_ENDPOINT_URL_IAM before AWS_ENDPOINT_URL; --endpoint-url first.
        let mut vars = keys.to_vec();
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:1"));
        vars.push(("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:2"));
        let c = resolve_in(&vars, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:1/");
        assert_eq!(c.signing_region(), "us-east-1");
        vars.push(("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:3"));
        let c = resolve_in(&vars, &Settings::default(), Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:3/");
        let s = Settings {
            endpoint_url: Some("http://127.0.0.1:4".into()),
            ..Settings::default()
        };
        let c = resolve_in(&vars, &s, Service::Iam).unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:4/");
    }

    #[test]
    fn profile_files_missing_unreadable_large_or_not_text() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_profile_file(&dir.path().join("missing"))
            .unwrap()
            .is_none());
        let file = dir.path().join("config");
        std::fs::write(&file, "[default]\nregion = x\n").unwrap();
        assert_eq!(
            read_profile_file(&file).unwrap().unwrap().as_str(),
            "[default]\nregion = x\n"
        );
        // a path through a file: an error other than "not found" is said
        let e = read_profile_file(&file.join("x")).unwrap_err();
        assert!(e.to_string().starts_with("cannot read"), "{e}");
        let e = read_profile_file(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is not a regular file"), "{e}");
        // a FIFO is refused before anything is read (reading would hang)
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = read_profile_file(&fifo).unwrap_err();
        assert!(e.to_string().contains("is not a regular file"), "{e}");
        std::fs::write(
            &file,
            vec![b'#'; ((crate::documents::ini::MAX_FILE_SIZE as u64) + 1) as usize],
        )
        .unwrap();
        let e = read_profile_file(&file).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("is larger than 1 MiB; not an AWS profile file"),
            "{e}"
        );
        std::fs::write(
            &file,
            vec![b'#'; (crate::documents::ini::MAX_FILE_SIZE as u64) as usize],
        )
        .unwrap();
        assert!(read_profile_file(&file).unwrap().is_some());
        std::fs::write(&file, b"[a]\nx = \xff\n").unwrap();
        let e = read_profile_file(&file).unwrap_err();
        assert!(e.to_string().contains("is not UTF-8 text"), "{e}");
    }

    #[test]
    fn ca_bundles_as_the_aws_cli_takes_them() {
        let home = home_with(
            CREDS,
            "[default]\nca_bundle = ~/corp.pem\n[profile work]\nregion = eu-west-1\n",
        );
        let h = home.path().to_str().unwrap();
        let c = resolve_in(&[("HOME", h)], &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.ca_bundle(), Some(home.path().join("corp.pem").as_path()));
        let c = resolve_in(
            &[("HOME", h), ("AWS_CA_BUNDLE", "/etc/other.pem")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.ca_bundle(), Some(Path::new("/etc/other.pem")));
        let c = resolve_in(
            &[("HOME", h), ("AWS_PROFILE", "work")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.ca_bundle(), None);
        // an http endpoint uses none
        let c = resolve_in(
            &[("HOME", h), ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.ca_bundle(), None);
    }

    #[test]
    fn the_issuer_signs_with_the_profile_botocore_picks() {
        // A comment after a header, or blanks inside its brackets, once made
        // `default` absorb the next section's keys: seal signed with
        // another profile's (and maybe another account's) keys.
        for header in ["[work] # mine", "[work] ; mine", "[ work ]", "[work]"] {
            let creds = format!(
                "[default]\naws_access_key_id = AKIADEFAULTEXAMPLE\naws_secret_access_key = d\n\
                 {header}\naws_access_key_id = AKIAWORKEXAMPLE\naws_secret_access_key = w\n"
            );
            let home = home_with(&creds, "[default]\nregion = eu-west-1\n");
            let h = home.path().to_str().unwrap();
            let c = resolve_in(&[("HOME", h)], &Settings::default(), Service::Sts).unwrap();
            assert_eq!(
                c.credentials().access_key_id(),
                "AKIADEFAULTEXAMPLE",
                "{header}"
            );
            let work = resolve_in(
                &[("HOME", h), ("AWS_PROFILE", "work")],
                &Settings::default(),
                Service::Sts,
            );
            // botocore: `[ work ]` is profile " work ", not work
            match header {
                "[ work ]" => assert!(work.is_err(), "{header}"),
                _ => assert_eq!(
                    work.unwrap().credentials().access_key_id(),
                    "AKIAWORKEXAMPLE",
                    "{header}"
                ),
            }
        }
        // a file botocore refuses is refused, naming the line
        let home = home_with("[default]\naws_access_key_id = A\n[default]\n", "");
        let h = home.path().to_str().unwrap();
        let e = resolve_in(&[("HOME", h)], &Settings::default(), Service::Sts).unwrap_err();
        assert!(
            e.to_string()
                .contains("credentials line 3: section [default]"),
            "{e}"
        );
        // no inline comments: the AWS CLI signs with all of the value
        let home = home_with(
            "[default]\naws_access_key_id = A ; note\naws_secret_access_key = s\n",
            "",
        );
        let h = home.path().to_str().unwrap();
        let c = resolve_in(&[("HOME", h)], &Settings::default(), Service::Sts).unwrap();
        assert_eq!(c.credentials().access_key_id(), "A ; note");
        // [profile x] in the config file, [x] in the credentials file
        let home = home_with(
            "[profile x]\naws_access_key_id = A\naws_secret_access_key = s\n",
            "[x]\nregion = eu-west-1\n[profile \"x\"]\nregion = us-west-2\n",
        );
        let h = home.path().to_str().unwrap();
        let c = resolve_in(
            &[("HOME", h), ("AWS_PROFILE", "x")],
            &Settings::default(),
            Service::Sts,
        );
        assert!(c.is_err(), "[profile x] is not a credentials-file profile");
        let home = home_with(
            "[x]\naws_access_key_id = A\naws_secret_access_key = s\n",
            "[x]\nregion = eu-west-1\n[profile \"x\"]\nregion = us-west-2\n",
        );
        let h = home.path().to_str().unwrap();
        let c = resolve_in(
            &[("HOME", h), ("AWS_PROFILE", "x")],
            &Settings::default(),
            Service::Sts,
        )
        .unwrap();
        assert_eq!(c.region(), Some("us-west-2"));
    }
}
