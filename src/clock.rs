//! Time: the one place that reads the clock, RFC 3339 in and out, and
//! durations as people write them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The current time. Nothing else in the crate reads the clock.
pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}

/// The earliest time handoff accepts: 1970-01-01T00:00:00Z.
pub const EARLIEST: &str = "1970-01-01T00:00:00Z";
/// The latest time handoff accepts: 9999-12-31T23:59:59Z.
pub const LATEST: &str = "9999-12-31T23:59:59Z";
/// [`LATEST`] in seconds since the epoch.
const LATEST_SECS: u64 = 253_402_300_799;

/// Parses an RFC 3339 / ISO 8601 timestamp with any offset and optional
/// fractional seconds (`2026-11-26T18:00:00Z`, `2026-11-26T18:00:00.123+00:00`).
///
/// Only times from [`EARLIEST`] to [`LATEST`] (in UTC, after applying the
/// offset) are accepted: `9999-12-31T23:59:59-23:59` is in year 10000 in UTC
/// and is refused here, so that every time handoff holds can be printed.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    // unix_timestamp is plain arithmetic on the fields: it cannot overflow
    // for any year RFC 3339 can write.
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    if secs > LATEST_SECS {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::new(secs, t.nanosecond()))
}

/// Formats a time as RFC 3339 UTC with whole seconds, the way STS does:
/// `2026-11-26T18:00:00Z`.
///
/// Every time [`parse_rfc3339`] returns is printed exactly. A time outside
/// the accepted range (only a library caller can make one) is printed as the
/// nearest end of the range: [`EARLIEST`] or [`LATEST`].
pub fn format_rfc3339(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs().min(LATEST_SECS),
        Err(_) => 0,
    };
    // In range by construction; the fallbacks are the range's ends.
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| String::from(if secs == 0 { EARLIEST } else { LATEST }))
}

/// Whether `t` lies in the range [`parse_rfc3339`] accepts.
pub fn in_range(t: SystemTime) -> bool {
    t.duration_since(UNIX_EPOCH)
        .is_ok_and(|d| d.as_secs() <= LATEST_SECS)
}

/// A short human form of a duration: `2h 59m`, `45s`, `3d 4h`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m {secs}s"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Parses a duration given as seconds (`3600`) or with units (`90m`, `3h`,
/// `1h30m`, `45s`, `1d`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = num.parse().ok()?;
        num.clear();
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !num.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = parse_rfc3339("2026-11-26T18:00:00Z").unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-26T18:00:00Z");
        let t = parse_rfc3339("2026-11-26T19:00:00.250+01:00").unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-26T18:00:00Z");
        assert!(parse_rfc3339("yesterday").is_none());
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn the_edges_of_rfc3339_are_refused_or_exact() {
        // In UTC these are in year 10000 or before 1970: refused, no panic.
        for bad in [
            "9999-12-31T23:59:59-23:59",
            "9999-12-31T23:59:59-00:01",
            "9999-12-31T23:59:59.999999999-00:01",
            "1969-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:00:00+23:59",
            "1970-01-01T00:00:00+00:01",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        for (good, utc) in [
            ("9999-12-31T23:59:59Z", LATEST),
            ("9999-12-31T23:59:59.999999999Z", LATEST),
            ("9999-12-31T23:59:59+23:59", "9999-12-31T00:00:59Z"),
            ("1970-01-01T00:00:00Z", EARLIEST),
            ("1970-01-01T23:59:00+23:59", "1970-01-01T00:00:00Z"),
            ("1969-12-31T23:59:00-00:01", "1970-01-01T00:00:00Z"),
        ] {
            let t = parse_rfc3339(good).unwrap_or_else(|| panic!("{good}"));
            assert!(in_range(t));
            assert_eq!(format_rfc3339(t), utc, "{good}");
        }
        // Whatever a library caller builds is printed, clamped to the range.
        let far = UNIX_EPOCH + Duration::from_secs(LATEST_SECS + 86400 * 400);
        assert!(!in_range(far));
        assert_eq!(format_rfc3339(far), LATEST);
        if let Some(before) = UNIX_EPOCH.checked_sub(Duration::from_secs(10)) {
            assert_eq!(format_rfc3339(before), EARLIEST);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("3h"), Some(Duration::from_secs(10800)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        // seconds as a unit, alone and after others
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("1m45s"), Some(Duration::from_secs(105)));
        assert_eq!(
            parse_duration(" 2d1h1m1s "),
            Some(Duration::from_secs(176_461))
        );
        for bad in ["", "h", "3x", "1h30", "-5", "99999999999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(human(Duration::from_secs(10740)), "2h 59m");
        assert_eq!(human(Duration::from_secs(45)), "45s");
    }
}
