//! What `handoff show` prints: everything about a token except its secrets,
//! with whatever the sender wrote made safe for a terminal.

use std::time::SystemTime;

use crate::clock;
use crate::credentials::Token;

/// `v` with its control characters (escape sequences, line breaks) and
/// Unicode format characters (bidirectional overrides and isolates,
/// zero-width characters, line separators) written as Rust escapes, for a
/// terminal.
pub fn shown(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c.is_control() || crate::envelope::is_format_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Everything about a token except its secrets, one `name: value` a line.
pub fn describe(t: &Token, now: SystemTime) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let mut line = |k: &str, v: &str| {
        // the sender wrote most of these: no escape sequence or line break
        // of theirs reaches the terminal
        let _ = writeln!(s, "{:<20}{}", format!("{k}:"), shown(v));
    };
    line("kind", t.kind().as_str());
    // Who signed comes before any field the sender wrote, so no label or
    // ARN, however padded or wrapped, can print a line above it that looks
    // like it.
    match t.signer() {
        Some(signer) => {
            let who = match (&signer.principal, signer.verified) {
                (Some(p), true) => format!("{p} {} (verified)", signer.fingerprint),
                _ => format!(
                    "{} (UNVERIFIED: no signers file vouches for it)",
                    signer.fingerprint
                ),
            };
            line("signed by", &who);
        }
        None => line("signed by", "nobody (unsigned)"),
    }
    line("access key id", t.access_key_id());
    line(
        "session token",
        if t.session_token().is_some() {
            "yes (hidden)"
        } else {
            "none"
        },
    );
    if let Some(u) = t.federated_user() {
        line("federated user", &u.arn);
        line("federated user id", &u.federated_user_id);
    }
    if let Some(u) = t.assumed_role_user() {
        line("assumed role", &u.arn);
        line("assumed role id", &u.assumed_role_id);
    }
    if let Some(n) = t.packed_policy_size() {
        line("packed policy size", &format!("{n}%"));
    }
    if let Some(p) = t.policy() {
        line("policy", p);
    }
    if let Some(r) = t.region() {
        line("region", r);
    }
    if let Some(l) = t.label() {
        line("label", l);
    }
    if let Some(at) = t.issued_at() {
        line("issued at", &clock::format_rfc3339(at));
    }
    if t.signer().is_some() {
        line("sealed to", &t.sealed_to().join(", "));
        if let Some(id) = t.token_id() {
            line(
                "token id",
                &id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            );
        }
    }
    match t.expiration() {
        Some(at) => {
            let left = match at.duration_since(now) {
                Ok(d) => format!("in {}", clock::human(d)),
                Err(e) => format!("EXPIRED {} ago", clock::human(e.duration())),
            };
            line(
                "expires",
                &format!("{} ({left})", clock::format_rfc3339(at)),
            );
        }
        None => line("expires", "never (long-term keys)"),
    }
    s
}
