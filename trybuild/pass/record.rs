//! `record(..)` with serializable types, and a user type that implements `HashArg`.
#![deny(warnings)]

use serde::Serialize;
use telemetry::{tracked_command, ArgHasher, HashArg};

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    Duckdb,
    Postgres,
}

pub struct TableRef {
    schema: String,
    table: String,
}

impl HashArg for TableRef {
    fn hash_arg(&self, hasher: &mut ArgHasher) {
        hasher.write_str(&self.schema);
        hasher.write_str(&self.table);
    }
}

#[tracked_command(record(destination, batch_size))]
fn load(table: &TableRef, destination: Destination, batch_size: Option<u32>) -> usize {
    let _ = destination;
    table.table.len() + batch_size.unwrap_or(0) as usize
}

#[tracked_command(hash(table), record(destination))]
fn copy(table: TableRef, destination: Destination, verbose: bool) -> bool {
    let _ = (destination, table.schema);
    verbose
}

pub fn main() {
    let table = TableRef {
        schema: "s".into(),
        table: "t".into(),
    };
    assert_eq!(load(&table, Destination::Duckdb, Some(2)), 3);
    assert!(copy(table, Destination::Postgres, true));
}
