//! Turns records into Segment `track` events. Runs on the worker thread only.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::call::{self, ArgValueRef, CallRecord, CustomEvent, Folded};
use crate::callsite::Callsite;
use crate::delivery::timestamp;
use crate::event::{Context, Event};

/// Everything that is the same for all events of this process.
pub(crate) struct EventBuilder {
    anonymous_id: String,
    context: Context,
    /// A reading of the monotonic clock ([`now_ns`](crate::call::now_ns)) and
    /// the wall-clock time taken with it, so a record's end (a reading of the same
    /// clock) becomes a timestamp without a wall-clock read on the caller's thread.
    base_ns: u64,
    base_system: SystemTime,
    /// Random bits of this process, combined with invocation numbers into ids.
    session_seed: u64,
    /// Command names by invocation, for aggregates of steps.
    commands: HashMap<u64, &'static str>,
}

impl EventBuilder {
    pub(crate) fn new(
        anonymous_id: String,
        context: Context,
        base: (u64, SystemTime),
        session_seed: u64,
    ) -> Self {
        EventBuilder {
            anonymous_id,
            context,
            base_ns: base.0,
            base_system: base.1,
            session_seed,
            commands: HashMap::new(),
        }
    }

    fn event(&self, name: String, at: SystemTime, properties: Map<String, Value>) -> Event {
        Event {
            kind: "track".to_owned(),
            event: name,
            message_id: uuid::Uuid::new_v4().to_string(),
            anonymous_id: self.anonymous_id.clone(),
            timestamp: timestamp(at),
            context: self.context.clone(),
            properties,
        }
    }

    /// The wall-clock time of a record's end, a reading of the monotonic clock.
    fn wall_time(&self, end_ns: u64) -> SystemTime {
        if end_ns >= self.base_ns {
            crate::time::system_after(
                self.base_system,
                Duration::from_nanos(end_ns - self.base_ns),
            )
        } else {
            // A call that ended before `init` (a manual `Call` finished late, say).
            let before = Duration::from_nanos(self.base_ns - end_ns);
            self.base_system
                .checked_sub(before)
                .unwrap_or(self.base_system)
        }
    }

    /// The wire form of an invocation id: a UUID (version 8) made of this process's
    /// random seed and the invocation number, so it is unique without a random draw
    /// on the caller's thread.
    pub(crate) fn invocation_id(&self, invocation: u64) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.session_seed.to_be_bytes());
        bytes[8..].copy_from_slice(&invocation.to_be_bytes());
        uuid::Uuid::new_v8(bytes).to_string()
    }

    /// A finished tracked call.
    pub(crate) fn call(&mut self, record: &CallRecord) -> Event {
        let callsite = record.callsite;
        let mut properties = base_properties(callsite);
        properties.insert("elapsed".into(), seconds(record.elapsed_ns));
        properties.insert("success".into(), Value::Bool(record.success()));
        properties.insert("args".into(), Value::Object(args(callsite, record)));
        if !record.success() {
            let mut error = Map::new();
            if let Some(kind) = record.error_kind() {
                error.insert("kind".into(), Value::String(kind.to_owned()));
            }
            if let Some(message) = record.cold.as_ref().and_then(|cold| cold.message.as_ref()) {
                error.insert(
                    "message".into(),
                    Value::String(super::scrub::scrub(message)),
                );
            }
            properties.insert("error".into(), Value::Object(error));
        }
        if let Some(command) = record.command {
            self.commands
                .insert(command.invocation, command.callsite.name());
            if callsite.category() == crate::Category::Step {
                properties.insert(
                    "command".into(),
                    Value::String(command.callsite.name().to_owned()),
                );
            }
            properties.insert(
                "invocation_id".into(),
                Value::String(self.invocation_id(command.invocation)),
            );
        }
        let name = event_name(callsite);
        self.event(name, self.wall_time(record.end_ns), properties)
    }

    /// Folds a sent call the budget has no room for into its callsite's aggregate.
    pub(crate) fn fold(&mut self, record: &CallRecord) {
        let invocation = match record.command {
            Some(command) => {
                self.commands
                    .insert(command.invocation, command.callsite.name());
                command.invocation
            }
            None => 0,
        };
        let counters = record.callsite.counters();
        counters.fold(record.elapsed_ns, record.success(), invocation);
        call::list_folding(record.callsite);
    }

    /// Calls of `callsite` folded since the last aggregate.
    pub(crate) fn aggregate(&mut self, callsite: &'static Callsite, folded: Folded) -> Event {
        let mut properties = base_properties(callsite);
        let failures = folded.failures;
        properties.insert("elapsed".into(), seconds(folded.total_ns));
        properties.insert("success".into(), Value::Bool(failures == 0));
        let mut aggregate = Map::new();
        aggregate.insert("count".into(), Value::from(folded.count));
        aggregate.insert("failures".into(), Value::from(failures));
        aggregate.insert("total_elapsed".into(), seconds(folded.total_ns));
        aggregate.insert("min_elapsed".into(), seconds(folded.min_ns));
        aggregate.insert("max_elapsed".into(), seconds(folded.max_ns));
        properties.insert("aggregate".into(), Value::Object(aggregate));
        if folded.last_invocation != 0 {
            if let Some(command) = self.commands.get(&folded.last_invocation) {
                properties.insert("command".into(), Value::String((*command).to_owned()));
            }
            properties.insert(
                "invocation_id".into(),
                Value::String(self.invocation_id(folded.last_invocation)),
            );
        }
        self.event(event_name(callsite), SystemTime::now(), properties)
    }

    /// An event from [`track`](crate::track).
    pub(crate) fn custom(&mut self, custom: CustomEvent) -> Event {
        let mut properties = custom.properties;
        properties.insert("event_category".into(), Value::String("custom".to_owned()));
        properties.insert("event_name".into(), Value::String(custom.name.clone()));
        self.event(custom.name, custom.at, properties)
    }
}

