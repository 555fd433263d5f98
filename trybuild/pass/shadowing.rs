//! Generated paths survive user modules named `telemetry`, `core` and `std`, a local
//! `Result` alias, glob imports in the body and user names that look generated.
#![deny(warnings)]
#![allow(dead_code)]

mod telemetry {}
mod core {}
mod std {}

type Result<T> = ::std::result::Result<T, String>;

pub struct Option;
pub struct Some;
pub struct None;

pub enum Letter {
    A,
    B,
}

#[::telemetry::tracked_step]
fn aliased(value: u32) -> Result<u32> {
    if value == 0 {
        return Err("zero".into());
    }
    Ok(value)
}

#[::telemetry::tracked_step]
fn glob_import(first: bool) -> Letter {
    #[allow(clippy::enum_glob_use)] // the shadowing under test (tokio-rs/tracing#3306)
    use Letter::*;
    if first {
        A
    } else {
        B
    }
}

#[::telemetry::tracked_step]
async fn async_glob_import(first: bool) -> Letter {
    #[allow(clippy::enum_glob_use)] // the shadowing under test (tokio-rs/tracing#3306)
    use Letter::*;
    if first {
        A
    } else {
        B
    }
}

#[::telemetry::tracked_step]
fn generated_looking_names(__telemetry_guard: u32, __telemetry_ret: u32) -> u32 {
    let mut __telemetry_probe = __telemetry_guard;
    __telemetry_probe += __telemetry_ret;
    __telemetry_probe
}

#[::telemetry::tracked_step]
fn defines_items(x: u32) -> u32 {
    const __TELEMETRY_CALLSITE: u32 = 1;
    fn call_once(x: u32) -> u32 {
        x
    }
    call_once(x) + __TELEMETRY_CALLSITE
}

pub fn main() {
    assert_eq!(aliased(2), Ok(2));
    assert!(matches!(glob_import(true), Letter::A));
    assert_eq!(generated_looking_names(1, 2), 3);
    assert_eq!(defines_items(1), 2);
    let _future = async_glob_import(false);
}
