//! `async fn` in every position; the futures stay `Send` when the body is.
#![deny(warnings)]
// The `telemetry` workspace denies `unsafe_code`; this case needs it.
#![allow(unsafe_code)]

use std::error::Error;
use std::future::Future;
use telemetry::{tracked_command, tracked_step};

#[derive(Debug)]
pub struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl Error for MyError {}

impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> Self {
        MyError
    }
}

fn ready(value: u32) -> std::future::Ready<u32> {
    std::future::ready(value)
}

#[tracked_command]
async fn command(source: &str) -> Result<u32, MyError> {
    let parsed: u32 = source.parse()?;
    let loaded = step(parsed).await;
    if loaded == 0 {
        return Err(MyError);
    }
    Ok(loaded)
}

#[tracked_step]
async fn step(n: u32) -> u32 {
    ready(n).await + ready(1).await
}

#[tracked_step]
async fn unit_step() {}

#[tracked_step]
async fn coerces(fail: bool) -> Box<dyn Error + Send + Sync> {
    if fail {
        return Box::new(MyError);
    }
    Box::new(MyError)
}

#[tracked_step]
async fn single_line() -> u32 {
    5
}

#[tracked_step(skip(pointer))]
async unsafe fn raw(pointer: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *pointer }
}

#[tracked_step]
async fn impl_return(n: u32) -> impl std::fmt::Display {
    n
}

pub struct Loader {
    loaded: u32,
}

impl Loader {
    #[tracked_step]
    async fn load(&mut self, n: u32) -> &mut u32 {
        self.loaded += ready(n).await;
        &mut self.loaded
    }

    #[tracked_step]
    async fn consume(self) -> u32 {
        self.loaded
    }
}

pub trait Fetch {
    fn fetch(&self, url: &str) -> impl Future<Output = Option<u32>> + Send;
}

impl Fetch for Loader {
    #[tracked_step]
    async fn fetch(&self, url: &str) -> Option<u32> {
        u32::try_from(url.len())
            .ok()
            .and_then(|n| n.checked_sub(1))
            .map(|n| n + self.loaded)
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

fn block_on<F: Future>(future: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
}

pub fn main() {
    assert_eq!(block_on(assert_send(command("2"))).ok(), Some(3));
    assert!(block_on(command("x")).is_err());
    block_on(assert_send(unit_step()));
    let _ = block_on(assert_send(coerces(true)));
    assert_eq!(block_on(single_line()), 5);
    let value = 4;
    // SAFETY: `value` outlives the call.
    assert_eq!(block_on(unsafe { raw(std::ptr::from_ref(&value)) }), 4);
    assert_eq!(block_on(impl_return(3)).to_string(), "3");
    let mut loader = Loader { loaded: 0 };
    assert_eq!(*block_on(loader.load(2)), 2);
    assert_eq!(block_on(assert_send(loader.fetch("ab"))), Some(3));
    assert_eq!(block_on(loader.consume()), 2);
}
