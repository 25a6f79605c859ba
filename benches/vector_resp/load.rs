//! Loads the dataset into hashes `doc:<row>` with pipelined HSETs over several connections and
//! times it. Field names match the index schema in `search.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::dataset::Dataset;
use crate::resp::{Conn, Reply};

/// Little-endian f32 bytes, the blob layout FLOAT32 vector fields and query PARAMS take.
pub fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes every row, `batch` HSETs per round trip, `conns` connections pulling batches from a
/// shared counter. Returns the wall time from the first write to the last reply.
pub fn load(addr: &str, data: &Dataset, batch: usize, conns: usize) -> Result<Duration, String> {
    let batches = data.rows().div_ceil(batch);
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    thread::scope(|s| {
        let workers: Vec<_> = (0..conns.max(1))
            .map(|_| s.spawn(|| load_batches(addr, data, batch, batches, &next)))
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })?;
    Ok(start.elapsed())
}

fn load_batches(
    addr: &str,
    data: &Dataset,
    batch: usize,
    batches: usize,
    next: &AtomicUsize,
) -> Result<(), String> {
    let mut conn = Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    loop {
        let b = next.fetch_add(1, Ordering::Relaxed);
        if b >= batches {
            return Ok(());
        }
        let rows = b * batch..((b + 1) * batch).min(data.rows());
        for row in rows.clone() {
            let m = &data.meta[row];
            let key = format!("doc:{row}");
            let embedding = blob(data.row(row));
            let (chars, senses) = (m.chars.to_string(), m.senses.to_string());
            conn.send(&[
                b"HSET",
                key.as_bytes(),
                b"embedding",
                &embedding,
                b"text",
                m.text.as_bytes(),
                b"pos",
                m.pos.as_bytes(),
                b"domain",
                m.domain.as_bytes(),
                b"letter",
                m.letter.as_bytes(),
                b"chars",
                chars.as_bytes(),
                b"senses",
                senses.as_bytes(),
            ])
            .map_err(|e| format!("HSET: {e}"))?;
        }
        conn.flush().map_err(|e| format!("HSET: {e}"))?;
        for row in rows {
            match conn.read().map_err(|e| format!("HSET reply: {e}"))? {
                Reply::Int(_) => {}
                other => return Err(format!("HSET doc:{row}: unexpected reply {other:?}")),
            }
        }
    }
}
