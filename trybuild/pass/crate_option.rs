//! `crate = ..` names the runtime for a host that depends on it under another name or
//! reaches it through a re-export. A trybuild case cannot rename its dependency, so
//! `extern crate .. as` stands in for `renamed = { package = "..", .. }` in `Cargo.toml`.
#![deny(warnings)]

extern crate telemetry as renamed;

use renamed::{tracked_command, tracked_step};

/// A re-export, as a crate wrapping the runtime for its users would write it.
mod sdk {
    pub(crate) use ::renamed as telemetry;
}

#[derive(Debug)]
struct InitError;

#[tracked_command(crate = "renamed", hash(source), record(destination))]
fn init(source: &str, destination: &str) -> Result<(), InitError> {
    if source.is_empty() {
        return Err(InitError);
    }
    let _ = destination;
    Ok(())
}

mod steps {
    /// A bare path, absolute, resolves from any module.
    #[renamed::tracked_step(crate = ::renamed, skip_all)]
    pub async fn fetch(url: &str) -> Option<usize> {
        Some(url.len())
    }
}

#[tracked_step(crate = "sdk::telemetry", name = "load")]
fn load_rows(table: &str) -> usize {
    table.len()
}

struct Warehouse;

impl Warehouse {
    #[tracked_step(crate = "crate::sdk::telemetry")]
    #[track_caller]
    fn write(&self, rows: u32) -> Result<u32, InitError> {
        if rows == 0 {
            return Err(InitError);
        }
        Ok(rows)
    }
}

fn main() {
    let _ = init("s3://bucket", "duckdb");
    drop(steps::fetch("https://example.com"));
    load_rows("events");
    let _ = Warehouse.write(1);
}