fn base_properties(callsite: &Callsite) -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert(
        "event_category".into(),
        Value::String(callsite.category().as_str().to_owned()),
    );
    properties.insert(
        "event_name".into(),
        Value::String(callsite.name().to_owned()),
    );
    properties
}

fn event_name(callsite: &Callsite) -> String {
    format!("{}_{}", callsite.category().as_str(), callsite.name())
}

fn args(callsite: &Callsite, record: &CallRecord) -> Map<String, Value> {
    let specs = callsite.args();
    let mut args = Map::new();
    for (index, value) in record.args() {
        let Some(spec) = specs.get(index) else {
            continue;
        };
        let value = match value {
            ArgValueRef::Hash(digest) => Value::String(call::encode(digest)),
            ArgValueRef::Recorded(bytes) => call::decode_captured(bytes),
            // Deferred by the hot path: hashed here, before anything is built from it.
            ArgValueRef::Encoding(encoding) => match call::hash_key() {
                Some(key) => Value::String(call::encode(&call::digest_encoding(
                    key, spec.name, encoding,
                ))),
                None => continue,
            },
        };
        args.insert(spec.name.to_owned(), value);
    }
    args
}

fn seconds(nanos: u64) -> Value {
    // Rounded to the microsecond: more digits would be noise.
    let micros = (nanos + 500) / 1_000;
    Value::from(micros as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{ArgSlots, Cold};
    use crate::callsite::{ArgMode, ArgSpec, Category};
    use crate::event::NameVersion;
    use serde_json::json;

    static INIT: Callsite = Callsite::new(
        Category::Command,
        "init",
        &[
            ArgSpec {
                name: "source",
                mode: ArgMode::Hashed,
            },
            ArgSpec {
                name: "destination",
                mode: ArgMode::Recorded,
            },
        ],
        "minietl",
        "main.rs",
        1,
    );

    /// The design's example, less the values that are random or measured.
    const DESIGN_EXAMPLE: &str = r#"{"batch": [{
       "type": "track", "event": "command_init", "messageId": "<uuid>", "anonymousId": "<uuid>",
       "timestamp": "2026-11-22T01:02:03.456Z",
       "context": {
         "library": {"name": "minietl", "version": "1.2.3"},
         "telemetry": {"name": "telemetry", "version": "0.1.0"},
         "os": {"name": "linux", "version": "..."}, "arch": "x86_64", "cpu": 8,
         "ci_run": false, "exec_info": ["docker"], "session_id": "<uuid>"
       },
       "properties": {
         "event_category": "command", "event_name": "init",
         "elapsed": 0.0123, "success": true,
         "args": {"source": "<hash>", "destination": "duckdb"}
       }}],
     "sentAt": "2026-11-22T01:02:03.500Z"}"#;

    fn builder() -> EventBuilder {
        let context = Context {
            library: NameVersion {
                name: "minietl".into(),
                version: "1.2.3".into(),
            },
            telemetry: NameVersion {
                name: "telemetry".into(),
                version: "0.1.0".into(),
            },
            os: NameVersion {
                name: "linux".into(),
                version: "...".into(),
            },
            arch: "x86_64".into(),
            cpu: 8,
            ci_run: false,
            exec_info: vec!["docker".into()],
            session_id: "<uuid>".into(),
        };
        let base_system =
            SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_309_323_456);
        EventBuilder::new("<uuid>".into(), context, (BASE_NS, base_system), 42)
    }

    /// The monotonic reading taken with the builder's wall-clock base.
    const BASE_NS: u64 = 7_000_000_000;

    #[test]
    fn a_record_end_becomes_wall_clock_time_around_the_base() {
        let builder = builder();
        let at = |end_ns| timestamp(builder.wall_time(end_ns));
        assert_eq!(at(BASE_NS), "2026-11-22T01:02:03.456Z");
        assert_eq!(at(BASE_NS + 1_500_000_000), "2026-11-22T01:02:04.956Z");
        assert_eq!(at(BASE_NS - 456_000_000), "2026-11-22T01:02:03.000Z");
        assert_eq!(at(0), "2026-11-22T01:01:56.456Z");
    }

    fn shape(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), shape(value)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
            Value::String(_) => json!("string"),
            Value::Number(_) => json!("number"),
            Value::Bool(_) => json!("bool"),
            Value::Null => json!("null"),
        }
    }

    #[test]
    fn a_command_event_has_the_design_shape_and_values() {
        let mut builder = builder();
        let mut args = ArgSlots::new();
        args.push_digest(0, [1; 16]);
        // In the spill, as a recorded value too long to be inline would be.
        args.push_captured(1, |bytes| crate::call::capture_into("duckdb", bytes));
        let record = CallRecord::new(
            &INIT,
            BASE_NS,
            12_300_000,
            (true, None, None),
            None,
            &mut args,
            || Box::new(Cold::with_room()),
        );
        let event = builder.call(&record);
        let batch = crate::event::Batch {
            batch: vec![event],
            sent_at: "2026-11-22T01:02:03.500Z".into(),
        };
        let ours = serde_json::to_value(&batch).unwrap();
        let design: Value = serde_json::from_str(DESIGN_EXAMPLE).unwrap();
        assert_eq!(
            shape(&ours),
            shape(&design),
            "same fields, same types, nothing more"
        );

        let event = &ours["batch"][0];
        assert_eq!(event["timestamp"], "2026-11-22T01:02:03.456Z");
        assert_eq!(event["context"], design["batch"][0]["context"]);
        assert_eq!(event["properties"]["elapsed"], 0.0123);
        assert_eq!(event["properties"]["args"]["destination"], "duckdb");
        assert_eq!(
            event["properties"]["args"]["source"],
            "AQEBAQEBAQEBAQEBAQEBAQ"
        );
        // Field order on the wire follows the design, for people reading debug output
        // (without serde_json's `preserve_order`: `Event` writes its properties in order).
        let wire = serde_json::to_string(&batch).unwrap();
        let at = |key: &str| wire.find(&format!("\"{key}\":")).unwrap();
        let keys = ["event_category", "event_name", "elapsed", "success", "args"];
        assert!(
            keys.windows(2).all(|pair| at(pair[0]) < at(pair[1])),
            "{wire}"
        );
    }

    #[test]
    fn failures_steps_and_aggregates() {
        static LOAD: Callsite = Callsite::new(Category::Step, "load", &[], "minietl", "main.rs", 2);
        let mut builder = builder();
        let command = crate::call::CommandContext {
            callsite: &INIT,
            invocation: 7,
        };
        let event = builder.call(&CallRecord::new(
            &LOAD,
            0,
            1_000,
            (false, Some("std::io::Error"), None),
            Some(command),
            &mut ArgSlots::new(),
            || Box::new(Cold::with_room()),
        ));
        assert_eq!(event.event, "step_load");
        assert_eq!(event.properties["success"], false);
        assert_eq!(event.properties["error"], json!({"kind": "std::io::Error"}));
        assert_eq!(event.properties["command"], "init");
        assert_eq!(event.properties["invocation_id"], builder.invocation_id(7));

        let folded = crate::call::Folded {
            count: 10,
            failures: 1,
            total_ns: 10_000,
            min_ns: 500,
            max_ns: 2_000,
            last_invocation: 7,
        };
        let aggregate = builder.aggregate(&LOAD, folded);
        assert_eq!(aggregate.event, "step_load");
        assert_eq!(aggregate.properties["success"], false);
        assert_eq!(
            aggregate.properties["aggregate"],
            json!({"count": 10, "failures": 1, "total_elapsed": 0.00001, "min_elapsed": 0.000001, "max_elapsed": 0.000002})
        );
        assert_eq!(aggregate.properties["command"], "init");
    }
}
