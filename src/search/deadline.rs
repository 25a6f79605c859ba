//! A query's time budget: FT.SEARCH / FT.AGGREGATE `TIMEOUT ms`, else the TIMEOUT setting
//! (0: none), and what running out of it does (ON_TIMEOUT).
//!
//! As in RediSearch, the loops that gather matches (text term unions, numeric range scans,
//! FLAT vector scans, building and scoring hits) ask [`Deadline::reached`] as they go and
//! stop early once it answers yes, keeping what they found: a subset of the full answer.
//! The stages after them (sorting, loading rows, the aggregation steps) work on what was
//! gathered; they ask [`Deadline::abandoned`], which stops them only under ON_TIMEOUT FAIL,
//! where their work would be thrown away. Whether the query then fails or returns partial
//! results is the caller's [`Deadline::timed_out`].

use std::cmp::Ordering as Order;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// [`Deadline::reached`] reads the clock once per this many calls: a call per document
/// then costs an increment, and the clock (about 25 ns) is read every few microseconds of
/// work.
const CHECK_EVERY: u32 = 64;

/// One query's budget. Atomics rather than cells so that options holding it stay `Sync`;
/// only the query's own thread touches it, so every access is relaxed.
#[derive(Default)]
pub struct Deadline {
    /// When the budget runs out; `None`: never.
    at: Option<Instant>,
    /// ON_TIMEOUT FAIL: running out fails the query.
    fail: bool,
    calls: AtomicU32,
    reached: AtomicBool,
}

impl Deadline {
    /// A budget of `budget_ms` from `start` (0: unlimited, as is one past the clock's
    /// range); `fail` is ON_TIMEOUT FAIL.
    pub fn new(start: Instant, budget_ms: u64, fail: bool) -> Deadline {
        Deadline {
            at: (budget_ms > 0)
                .then(|| start.checked_add(Duration::from_millis(budget_ms)))
                .flatten(),
            fail,
            ..Deadline::default()
        }
    }

    /// Whether the budget is spent, reading the clock every [`CHECK_EVERY`] calls. Once it
    /// answered yes it always does, so every loop after the first to stop stops at once.
    pub fn reached(&self) -> bool {
        if self.reached.load(Ordering::Relaxed) {
            return true;
        }
        if self.at.is_none() {
            return false;
        }
        let calls = self.calls.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        calls.is_multiple_of(CHECK_EVERY) && self.reached_now()
    }

    /// [`Deadline::reached`] reading the clock now: after a step whose cost is not spread
    /// over many calls.
    pub fn reached_now(&self) -> bool {
        let Some(at) = self.at else {
            return false;
        };
        if self.reached.load(Ordering::Relaxed) || Instant::now() >= at {
            self.reached.store(true, Ordering::Relaxed);
        }
        self.reached.load(Ordering::Relaxed)
    }

    /// After the query: whether it ran out of time. Under ON_TIMEOUT FAIL the clock is read
    /// once more, as RediSearch checks the budget after gathering every result; under
    /// RETURN only a loop that stopped early counts (its results are partial).
    pub fn timed_out(&self) -> bool {
        match self.fail {
            true => self.reached_now(),
            false => self.reached.load(Ordering::Relaxed),
        }
    }

    /// ON_TIMEOUT FAIL.
    pub fn fails(&self) -> bool {
        self.fail
    }

    /// Whether a stage after gathering should give up: the budget is spent and the query
    /// will fail (ON_TIMEOUT FAIL). Under RETURN such stages finish on what was gathered.
    pub fn abandoned(&self) -> bool {
        self.fail && self.reached()
    }
}

/// Items sorted per chunk of this many, with [`Deadline::abandoned`] asked between chunks.
const SORT_CHUNK: usize = 4096;

