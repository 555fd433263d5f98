//! Bodies that never return normally, in every wrapping strategy.
#![deny(warnings)]

use telemetry::tracked_step;

#[tracked_step]
fn sync_panics(fail: bool) -> u32 {
    let _ = fail;
    panic!("always")
}

#[tracked_step]
#[track_caller]
fn in_place_panics(fail: bool) -> u32 {
    let _ = fail;
    panic!("always")
}

#[tracked_step]
#[track_caller]
fn in_place_loops(limit: u32) -> u32 {
    let mut count = 0;
    loop {
        count += 1;
        if count > limit {
            return count;
        }
    }
}

#[tracked_step]
async fn async_panics(fail: bool) -> u32 {
    let _ = fail;
    panic!("always")
}

#[tracked_step]
async fn async_unit_panics() {
    panic!("always")
}

pub fn main() {
    assert!(std::panic::catch_unwind(|| sync_panics(true)).is_err());
    assert!(std::panic::catch_unwind(|| in_place_panics(true)).is_err());
    assert_eq!(in_place_loops(2), 3);
    drop(async_panics(true));
    drop(async_unit_panics());
}
