//! A test age plugin, `age-plugin-handofftest`, built on the `age-plugin`
//! crate (the reference implementation of the plugin side of the protocol).
//! For tests only: its "wrapping" puts the file key in the stanza in the
//! clear, tagged with the recipient's id.
//!
//! - No arguments: prints a new identity, with its recipient in a
//!   `# recipient:` comment, as real plugins do.
//! - `HANDOFF_TEST_PLUGIN_COUNT=FILE`: appends a line to FILE for every file
//!   key it unwraps, so tests can count decryptions.
//! - `HANDOFF_TEST_PLUGIN=MODE` makes it misbehave: `exit` (exits at once),
//!   `garbage` (writes bytes that are not the protocol), `hang` (never
//!   answers), `pin` (asks for a PIN), `confirm` (asks to confirm),
//!   `public` (asks for a public value), `message` (says something, then
//!   works).

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::io::{self, Write};

use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret;
use age_plugin::{
    identity::{self, IdentityPluginV1},
    print_new_identity,
    recipient::{self, RecipientPluginV1},
    run_state_machine, Callbacks, PluginHandler,
};
use base64::Engine;

const NAME: &str = "handofftest";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Recipients;
    type IdentityV1 = Identities;

    fn recipient_v1(self) -> io::Result<Recipients> {
        Ok(Recipients(Vec::new()))
    }

    fn identity_v1(self) -> io::Result<Identities> {
        Ok(Identities(Vec::new()))
    }
}

struct Recipients(Vec<Vec<u8>>);

impl RecipientPluginV1 for Recipients {
    fn add_recipient(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        if plugin_name != NAME || bytes.len() != 16 {
            return Err(recipient::Error::Recipient {
                index,
                message: "not a handofftest recipient".into(),
            });
        }
        self.0.push(bytes.to_vec());
        Ok(())
    }

    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        if plugin_name != NAME || bytes.len() != 16 {
            return Err(recipient::Error::Identity {
                index,
                message: "not a handofftest identity".into(),
            });
        }
        self.0.push(bytes.to_vec());
        Ok(())
    }

    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        mut callbacks: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        if let Err(e) = misbehave(&mut callbacks) {
            return Ok(Err(vec![recipient::Error::Internal { message: e }]));
        }
        Ok(Ok(file_keys
            .iter()
            .map(|key| {
                self.0
                    .iter()
                    .map(|id| Stanza {
                        tag: NAME.into(),
                        args: vec![b64(id)],
                        body: key.expose_secret().to_vec(),
                    })
                    .collect()
            })
            .collect()))
    }
}

struct Identities(Vec<Vec<u8>>);

impl IdentityPluginV1 for Identities {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        if plugin_name != NAME || bytes.len() != 16 {
            return Err(identity::Error::Identity {
                index,
                message: "not a handofftest identity".into(),
            });
        }
        self.0.push(bytes.to_vec());
        Ok(())
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut keys = HashMap::new();
        for (i, stanzas) in files.into_iter().enumerate() {
            let ours = stanzas.iter().find(|s| {
                s.tag == NAME
                    && s.body.len() == 16
                    && self.0.iter().any(|id| s.args.first() == Some(&b64(id)))
            });
            let Some(stanza) = ours else { continue };
            if let Err(e) = misbehave(&mut callbacks) {
                keys.insert(i, Err(vec![identity::Error::Internal { message: e }]));
                continue;
            }
            let key = FileKey::try_init_with_mut(|k| {
                k.copy_from_slice(&stanza.body);
                Ok::<(), Infallible>(())
            });
            let Ok(key) = key;
            if let Some(path) = std::env::var_os("HANDOFF_TEST_PLUGIN_COUNT") {
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                {
                    let _ = f.write_all(b"unwrap\n");
                }
            }
            keys.insert(i, Ok(key));
        }
        Ok(keys)
    }
}

/// What HANDOFF_TEST_PLUGIN asks of it, inside the exchange.
fn misbehave<E>(callbacks: &mut impl Callbacks<E>) -> Result<(), String> {
    let mode = std::env::var("HANDOFF_TEST_PLUGIN").unwrap_or_default();
    let refused = |what: &str| format!("the client would not give a {what}");
    match mode.as_str() {
        "pin" => match callbacks.request_secret("Enter the PIN for test key:") {
            Ok(Ok(pin)) if pin.expose_secret() == "123456" => Ok(()),
            Ok(Ok(_)) => Err("wrong PIN".into()),
            _ => Err(refused("PIN")),
        },
        "confirm" => match callbacks.confirm("Use the test key?", "yes", Some("no")) {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("not confirmed".into()),
            _ => Err(refused("confirmation")),
        },
        "public" => match callbacks.request_public("Favourite colour?") {
            Ok(Ok(_)) => Ok(()),
            _ => Err(refused("colour")),
        },
        "message" => {
            let _ = callbacks.message("touch the test key");
            Ok(())
        }
        _ => Ok(()),
    }
}

fn main() -> io::Result<()> {
    let machine = std::env::args().find_map(|a| a.strip_prefix("--age-plugin=").map(String::from));
    let Some(machine) = machine else {
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id).map_err(io::Error::other)?;
        print_new_identity(NAME, &id, &id);
        return Ok(());
    };
    match std::env::var("HANDOFF_TEST_PLUGIN").as_deref() {
        Ok("exit") => std::process::exit(3),
        Ok("garbage") => {
            let mut out = io::stdout();
            out.write_all(b"\x00\xff garbage -> not the age plugin protocol\n\n\n-> \x1b[31m\n")?;
            out.flush()?;
            // stay until the client gives up, so it reads the garbage
            // rather than a closed pipe
            io::copy(&mut io::stdin(), &mut io::sink())?;
            std::process::exit(0);
        }
        Ok("flood") => {
            // one endless protocol line
            let mut out = io::stdout();
            out.write_all(b"-> ")?;
            let chunk = [b'x'; 65536];
            loop {
                out.write_all(&chunk)?;
            }
        }
        Ok("hang") => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        _ => {}
    }
    run_state_machine(&machine, Handler)
}
