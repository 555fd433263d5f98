//! Methods of `#[async_trait]` impls are timed on the future they return.
#![deny(warnings)]

use async_trait::async_trait;
use telemetry::{tracked_command, tracked_step};

#[async_trait]
pub trait Source {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String>;
    async fn count(&mut self) -> usize;

    #[tracked_step]
    async fn provided(&self, times: u32) -> u32 {
        times * 2
    }
}

pub struct Http {
    calls: usize,
}

#[async_trait]
impl Source for Http {
    #[tracked_step(name = "fetch")]
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        if url.is_empty() {
            return Err("empty url".to_owned());
        }
        Ok(url.as_bytes().to_vec())
    }

    #[tracked_command]
    async fn count(&mut self) -> usize {
        self.calls += 1;
        self.calls
    }
}

#[async_trait(?Send)]
pub trait Local {
    async fn local(&self, (a, b): (u8, u8)) -> u8;
}

#[async_trait(?Send)]
impl Local for Http {
    #[tracked_step]
    async fn local(&self, (a, b): (u8, u8)) -> u8 {
        a + b
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
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
    let mut http = Http { calls: 0 };
    assert_eq!(block_on(http.fetch("ab")).ok(), Some(b"ab".to_vec()));
    assert!(block_on(http.fetch("")).is_err());
    assert_eq!(block_on(http.count()), 1);
    assert_eq!(block_on(http.provided(2)), 4);
    assert_eq!(block_on(http.local((1, 2))), 3);
}
