//! The toy pipeline: command handlers and steps, each tracked.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use telemetry::{tracked_command, tracked_step};

/// What can go wrong in the pipeline.
#[derive(Debug)]
pub enum Error {
    UnsupportedDestination(String),
    StepFailed(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedDestination(kind) => {
                write!(
                    f,
                    "unsupported destination `{kind}` (use duckdb, postgres or parquet)"
                )
            }
            Error::StepFailed(step) => write!(f, "step `{step}` failed"),
        }
    }
}

impl std::error::Error for Error {}

const DESTINATIONS: [&str; 3] = ["duckdb", "postgres", "parquet"];

/// `minietl init <source> <destination>`: the source is hashed (it may be a private path
/// or URL); the destination kind is a low-cardinality value, recorded as it is.
#[tracked_command(record(destination), hash(source))]
pub fn init(source: &str, destination: &str) -> Result<(), Error> {
    if !DESTINATIONS.contains(&destination) {
        return Err(Error::UnsupportedDestination(destination.to_owned()));
    }
    println!("registered pipeline {source} -> {destination}");
    Ok(())
}

/// `minietl run`: extract, then normalize every row, then load.
#[tracked_command(record(rows), skip(fail_at))]
pub fn run(rows: usize, fail_at: Option<&str>) -> Result<(), Error> {
    let extracted = extract("events", rows, fail_at)?;
    let mut normalized = Vec::with_capacity(extracted.len());
    for row in extracted {
        normalized.push(normalize(row, fail_at)?);
    }
    let loaded = block_on(load_rows("events", normalized, fail_at))?;
    println!("loaded {loaded} rows");
    Ok(())
}

/// `minietl status`.
#[tracked_command]
pub fn status() -> Result<(), Error> {
    println!("pipeline: events (ready)");
    Ok(())
}

#[tracked_step(skip(fail_at))]
fn extract(table: &str, rows: usize, fail_at: Option<&str>) -> Result<Vec<u64>, Error> {
    if fail_at == Some("extract") {
        return Err(Error::StepFailed("extract"));
    }
    let _ = table;
    Ok((0..rows as u64).collect())
}

/// Called once per row: beyond the per-step budget its calls fold into one aggregate
/// event instead of one event each.
#[tracked_step(skip_all)]
fn normalize(row: u64, fail_at: Option<&str>) -> Result<u64, Error> {
    if fail_at == Some("normalize") && row == 3 {
        return Err(Error::StepFailed("normalize"));
    }
    Ok(row.wrapping_mul(2654435761) % 1000)
}

/// An async step: timed across its `.await`s.
#[tracked_step(name = "load", skip(rows, fail_at))]
async fn load_rows(table: &str, rows: Vec<u64>, fail_at: Option<&str>) -> Result<usize, Error> {
    let _ = table;
    yield_now().await;
    if fail_at == Some("load") {
        return Err(Error::StepFailed("load"));
    }
    Ok(rows.len())
}

/// Yields once to the executor, as real I/O would.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// A minimal executor, so the example needs no async runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}
