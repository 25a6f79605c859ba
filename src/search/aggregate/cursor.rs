//! FT.AGGREGATE's cursors (WITHCURSOR, FT.CURSOR READ / DEL): the rows of a finished
//! pipeline not sent yet, kept per index in its [`Cursors`] table (so dropping the index
//! releases them), read in batches, and forgotten after MAXIDLE milliseconds without a read.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::RngExt;

use super::Row;
use crate::search::SearchError;

/// Cursors an index may hold at once (FT.INFO `index_capacity`).
pub const CURSOR_CAPACITY: usize = 128;
/// Rows per read when neither WITHCURSOR nor FT.CURSOR READ gives COUNT.
pub const DEFAULT_READ_SIZE: usize = 1000;

/// One open cursor.
struct Cursor {
    rows: VecDeque<Row>,
    /// The result count of the aggregation, sent with every batch.
    total: usize,
    /// Rows per read unless the read gives COUNT.
    count: usize,
    max_idle: Duration,
    last_used: Instant,
}

/// One batch read from a cursor: its rows, the aggregation's result count, and the cursor
/// id to read on with (0 once the rows are exhausted, and the cursor is gone).
#[derive(Debug, PartialEq)]
pub struct Batch {
    pub rows: Vec<Row>,
    pub total: usize,
    pub cursor_id: u64,
}

/// The cursors of one index.
#[derive(Default)]
pub struct Cursors {
    open: Mutex<HashMap<u64, Cursor>>,
}

fn not_found(id: u64) -> SearchError {
    SearchError::other(format!("Cursor not found, id: {id}"))
}

impl Cursors {
    /// Sends the first batch of `rows` and keeps the rest under a new cursor id, unless the
    /// batch reached their end. `count` of 0 means the default read size. An index holding [`CURSOR_CAPACITY`] cursors
    /// refuses another.
    pub fn open(
        &self,
        rows: Vec<Row>,
        total: usize,
        count: usize,
        max_idle_ms: u64,
    ) -> Result<Batch, SearchError> {
        let mut cursor = Cursor {
            rows: rows.into(),
            total,
            count: if count == 0 { DEFAULT_READ_SIZE } else { count },
            max_idle: Duration::from_millis(max_idle_ms),
            last_used: Instant::now(),
        };
        let (batch, done) = take(&mut cursor, None);
        let mut open = self.open.lock();
        expire(&mut open);
        if done {
            return Ok(Batch {
                rows: batch,
                total,
                cursor_id: 0,
            });
        }
        if open.len() >= CURSOR_CAPACITY {
            return Err(SearchError::other("Too many cursors allocated for index"));
        }
        let mut rng = rand::rng();
        let id = loop {
            // Positive and non-zero in a signed 64-bit integer, as clients parse it.
            let id = rng.random_range(1..=i64::MAX as u64);
            if !open.contains_key(&id) {
                break id;
            }
        };
        open.insert(id, cursor);
        Ok(Batch {
            rows: batch,
            total,
            cursor_id: id,
        })
    }

    /// FT.CURSOR READ: the next batch (`count` rows, else the cursor's own size).
    pub fn read(&self, id: u64, count: Option<usize>) -> Result<Batch, SearchError> {
        let mut open = self.open.lock();
        expire(&mut open);
        let cursor = open.get_mut(&id).ok_or_else(|| not_found(id))?;
        let (rows, done) = take(cursor, count.filter(|&c| c > 0));
        let total = cursor.total;
        cursor.last_used = Instant::now();
        if done {
            open.remove(&id);
        }
        Ok(Batch {
            rows,
            total,
            cursor_id: if done { 0 } else { id },
        })
    }

    /// FT.CURSOR DEL.
    pub fn delete(&self, id: u64) -> Result<(), SearchError> {
        let mut open = self.open.lock();
        expire(&mut open);
        open.remove(&id).map(|_| ()).ok_or_else(|| not_found(id))
    }

    /// How many cursors are open (FT.INFO `cursor_stats`).
    pub fn len(&self) -> usize {
        let mut open = self.open.lock();
        expire(&mut open);
        open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops the cursors idle for longer than their MAXIDLE.
fn expire(open: &mut HashMap<u64, Cursor>) {
    open.retain(|_, c| c.last_used.elapsed() <= c.max_idle);
}

/// Takes the next batch; the cursor is done when the batch found the rows' end before
/// filling up, as RediSearch reports exhaustion only on a read that hits it.
fn take(cursor: &mut Cursor, count: Option<usize>) -> (Vec<Row>, bool) {
    let count = count.unwrap_or(cursor.count);
    let done = cursor.rows.len() < count;
    let n = count.min(cursor.rows.len());
    (cursor.rows.drain(..n).collect(), done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                fields: vec![("i".into(), crate::search::expr::Value::Number(i as f64))],
                terms: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn reads_to_exhaustion_then_forgets() {
        let cursors = Cursors::default();
        let first = cursors.open(rows(25), 25, 10, 1000).unwrap();
        assert_eq!(first.rows.len(), 10);
        let id = first.cursor_id;
        assert_ne!(id, 0);
        assert_eq!(cursors.len(), 1);
        let second = cursors.read(id, None).unwrap();
        assert_eq!(
            (second.rows.len(), second.cursor_id, second.total),
            (10, id, 25)
        );
        let third = cursors.read(id, Some(100)).unwrap();
        assert_eq!((third.rows.len(), third.cursor_id), (5, 0));
        assert!(cursors.is_empty());
        assert_eq!(
            cursors.read(id, None).unwrap_err().to_string(),
            format!("Cursor not found, id: {id}")
        );
    }

    #[test]
    fn exact_multiple_ends_with_an_empty_read() {
        let cursors = Cursors::default();
        let first = cursors.open(rows(10), 10, 5, 1000).unwrap();
        let id = first.cursor_id;
        assert_eq!(cursors.read(id, None).unwrap().cursor_id, id);
        let last = cursors.read(id, None).unwrap();
        assert_eq!((last.rows.len(), last.cursor_id), (0, 0));
        let all = cursors.open(rows(3), 3, 0, 1000).unwrap();
        assert_eq!((all.rows.len(), all.cursor_id), (3, 0));
    }

    #[test]
    fn delete_and_idle_expiry() {
        let cursors = Cursors::default();
        let id = cursors.open(rows(5), 5, 1, 1000).unwrap().cursor_id;
        cursors.delete(id).unwrap();
        assert!(cursors.delete(id).is_err());
        let id = cursors.open(rows(5), 5, 1, 1).unwrap().cursor_id;
        std::thread::sleep(Duration::from_millis(20));
        assert!(cursors.read(id, None).is_err());
        assert!(cursors.is_empty());
    }

    #[test]
    fn an_index_holds_at_most_its_capacity() {
        let cursors = Cursors::default();
        for _ in 0..CURSOR_CAPACITY {
            cursors.open(rows(2), 2, 1, 1000).unwrap();
        }
        assert_eq!(
            cursors.open(rows(2), 2, 1, 1000).unwrap_err().to_string(),
            "Too many cursors allocated for index"
        );
        // A batch that exhausts its rows needs no cursor.
        assert_eq!(cursors.open(rows(2), 2, 5, 1000).unwrap().cursor_id, 0);
    }
}
