//! The transparency catalog: every tracked function in the program, collected at link
//! time (no start-up cost) with `linkme`, and the context fields every event carries.
//!
//! A host prints it (`<tool> telemetry events`, with the `clap` feature) and turns it
//! into the "what we collect" page of its documentation with [`Catalog::to_markdown`],
//! so the published list is generated from the code and cannot drift from it.

use std::fmt::Write as _;

#[cfg(feature = "json")]
use serde_json::{json, Value};

use crate::callsite::Callsite;

/// The context fields every event carries, with what each one holds.
pub const CONTEXT_FIELDS: &[(&str, &str)] = &[
    ("anonymousId", "a random UUID created on first run and kept in the state file; never derived from the machine, user or network"),
    ("context.session_id", "a random UUID, new for every run"),
    ("context.library", "the application's name and version"),
    ("context.telemetry", "this telemetry library's name and version"),
    ("context.os", "operating system name and version"),
    ("context.arch", "CPU architecture"),
    ("context.cpu", "number of logical CPUs"),
    ("context.ci_run", "whether the run is in continuous integration"),
    ("context.exec_info", "detected environments: docker, podman, kubernetes, wsl, the CI provider"),
    ("timestamp", "when the call ended"),
];

/// What the program can send: one entry per tracked function, sorted by event name.
///
/// Collected at link time on Linux, Android, macOS, iOS, Windows, the BSDs and illumos;
/// on other targets (WebAssembly, for one), and in a build without the `enabled`
/// feature, the list is empty.
#[derive(Clone, Debug)]
pub struct Catalog {
    events: Vec<&'static Callsite>,
}

/// Lists each event this program can send, with its category, name, and which arguments
/// are hashed or recorded.
///
/// ```
/// let catalog = telemetry::catalog();
/// for callsite in catalog.events() {
///     println!("{}_{}", callsite.category().as_str(), callsite.name());
/// }
/// println!("{}", catalog.to_table());
/// ```
pub fn catalog() -> Catalog {
    let mut events: Vec<&'static Callsite> = crate::imp::callsites().iter().collect();
    events.sort_by(|a, b| {
        event_name(a)
            .cmp(&event_name(b))
            .then(a.module_path().cmp(b.module_path()))
    });
    Catalog { events }
}

fn event_name(callsite: &Callsite) -> String {
    format!("{}_{}", callsite.category().as_str(), callsite.name())
}

impl Catalog {
    /// The tracked functions, sorted by event name.
    ///
    /// ```
    /// let names: Vec<String> = telemetry::catalog()
    ///     .events()
    ///     .map(|callsite| callsite.name().to_owned())
    ///     .collect();
    /// # let _ = names;
    /// ```
    pub fn events(&self) -> impl Iterator<Item = &'static Callsite> + '_ {
        self.events.iter().copied()
    }

    /// The number of tracked functions.
    ///
    /// ```
    /// let empty = telemetry::catalog().is_empty();
    /// assert_eq!(empty, telemetry::catalog().len() == 0);
    /// ```
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the program tracks nothing.
    ///
    /// ```
    /// # let _ = telemetry::catalog().is_empty();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The catalog as JSON: `{"events": [{"event", "category", "name", "args": [{"name",
    /// "mode"}], "module"}], "context": [{"field", "description"}]}`.
    ///
    /// ```
    /// let json = telemetry::catalog().to_json();
    /// assert!(json["events"].is_array());
    /// assert!(json["context"].as_array().unwrap().len() > 5);
    /// ```
    ///
    /// With the `json` feature (part of `enabled`).
    #[cfg(feature = "json")]
    pub fn to_json(&self) -> Value {
        let events: Vec<Value> = self
            .events()
            .map(|callsite| {
                let args: Vec<Value> = callsite
                    .args()
                    .iter()
                    .map(|arg| json!({"name": arg.name, "mode": arg.mode.as_str()}))
                    .collect();
                json!({
                    "event": event_name(callsite),
                    "category": callsite.category().as_str(),
                    "name": callsite.name(),
                    "args": args,
                    "module": callsite.module_path(),
                })
            })
            .collect();
        let context: Vec<Value> = CONTEXT_FIELDS
            .iter()
            .map(|(field, description)| json!({"field": field, "description": description}))
            .collect();
        json!({"events": events, "context": context})
    }

