//! Time: the one place that reads the clock, RFC 3339 in and out, and
//! durations as people write them.

use std::time::{Duration, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The current time. Nothing else in the crate reads the clock.
pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}

/// Parses an RFC 3339 / ISO 8601 timestamp with any offset and optional
/// fractional seconds (`2026-11-26T18:00:00Z`, `2026-11-26T18:00:00.123+00:00`).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    Some(t.into())
}

/// Formats a time as RFC 3339 UTC with whole seconds, the way STS does:
/// `2026-11-26T18:00:00Z`.
pub fn format_rfc3339(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| String::from("(unrepresentable time)"))
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
    fn durations() {
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("3h"), Some(Duration::from_secs(10800)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        for bad in ["", "h", "3x", "1h30", "-5", "99999999999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(human(Duration::from_secs(10740)), "2h 59m");
        assert_eq!(human(Duration::from_secs(45)), "45s");
    }
}
