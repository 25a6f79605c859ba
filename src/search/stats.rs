//! Query statistics RediSearch keeps for the whole module and per index: how many queries
//! answered and how long they ran (INFO `search_queries`), which query dialects they used
//! (INFO `search_dialect_statistics`, FT.INFO `dialect_stats`), and how many are running
//! right now (INFO `search_total_active_queries`).
//!
//! The command layer records a query once it has answered; a query that fails (unknown
//! index, syntax error, ON_TIMEOUT FAIL) is not counted, as in RediSearch. Plain counters
//! only: this module depends on nothing.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

/// The query dialects used so far: bit `d - 1` for dialect `d`. RediSearch reports each
/// dialect as 0 or 1 (used or not), not as a count.
#[derive(Default)]
pub struct Dialects(AtomicU8);

impl Dialects {
    pub fn mark(&self, dialect: u32) {
        if let Some(bit) = dialect.checked_sub(1).filter(|bit| *bit < u8::BITS) {
            self.0.fetch_or(1 << bit, Ordering::Relaxed);
        }
    }

    pub fn used(&self, dialect: u32) -> bool {
        dialect
            .checked_sub(1)
            .filter(|bit| *bit < u8::BITS)
            .is_some_and(|bit| self.0.load(Ordering::Relaxed) & (1 << bit) != 0)
    }
}

/// Module-wide query counters.
#[derive(Default)]
pub struct QueryStats {
    /// Queries answered (FT.SEARCH, FT.AGGREGATE, FT.PROFILE); reading on from a cursor
    /// continues a query rather than starting one.
    processed: AtomicU64,
    /// Query commands answered, FT.CURSOR READ included.
    commands: AtomicU64,
    /// Their total run time.
    micros: AtomicU64,
    pub dialects: Dialects,
}

/// A reading of [`QueryStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryFigures {
    pub processed: u64,
    pub commands: u64,
    /// Whole milliseconds, as RediSearch reports `total_query_execution_time_ms`.
    pub execution_ms: u64,
}

impl QueryStats {
    /// A query in `dialect` answered after `took`; `index_dialects` are those of its index.
    pub fn record_query(&self, index_dialects: &Dialects, dialect: u32, took: Duration) {
        self.processed.fetch_add(1, Ordering::Relaxed);
        self.record_command(took);
        self.dialects.mark(dialect);
        index_dialects.mark(dialect);
    }

    /// FT.CURSOR READ answered after `took`.
    pub fn record_cursor_read(&self, took: Duration) {
        self.record_command(took);
    }

    fn record_command(&self, took: Duration) {
        self.commands.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn figures(&self) -> QueryFigures {
        QueryFigures {
            processed: self.processed.load(Ordering::Relaxed),
            commands: self.commands.load(Ordering::Relaxed),
            execution_ms: self.micros.load(Ordering::Relaxed) / 1000,
        }
    }
}

/// Counts itself in a gauge (an index's running queries) for as long as it lives, so every
/// way out of a query, errors included, takes it off again.
pub struct Running<'a>(&'a AtomicU64);

impl<'a> Running<'a> {
    pub fn start(gauge: &'a AtomicU64) -> Running<'a> {
        gauge.fetch_add(1, Ordering::Relaxed);
        Running(gauge)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_are_flags() {
        let dialects = Dialects::default();
        dialects.mark(2);
        dialects.mark(2);
        dialects.mark(4);
        // Out of range: ignored, never a panic.
        dialects.mark(0);
        dialects.mark(99);
        let used: Vec<bool> = (1..=4).map(|d| dialects.used(d)).collect();
        assert_eq!(used, [false, true, false, true]);
        assert!(!dialects.used(0) && !dialects.used(99));
    }

    #[test]
    fn cursor_reads_are_commands_not_queries() {
        let stats = QueryStats::default();
        let index = Dialects::default();
        stats.record_query(&index, 2, Duration::from_micros(1500));
        stats.record_cursor_read(Duration::from_micros(700));
        assert_eq!(
            stats.figures(),
            QueryFigures {
                processed: 1,
                commands: 2,
                execution_ms: 2,
            }
        );
        assert!(stats.dialects.used(2) && index.used(2));
        assert!(!stats.dialects.used(1));
    }

    #[test]
    fn running_counts_while_alive() {
        let gauge = AtomicU64::new(0);
        let first = Running::start(&gauge);
        {
            let _second = Running::start(&gauge);
            assert_eq!(gauge.load(Ordering::Relaxed), 2);
        }
        drop(first);
        assert_eq!(gauge.load(Ordering::Relaxed), 0);
    }
}
