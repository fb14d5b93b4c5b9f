//! Release builds of the `handoff` binary on x86_64 Linux (glibc) link the
//! functions that opening and sealing run next to each other, in the order
//! listed in build/hot-symbols.txt (made by scripts/hot-symbols).
//!
//! Why: the kernel maps a binary's code in 64 KiB windows around each page
//! it touches, so code scattered across the 4 MiB text costs resident memory
//! and page faults on every run. `handoff open`, which the AWS CLI runs each
//! time it wants credentials, touched 39 of those windows; packed together
//! its code fits in a few. docs/PERFORMANCE.md has the measurements.
//!
//! The list only orders: a name it lists that the build no longer has is
//! skipped, and the binary is the same code either way. Only lld (the
//! default linker of that target since Rust 1.90) takes the option, so it is
//! not passed when the build picks its own linker through RUSTFLAGS, nor
//! with HANDOFF_NO_SYMBOL_ORDER=1.

use std::env;
use std::path::Path;

fn main() {
    let list = Path::new("build/hot-symbols.txt");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", list.display());
    println!("cargo:rerun-if-env-changed=HANDOFF_NO_SYMBOL_ORDER");
    let var = |k: &str| env::var(k).unwrap_or_default();
    let linux_gnu_x86_64 = var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let own_linker = ["linker", "link-self-contained", "fuse-ld", "link-arg"]
        .iter()
        .any(|f| flags.contains(f));
    if var("PROFILE") != "release"
        || !linux_gnu_x86_64
        || own_linker
        || !var("HANDOFF_NO_SYMBOL_ORDER").is_empty()
        || !list.exists()
    {
        return;
    }
    let Ok(dir) = env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let path = Path::new(&dir).join(list);
    println!(
        "cargo:rustc-link-arg-bin=handoff=-Wl,--symbol-ordering-file={}",
        path.display()
    );
    println!("cargo:rustc-link-arg-bin=handoff=-Wl,--no-warn-symbol-ordering");
}
