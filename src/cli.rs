//! The command line, as clap structs only. main.rs turns these into library
//! calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Hand temporary AWS credentials to someone safely: mint them with STS, seal
/// them with age to the recipient's key, open them offline.
#[derive(Parser, Debug)]
#[command(name = "handoff", version, max_term_width = 100)]
pub struct Cli {
    /// Say more on stderr (AWS retries, what is being called).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a new age identity (X25519) and print its public key.
    Keygen(KeygenArgs),
    /// Print the IAM policy JSON that --allow/--deny build.
    Policy(PolicyArgs),
    /// Mint or read credentials and seal them to a recipient.
    Seal(Box<SealArgs>),
    /// Decrypt a token and print its credentials.
    Open(OpenArgs),
    /// Decrypt a token and print everything except the secrets.
    Show(ShowArgs),
    /// Run a command with the token's credentials in its environment.
    Exec(ExecArgs),
    /// Call one EC2 Query API action with the token's credentials.
    Ec2(Ec2Args),
    /// List the handoffs this user sealed (the ledger).
    Issued(IssuedArgs),
    /// Make the sessions of handed-off tokens stop working before they expire.
    Revoke(RevokeArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the identity [default: $HANDOFF_IDENTITY, else
    /// $XDG_CONFIG_HOME/handoff/identity.txt]
    #[arg(short, long, value_name = "FILE", conflicts_with = "public")]
    pub output: Option<PathBuf>,

    /// Replace an existing identity file.
    #[arg(long)]
    pub force: bool,

    /// Print the public key of an existing identity file instead.
    #[arg(short = 'y', value_name = "FILE", num_args = 0..=1, id = "public")]
    pub public: Option<Option<PathBuf>>,
}

#[derive(Args, Debug, Default)]
pub struct PolicyArgs {
    /// Allow an action (DescribeImages, describe_images, s3:GetObject, Describe*).
    #[arg(long, value_name = "ACTION")]
    pub allow: Vec<String>,

    /// Deny an action; deny wins.
    #[arg(long, value_name = "ACTION")]
    pub deny: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AwsArgs {
    /// The profile whose long-term credentials sign the STS call [default:
    /// $AWS_PROFILE, else default].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// The AWS region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The endpoint to call [default: $AWS_ENDPOINT_URL_STS / _EC2,
    /// $AWS_ENDPOINT_URL, else AWS's own].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct SealArgs {
    /// Seal to this recipient: an age1... public key, or an ssh-ed25519 /
    /// ssh-rsa public key line (repeatable).
    #[arg(short = 'r', long = "to", value_name = "RECIPIENT")]
    pub to: Vec<String>,

    /// Seal to every recipient in this file, one a line (repeatable).
    #[arg(short = 'R', long = "to-file", value_name = "FILE")]
    pub to_file: Vec<PathBuf>,

    /// Seal with a passphrase (scrypt), asked on the terminal.
    #[arg(short, long, conflicts_with_all = ["to", "to_file"])]
    pub passphrase: bool,

    /// Read the passphrase from the first line of this file (implies -p).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "to_file"])]
    pub passphrase_file: Option<PathBuf>,

    /// Write the sealed token here (mode 0600, atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,

    /// Write ASCII armor.
    #[arg(short, long, conflicts_with = "base64")]
    pub armor: bool,

    /// Write the binary file as one line of base64.
    #[arg(long)]
    pub base64: bool,

    /// Sign the handoff with this OpenSSH ed25519 private key, so the
    /// recipient can check who sealed it.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,

    /// Read the signing key's passphrase from the first line of this file.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub sign_passphrase_file: Option<PathBuf>,

    /// A note for the recipient, sealed inside.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,

    /// Read the credential document from this file instead of stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["federation", "session", "role"])]
    pub input: Option<PathBuf>,

    /// Mint with STS GetFederationToken for this federated user name.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["session", "role"])]
    pub federation: Option<String>,

    /// Mint with STS GetSessionToken.
    #[arg(long, conflicts_with = "role")]
    pub session: bool,

    /// Mint with STS AssumeRole for this role ARN.
    #[arg(long, value_name = "ARN")]
    pub role: Option<String>,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Take the policy from this JSON file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["allow", "deny"])]
    pub policy_file: Option<PathBuf>,

    /// How long the credentials last: seconds, or 90m, 3h, 1h30m.
    #[arg(long, value_name = "D")]
    pub duration: Option<String>,

    /// The MFA device (ARN or serial) for --session.
    #[arg(long, value_name = "ARN", requires = "token_code")]
    pub mfa_serial: Option<String>,

    /// The 6-digit MFA code for --session.
    #[arg(long, value_name = "CODE", requires = "mfa_serial")]
    pub token_code: Option<String>,

    /// The role session name for --role.
    #[arg(long, value_name = "NAME", requires = "role")]
    pub session_name: Option<String>,

    /// The external id for --role.
    #[arg(long, value_name = "ID", requires = "role")]
    pub external_id: Option<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// One token per person of this roster (NAME RECIPIENT lines; - is
    /// stdin), each to -o DIR/NAME.age; {name} in --federation,
    /// --session-name and --label is the person's.
    #[arg(long, value_name = "ROSTER", conflicts_with_all = ["input", "session"])]
    pub each: Option<PathBuf>,

    /// With --each: how many tokens to mint at once.
    #[arg(long, value_name = "N", default_value_t = 4, requires = "each", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Do not record this handoff in the ledger.
    #[arg(long)]
    pub no_ledger: bool,
}

#[derive(Args, Debug)]
pub struct IssuedArgs {
    /// Include expired and revoked handoffs.
    #[arg(long)]
    pub all: bool,