    /// A plain-text table, one event per line, for a terminal.
    ///
    /// ```
    /// let table = telemetry::catalog().to_table();
    /// assert!(table.starts_with("EVENT"));
    /// ```
    pub fn to_table(&self) -> String {
        let rows: Vec<(String, String)> = self
            .events()
            .map(|callsite| (event_name(callsite), describe_args(callsite)))
            .collect();
        let width = rows
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0)
            .max("EVENT".len());
        let mut out = format!("{:width$}  ARGUMENTS\n", "EVENT");
        for (name, args) in rows {
            let _ = writeln!(out, "{name:width$}  {args}");
        }
        out
    }

    /// A Markdown "what we collect" page for the host's documentation (`PRIVACY.md`),
    /// generated from the code. `app` names the application in the text.
    ///
    /// ```
    /// let page = telemetry::catalog().to_markdown("minietl");
    /// assert!(page.starts_with("# What minietl collects"));
    /// ```
    pub fn to_markdown(&self, app: &str) -> String {
        let prefix = crate::config::env_prefix(app);
        let mut out = String::new();
        let _ = writeln!(out, "# What {app} collects\n");
        let _ = writeln!(
            out,
            "{app} sends anonymous usage events: which commands and steps run, how long they \
             take and whether they succeed. Argument values are sent only as keyed one-way \
             hashes (a random key that never leaves your machine), except where the table \
             says `recorded`. No file contents, paths, user or host names, environment \
             variables or IP addresses are put in the events (the receiver, like any web \
             server, sees the address a request comes from).\n"
        );
        let _ = writeln!(out, "## Opting out\n");
        let _ = writeln!(
            out,
            "Any one of these turns telemetry off: `DO_NOT_TRACK=1`, `{prefix}_TELEMETRY_DISABLED=1`, \
             `{app} telemetry disable` (saved), or `--disable-telemetry` for one run. \
             `{app} telemetry level errors` (or `{prefix}_TELEMETRY_LEVEL=errors`) sends \
             failures only; `{app} telemetry local` records events on this machine without \
             sending them, and `{app} telemetry log` shows what was recorded, sent or \
             dropped. `{app} telemetry status` tells whether it is on and why. \
             `{prefix}_TELEMETRY_DEBUG=1` prints every event on stderr instead of sending it.\n"
        );
        let _ = writeln!(out, "## Events\n");
        let _ = writeln!(out, "| event | kind | arguments |");
        let _ = writeln!(out, "|---|---|---|");
        for callsite in self.events() {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                event_name(callsite),
                callsite.category().as_str(),
                describe_args(callsite)
            );
        }
        let _ = writeln!(
            out,
            "\nEvery event also carries `elapsed` (seconds), `success`, on failure `error.kind` \
             (the type of the error, never its message), and for steps the command they ran \
             under. A step called many times is summarised in one aggregate event (count, \
             failures, total/min/max time). `dropped_events` says how many events were \
             lost before this one, and `sample_rate` (when {app} sends from only a fraction \
             of installations) lets the receiver scale counts.\n"
        );
        let _ = writeln!(out, "## Context sent with every event\n");
        let _ = writeln!(out, "| field | what it holds |");
        let _ = writeln!(out, "|---|---|");
        for (field, description) in CONTEXT_FIELDS {
            let _ = writeln!(out, "| `{field}` | {description} |");
        }
        out
    }
}

fn describe_args(callsite: &Callsite) -> String {
    if callsite.args().is_empty() {
        return "-".to_owned();
    }
    callsite
        .args()
        .iter()
        .map(|arg| format!("{} ({})", arg.name, arg.mode.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'a> IntoIterator for &'a Catalog {
    type Item = &'static Callsite;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, &'static Callsite>>;

    fn into_iter(self) -> Self::IntoIter {
        self.events.iter().copied()
    }
}
