//! The monotonic clock as plain nanoseconds, for the hot path.
//!
//! A tracked call reads the clock twice and needs two numbers from the readings: how
//! long the call took, and when it ended (which the worker turns into a timestamp).
//! With `std::time::Instant` each is a subtraction of two `timespec`s with a borrow, an
//! `Option`, and a 128-bit multiplication to get nanoseconds, a visible share of a sent
//! call (see `docs/performance.md`). Read as one `u64` of nanoseconds, both are a
//! single integer subtraction, and the end is sent as it was read.
//!
//! On Linux and Android this is `clock_gettime(CLOCK_MONOTONIC)`, the clock
//! `Instant::now()` reads there, through the same vDSO call. Elsewhere it is an
//! `Instant` measured from a process-wide origin: correct, just without the saving.

/// Nanoseconds on the monotonic clock. Only differences mean anything: the origin is
/// unspecified (boot on Linux), never earlier than a previous reading.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline(always)]
pub(crate) fn now_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`; CLOCK_MONOTONIC is supported by
    // every Linux kernel Rust supports, so the call cannot fail (std's `Instant::now`
    // makes the same call and treats a failure as impossible too).
    #[allow(unsafe_code)]
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    // Both fields are non-negative for the monotonic clock; a u64 of nanoseconds lasts
    // 584 years of uptime.
    (now.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(now.tv_nsec as u64)
}

/// Nanoseconds on the monotonic clock (see the Linux version).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
pub(crate) fn now_ns() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::now_ns;

    #[test]
    fn never_goes_back_and_keeps_pace_with_instant() {
        let mut last = now_ns();
        for _ in 0..10_000 {
            let now = now_ns();
            assert!(now >= last, "the clock went back: {last} then {now}");
            last = now;
        }
        let (start_ns, start) = (now_ns(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (measured_ns, reference) = (now_ns() - start_ns, start.elapsed());
        let reference_ns = u64::try_from(reference.as_nanos()).unwrap();
        // The two readings are taken next to each other: within a millisecond of each
        // other whatever the machine's load (both are at least the 20 ms slept).
        assert!(
            measured_ns >= 20_000_000,
            "{measured_ns} ns for a 20 ms sleep"
        );
        assert!(
            measured_ns.abs_diff(reference_ns) < 1_000_000,
            "clock: {measured_ns} ns, Instant: {reference_ns} ns"
        );
    }
}
