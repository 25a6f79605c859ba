//! Streams in DUMP / RESTORE payloads (a child of `rdb`, sharing its readers and writers).
//!
//! Written as Redis 7.0 writes them (`RDB_TYPE_STREAM_LISTPACKS_2`): the listpack nodes, each
//! keyed by its master id, holding a master entry and delta-encoded entries; then length,
//! last / first / max-deleted ids, entries added and the consumer groups with their PEL and
//! consumers. Read: that, Redis 5/6's `STREAM_LISTPACKS` (no first / max-deleted ids, no
//! entries-read; derived as Redis derives them) and Redis 7.2's `STREAM_LISTPACKS_3`
//! (consumers also carry an active time, which this server does not keep).

use bytes::Bytes;

use super::{Length, PayloadError, Reader, backlen, parse_listpack, write_len, write_string};
use crate::keyspace::stream::{
    Consumer, Group, INVALID_ENTRIES_READ, PendingEntry, StreamId, StreamValue,
};
use crate::keyspace::value::canonical_i64;

pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

// ---------------------------------------------------------------------------------------------
// Writing.

/// One listpack element.
enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
}

/// A listpack of `items`, integers (and strings that are canonical integers) in the
/// smallest integer encoding, as Redis's `lpAppend` stores them.
fn listpack(items: &[Item]) -> Vec<u8> {
    let mut body = Vec::new();
    for item in items {
        let start = body.len();
        let int = match item {
            Item::Int(n) => Some(*n),
            Item::Str(s) => canonical_i64(s),
        };
        match (int, item) {
            (Some(n), _) => match n {
                0..=127 => body.push(n as u8),
                -4096..=4095 => {
                    let v = (n as u16) & 0x1fff;
                    body.push(0xc0 | (v >> 8) as u8);
                    body.push(v as u8);
                }
                -32768..=32767 => {
                    body.push(0xf1);
                    body.extend_from_slice(&(n as i16).to_le_bytes());
                }
                -8_388_608..=8_388_607 => {
                    body.push(0xf2);
                    body.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
                }
                -2_147_483_648..=2_147_483_647 => {
                    body.push(0xf3);
                    body.extend_from_slice(&(n as i32).to_le_bytes());
                }
                _ => {
                    body.push(0xf4);
                    body.extend_from_slice(&n.to_le_bytes());
                }
            },
            (None, Item::Str(s)) => {
                let len = s.len();
                if len < 64 {
                    body.push(0x80 | len as u8);
                } else if len < 4096 {
                    body.push(0xe0 | (len >> 8) as u8);
                    body.push(len as u8);
                } else {
                    body.push(0xf0);
                    body.extend_from_slice(&(len as u32).to_le_bytes());
                }
                body.extend_from_slice(s);
            }
            (None, Item::Int(_)) => {}
        }
        let (back, n) = backlen(body.len() - start);
        body.extend_from_slice(&back[..n]);
    }
    let total = 6 + body.len() + 1;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(items.len().min(u16::MAX as usize) as u16).to_le_bytes());
    out.extend_from_slice(&body);
    out.push(0xff);
    out
}

/// The 16-byte big-endian form of an id (node keys, PEL entries).
fn raw_id(id: StreamId) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&id.ms.to_be_bytes());
    out[8..].copy_from_slice(&id.seq.to_be_bytes());
    out
}

