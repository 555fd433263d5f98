//! Time arithmetic that never panics. A sum of an instant and a duration is the one
//! place std panics on overflow, and durations here come from outside: the host's
//! `flush_timeout`, a receiver's `Retry-After`, a file another process wrote. So every
//! "now plus something" goes through these, saturating at a far but representable
//! point, and every wall-clock time written as RFC 3339 stays within year 9999.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Further than anything here ever waits: a year. "Later than this" means "never, in
/// practice", and is representable on every platform.
pub(crate) const FAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `at + by`, or at most [`FAR`] after `at`.
pub(crate) fn instant_after(at: Instant, by: Duration) -> Instant {
    at.checked_add(by.min(FAR))
        .or_else(|| at.checked_add(by))
        .unwrap_or(at)
}

/// `at + by`, or at most [`FAR`] after `at`.
pub(crate) fn system_after(at: SystemTime, by: Duration) -> SystemTime {
    at.checked_add(by.min(FAR)).unwrap_or(at)
}

/// The last second RFC 3339 (and `humantime`, which refuses to format beyond it) can
/// write: 9999-12-31T23:59:59Z.
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

/// `at`, moved back to the last time RFC 3339 can write when a clock is set beyond it.
pub(crate) fn writable(at: SystemTime) -> SystemTime {
    let last = UNIX_EPOCH + Duration::from_secs(LAST_RFC3339_SECOND);
    at.min(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_saturate_instead_of_panicking() {
        let now = Instant::now();
        assert_eq!(instant_after(now, Duration::MAX), now + FAR);
        assert_eq!(
            instant_after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        let wall = SystemTime::now();
        assert_eq!(system_after(wall, Duration::MAX), wall + FAR);
        let far = UNIX_EPOCH + Duration::from_secs(LAST_RFC3339_SECOND * 4);
        assert_eq!(
            humantime::format_rfc3339_millis(writable(far)).to_string(),
            "9999-12-31T23:59:59.000Z"
        );
        assert_eq!(writable(wall), wall);
    }
}
