//! Functions that return a future they build themselves.
#![deny(warnings)]

use std::future::Future;
use std::pin::Pin;
use telemetry::tracked_step;

#[tracked_step]
fn boxed(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move { n + 1 })
}

#[tracked_step]
#[allow(clippy::manual_async_fn)] // the shape under test
fn opaque(n: u32) -> impl Future<Output = u32> {
    async move { n * 2 }
}

#[tracked_step]
fn with_setup(n: u32) -> Pin<Box<dyn Future<Output = u32>>> {
    let doubled = n * 2;
    Box::pin(async move { doubled })
}

fn block_on<F: Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
}

pub fn main() {
    assert_eq!(block_on(boxed(1)), 2);
    assert_eq!(block_on(opaque(2)), 4);
    assert_eq!(block_on(with_setup(3)), 6);
}
