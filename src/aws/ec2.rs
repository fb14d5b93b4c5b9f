//! The EC2 client: typed `DescribeImages`, `DescribeAvailabilityZones`,
//! `DescribeRegions`, and any other action as JSON. And `new_ec2`, the Perl
//! module's way to get one from a token.

use std::fmt;

use super::client_token;
use super::config::{ClientConfig, Service, Settings};
use super::transport::Transport;
pub use super::types::{AvailabilityZone, Image, Region};
use super::xml;
use crate::credentials::{Credentials, Token};
use crate::{Error, Result};

/// An EC2 client.
///
/// ```no_run
/// # fn token() -> handoff::Token { unimplemented!() }
/// use handoff::aws::DescribeImages;
/// let ec2 = token().new_ec2()?;
/// for image in ec2.describe_images(&DescribeImages::owned_by("self"))? {
///     println!("{} {}", image.image_id, image.name.as_deref().unwrap_or(""));
/// }
/// # Ok::<(), handoff::Error>(())
/// ```
pub struct Ec2 {
    transport: Transport,
}

impl fmt::Debug for Ec2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ec2")
            .field("config", self.transport.config())
            .finish()
    }
}

/// What to ask DescribeImages for. Empty lists are left out of the request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribeImages {
    /// Owners: account ids, `self`, `amazon`, `aws-marketplace`
    /// (`Owner.N`).
    pub owners: Vec<String>,
    /// Image ids (`ImageId.N`).
    pub image_ids: Vec<String>,
    /// Filters: a name (`name`, `state`, `tag:Team`, ...) and its values
    /// (`Filter.N.Name`, `Filter.N.Value.M`).
    pub filters: Vec<(String, Vec<String>)>,
}

impl DescribeImages {
    /// Images owned by `owner` (`self`, `amazon`, an account id).
    pub fn owned_by(owner: impl Into<String>) -> Self {
        DescribeImages {
            owners: vec![owner.into()],
            ..Self::default()
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        for (i, o) in self.owners.iter().enumerate() {
            p.push((format!("Owner.{}", i + 1), o.clone()));
        }
        for (i, id) in self.image_ids.iter().enumerate() {
            p.push((format!("ImageId.{}", i + 1), id.clone()));
        }
        for (i, (name, values)) in self.filters.iter().enumerate() {
            p.push((format!("Filter.{}.Name", i + 1), name.clone()));
            for (j, v) in values.iter().enumerate() {
                p.push((format!("Filter.{}.Value.{}", i + 1, j + 1), v.clone()));
            }
        }
        p
    }
}

impl Ec2 {
    /// A client for the endpoint, region and credentials in `config`
    /// (which must have been resolved for [`Service::Ec2`]).
    pub fn new(config: ClientConfig) -> Result<Ec2> {
        if config.service() != Service::Ec2 {
            return Err(Error::usage(format!(
                "an EC2 client needs a configuration resolved for ec2, not {}",
                config.service()
            )));
        }
        Ok(Ec2 {
            transport: Transport::new(config)?,
        })
    }

    /// The configuration the client uses.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    /// DescribeImages.
    pub fn describe_images(&self, req: &DescribeImages) -> Result<Vec<Image>> {
        let params = req.params();
        let body = self.transport.call("DescribeImages", &borrow(&params))?;
        xml::images(&body).map_err(|e| self.transport.malformed("DescribeImages", e))
    }

    /// DescribeAvailabilityZones, for the client's region.
    pub fn describe_availability_zones(&self) -> Result<Vec<AvailabilityZone>> {
        let body = self.transport.call("DescribeAvailabilityZones", &[])?;
        xml::availability_zones(&body)
            .map_err(|e| self.transport.malformed("DescribeAvailabilityZones", e))
    }

    /// DescribeRegions: the regions enabled for the account.
    pub fn describe_regions(&self) -> Result<Vec<Region>> {
        let body = self.transport.call("DescribeRegions", &[])?;
        xml::regions(&body).map_err(|e| self.transport.malformed("DescribeRegions", e))
    }