/// The listpack of one node: master entry, then each entry delta-encoded against it.
fn node_listpack(
    master: StreamId,
    master_fields: &[Bytes],
    entries: &[(StreamId, &Vec<Bytes>)],
) -> Vec<u8> {
    let mut items = vec![
        Item::Int(entries.len() as i64),
        Item::Int(0),
        Item::Int(master_fields.len() as i64),
    ];
    items.extend(master_fields.iter().map(|f| Item::Str(f)));
    items.push(Item::Int(0));
    for (id, fields) in entries {
        let same = fields.len() / 2 == master_fields.len()
            && fields.iter().step_by(2).eq(master_fields.iter());
        items.push(Item::Int(if same { FLAG_SAMEFIELDS } else { 0 }));
        items.push(Item::Int(id.ms.wrapping_sub(master.ms) as i64));
        items.push(Item::Int(id.seq.wrapping_sub(master.seq) as i64));
        let pairs = fields.len() / 2;
        if same {
            items.extend(fields.iter().skip(1).step_by(2).map(|v| Item::Str(v)));
            items.push(Item::Int(pairs as i64 + 3));
        } else {
            items.push(Item::Int(pairs as i64));
            items.extend(fields.iter().map(|f| Item::Str(f)));
            items.push(Item::Int(2 * pairs as i64 + 4));
        }
    }
    listpack(&items)
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

/// The object part of a stream (after its type byte).
pub fn write(out: &mut Vec<u8>, stream: &StreamValue) {
    let nodes: Vec<_> = stream.nodes().collect();
    write_len(out, nodes.len() as u64);
    for (master, master_fields, entries) in &nodes {
        write_len(out, 16);
        out.extend_from_slice(&raw_id(*master));
        let lp = node_listpack(*master, master_fields, entries);
        write_len(out, lp.len() as u64);
        out.extend_from_slice(&lp);
    }
    write_len(out, stream.len() as u64);
    write_id(out, stream.last_id);
    write_id(out, stream.first_id);
    write_id(out, stream.max_deleted_id);
    write_len(out, stream.entries_added);
    write_len(out, stream.groups.len() as u64);
    for (name, group) in &stream.groups {
        write_string(out, name);
        write_id(out, group.last_id);
        write_len(out, group.entries_read as u64);
        write_len(out, group.pel.len() as u64);
        for (id, pending) in &group.pel {
            out.extend_from_slice(&raw_id(*id));
            out.extend_from_slice(&pending.delivery_time.to_le_bytes());
            write_len(out, pending.delivery_count);
        }
        write_len(out, group.consumers.len() as u64);
        for (cname, consumer) in &group.consumers {
            write_string(out, cname);
            out.extend_from_slice(&consumer.seen_time.to_le_bytes());
            write_len(out, consumer.pel.len() as u64);
            for id in &consumer.pel {
                out.extend_from_slice(&raw_id(*id));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.

fn len_u64(r: &mut Reader) -> Result<u64, PayloadError> {
    match r.length()? {
        Length::Plain(n) => Ok(n),
        Length::Encoded(_) => Err(PayloadError::BadFormat),
    }
}

fn read_id(r: &mut Reader) -> Result<StreamId, PayloadError> {
    Ok(StreamId::new(len_u64(r)?, len_u64(r)?))
}

fn read_raw_id(r: &mut Reader) -> Result<StreamId, PayloadError> {
    let raw: [u8; 16] = r.array()?;
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&raw[..8]);
    seq.copy_from_slice(&raw[8..]);
    Ok(StreamId::new(
        u64::from_be_bytes(ms),
        u64::from_be_bytes(seq),
    ))
}

fn read_ms_time(r: &mut Reader) -> Result<u64, PayloadError> {
    Ok(u64::from_le_bytes(r.array()?))
}

/// One node: its master field names, live entries, how many deleted ones it holds and its
/// last id.
type Node = (Vec<Bytes>, Vec<(StreamId, Vec<Bytes>)>, u64, StreamId);

fn parse_node(master: StreamId, lp: &[u8]) -> Option<Node> {
    let items = parse_listpack(lp)?;
    let mut it = items.into_iter();
    fn int(it: &mut std::vec::IntoIter<Bytes>) -> Option<i64> {
        std::str::from_utf8(&it.next()?).ok()?.parse().ok()
    }
    let count = int(&mut it)?;
    let deleted = u64::try_from(int(&mut it)?).ok()?;
    let master_count = usize::try_from(int(&mut it)?).ok()?;
    let master_fields: Vec<Bytes> = (0..master_count)
        .map(|_| it.next())
        .collect::<Option<_>>()?;
    if int(&mut it)? != 0 {
        return None;
    }
    let mut live = Vec::new();
    let mut seen = 0u64;
    let mut last = master;
    while let Some(flags) = int(&mut it) {
        let ms = master.ms.wrapping_add(int(&mut it)? as u64);
        let seq = master.seq.wrapping_add(int(&mut it)? as u64);
        let id = StreamId::new(ms, seq);
        let fields = if flags & FLAG_SAMEFIELDS != 0 {
            let mut fields = Vec::with_capacity(2 * master_count);
            for name in &master_fields {
                fields.push(name.clone());
                fields.push(it.next()?);
            }
            fields
        } else {
            let pairs = usize::try_from(int(&mut it)?).ok()?;
            (0..2 * pairs)
                .map(|_| it.next())
                .collect::<Option<Vec<_>>>()?
        };
        int(&mut it)?; // lp-count, for backward traversal
        if id < last || (seen > 0 && id == last) {
            return None;
        }
        last = id;
        seen += 1;
        if flags & FLAG_DELETED == 0 {
            live.push((id, fields));
        }
    }
    (u64::try_from(count).ok()? == live.len() as u64 && seen == live.len() as u64 + deleted)
        .then_some((master_fields, live, deleted, last))
}

/// Reads a stream object of type `kind`.
pub fn read(r: &mut Reader, kind: u8) -> Result<StreamValue, PayloadError> {
    let bad = PayloadError::BadFormat;
    let mut stream = StreamValue::default();
    let nodes = len_u64(r)?;
    for _ in 0..nodes {
        let key = r.string()?;
        if key.len() != 16 {
            return Err(bad);
        }
        let master = read_raw_id(&mut Reader::new(&key))?;
        let lp = r.string()?;
        let (fields, live, deleted, last) = parse_node(master, &lp).ok_or(bad)?;
        if !stream.push_loaded_node(master, fields, live, deleted, last, lp.len()) {
            return Err(bad);
        }
    }
    if len_u64(r)? != stream.len() as u64 {
        return Err(bad);
    }
    stream.last_id = read_id(r)?;
    if stream.last().is_some_and(|(top, _)| top > stream.last_id) {
        return Err(bad);
    }
    if kind == TYPE_STREAM_LISTPACKS {
        stream.first_id = stream.first().map_or(StreamId::ZERO, |(id, _)| id);
        stream.entries_added = stream.len() as u64;
    } else {
        stream.first_id = read_id(r)?;
        stream.max_deleted_id = read_id(r)?;
        stream.entries_added = len_u64(r)?;
    }
    let groups = len_u64(r)?;
    for _ in 0..groups {
        let name = r.string()?;
        let last_id = read_id(r)?;
        let entries_read = if kind == TYPE_STREAM_LISTPACKS {
            stream.estimate_entries_read(last_id)
        } else {
            len_u64(r)? as i64
        };
        if entries_read < INVALID_ENTRIES_READ {
            return Err(bad);
        }
        let mut group = Group::new(last_id, entries_read);
        for _ in 0..len_u64(r)? {
            let id = read_raw_id(r)?;
            let delivery_time = read_ms_time(r)?;
            let delivery_count = len_u64(r)?;
            let pending = PendingEntry {
                consumer: Bytes::new(),
                delivery_time,
                delivery_count,
            };
            if group.pel.insert(id, pending).is_some() {
                return Err(bad);
            }
        }
        for _ in 0..len_u64(r)? {
            let cname = r.string()?;
            let seen_time = read_ms_time(r)?;
            if kind == TYPE_STREAM_LISTPACKS_3 {
                read_ms_time(r)?; // active time
            }
            let mut consumer = Consumer {
                seen_time,
                pel: Default::default(),
            };
            for _ in 0..len_u64(r)? {
                let id = read_raw_id(r)?;
                // Every consumer entry must be a group entry no other consumer owns.
                match group.pel.get_mut(&id) {
                    Some(p) if p.consumer.is_empty() => p.consumer = cname.clone(),
                    _ => return Err(bad),
                }
                consumer.pel.insert(id);
            }
            if group.consumers.insert(cname, consumer).is_some() {
                return Err(bad);
            }
        }
        if group.pel.values().any(|p| p.consumer.is_empty()) {
            return Err(bad);
        }
        if stream.groups.insert(name, group).is_some() {
            return Err(bad);
        }
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::stream::NodeLimits;

    #[test]
    fn streams_round_trip() {
        let mut s = StreamValue::default();
        let limits = NodeLimits {
            entries: 2,
            bytes: 4096,
        };
        let f = |items: &[&str]| items.iter().map(|i| Bytes::from(i.to_string())).collect();
        s.append(StreamId::new(1, 0), f(&["a", "1", "b", "x"]), limits);
        s.append(StreamId::new(1, 1), f(&["a", "2", "b", "y"]), limits);
        s.append(StreamId::new(5, 0), f(&["c", "-70000"]), limits);
        s.append(StreamId::new(9_000_000_000_000, 7), f(&["a", "z"]), limits);
        s.delete(StreamId::new(1, 1));
        let mut g = Group::new(StreamId::new(5, 0), 3);
        g.assign(StreamId::new(1, 0), &Bytes::from("c1"), 42);
        g.assign(StreamId::new(5, 0), &Bytes::from("c2"), 43);
        g.create_consumer(&Bytes::from("idle"), 44);
        s.groups.insert(Bytes::from("g"), g);
        s.groups.insert(
            Bytes::from("h"),
            Group::new(StreamId::ZERO, INVALID_ENTRIES_READ),
        );
        let mut out = Vec::new();
        write(&mut out, &s);
        let back = read(&mut Reader::new(&out), TYPE_STREAM_LISTPACKS_2).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back.node_count(), s.node_count());
        assert_eq!(back.first_id, s.first_id);
        assert_eq!(back.max_deleted_id, StreamId::new(1, 1));
        assert_eq!(back.entries_added, 4);
        assert_eq!(back.groups, s.groups);
        let entries = |s: &StreamValue| {
            s.range(StreamId::ZERO, StreamId::MAX, false)
                .map(|(id, f)| (id, f.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(entries(&back), entries(&s));
    }
}
