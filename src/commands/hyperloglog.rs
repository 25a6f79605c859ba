//! HyperLogLog commands (PFADD PFCOUNT PFMERGE) over string values in Redis's HLL format.
//!
//! The representation itself (header, sparse and dense registers, the estimator) lives in
//! `crate::hll`; this module finds the strings, checks them as Redis's `isHLLObjectOrReply`
//! does, and writes them back raw-encoded, as Redis's `dbUnshareStringValue` leaves them.
//! PFCOUNT of one key caches the count in the header (a write, as in Redis); PFCOUNT of
//! several keys counts their union without caching anything. PFDEBUG shows the registers
//! and opcodes; PFSELFTEST (ten million insertions) is not provided.

use bytes::Bytes;

use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::hll::{self, HllError, REGISTERS};
use crate::keyspace::value::StrEncoding;
use crate::keyspace::{Guard, StrValue, Ttl, Value};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

const G: &str = "hyperloglog";

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW_INSERT)],
        summary: "Adds the specified elements to the specified HyperLogLog.",
        since: "2.8.9",
        ..CommandSpec::new(
            "pfadd",
            -2,
            Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST),
            G,
            pfadd,
        )
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 1, KeyFlags::RW.union(KeyFlags::ACCESS))
            .notes("RW because it may change the internal representation of the key, and propagate to replicas")],
        summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        since: "2.8.9",
        ..CommandSpec::new("pfcount", -2, Flags::READONLY, G, pfcount)
    },
    CommandSpec {
        keys: &[KeySpec::key(2, KeyFlags::RW.union(KeyFlags::ACCESS))],
        summary: "Internal commands for debugging HyperLogLog values",
        since: "2.8.9",
        ..CommandSpec::new(
            "pfdebug",
            3,
            Flags::WRITE.union(Flags::DENYOOM).union(Flags::ADMIN),
            G,
            pfdebug,
        )
    },
    CommandSpec {
        keys: &[
            KeySpec::key(1, KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::INSERT)),
            KeySpec::range(2, -1, 1, KeyFlags::RO_ACCESS),
        ],
        summary: "Merge N different HyperLogLogs into a single one.",
        since: "2.8.9",
        ..CommandSpec::new(
            "pfmerge",
            -2,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            pfmerge,
        )
    },
];

impl From<HllError> for CmdError {
    fn from(err: HllError) -> CmdError {
        match err {
            HllError::NotHll => {
                CmdError::Coded("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
            }
            HllError::Corrupt => CmdError::Coded("INVALIDOBJ Corrupted HLL object detected".into()),
        }
    }
}

/// `hll-sparse-max-bytes`: the longest sparse HLL before it turns dense.
fn sparse_max_bytes(ctx: &ExecCtx) -> usize {
    usize::try_from(ctx.state.config.get_int("hll-sparse-max-bytes")).unwrap_or(0)
}

/// A looked-up value checked as an HLL: its bytes and whether it is raw-encoded; `None` when
/// the key is missing. WRONGTYPE for other types and for strings that are not HLLs.
fn hll_at(value: Option<&Value>) -> Result<Option<(Bytes, bool)>, CmdError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Value::Str(s) = value else {
        return Err(CmdError::WrongType);
    };
    hll::validate(s)?;
    Ok(Some((Bytes::clone(s), s.encoding() == StrEncoding::Raw)))
}

/// Stores `bytes` as the (live, string) value of `key`, raw-encoded, keeping its TTL.
fn store(guard: &mut Guard<'_>, key: &Bytes, bytes: Vec<u8>) {
    if let Some(Value::Str(s)) = guard.get_mut(key) {
        *s.bytes_for_edit() = Bytes::from(bytes);
    }
}

fn pfadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let elements = args.rest();
    let max_bytes = sparse_max_bytes(ctx);
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let existing = hll_at(guard.lookup_write(&key).map(|e| &e.value))?;
    let created = existing.is_none();
    let (mut buf, was_raw) = match existing {
        Some((bytes, raw)) => (bytes.to_vec(), raw),
        None => (hll::new_sparse(), true),
    };
    let mut updated = created;
    let mut failure = None;
    for element in &elements {
        match hll::add(&mut buf, element, max_bytes) {
            Ok(changed) => updated |= changed,
            Err(err) => {
                // Redis keeps the registers already raised, without invalidating the cache.
                failure = Some(err);
                break;
            }
        }
    }
    if updated && failure.is_none() {
        hll::invalidate_cache(&mut buf);
    }
    if created {
        let value = Value::Str(StrValue::raw(Bytes::from(buf)));
        guard.insert(key.clone(), value, Ttl::Clear);
    } else if updated || !was_raw {
        store(&mut guard, &key, buf);
    }
    drop(guard);
    if let Some(err) = failure {
        return Err(err.into());
    }
    if updated {
        ctx.notify(NotifyClass::STRING, "pfadd", &key);
    }
    Ok(Reply::Integer(i64::from(updated)))
}

