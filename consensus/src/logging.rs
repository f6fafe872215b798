//! raft-rs logs through `slog`; Cairn logs through `tracing`. [`TracingDrain`]
//! forwards each slog record (level, message, key-values) as a tracing event
//! with target `raft`.

use std::fmt::{self, Write as _};

use slog::{Drain, Key, OwnedKVList, Record, Serializer, KV};

/// A slog drain that re-emits records as tracing events.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingDrain;

/// Collects key-values as `k=v k=v`.
struct KvText(String);

impl Serializer for KvText {
    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        let _ = write!(self.0, "{key}={val}");
        Ok(())
    }
}

fn kv_text(record: &Record<'_>, values: &OwnedKVList) -> String {
    let mut s = KvText(String::new());
    let _ = record.kv().serialize(record, &mut s);
    let _ = values.serialize(record, &mut s);
    s.0
}

macro_rules! forward {
    ($level:expr, $record:expr, $values:expr) => {
        if tracing::enabled!(target: "raft", $level) {
            let kv = kv_text($record, $values);
            tracing::event!(target: "raft", $level, raft = %kv, "{}", $record.msg());
        }
    };
}

impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        use tracing::Level;
        match record.level() {
            slog::Level::Critical | slog::Level::Error => forward!(Level::ERROR, record, values),
            slog::Level::Warning => forward!(Level::WARN, record, values),
            slog::Level::Info => forward!(Level::INFO, record, values),
            slog::Level::Debug => forward!(Level::DEBUG, record, values),
            slog::Level::Trace => forward!(Level::TRACE, record, values),
        }
        Ok(())
    }
}

/// A slog logger for raft-rs that forwards to tracing.
pub fn raft_logger() -> slog::Logger {
    slog::Logger::root(TracingDrain, slog::o!())
}
