//! How long to wait after a failed delivery: capped exponential back-off with jitter,
//! and the receiver's own `Retry-After`.
//!
//! After the `n`-th failure in a row the next attempt waits a random time between half
//! and all of `min(FIRST × 2^(n-1), MAX)`: 2.5–5 s, 5–10 s, 10–20 s, … up to 30–60 min
//! (reached after ten failures in a row). The
//! randomness spreads the retries of many installations that failed at the same moment.
//! A receiver's `Retry-After` is honoured as a lower bound, capped at [`MAX_RETRY_AFTER`].

use std::time::Duration;

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
}
