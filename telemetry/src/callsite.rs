//! One static per tracked function: what it sends, and its per-process call counters.
//!
//! The macros declare a `Callsite` as a `static` inside the tracked function. It carries
//! the function's event name and argument plan (what the catalog lists), plus the atomic
//! counters ([`crate::call`]'s, a no-op compiled out) that fold calls beyond the per-name
//! budget into one aggregate event: no map, no lock, and no allocation on the caller's
//! thread.

use crate::imp::Counters;

/// Whether a tracked function is a CLI command or a pipeline step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// A CLI handler, marked with `#[tracked_command]`.
    Command,
    /// A pipeline step, marked with `#[tracked_step]`.
    Step,
}

impl Category {
    /// The `event_category` value on the wire, and the prefix of the event name.
    ///
    /// ```
    /// assert_eq!(telemetry::Category::Step.as_str(), "step");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Command => "command",
            Category::Step => "step",
        }
    }
}

/// How an argument's value leaves the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgMode {
    /// A keyed one-way hash of the value (the default).
    Hashed,
    /// The value as it is (`record(..)`): for low-cardinality, non-identifying values.
    Recorded,
}

impl ArgMode {
    /// `"hashed"` or `"recorded"`.
    ///
    /// ```
    /// assert_eq!(telemetry::ArgMode::Recorded.as_str(), "recorded");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ArgMode::Hashed => "hashed",
            ArgMode::Recorded => "recorded",
        }
    }
}

/// An argument a tracked function sends. Skipped arguments are not listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgSpec {
    /// The parameter's name, as written in the function signature.
    pub name: &'static str,
    /// Hashed or recorded.
    pub mode: ArgMode,
}

/// The static description of one tracked function, plus its call counters.
///
/// Created by the macros; read through [`catalog()`](crate::catalog()).
pub struct Callsite {
    category: Category,
    name: &'static str,
    args: &'static [ArgSpec],
    module_path: &'static str,
    file: &'static str,
    line: u32,
    counters: Counters,
}

impl Callsite {
    /// Used by the macros: describes a tracked function.
    #[doc(hidden)]
    pub const fn new(
        category: Category,
        name: &'static str,
        args: &'static [ArgSpec],
        module_path: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Callsite {
            category,
            name,
            args,
            module_path,
            file,
            line,
            counters: Counters::new(),
        }
    }

    /// Command or step.
    pub fn category(&self) -> Category {
        self.category
    }

    /// The event's name without its category (`init` for `command_init`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The arguments the function sends, in signature order.
    pub fn args(&self) -> &'static [ArgSpec] {
        self.args
    }

    /// The Rust module the function is defined in.
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The source file the function is defined in.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the function's attribute.
    pub fn line(&self) -> u32 {
        self.line
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl std::fmt::Debug for Callsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callsite")
            .field("category", &self.category)
            .field("name", &self.name)
            .field("args", &self.args)
            .field("module_path", &self.module_path)
            .finish_non_exhaustive()
    }
}
