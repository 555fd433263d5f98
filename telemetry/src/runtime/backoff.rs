//! How long to wait after a failed delivery: capped exponential back-off with jitter,
//! and the receiver's own `Retry-After`.
//!
//! After the `n`-th failure in a row the next attempt waits a random time between half
//! and all of `min(FIRST × 2^(n-1), MAX)`: 2.5–5 s, 5–10 s, 10–20 s, … up to 30–60 min
//! (reached after ten failures in a row). The
//! randomness spreads the retries of many installations that failed at the same moment.
//! A receiver's `Retry-After` is honoured as a lower bound, capped at [`MAX_RETRY_AFTER`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The back-off after the first failure (before jitter).
pub(crate) const FIRST: Duration = Duration::from_secs(5);
/// The longest back-off (before jitter).
pub(crate) const MAX: Duration = Duration::from_secs(60 * 60);
/// The longest `Retry-After` honoured: a receiver asking for more is retried after this.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The pause after `failures` failures in a row (at least 1), jittered, and no shorter
/// than the receiver's `retry_after` (capped).
pub(crate) fn pause(failures: u32, retry_after: Option<Duration>) -> Duration {
    let window = window(failures);
    let jittered = window / 2 + window.mul_f64(random_unit() / 2.0);
    match retry_after {
        Some(asked) => jittered.max(asked.min(MAX_RETRY_AFTER)),
        None => jittered,
    }
}

/// The un-jittered window after `failures` failures in a row.
pub(crate) fn window(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    FIRST.saturating_mul(1u32 << doublings).min(MAX)
}

/// A random number in `[0, 1)` from the OS's random source (a fixed midpoint if that
/// fails: the jitter is a courtesy, not a guarantee).
fn random_unit() -> f64 {
    match getrandom::u64() {
        Ok(bits) => (bits >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

/// Parses a `Retry-After` header: a number of seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`), which becomes the time left until it.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// IMF-fixdate only (the form RFC 9110 requires senders to use).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let (_, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':');
    let hour: u64 = clock.next()?.parse().ok()?;
    let minute: u64 = clock.next()?.parse().ok()?;
    let second: u64 = clock.next()?.parse().ok()?;
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = u64::try_from(days).ok()? * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_double_up_to_the_cap() {
        assert_eq!(window(0), FIRST);
        assert_eq!(window(1), FIRST);
        assert_eq!(window(2), FIRST * 2);
        assert_eq!(window(5), FIRST * 16);
        assert_eq!(window(11), MAX);
        assert_eq!(window(10), FIRST * 512);
        assert_eq!(window(u32::MAX), MAX);
    }

    #[test]
    fn pauses_are_jittered_within_half_to_all_of_the_window() {
        for failures in 1..20 {
            let window = window(failures);
            for _ in 0..20 {
                let pause = pause(failures, None);
                assert!(
                    pause >= window / 2 && pause <= window,
                    "{pause:?} vs {window:?}"
                );
            }
        }
    }

    #[test]
    fn retry_after_is_a_capped_lower_bound() {
        assert!(pause(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
        assert_eq!(
            pause(1, Some(Duration::from_secs(10 * 86_400))),
            MAX_RETRY_AFTER
        );
        assert!(pause(20, Some(Duration::from_secs(1))) >= MAX / 2);
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06T08:49:37Z
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tue, 29 Feb 2028 00:00:00 GMT", UNIX_EPOCH),
            Some(Duration::from_secs(1_835_395_200))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 25:00:00 GMT", now),
            None
        );
    }
}