    /// Any EC2 Query API action, with its parameters as EC2 names them
    /// (`Owner.1` = `self`, `Filter.1.Name` = `state`, ...). The answer is
    /// JSON, shaped as the AWS CLI shapes it without a service model: the
    /// response element dropped, names with an upper-case first letter
    /// (`requestId` → `RequestId`, `imagesSet` → `ImagesSet`), `<item>`
    /// lists as arrays, every value a string, no namespaces.
    ///
    /// The action must be a name of letters and digits (`DescribeImages`);
    /// `Action` and `Version` cannot be given as parameters.
    ///
    /// An action that takes a `ClientToken` (`RunInstances`, `CreateVolume`,
    /// ...) gets a fresh one (a random UUID) unless `params` has one, the
    /// same in each retry, so that a retried call is carried out once. A
    /// call that is neither read-only (`Describe*`, `Get*`, `List*`,
    /// `Search*`) nor carries a `ClientToken` is not sent again once the
    /// request may have been carried out (sent, then no answer or one cut
    /// off).
    pub fn call(&self, action: &str, params: &[(String, String)]) -> Result<serde_json::Value> {
        check_action_name(action)?;
        if let Some((k, _)) = params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Action") || k.eq_ignore_ascii_case("Version"))
        {
            return Err(Error::usage(format!(
                "{k} is set by handoff and cannot be given as a parameter"
            )));
        }
        if let Some((k, _)) = params.iter().find(|(k, _)| k.is_empty()) {
            return Err(Error::usage(format!("parameter name {k:?} is empty")));
        }
        // A ClientToken, once per call and the same in each of its retries,
        // makes a retried launch the same launch (the SDKs add one too).
        let given = params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("ClientToken"));
        let mut all = borrow(params);
        let token;
        let mut has_token = given.is_some_and(|(_, v)| !v.is_empty());
        if given.is_none() && client_token::takes_client_token(action) {
            token = client_token::new_client_token()?;
            all.push(("ClientToken", &token));
            has_token = true;
        }
        let may_repeat = client_token::may_repeat(action, has_token);
        let body = self.transport.call_with(action, &all, may_repeat)?;
        xml::to_json(&body).map_err(|e| self.transport.malformed(action, e))
    }
}

/// An EC2 action name: letters and digits (`DescribeImages`), checked
/// before anything is sent.
pub fn check_action_name(action: &str) -> Result<()> {
    if action.is_empty() || !action.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::usage(format!(
            "{action:?} is not an EC2 action name (e.g. DescribeImages)"
        )));
    }
    Ok(())
}

/// Parameters written as the AWS query API names them, `Name=Value`
/// (`Owner.1=self`), split for [`Ec2::call`]; each must have a name.
///
/// ```
/// let p = handoff::aws::ec2::parse_params(&["Owner.1=self".into()])?;
/// assert_eq!(p, [("Owner.1".to_string(), "self".to_string())]);
/// assert!(handoff::aws::ec2::parse_params(&["Owner".into()]).is_err());
/// # Ok::<(), handoff::Error>(())
/// ```
pub fn parse_params(params: &[String]) -> Result<Vec<(String, String)>> {
    params
        .iter()
        .map(|p| {
            let (name, value) = p.split_once('=').ok_or_else(|| {
                Error::usage(format!(
                    "parameter {p:?} is not Name=Value (e.g. Owner.1=self)"
                ))
            })?;
            if name.is_empty() {
                return Err(Error::usage(format!("parameter {p:?} has no name")));
            }
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

fn borrow(params: &[(String, String)]) -> Vec<(&str, &str)> {
    params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

impl Token {
    /// An EC2 client that signs with this token's credentials, in the
    /// token's region (else the region from the environment and
    /// `~/.aws/config`), at the endpoint the environment names (else AWS's).
    /// The Perl module's `$token->new_ec2`.
    pub fn new_ec2(&self) -> Result<Ec2> {
        self.new_ec2_with(&Settings::default())
    }

    /// Like [`Token::new_ec2`], with region and endpoint overridable:
    /// `settings.region` wins over the token's region, which wins over the
    /// environment's; `settings.endpoint_url` over the environment's.
    /// `settings.profile` only chooses where a region is looked up.
    pub fn new_ec2_with(&self, settings: &Settings) -> Result<Ec2> {
        let mut settings = settings.clone();
        if settings.region.is_none() {
            settings.region = self.region().map(str::to_string);
        }
        self.credentials().new_ec2(&settings)
    }
}

impl Credentials {
    /// An EC2 client that signs with these credentials; region and endpoint
    /// from `settings`, else the environment and `~/.aws/config`.
    pub fn new_ec2(&self, settings: &Settings) -> Result<Ec2> {
        Ec2::new(settings.resolve_with(Service::Ec2, self.clone())?)
    }
}
