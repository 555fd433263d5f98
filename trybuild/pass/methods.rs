//! Methods with every receiver, associated functions, trait impls and default methods.
#![deny(warnings)]

use telemetry::{tracked_command, tracked_step};

pub struct Store {
    rows: Vec<u32>,
    name: String,
}

impl Store {
    #[tracked_step]
    fn new(name: &str) -> Self {
        Store {
            rows: Vec::new(),
            name: name.to_owned(),
        }
    }

    #[tracked_step]
    fn len(&self) -> usize {
        self.rows.len()
    }

    #[tracked_step]
    fn push(&mut self, row: u32) -> &mut Self {
        self.rows.push(row);
        self
    }

    #[tracked_step]
    fn name_mut(&mut self) -> &mut String {
        &mut self.name
    }

    #[tracked_step]
    fn first<'a>(&'a self, fallback: &'a u32) -> &'a u32 {
        self.rows.first().unwrap_or(fallback)
    }

    #[tracked_step]
    fn into_rows(self) -> Vec<u32> {
        self.rows
    }

    #[tracked_step]
    #[allow(clippy::boxed_local)] // the receiver under test
    fn boxed(self: Box<Self>) -> usize {
        self.rows.len()
    }

    #[tracked_step(skip(self))]
    fn skip_self(&self) -> bool {
        self.rows.is_empty()
    }
}

pub trait Command {
    fn run(&mut self, dry_run: bool) -> Result<(), String>;

    #[tracked_command]
    fn describe(&self, verbose: bool) -> String {
        if verbose {
            String::from("verbose")
        } else {
            String::from("short")
        }
    }
}

impl Command for Store {
    #[tracked_command]
    fn run(&mut self, dry_run: bool) -> Result<(), String> {
        if dry_run {
            return Ok(());
        }
        self.rows.clear();
        Err(self.name.clone())
    }
}

pub fn main() {
    let mut store = Store::new("db");
    store.push(1).push(2);
    store.name_mut().push('!');
    assert_eq!(*store.first(&0), 1);
    assert_eq!(store.len(), 2);
    assert!(!store.skip_self());
    assert_eq!(store.describe(false), "short");
    assert!(store.run(true).is_ok());
    assert_eq!(store.into_rows(), vec![1, 2]);
    assert_eq!(Box::new(Store::new("b")).boxed(), 0);
}
