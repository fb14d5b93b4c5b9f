//! What the AWS calls answer, as plain data: the result types the XML
//! readers ([`super::xml`]) build and the clients ([`super::ec2`],
//! [`super::sts`]) return. A leaf.

/// Who the credentials belong to: STS GetCallerIdentity's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN (`arn:aws:iam::123456789012:user/alice`,
    /// `arn:aws:sts::123456789012:federated-user/Bob`).
    pub arn: String,
    /// The unique id of the caller.
    pub user_id: String,
}

impl CallerIdentity {
    /// Whether these are the account's root credentials, whose tokens IAM
    /// cannot restrict (nor `handoff revoke` stop).
    pub fn is_root(&self) -> bool {
        self.arn.ends_with(":root")
    }
}

/// A machine image, as DescribeImages describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Image {
    /// `ami-0123456789abcdef0`
    pub image_id: String,
    /// The image's name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The owning account id.
    pub owner_id: String,
    /// The owner's alias (`amazon`, `aws-marketplace`), for those that have one.
    pub owner_alias: Option<String>,
    /// `available`, `pending`, `failed`, ...
    pub state: String,
    /// Where it was registered from (`bucket/manifest.xml`, or `OWNER/NAME`).
    pub image_location: Option<String>,
    /// `x86_64`, `arm64`, `i386`.
    pub architecture: Option<String>,
    /// `machine`, `kernel`, `ramdisk`.
    pub image_type: Option<String>,
    /// `windows` for Windows images.
    pub platform: Option<String>,
    /// `ebs` or `instance-store`.
    pub root_device_type: Option<String>,
    /// `/dev/xvda`, ...
    pub root_device_name: Option<String>,
    /// `hvm` or `paravirtual`.
    pub virtualization_type: Option<String>,
    /// When it was created (ISO 8601, as EC2 gives it).
    pub creation_date: Option<String>,
    /// Whether anyone may launch it.
    pub public: bool,
    /// Its tags, key and value.
    pub tags: Vec<(String, String)>,
}

/// An availability zone, as DescribeAvailabilityZones describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvailabilityZone {
    /// `us-east-1a`
    pub zone_name: String,
    /// `available`, `information`, `impaired`, `unavailable`.
    pub state: String,
    /// `us-east-1`
    pub region_name: String,
    /// `use1-az6`
    pub zone_id: Option<String>,
    /// `availability-zone`, `local-zone`, `wavelength-zone`.
    pub zone_type: Option<String>,
}

/// A region, as DescribeRegions describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Region {
    /// `eu-west-1`
    pub region_name: String,
    /// `ec2.eu-west-1.amazonaws.com`
    pub endpoint: String,
    /// `opt-in-not-required`, `opted-in`, `not-opted-in`.
    pub opt_in_status: Option<String>,
}
