//! The credential-document parser (seal's input) on arbitrary text: it may
//! refuse it, never panic; a document it accepts renders in every output
//! format, and each rendering parses back to the same access key id.
#![no_main]

use handoff::OutputFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(token) = handoff::parse_document(text) else {
        return;
    };
    for format in [
        OutputFormat::Env,
        OutputFormat::Json,
        OutputFormat::CredentialProcess,
        OutputFormat::Ini,
        OutputFormat::EnvNoExport,
        OutputFormat::Fish,
        OutputFormat::Imds,
    ] {
        // These renderings never fail; reading one back may refuse what
        // the rendering cannot carry (e.g. a line break in an ini value),
        // but must not panic.
        let Ok(out) = handoff::render(&token, format, "fuzz") else {
            panic!("{format:?} refused a token");
        };
        let _ = handoff::parse_document(&out);
    }
    // The Windows shells may refuse a value, never panic.
    for format in [OutputFormat::PowerShell, OutputFormat::WindowsCmd] {
        let _ = handoff::render(&token, format, "fuzz");
    }
});
