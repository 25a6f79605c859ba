//! Loads the dataset into hashes `doc:<row>` with pipelined HSETs over several connections and
//! times it. Field names match the index schema in `search.rs`. The pipelined writer is shared
//! with the text benchmark (benches/text_resp).

use std::io;
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
    pipelined(addr, data.rows(), batch, conns, |conn, row| {
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
    })
}

/// Sends `write(conn, row)` (one command answered by an integer, e.g. HSET) for rows
/// `0..rows`, `batch` commands per round trip, `conns` connections pulling batches from a shared
/// counter. Returns the wall time from the first write to the last reply.
pub fn pipelined<W>(
    addr: &str,
    rows: usize,
    batch: usize,
    conns: usize,
    write: W,
) -> Result<Duration, String>
where
    W: Fn(&mut Conn, usize) -> io::Result<()> + Sync,
{
    let batches = rows.div_ceil(batch);
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    thread::scope(|s| {
        let workers: Vec<_> = (0..conns.max(1))
            .map(|_| s.spawn(|| write_batches(addr, rows, batch, batches, &next, &write)))
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })?;
    Ok(start.elapsed())
}

fn write_batches<W>(
    addr: &str,
    rows: usize,
    batch: usize,
    batches: usize,
    next: &AtomicUsize,
    write: &W,
) -> Result<(), String>
where
    W: Fn(&mut Conn, usize) -> io::Result<()>,
{
    let mut conn = Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    loop {
        let b = next.fetch_add(1, Ordering::Relaxed);
        if b >= batches {
            return Ok(());
        }
        let range = b * batch..((b + 1) * batch).min(rows);
        for row in range.clone() {
            write(&mut conn, row).map_err(|e| format!("write: {e}"))?;
        }
        conn.flush().map_err(|e| format!("write: {e}"))?;
        for row in range {
            match conn.read().map_err(|e| format!("write reply: {e}"))? {
                Reply::Int(_) => {}
                other => return Err(format!("write of row {row}: unexpected reply {other:?}")),
            }
        }
    }
}
