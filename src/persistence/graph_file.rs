//! HNSW graphs on disk, one file per HNSW field (`dir/hnsw-graphs/<index>.<attribute>.graph`),
//! written beside each snapshot and AOF rewrite so that a restart maps the saved graph
//! instead of building it again.
//!
//! A file holds a magic string and version, the graph's parameters, its arrays
//! (little-endian), each node's document key, and a CRC-64 of everything before it. It is
//! written as a temp file, fsynced, then renamed. It is read by mapping it (memmap2): the
//! checksum is verified over the map and the arrays are decoded out of it, so nothing is
//! computed but a copy. Nodes are named by key, not id, so a file stays usable whatever ids
//! the loaded documents get; whether each node still holds its document's vector is checked
//! by the search layer when it adopts the graph.
//!
//! Must not depend on anything but the search layer's [`GraphImage`] and [`Metric`].

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::keyspace::rdb::CRC64;
use crate::search::Metric;
use crate::search::vector::GraphImage;

const MAGIC: &[u8; 8] = b"FSGRAPH\0";
const VERSION: u32 = 1;
/// Magic, version, metric and the numbers of [`Header`].
const HEADER_LEN: usize = 8 + 4 + 4 + 5 * 4 + 3 * 8;
/// A node without a key.
const NO_KEY: u32 = u32::MAX;
const NO_ENTRY: u32 = u32::MAX;
/// Values converted per write.
const CHUNK: usize = 1 << 16;

/// The directory of graph files under `dir`.
pub fn directory(dir: &str) -> PathBuf {
    Path::new(dir).join("hnsw-graphs")
}

/// The file of `index`'s HNSW field `attribute`. Names are kept readable: bytes other than
/// ASCII letters, digits, `_` and `-` are written `%XX`, so the `.` between them is unambiguous.
pub fn path(dir: &str, index: &str, attribute: &str) -> PathBuf {
    directory(dir).join(format!("{}.{}.graph", escape(index), escape(attribute)))
}

fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What identifies a saved graph's content: its instance and node count.
pub fn saved_version(path: &Path) -> Option<(u64, u64)> {
    let mut head = [0u8; HEADER_LEN];
    io::Read::read_exact(&mut File::open(path).ok()?, &mut head).ok()?;
    let header = Header::decode(&head).ok()?;
    Some((header.instance, header.nodes))
}

/// The version [`saved_version`] reads back from a file of `image`.
pub fn version_of(image: &GraphImage<'_>) -> (u64, u64) {
    (image.instance, image.nodes() as u64)
}

