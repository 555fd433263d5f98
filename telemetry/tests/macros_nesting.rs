//! Steps carry the invocation of the command they run under: on the same thread, in
//! threads the command spawns, and in futures polled on other threads.
#![cfg(feature = "enabled")]

mod macros_support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use macros_support::{block_on, events, property, single, sleep, start, yield_now};
use telemetry::{tracked_command, tracked_step, Event};

fn invocation(event: &Event) -> String {
    property(event, "invocation_id")
        .as_str()
        .unwrap_or_else(|| panic!("no invocation_id in {event:#?}"))
        .to_owned()
}

fn command_of(event: &Event) -> &str {
    property(event, "command").as_str().unwrap_or("")
}

#[tracked_step]
fn inner_step(n: u32) -> u32 {
    n + 1
}

#[tracked_command]
fn same_thread(n: u32) -> u32 {
    inner_step(n) + inner_step(n)
}

#[test]
fn steps_on_the_command_thread_carry_its_invocation() {
    let _serial = start();
    same_thread(1);
    same_thread(2);
    let commands = events("command_same_thread");
    // `inner_step` also runs under `async_command`, in another test.
    let steps: Vec<Event> = events("step_inner_step")
        .into_iter()
        .filter(|step| command_of(step) == "same_thread")
        .collect();
    assert_eq!((commands.len(), steps.len()), (2, 4));
    for (index, step) in steps.iter().enumerate() {
        assert_eq!(command_of(step), "same_thread");
        assert_eq!(
            invocation(step),
            invocation(&commands[index / 2]),
            "{step:#?}"
        );
    }
    assert_ne!(invocation(&steps[0]), invocation(&steps[2]));
}

#[tracked_step]
fn thread_step(n: u32) -> u32 {
    n
}

#[tracked_command]
fn spawns_threads(n: u32) -> u32 {
    let handles: Vec<_> = (0..3)
        .map(|i| std::thread::spawn(move || thread_step(n + i)))
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or(0))
        .sum()
}

#[test]
fn steps_in_threads_spawned_by_the_command_carry_its_invocation() {
    let _serial = start();
    spawns_threads(1);
    let command = single("command_spawns_threads");
    let steps = events("step_thread_step");
    assert_eq!(steps.len(), 3);
    for step in &steps {
        assert_eq!(command_of(step), "spawns_threads");
        assert_eq!(invocation(step), invocation(&command));
    }
}

#[tracked_step]
async fn async_step(n: u32) -> u32 {
    yield_now().await;
    sleep(Duration::from_millis(5)).await;
    n
}

#[tracked_command]
async fn async_command(n: u32) -> u32 {
    let first = async_step(n).await;
    yield_now().await;
    first + async_step(n).await + inner_step(n)
}

#[test]
fn steps_in_futures_carry_the_command_across_awaits_and_threads() {
    let _serial = start();
    // Created here, polled on another thread.
    let future = async_command(1);
    let total = std::thread::spawn(move || block_on(future))
        .join()
        .expect("the executor thread finishes");
    assert_eq!(total, 4);
    let command = single("command_async_command");
    // `async_step` and `inner_step` also run under other commands, in other tests: take
    // the steps this command's invocation produced.
    let mine = |name: &str| -> Vec<Event> {
        events(name)
            .into_iter()
            .filter(|step| property(step, "invocation_id") == property(&command, "invocation_id"))
            .collect()
    };
    let steps = mine("step_async_step");
    assert_eq!(steps.len(), 2, "{steps:#?}");
    let sync_steps = mine("step_inner_step");
    assert_eq!(sync_steps.len(), 1, "{sync_steps:#?}");
    for step in steps.iter().chain(&sync_steps) {
        assert_eq!(command_of(step), "async_command");
    }
}

#[tracked_command]
async fn interleaved(label: &str, n: u32) -> u32 {
    let _ = label;
    async_step(n).await + async_step(n).await
}

#[test]
fn interleaved_commands_on_one_thread_keep_their_own_steps() {
    let _serial = start();
    // Two commands polled alternately on one thread: each step belongs to its own.
    let both = async {
        let first = std::pin::pin!(interleaved("a", 1));
        let second = std::pin::pin!(interleaved("b", 2));
        Join {
            first,
            second,
            a: None,
            b: None,
        }
        .await
    };
    assert_eq!(block_on(both), (2, 4));
    let commands = events("command_interleaved");
    assert_eq!(commands.len(), 2);
    let steps: Vec<Event> = events("step_async_step")
        .into_iter()
        .filter(|step| command_of(step) == "interleaved")
        .collect();
    assert_eq!(steps.len(), 4);
    let ids: std::collections::HashSet<String> = commands.iter().map(invocation).collect();
    for step in &steps {
        assert!(ids.contains(&invocation(step)));
    }
    let per_command = |id: &String| steps.iter().filter(|step| &invocation(step) == id).count();
    for id in &ids {
        assert_eq!(per_command(id), 2);
    }
}

/// Polls two futures, alternately, until both are done.
struct Join<'a, A: Future, B: Future> {
    first: Pin<&'a mut A>,
    second: Pin<&'a mut B>,
    a: Option<A::Output>,
    b: Option<B::Output>,
}

impl<A: Future, B: Future> Future for Join<'_, A, B>
where
    A::Output: Unpin,
    B::Output: Unpin,
{
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.a.is_none() {
            if let Poll::Ready(value) = this.first.as_mut().poll(context) {
                this.a = Some(value);
            }
        }
        if this.b.is_none() {
            if let Poll::Ready(value) = this.second.as_mut().poll(context) {
                this.b = Some(value);
            }
        }
        match (this.a.take(), this.b.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                this.a = a;
                this.b = b;
                Poll::Pending
            }
        }
    }
}

#[tracked_command]
async fn dies_in_poll(n: u32) -> u32 {
    yield_now().await;
    if n > 0 {
        panic!("the command dies inside its poll");
    }
    n
}

#[tracked_step]
fn after_the_dead_command() {}

#[test]
fn a_panic_caught_inside_a_poll_does_not_leave_its_command_current() {
    let _serial = start();
    let caught = std::panic::catch_unwind(|| block_on(dies_in_poll(1)));
    assert!(caught.is_err());
    after_the_dead_command();
    let step = single("step_after_the_dead_command");
    assert_eq!(
        property(&step, "command"),
        &serde_json::Value::Null,
        "the step ran under no command: {step:?}"
    );
}
