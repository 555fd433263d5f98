//! Generic functions, `where` clauses, `impl Trait` arguments and returns, lifetimes.
#![deny(warnings)]

use std::fmt::Display;
use telemetry::{tracked_step, HashArg};

#[tracked_step]
fn generic<T: HashArg>(value: T) -> T {
    value
}

#[tracked_step(skip(items))]
fn where_clause<I, T>(items: I, label: &str) -> usize
where
    I: IntoIterator<Item = T>,
    T: Display,
{
    items
        .into_iter()
        .map(|item| item.to_string().len())
        .sum::<usize>()
        + label.len()
}

#[tracked_step(skip(name))]
fn impl_arg(name: impl AsRef<str>, count: u32) -> usize {
    name.as_ref().len() + count as usize
}

#[tracked_step]
fn impl_return(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[tracked_step]
fn impl_in_result(n: u32) -> Result<impl Display, String> {
    if n == 0 {
        return Err("zero".to_owned());
    }
    Ok(n)
}

#[tracked_step]
fn lifetimes<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() > b.len() {
        a
    } else {
        b
    }
}

#[tracked_step]
fn const_generic<const N: usize>(values: [u8; N]) -> usize {
    values.len()
}

#[tracked_step(skip(f))]
fn closure_arg<F: FnOnce(u32) -> u32>(f: F, x: u32) -> u32 {
    f(x)
}

#[tracked_step(skip(callback))]
fn returns_closure(offset: u32, callback: Box<dyn Fn(u32) -> u32>) -> impl Fn(u32) -> u32 {
    move |x| callback(x) + offset
}

pub fn main() {
    assert_eq!(generic(3u8), 3);
    assert_eq!(generic("x"), "x");
    assert_eq!(where_clause(vec![1, 22], "ab"), 5);
    assert_eq!(impl_arg(String::from("abc"), 1), 4);
    assert_eq!(impl_return(3).count(), 3);
    assert!(impl_in_result(0).is_err());
    assert_eq!(
        impl_in_result(2).map(|v| v.to_string()).ok().as_deref(),
        Some("2")
    );
    assert_eq!(lifetimes("ab", "c"), "ab");
    assert_eq!(const_generic([1, 2, 3]), 3);
    assert_eq!(closure_arg(|x| x + 1, 1), 2);
    assert_eq!(returns_closure(1, Box::new(|x| x * 2))(3), 7);
}
