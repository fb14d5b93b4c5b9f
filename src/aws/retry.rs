//! When to try a call again and how long to wait: the AWS SDKs' standard
//! retry mode (at most [`MAX_ATTEMPTS`], jittered exponential backoff,
//! their throttling and transient error codes).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// At most this many attempts per call (the SDKs' standard mode).
pub(crate) const MAX_ATTEMPTS: u32 = 3;

/// Backoff before retry n (1-based) is a random time up to
/// `min(BACKOFF_CAP, base * 2^(n-1))`: base 100 ms after a 5xx or a failed
/// connection, 500 ms after throttling (the SDKs' two bases), capped at 2 s.
pub(super) const BACKOFF_BASE: Duration = Duration::from_millis(100);
pub(super) const THROTTLE_BACKOFF_BASE: Duration = Duration::from_millis(500);
pub(super) const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// AWS error codes that mean "slow down" (the SDKs' list).
pub(super) const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// AWS error codes that mean "try again" although the status may be 4xx.
pub(super) const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "IDPCommunicationError",
];

/// The wait before retry `n` (1-based): full jitter over
/// `min(cap, base * 2^(n-1))`.
pub(super) fn backoff(n: u32, throttled: bool) -> Duration {
    let base = if throttled {
        THROTTLE_BACKOFF_BASE
    } else {
        BACKOFF_BASE
    };
    let ceiling = base
        .saturating_mul(1 << n.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(jitter())
}

/// A number in [0, 1) from std's randomly keyed hasher: cheap, and plenty
/// for spreading retries.
pub(super) fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
