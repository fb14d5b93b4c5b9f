//! A test-only global allocator that looks into every block as it is freed
//! and counts those that still hold a secret marker.
//!
//! Register it with `#[global_allocator]`, alone (to see what our own types
//! leave behind) or under `zeroizing_alloc::ZeroAlloc` (to see what the
//! binary's allocator leaves: it must be nothing).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The secret the tests plant; no other data contains it.
pub const MARKER: &str = "ZEROIZEmarkerQ7vXk2Lp9sWn4Rt8Yc3Bd6Fh1Jm5";

static ARMED: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Counts freed blocks holding [`MARKER`] while armed.
pub struct Checking;

// SAFETY: forwards every call to the system allocator; on dealloc it only
// reads the block being freed, which is valid for `layout.size()` bytes.
unsafe impl GlobalAlloc for Checking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) {
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()) {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
    // realloc is the default: alloc, copy, dealloc, so the old block is checked too.
}

/// Runs `f` with the checker armed and returns how many freed blocks held
/// the marker. Calls are serialised so parallel tests do not mix.
pub fn count_leaks(f: impl FnOnce()) -> usize {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    FOUND.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}