fn count_reply(count: u64) -> Reply {
    Reply::Integer(i64::try_from(count).unwrap_or(i64::MAX))
}

fn pfcount(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    if let [key] = &keys[..] {
        let Some((bytes, raw)) = hll_at(guard.get(key))? else {
            return Ok(Reply::Integer(0));
        };
        if let Some(cached) = hll::cached_count(&bytes) {
            if !raw {
                store(&mut guard, key, bytes.to_vec());
            }
            return Ok(count_reply(cached));
        }
        let count = hll::count(&bytes)?;
        let mut buf = bytes.to_vec();
        hll::set_cached_count(&mut buf, count);
        store(&mut guard, key, buf);
        return Ok(count_reply(count));
    }
    // Several keys: the count of their union, computed on one-byte registers.
    let mut max = [0u8; REGISTERS];
    for key in &keys {
        if let Some((bytes, _)) = hll_at(guard.get(key))? {
            hll::merge_into(&mut max, &bytes)?;
        }
    }
    Ok(count_reply(hll::count_registers(&max)))
}

fn pfmerge(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let dest = args.next_bytes()?;
    let sources = args.rest();
    let max_bytes = sparse_max_bytes(ctx);
    let mut keys = vec![dest.clone()];
    keys.extend(sources.iter().cloned());
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    // The destination is one of the inputs, as in Redis.
    let mut max = [0u8; REGISTERS];
    let mut any_dense = false;
    for key in &keys {
        if let Some((bytes, _)) = hll_at(guard.get(key))? {
            any_dense |= hll::is_dense(&bytes);
            hll::merge_into(&mut max, &bytes)?;
        }
    }
    let existing = hll_at(guard.lookup_write(&dest).map(|e| &e.value))?;
    let created = existing.is_none();
    let mut buf = existing.map_or_else(hll::new_sparse, |(bytes, _)| bytes.to_vec());
    hll::store_max(&mut buf, &max, any_dense, max_bytes)?;
    if created {
        let value = Value::Str(StrValue::raw(Bytes::from(buf)));
        guard.insert(dest.clone(), value, Ttl::Clear);
    } else {
        store(&mut guard, &dest, buf);
    }
    drop(guard);
    // Redis reports a merge as a PFADD.
    ctx.notify(NotifyClass::STRING, "pfadd", &dest);
    Ok(Reply::ok())
}

/// PFDEBUG GETREG | DECODE | ENCODING | TODENSE key. GETREG and TODENSE turn a sparse HLL
/// dense, as in Redis.
fn pfdebug(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let sub = args.next_bytes()?;
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some((bytes, raw)) = hll_at(guard.lookup_write(&key).map(|e| &e.value))? else {
        return Err(CmdError::err("The specified key does not exist"));
    };
    let mut buf = bytes.to_vec();
    let was_dense = hll::is_dense(&buf);
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    let reply = if is("getreg") || is("todense") {
        hll::to_dense(&mut buf)?;
        if is("getreg") {
            let registers = hll::dense_registers(&buf);
            Reply::Array(
                registers
                    .into_iter()
                    .map(|r| Reply::Integer(i64::from(r)))
                    .collect(),
            )
        } else {
            Reply::Integer(i64::from(!was_dense))
        }
    } else if is("decode") {
        if was_dense {
            return Err(CmdError::err("HLL encoding is not sparse"));
        }
        Reply::Bulk(Bytes::from(hll::decode_sparse(&buf)))
    } else if is("encoding") {
        Reply::Simple(if was_dense { "dense" } else { "sparse" }.into())
    } else {
        // Redis's lookup already made the value raw before it rejected the subcommand.
        if !raw {
            store(&mut guard, &key, buf);
        }
        return Err(CmdError::err_echo(&[
            b"Unknown PFDEBUG subcommand '",
            &sub,
            b"'",
        ]));
    };
    if !raw || was_dense != hll::is_dense(&buf) {
        store(&mut guard, &key, buf);
    }
    Ok(reply)
}
