//! Ledger files (issued.jsonl), as bytes: every line is a record or one
//! warning naming its line (not UTF-8, too long, not JSON, not a record),
//! never a panic and never a line passed over in silence; and what `issued`
//! prints of records (the table, the JSON lines, selection, liveness) never
//! panics either, whatever lengths and characters their fields hold: every
//! column is capped and no control or format character reaches the table.
#![no_main]

use handoff::issuer::ledger::{json_lines, parse, table, Record, MAX_FILE_COLUMN};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let reading = parse(data);
    let nonblank = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(
        reading.records.len() + reading.warnings.len(),
        nonblank,
        "a line neither read nor reported"
    );
    // Records whose fields are the input itself, however long or odd.
    let mut records: Vec<Record> = reading.records;
    if let Ok(text) = std::str::from_utf8(data) {
        let mut r: Record = serde_json::from_str(
            r#"{"token_id":"","kind":"federation","access_key_id":"","recipients":[],"recipients_fingerprint":"","issued_at":""}"#,
        )
        .unwrap();
        r.token_id = text.to_string();
        r.name = Some(text.to_string());
        r.userid = Some(format!("123456789012:{text}"));
        r.file = Some(text.to_string());
        r.expires_at = Some(text.to_string());
        r.revoked_at = (text.len() % 2 == 0).then(|| text.to_string());
        r.delivered = (text.len() % 3 == 0).then_some(false);
        records.push(r);
    }
    let now = UNIX_EPOCH + Duration::from_secs(1_764_700_000);
    for r in &records {
        let _ = r.is_live_at(now);
        let _ = r.expires();
        let _ = r.issued();
        let _ = r.session_name();
        let _ = r.matches("alice");
    }
    let shown = table(&records, now);
    for line in shown.lines() {
        assert!(line.chars().count() <= 8 * 50 + MAX_FILE_COLUMN, "{line}");
        assert!(!line.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)));
    }
    let _ = json_lines(&records);
});
