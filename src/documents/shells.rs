//! The shell formats of `open`: the [environment rule](crate::documents::environment)
//! written for sh, fish, PowerShell and cmd.exe, every value quoted so that
//! evaluating the output runs nothing the token's sender wrote.
//!
//! - sh (`env`, `env-no-export`): every value in single quotes, `'` as
//!   `'\''`, even where POSIX sh would take it bare: zsh expands a bare
//!   word that starts with `=` (`=ls` becomes `/usr/bin/ls`, and
//!   `=nonexistent` stops the eval halfway), and `~` after `=` or `:`.
//! - fish: single quotes, `\` as `\\` and `'` as `\'` (the only escapes fish
//!   reads inside them).
//! - No shell can hold a NUL byte in a variable, so a value with one is
//!   refused rather than cut short.
//!
//! The unset lines come first: should a line fail, no variable of another
//! identity is left beside the token's.
//! - PowerShell: single quotes, in which nothing expands; a quote is doubled,
//!   and PowerShell reads the typographic quotes U+2018 to U+201B as quotes
//!   too, so those are doubled as well. Control characters are refused:
//!   `handoff open -f powershell | Invoke-Expression` runs the output line by
//!   line, and a line break inside a value would end the quote.
//! - cmd.exe: `set NAME=value` has no quoting that holds against `%`, `!`,
//!   `^`, `&`, `|`, `<`, `>` and `"` at once, so a value with any character
//!   outside `A-Z a-z 0-9 + / = . _ : -` is refused rather than printed.

use crate::documents::environment::{Environment, REGION_VARS};
use crate::{Error, Result};

/// A shell the output is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shell {
    /// POSIX sh; `export` or not.
    Sh {
        export: bool,
    },
    Fish,
    Pwsh,
    Cmd,
}

impl Shell {
    fn name(self) -> &'static str {
        match self {
            Shell::Sh { .. } => "sh",
            Shell::Fish => "fish",
            Shell::Pwsh => "PowerShell",
            Shell::Cmd => "cmd.exe",
        }
    }

    /// Appends `v` quoted for this shell, or refuses it.
    fn quote(self, out: &mut String, name: &str, v: &str) -> Result<()> {
        let refuse = |what: &str| {
            Err(Error::new(
                crate::ErrorKind::Unrepresentable,
                format!(
                    "the token's {name} holds {what}, which {} cannot take safely",
                    self.name()
                ),
            ))
        };
        if v.contains('\0') {
            return refuse("a NUL byte");
        }
        match self {
            Shell::Sh { .. } => push_sh_quoted(out, v),
            Shell::Fish => {
                out.push('\'');
                for ch in v.chars() {
                    if ch == '\'' || ch == '\\' {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push('\'');
            }
            Shell::Pwsh => {
                if v.chars().any(char::is_control) {
                    return refuse("a control character (a line break, an escape)");
                }
                out.push('\'');
                for ch in v.chars() {
                    if matches!(ch, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
                        out.push(ch);
                    }
                    out.push(ch);
                }
                out.push('\'');
            }
            Shell::Cmd => {
                let safe = |b: u8| b.is_ascii_alphanumeric() || b"+/=._:-".contains(&b);
                if v.is_empty() || !v.bytes().all(safe) {
                    return refuse("a character outside A-Z a-z 0-9 + / = . _ : -");
                }
                out.push_str(v);
            }
        }
        Ok(())
    }
}

/// Writes `env` for `shell` onto `out`.
pub(crate) fn write(out: &mut String, env: &Environment<'_>, shell: Shell) -> Result<()> {
    let unset = env.unset();
    match shell {
        Shell::Sh { .. } => {
            out.push_str("unset");
            for name in unset {
                out.push(' ');
                out.push_str(name);
            }
            out.push('\n');
        }
        Shell::Fish => {
            for name in unset {
                out.push_str("set -e ");
                out.push_str(name);
                out.push('\n');
            }
        }
        Shell::Pwsh => {
            for name in unset {
                out.push_str("Remove-Item Env:");
                out.push_str(name);
                out.push_str(" -ErrorAction SilentlyContinue\n");
            }
        }
        Shell::Cmd => {
            for name in unset {
                out.push_str("set ");
                out.push_str(name);
                out.push_str("=\n");
            }
        }
    }
    for (name, value) in env.set() {
        match shell {
            Shell::Sh { export } => {
                if export {
                    out.push_str("export ");
                }
                out.push_str(name);
                out.push('=');
            }
            Shell::Fish => {
                out.push_str("set -gx ");
                out.push_str(name);
                out.push(' ');
            }
            Shell::Pwsh => {
                out.push_str("$Env:");
                out.push_str(name);
                out.push_str(" = ");
            }
            Shell::Cmd => {
                out.push_str("set ");
                out.push_str(name);
                out.push('=');
            }
        }
        shell.quote(out, name, value)?;
        out.push('\n');
    }
    if let Some(region) = env.token_region() {
        let [r, d] = REGION_VARS;
        let mut q = String::new();
        shell.quote(&mut q, r, region)?;
        let lines = match shell {
            Shell::Sh { export } => {
                // Assignments are neither split nor globbed in any POSIX
                // shell, so the expansions need no double quotes (inside
                // which the single quotes would be kept literally).
                let mut s = format!("{r}=${{{r}:-${{{d}:-{q}}}}}\n{d}=${{{d}:-${r}}}\n");
                if export {
                    s.push_str(&format!("export {r} {d}\n"));
                }
                s
            }
            Shell::Fish => format!(
                "if test -z \"${r}\"\n    if test -n \"${d}\"\n        set -gx {r} \"${d}\"\n    else\n        set -gx {r} {q}\n    end\nend\nif test -z \"${d}\"\n    set -gx {d} \"${r}\"\nend\n"
            ),
            Shell::Pwsh => format!(
                "if (-not $Env:{r}) {{ if ($Env:{d}) {{ $Env:{r} = $Env:{d} }} else {{ $Env:{r} = {q} }} }}\nif (-not $Env:{d}) {{ $Env:{d} = $Env:{r} }}\n"
            ),
            Shell::Cmd => format!(
                "if not defined {r} if defined {d} set {r}=%{d}%\nif not defined {r} set {r}={q}\nif not defined {d} set {d}=%{r}%\n"
            ),
        };
        out.push_str(&lines);
    }
    Ok(())
}

/// Appends a value single-quoted for POSIX shells and zsh (always quoted:
/// see the [module](self)), without an intermediate String that would hold
/// a copy.
pub(crate) fn push_sh_quoted(out: &mut String, v: &str) {
    out.push('\'');
    for ch in v.chars() {
        if ch == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(ch);
        }
    }
    out.push('\'');
}