/// Writes `image` to `path` through a temp file in the same directory: written, fsynced,
/// renamed, so a crash never leaves a broken file in place. Returns the bytes written.
pub fn write(path: &Path, image: &GraphImage<'_>) -> io::Result<u64> {
    static TEMP: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(
        "temp-{}-{}.graph",
        std::process::id(),
        TEMP.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_temp(&temp, image).and_then(|bytes| {
        std::fs::rename(&temp, path)?;
        // The rename itself reaches the disk with the directory.
        File::open(dir)?.sync_all()?;
        Ok(bytes)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

fn write_temp(temp: &Path, image: &GraphImage<'_>) -> io::Result<u64> {
    let mut out = Out {
        file: BufWriter::with_capacity(1 << 20, File::create(temp)?),
        digest: CRC64.digest(),
        bytes: 0,
        scratch: Vec::with_capacity(CHUNK * 4),
    };
    out.put(&header_of(image).encode())?;
    out.put_words(image.vectors.iter().map(|v| v.to_bits()))?;
    out.put_words(image.base.iter().copied())?;
    out.put_words(image.upper.iter().map(|u| u.len() as u32))?;
    out.put_words(image.upper.iter().flat_map(|u| u.iter().copied()))?;
    for key in &image.keys {
        match key {
            Some(key) => {
                out.put(&(key.len() as u32).to_le_bytes())?;
                out.put(key)?;
            }
            None => out.put(&NO_KEY.to_le_bytes())?,
        }
    }
    let crc = out.digest.finalize();
    out.file.write_all(&crc.to_le_bytes())?;
    let file = out.file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(out.bytes + 8)
}

/// The file being written and the checksum of what went in.
struct Out {
    file: BufWriter<File>,
    digest: crc::Digest<'static, u64, crc::Table<16>>,
    bytes: u64,
    scratch: Vec<u8>,
}

impl Out {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.digest.update(bytes);
        self.bytes += bytes.len() as u64;
        self.file.write_all(bytes)
    }

    /// 32-bit words, little-endian, converted a chunk at a time.
    fn put_words(&mut self, words: impl Iterator<Item = u32>) -> io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut words = words.peekable();
        while words.peek().is_some() {
            scratch.clear();
            for w in words.by_ref().take(CHUNK) {
                scratch.extend_from_slice(&w.to_le_bytes());
            }
            self.put(&scratch)?;
        }
        self.scratch = scratch;
        Ok(())
    }
}

/// The fixed part at the start of a file.
struct Header {
    metric: Metric,
    dim: u32,
    m: u32,
    ef_construction: u32,
    top_level: u32,
    entry: u32,
    instance: u64,
    rng: u64,
    nodes: u64,
}

fn header_of(image: &GraphImage<'_>) -> Header {
    Header {
        metric: image.metric,
        dim: image.dim as u32,
        m: image.m as u32,
        ef_construction: image.ef_construction as u32,
        top_level: image.top_level as u32,
        entry: image.entry.unwrap_or(NO_ENTRY),
        instance: image.instance,
        rng: image.rng,
        nodes: image.nodes() as u64,
    }
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let metric: u32 = match self.metric {
            Metric::L2 => 0,
            Metric::Ip => 1,
            Metric::Cosine => 2,
        };
        for word in [
            metric,
            self.dim,
            self.m,
            self.ef_construction,
            self.top_level,
            self.entry,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for word in [self.instance, self.rng, self.nodes] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Header, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not a graph file".into());
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(format!("graph file version {version} is not supported"));
        }
        let metric = match r.u32()? {
            0 => Metric::L2,
            1 => Metric::Ip,
            2 => Metric::Cosine,
            other => return Err(format!("unknown metric {other}")),
        };
        Ok(Header {
            metric,
            dim: r.u32()?,
            m: r.u32()?,
            ef_construction: r.u32()?,
            top_level: r.u32()?,
            entry: r.u32()?,
            instance: r.u64()?,
            rng: r.u64()?,
            nodes: r.u64()?,
        })
    }
}

/// Reads the graph saved at `path`. A file that is truncated, fails its checksum or does not
/// describe a walkable graph is an error (the caller then builds the graph again).
pub fn read(path: &Path) -> Result<GraphImage<'static>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    // SAFETY: the map is only read, and graph files are never modified in place (a new
    // one is written aside and renamed over), so the mapped bytes do not change under us.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| e.to_string())?;
    decode(&map)
}

fn decode(data: &[u8]) -> Result<GraphImage<'static>, String> {
    let body_len = data
        .len()
        .checked_sub(8)
        .filter(|&n| n >= HEADER_LEN)
        .ok_or("the graph file is truncated")?;
    let (body, trailer) = data.split_at(body_len);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(trailer);
    if CRC64.checksum(body) != u64::from_le_bytes(crc) {
        return Err("the graph file's checksum does not match".into());
    }
    let header = Header::decode(body)?;
    let mut r = Reader {
        bytes: body,
        at: HEADER_LEN,
    };
    let nodes = usize::try_from(header.nodes).map_err(|e| e.to_string())?;
    let count = |per_node: usize| nodes.checked_mul(per_node).ok_or("sizes overflow");
    let vectors = r
        .words(count(header.dim as usize)?)?
        .map(f32::from_bits)
        .collect::<Vec<f32>>();
    let base = r
        .words(count(2 * header.m as usize + 1)?)?
        .collect::<Vec<u32>>();
    let slots = r.words(nodes)?.map(|n| n as usize).collect::<Vec<_>>();
    let mut upper = Vec::with_capacity(nodes);
    for n in slots {
        upper.push(r.words(n)?.collect::<Box<[u32]>>());
    }
    let mut keys = Vec::with_capacity(nodes);
    for _ in 0..nodes {
        keys.push(match r.u32()? {
            NO_KEY => None,
            len => Some(Bytes::copy_from_slice(r.take(len as usize)?)),
        });
    }
    if r.at != body.len() {
        return Err("the graph file has trailing bytes".into());
    }
    Ok(GraphImage {
        metric: header.metric,
        dim: header.dim as usize,
        m: header.m as usize,
        ef_construction: header.ef_construction as usize,
        instance: header.instance,
        rng: header.rng,
        entry: (header.entry != NO_ENTRY).then_some(header.entry),
        top_level: header.top_level as usize,
        vectors: Cow::Owned(vectors),
        base: Cow::Owned(base),
        upper: Cow::Owned(upper),
        keys,
    })
}

