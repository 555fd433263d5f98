//! `record(..)` refuses paths: they would leave the machine in clear.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use telemetry::tracked_step;

#[tracked_step(record(output))]
fn write_to(output: PathBuf) -> usize {
    output.as_os_str().len()
}

#[tracked_step(record(input, name, maybe))]
fn read_from(input: &Path, name: &OsStr, maybe: Option<PathBuf>) -> usize {
    input.as_os_str().len() + name.len() + maybe.map_or(0, |path| path.as_os_str().len())
}

fn main() {
    write_to(PathBuf::from("/tmp/x"));
    read_from(Path::new("/tmp/y"), OsStr::new("z"), None);
}