    /// One JSON object a line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// What to revoke, from the ledger: a token id, roster name, federated
    /// user or role session name, or access key id.
    #[arg(
        value_name = "SELECTOR",
        required_unless_present = "userid",
        conflicts_with = "userid"
    )]
    pub selector: Option<String>,

    /// Revoke this aws:userid without a ledger entry (with --user or --role).
    #[arg(long, value_name = "ID")]
    pub userid: Option<String>,

    /// With --userid: the IAM user that minted the federation token.
    #[arg(
        long,
        value_name = "NAME",
        requires = "userid",
        conflicts_with = "role"
    )]
    pub user: Option<String>,

    /// With --userid: the role the session assumed.
    #[arg(long, value_name = "NAME", requires = "userid")]
    pub role: Option<String>,

    /// Session tokens: revoke every session token of their IAM user issued
    /// before now (the only way IAM can tell them apart).
    #[arg(long)]
    pub all_sessions: bool,

    /// Print the policy that would be written, and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Args, Debug)]
pub struct IdentityArgs {
    /// An age identity file or OpenSSH private key (repeatable) [default:
    /// $HANDOFF_IDENTITY, else $XDG_CONFIG_HOME/handoff/identity.txt].
    #[arg(short, long = "identity", value_name = "FILE")]
    pub identity: Vec<PathBuf>,

    /// For a passphrase-sealed token: read the passphrase from the first
    /// line of this file instead of asking.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Require a signature by a key this OpenSSH allowed_signers file lists
    /// [default: $XDG_CONFIG_HOME/handoff/allowed_signers, where it exists].
    #[arg(long, value_name = "FILE")]
    pub signers: Option<PathBuf>,
}

/// Checks before credentials are used (open, exec, ec2).
#[derive(Args, Debug)]
pub struct UseArgs {
    /// Use the credentials even if they have expired.
    #[arg(long)]
    pub allow_expired: bool,

    /// Before using the credentials, ask STS which account they belong to
    /// and refuse them unless it is this one [default: the config file's
    /// expect-account].
    #[arg(long, value_name = "ID")]
    pub expect_account: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// export lines for eval "$(handoff open t.age)"
    Env,
    /// the STS-shaped JSON document
    Json,
    /// the AWS credential_process document
    CredentialProcess,
    /// a section for the shared credentials file
    Ini,
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    /// The sealed token; - or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub ids: IdentityArgs,

    /// How to print the credentials.
    #[arg(short, long, value_enum, default_value = "env")]
    pub format: Format,

    /// Put the credentials into this profile of the shared credentials file
    /// instead of printing them.
    #[arg(long, value_name = "NAME")]
    pub write_profile: Option<String>,

    #[command(flatten)]
    pub checks: UseArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The sealed token; - or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub ids: IdentityArgs,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The sealed token.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub ids: IdentityArgs,

    #[command(flatten)]
    pub checks: UseArgs,

    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct Ec2Args {
    /// The sealed token.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub ids: IdentityArgs,

    #[command(flatten)]
    pub checks: UseArgs,

    /// The region [default: the token's, $AWS_REGION, $AWS_DEFAULT_REGION].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The endpoint [default: $AWS_ENDPOINT_URL_EC2, $AWS_ENDPOINT_URL, AWS's own].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// The EC2 action, e.g. DescribeImages.
    #[arg(value_name = "ACTION")]
    pub action: String,

    /// Parameters as Name=Value, e.g. Owner.1=self.
    #[arg(value_name = "Name=Value")]
    pub params: Vec<String>,
}
