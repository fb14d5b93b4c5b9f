//! What the binary's zeroizing allocator leaves in freed memory over a whole
//! seal and open: nothing. The same checker as zeroize_types.rs, but under
//! `zeroizing_alloc::ZeroAlloc`, exactly as src/bin/handoff/main.rs installs it.

mod common;

use common::leakcheck::{count_leaks, Checking, MARKER};
use handoff::{parse_document, render, Form, Identities, OutputFormat, Recipients};

#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<Checking> = zeroizing_alloc::ZeroAlloc(Checking);

#[test]
fn seal_and_open_leave_no_copy() {
    let key = handoff::age::x25519::Identity::generate();
    let mut to = Recipients::new();
    to.add(&key.to_public().to_string()).unwrap();
    let mut ids = Identities::new();
    ids.add_text(
        handoff::secrecy::ExposeSecret::expose_secret(&key.to_string()),
        "k",
    )
    .unwrap();
    let n = count_leaks(|| {
        // plain Strings and format! on purpose: the allocator must wipe them too
        let doc = format!(
            r#"{{"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "{MARKER}", "SessionToken": "{MARKER}"}}"#
        );
        let token = parse_document(&doc).unwrap();
        for form in [Form::Binary, Form::Armor, Form::Base64] {
            let sealed = handoff::seal(&token, &to, form).unwrap();
            let back = handoff::open(&sealed, &ids).unwrap();
            let out = render(&back, OutputFormat::Json, "p").unwrap();
            drop((back, out));
        }
        drop((doc, token));
    });
    assert_eq!(n, 0);
}
