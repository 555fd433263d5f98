//! `async fn`, `#[async_trait]` methods and hand-built futures: timed on the future,
//! across `.await`s, with cancellation and panics recorded.
#![cfg(feature = "enabled")]

mod macros_support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use macros_support::{args, block_on, elapsed, error_kind, events, single, sleep, start, success};
use telemetry::tracked_step;

#[tracked_step]
async fn waits(millis: u64) -> Result<u64, String> {
    sleep(Duration::from_millis(millis)).await;
    sleep(Duration::from_millis(millis)).await;
    Ok(millis)
}

#[test]
fn async_fns_are_timed_across_awaits_from_the_first_poll() {
    let _serial = start();
    let future = waits(30);
    // Time before the first poll is not part of the call.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(block_on(future), Ok(30));
    let event = single("step_waits");
    assert!(success(&event));
    let seconds = elapsed(&event);
    assert!((0.06..0.55).contains(&seconds), "elapsed {seconds}");
    assert!(args(&event).contains_key("millis"));
}

#[tracked_step]
async fn async_error(text: &str) -> Result<u32, std::num::ParseIntError> {
    crate::macros_support::yield_now().await;
    let value: u32 = text.parse()?;
    Ok(value)
}

#[test]
fn async_question_mark_records_the_error() {
    let _serial = start();
    assert!(block_on(async_error("x")).is_err());
    let event = single("step_async_error");
    assert!(!success(&event));
    assert_eq!(
        error_kind(&event).as_deref(),
        Some(std::any::type_name::<std::num::ParseIntError>())
    );
}

struct NoopWaker;

impl Wake for NoopWaker {
    fn wake(self: std::sync::Arc<Self>) {}
}

#[tracked_step]
async fn never_finishes(label: &str) -> u32 {
    let _ = label;
    std::future::pending::<()>().await;
    1
}

#[test]
fn a_future_dropped_before_completion_is_recorded_as_cancelled() {
    let _serial = start();
    let mut future = Box::pin(never_finishes("x"));
    let waker = Waker::from(std::sync::Arc::new(NoopWaker));
    let mut context = Context::from_waker(&waker);
    assert!(future.as_mut().poll(&mut context).is_pending());
    drop(future);
    let event = single("step_never_finishes");
    assert!(!success(&event));
    assert_eq!(error_kind(&event).as_deref(), Some("cancelled"));

    // A future dropped before its first poll never started: nothing is recorded.
    drop(never_finishes("y"));
    assert_eq!(events("step_never_finishes").len(), 1);
}

#[tracked_step]
async fn async_panics(fail: bool) -> u32 {
    crate::macros_support::yield_now().await;
    assert!(!fail, "async failure");
    1
}

#[test]
fn an_async_panic_is_recorded_and_keeps_unwinding() {
    let _serial = start();
    let caught = std::panic::catch_unwind(|| block_on(async_panics(true)));
    assert!(caught.is_err());
    let event = single("step_async_panics");
    assert!(!success(&event));
    assert_eq!(error_kind(&event).as_deref(), Some("panic"));
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch(&self, url: &str) -> Result<usize, String>;
}

struct Http;

#[async_trait::async_trait]
impl Fetch for Http {
    #[tracked_step(name = "trait_fetch")]
    async fn fetch(&self, url: &str) -> Result<usize, String> {
        sleep(Duration::from_millis(40)).await;
        if url.is_empty() {
            return Err("empty".to_owned());
        }
        Ok(url.len())
    }
}

#[test]
fn async_trait_methods_are_timed_on_their_future() {
    let _serial = start();
    let future = Http.fetch("abc");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(block_on(future), Ok(3));
    assert!(block_on(Http.fetch("")).is_err());
    let found = events("step_trait_fetch");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(success(&found[0]));
    let seconds = elapsed(&found[0]);
    assert!((0.04..0.55).contains(&seconds), "elapsed {seconds}");
    assert_eq!(args(&found[0]).keys().collect::<Vec<_>>(), ["url"]);
    assert!(!success(&found[1]));
}

#[tracked_step]
fn boxed_future(millis: u64) -> Pin<Box<dyn Future<Output = Option<u64>> + Send>> {
    Box::pin(async move {
        sleep(Duration::from_millis(millis)).await;
        Some(millis)
    })
}

#[test]
fn hand_built_futures_are_timed_on_the_future() {
    let _serial = start();
    let future = boxed_future(40);
    assert!(
        events("step_boxed_future").is_empty(),
        "nothing before the future runs"
    );
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(block_on(future), Some(40));
    let event = single("step_boxed_future");
    let seconds = elapsed(&event);
    assert!((0.04..0.55).contains(&seconds), "elapsed {seconds}");
}

#[tracked_step]
async fn moves(millis: u64) -> u64 {
    sleep(Duration::from_millis(millis)).await;
    millis
}

#[test]
fn a_future_can_move_between_threads() {
    let _serial = start();
    let future = moves(1);
    let result = std::thread::spawn(move || block_on(future))
        .join()
        .expect("the thread finishes");
    assert_eq!(result, 1);
    assert!(success(&single("step_moves")));
}
