//! `unsafe fn` and `extern "C" fn`.
#![deny(warnings)]
// The `telemetry` workspace denies `unsafe_code`; this case needs it.
#![allow(unsafe_code)]

use telemetry::tracked_step;

#[tracked_step(skip(pointer))]
unsafe fn read(pointer: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *pointer }
}

#[tracked_step]
pub extern "C" fn exported(x: i32) -> i32 {
    x + 1
}

#[tracked_step(skip(pointer))]
unsafe extern "C" fn both(pointer: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { pointer.read() }
}

pub fn main() {
    let value = 3;
    // SAFETY: `value` outlives the calls.
    unsafe {
        assert_eq!(read(std::ptr::from_ref(&value)), 3);
        assert_eq!(both(std::ptr::from_ref(&value)), 3);
    }
    assert_eq!(exported(1), 2);
}
