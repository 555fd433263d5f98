//! `ErrorKind` on the user's error, `error_kind = ..` and `success = "always"` compile
//! on every shape of function, with no warning.
#![deny(warnings)]

use telemetry::{tracked_command, tracked_step, ErrorKind};

#[derive(Debug)]
pub enum Error {
    Missing,
    Corrupt,
}

impl ErrorKind for Error {
    fn error_kind(&self) -> &'static str {
        match self {
            Error::Missing => "missing",
            Error::Corrupt => "corrupt",
        }
    }
}

pub struct Foreign;

pub fn foreign_kind(_: &Foreign) -> &'static str {
    "foreign"
}

#[tracked_command]
fn load(fail: bool) -> Result<u8, Error> {
    if fail {
        return Err(Error::Missing);
    }
    Err(Error::Corrupt)
}

#[tracked_step(error_kind = foreign_kind)]
async fn fetch() -> Result<u8, Foreign> {
    Err(Foreign)
}

#[tracked_step(error_kind = crate::foreign_kind)]
#[track_caller]
fn in_place(fail: bool) -> Result<u8, Foreign> {
    if fail {
        return Err(Foreign);
    }
    let n: u8 = "1".parse().map_err(|_| Foreign)?;
    Ok(n)
}

#[tracked_step(success = "always")]
fn lookup(key: &str) -> Option<usize> {
    key.find('x')
}

struct Store;

impl Store {
    #[tracked_step(error_kind = Self::kind)]
    fn get(&self) -> Result<u8, Foreign> {
        Err(Foreign)
    }

    fn kind(_: &Foreign) -> &'static str {
        "store"
    }
}

#[tracked_step]
fn generic<T: AsRef<str>>(label: &str, value: T, source: &impl AsRef<str>) -> usize {
    label.len() + value.as_ref().len() + source.as_ref().len()
}

fn main() {
    let _ = (load(true), fetch(), in_place(false), lookup("x"), Store.get());
    let _ = generic("a", "b", &"c");
    let _ = Error::Missing.error_kind();
}