/// A cursor over a file's bytes; running past the end is an error, never a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or("the graph file is truncated")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let lo = u64::from(self.u32()?);
        let hi = u64::from(self.u32()?);
        Ok(hi << 32 | lo)
    }

    /// `n` little-endian 32-bit words.
    fn words(&mut self, n: usize) -> Result<impl Iterator<Item = u32> + 'a, String> {
        let bytes = self.take(n.checked_mul(4).ok_or("sizes overflow")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    }
}

/// Removes the graph files in `dir`'s graph directory that are not in `keep` (indexes
/// dropped since), and temp files a killed process left behind.
pub fn remove_others(dir: &str, keep: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(directory(dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let unused = if name.starts_with("temp-") {
            // Another save may be writing it right now.
            super::is_stale_temp(&name)
        } else {
            path.extension().is_some_and(|e| e == "graph") && !keep.contains(&path)
        };
        if unused {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> GraphImage<'static> {
        // Three 2-d nodes linked in a line on layer 0; node 1 also on layer 1.
        let m = 2;
        let mut base = vec![0u32; 3 * (2 * m + 1)];
        for (node, links) in [(0usize, vec![1u32]), (1, vec![0, 2]), (2, vec![1])] {
            base[node * (2 * m + 1)] = links.len() as u32;
            base[node * (2 * m + 1) + 1..][..links.len()].copy_from_slice(&links);
        }
        GraphImage {
            metric: Metric::Cosine,
            dim: 2,
            m,
            ef_construction: 10,
            instance: 7,
            rng: 99,
            entry: Some(1),
            top_level: 1,
            vectors: Cow::Owned(vec![1.0, 0.0, 0.6, 0.8, 0.0, 1.0]),
            base: Cow::Owned(base),
            upper: Cow::Owned(vec![
                Box::new([]),
                vec![0u32; m + 1].into_boxed_slice(),
                Box::new([]),
            ]),
            keys: vec![Some(Bytes::from_static(b"doc:0")), None, Some(Bytes::new())],
        }
    }

    fn bytes_of(image: &GraphImage<'_>) -> Vec<u8> {
        static CALL: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "graph-file-test-{}-{}",
            std::process::id(),
            CALL.fetch_add(1, Ordering::Relaxed)
        ));
        let path = dir.join("t.graph");
        write(&path, image).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    }

    #[test]
    fn round_trips() {
        let saved = image();
        let back = decode(&bytes_of(&saved)).expect("decode");
        assert_eq!(back.metric, saved.metric);
        assert_eq!(
            (back.dim, back.m, back.ef_construction),
            (saved.dim, saved.m, saved.ef_construction)
        );
        assert_eq!((back.instance, back.rng), (saved.instance, saved.rng));
        assert_eq!((back.entry, back.top_level), (saved.entry, saved.top_level));
        assert_eq!(back.vectors, saved.vectors);
        assert_eq!(back.base, saved.base);
        assert_eq!(back.upper, saved.upper);
        assert_eq!(back.keys, saved.keys);
    }

    #[test]
    fn damaged_files_are_refused_whole() {
        let bytes = bytes_of(&image());
        for cut in [0, 7, HEADER_LEN, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for at in [9, HEADER_LEN + 3, bytes.len() - 12] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x40;
            assert!(decode(&flipped).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn names_are_escaped_unambiguously() {
        assert_eq!(
            path("/d", "idx", "vec"),
            Path::new("/d/hnsw-graphs/idx.vec.graph")
        );
        assert_eq!(
            path("/d", "a.b", "c/d é"),
            Path::new("/d/hnsw-graphs/a%2Eb.c%2Fd%20%C3%A9.graph")
        );
    }
}
