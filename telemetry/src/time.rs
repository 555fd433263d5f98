//! Time arithmetic that never panics. A sum of an instant and a duration is the one
//! place std panics on overflow, and durations here come from outside: the host's
//! `flush_timeout`, a receiver's `Retry-After`, a file another process wrote. So every
//! "now plus something" goes through these, saturating at a far but representable
//! point, and every wall-clock time written as RFC 3339 stays within 1970 to 9999.

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

/// `at`, moved back to the last time RFC 3339 can write when a clock is set beyond it,
/// and forward to the epoch when it is set before 1970: `humantime` panics on a time
/// before the epoch, and a clock reading one is as possible as one set years ahead.
pub(crate) fn writable(at: SystemTime) -> SystemTime {
    let last = UNIX_EPOCH + Duration::from_secs(LAST_RFC3339_SECOND);
    at.clamp(UNIX_EPOCH, last)
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

    /// Found by `prop_delivery_last_outcome_reads_any_records` (a generated time before
    /// the epoch, formatted for the record): `humantime` panicked on it, which a clock
    /// set before 1970 would have done on the worker thread.
    #[test]
    fn a_time_before_the_epoch_is_written_as_the_epoch() {
        let before = UNIX_EPOCH - Duration::from_secs(1_827_398_596);
        assert_eq!(writable(before), UNIX_EPOCH);
        assert_eq!(
            humantime::format_rfc3339_millis(writable(before)).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    use proptest::prelude::*;

    /// Any wall-clock time the platform can hold, around the epoch by any amount.
    fn wall_time() -> impl Strategy<Value = SystemTime> {
        (any::<bool>(), any::<u64>(), 0u32..1_000_000_000).prop_map(|(ahead, seconds, nanos)| {
            let by = Duration::new(seconds, nanos);
            let moved = if ahead {
                UNIX_EPOCH.checked_add(by)
            } else {
                UNIX_EPOCH.checked_sub(by)
            };
            moved.unwrap_or(UNIX_EPOCH)
        })
    }

    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
            Just(Duration::MAX),
            Just(FAR),
        ]
    }

    proptest! {
        #[test]
        fn prop_time_sums_saturate_for_any_duration(at in wall_time(), by in duration()) {
            let later = system_after(at, by);
            prop_assert!(later >= at);
            let moved = later.duration_since(at).unwrap();
            prop_assert!(moved <= FAR);
            if at.checked_add(FAR).is_some() {
                prop_assert_eq!(moved, by.min(FAR));
            }
            let now = Instant::now();
            prop_assert_eq!(instant_after(now, by) - now, by.min(FAR));
        }

        #[test]
        fn prop_time_any_time_is_writable(at in wall_time()) {
            let written = writable(at);
            prop_assert!(written >= UNIX_EPOCH);
            let text = humantime::format_rfc3339_millis(written).to_string();
            // And it reads back as the time written, to the millisecond.
            let read = humantime::parse_rfc3339(&text).unwrap();
            let apart = read.duration_since(written).unwrap_or_else(|error| error.duration());
            prop_assert!(apart < Duration::from_millis(1), "{} from {:?}", text, at);
        }
    }
}
