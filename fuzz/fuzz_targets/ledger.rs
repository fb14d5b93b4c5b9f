//! Ledger lines (issued.jsonl): any line is a record or skipped, never a
//! panic, and what `issued` prints of records (the table, the JSON lines,
//! selection, liveness) never panics either, whatever times they hold.
#![no_main]

use handoff::ledger::{json_lines, table, Record};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let records: Vec<Record> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let now = UNIX_EPOCH + Duration::from_secs(1_764_700_000);
    for r in &records {
        let _ = r.is_live_at(now);
        let _ = r.expires();
        let _ = r.issued();
        let _ = r.session_name();
        let _ = r.matches("alice");
    }
    let _ = table(&records, now);
    let _ = json_lines(&records);
});