/// The first `keep` of `items` in `compare`'s order, equal items in their original order,
/// as a bounded selection (linear in `items`, then a sort of `keep`). Work stops between
/// chunks once `deadline` is abandoned; what is returned then is of no use but to be
/// dropped.
pub fn sorted_prefix<T>(
    items: Vec<T>,
    keep: usize,
    deadline: &Deadline,
    compare: impl Fn(&T, &T) -> Order,
) -> Vec<T> {
    if keep == 0 {
        return Vec::new();
    }
    let compare = |a: &(usize, T), b: &(usize, T)| compare(&a.1, &b.1).then(a.0.cmp(&b.0));
    let mut best: Vec<(usize, T)> = Vec::new();
    let mut items = items.into_iter().enumerate().peekable();
    // Candidates pile up to twice the kept share (at least a chunk) before a selection
    // cuts them back, so each item is selected over a constant number of times.
    let cut_at = keep.saturating_mul(2).max(SORT_CHUNK);
    while items.peek().is_some() && !deadline.abandoned() {
        best.extend(items.by_ref().take(SORT_CHUNK));
        if best.len() > cut_at {
            best.select_nth_unstable_by(keep - 1, compare);
            best.truncate(keep);
        }
    }
    if best.len() > keep {
        best.select_nth_unstable_by(keep - 1, compare);
        best.truncate(keep);
    }
    best.sort_unstable_by(compare);
    best.into_iter().map(|(_, item)| item).collect()
}

impl Clone for Deadline {
    fn clone(&self) -> Deadline {
        Deadline {
            at: self.at,
            fail: self.fail,
            calls: AtomicU32::new(self.calls.load(Ordering::Relaxed)),
            reached: AtomicBool::new(self.reached.load(Ordering::Relaxed)),
        }
    }
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadline")
            .field("at", &self.at)
            .field("fail", &self.fail)
            .field("reached", &self.reached.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_budget_is_never_reached() {
        let long_ago = Instant::now() - Duration::from_secs(10);
        for deadline in [
            Deadline::default(),
            Deadline::new(long_ago, 0, true),
            Deadline::new(Instant::now(), u64::MAX, true),
        ] {
            assert!((0..1000).all(|_| !deadline.reached()));
            assert!(!deadline.reached_now());
            assert!(!deadline.timed_out());
        }
    }

    #[test]
    fn a_spent_budget_is_seen_within_check_every_calls_and_stays_reached() {
        let start = Instant::now() - Duration::from_millis(5);
        let deadline = Deadline::new(start, 1, false);
        // RETURN: nothing stopped early yet, so the results are whole.
        assert!(!deadline.timed_out());
        let calls = (1..=CHECK_EVERY).find(|_| deadline.reached());
        assert_eq!(calls, Some(CHECK_EVERY));
        assert!(deadline.reached());
        assert!(deadline.timed_out());
        assert!(deadline.clone().reached());
    }

    #[test]
    fn sorted_prefix_keeps_the_first_in_order_stably() {
        let none = Deadline::default();
        let items: Vec<(u32, u32)> = (0..10_000).map(|i| (i % 7, i)).collect();
        let by_key = |a: &(u32, u32), b: &(u32, u32)| a.0.cmp(&b.0);
        let mut expected = items.clone();
        expected.sort_by(by_key);
        for keep in [0, 1, 5, 4096, 9_999, 10_000, 20_000] {
            let got = sorted_prefix(items.clone(), keep, &none, by_key);
            assert_eq!(got, expected[..keep.min(items.len())], "keep {keep}");
        }
        // Under FAIL, a spent budget stops the work before the first chunk.
        let spent = Deadline::new(Instant::now() - Duration::from_millis(5), 1, true);
        assert!(spent.reached_now());
        assert!(sorted_prefix(items, 10, &spent, by_key).is_empty());
    }

    #[test]
    fn fail_reads_the_clock_at_the_end() {
        let start = Instant::now() - Duration::from_millis(5);
        let deadline = Deadline::new(start, 1, true);
        assert!(deadline.fails());
        assert!(deadline.timed_out());
        assert!(deadline.abandoned());
        let returning = Deadline::new(start, 1, false);
        assert!(returning.reached_now());
        assert!(!returning.abandoned());
        let ahead = Deadline::new(Instant::now(), 60_000, true);
        assert!(!ahead.timed_out());
        assert!((0..1000).all(|_| !ahead.reached()));
    }
}
