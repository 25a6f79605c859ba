//! Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) over string
//! values.
//!
//! A bitmap is a plain string read most-significant bit first: bit 0 is the high bit of byte 0,
//! as in Redis's bitops.c. Writes grow the string with zero bytes as far as the highest bit they
//! touch and leave it raw-encoded, as Redis's `lookupStringForBitCommand` does, keeping the
//! key's TTL. Offsets are limited by `proto-max-bulk-len` (in bytes), so a bitmap never grows
//! past the longest string a client could send.

use bytes::Bytes;

use super::args::{eq_ignore_case, parse_i64};
use super::string::edit_str;
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::value::StrEncoding;
use crate::keyspace::{Guard, StrValue, Ttl, Value};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

const G: &str = "bitmap";
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];

/// BITFIELD's key spec: read-write unless every subcommand is a GET (see [`bitfield_key_flags`]).
const BITFIELD_KEYS: &[KeySpec] = &[KeySpec {
    actual_flags: Some(bitfield_key_flags),
    ..KeySpec::key(
        1,
        KeyFlags::RW_ACCESS_UPDATE.union(KeyFlags::VARIABLE_FLAGS),
    )
    .notes("This command allows both access and modification of the key")
}];

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Count set bits in a string",
        since: "2.6.0",
        ..CommandSpec::new("bitcount", -2, Flags::READONLY, G, bitcount)
    },
    CommandSpec {
        keys: BITFIELD_KEYS,
        summary: "Perform arbitrary bitfield integer operations on strings",
        since: "3.2.0",
        ..CommandSpec::new(
            "bitfield",
            -2,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            bitfield,
        )
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        since: "6.0.0",
        ..CommandSpec::new(
            "bitfield_ro",
            -2,
            Flags::READONLY.union(Flags::FAST),
            G,
            bitfield_ro,
        )
    },
    CommandSpec {
        keys: &[
            KeySpec::key(2, KeyFlags::OW_UPDATE),
            KeySpec::range(3, -1, 1, KeyFlags::RO_ACCESS),
        ],
        summary: "Perform bitwise operations between strings",
        since: "2.6.0",
        ..CommandSpec::new("bitop", -4, Flags::WRITE.union(Flags::DENYOOM), G, bitop)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Find first bit set or clear in a string",
        since: "2.8.7",
        ..CommandSpec::new("bitpos", -3, Flags::READONLY, G, bitpos)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the bit value at offset in the string value stored at key",
        since: "2.2.0",
        ..CommandSpec::new("getbit", 3, Flags::READONLY.union(Flags::FAST), G, getbit)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW_ACCESS_UPDATE)],
        summary: "Sets or clears the bit at offset in the string value stored at key",
        since: "2.2.0",
        ..CommandSpec::new("setbit", 4, Flags::WRITE.union(Flags::DENYOOM), G, setbit)
    },
];

const BIT_OFFSET_ERR: &str = "bit offset is not an integer or out of range";
const BIT_VALUE_ERR: &str = "bit is not an integer or out of range";
const BITFIELD_TYPE_ERR: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

// ---------------------------------------------------------------------------------------------
// Shared helpers.
// ---------------------------------------------------------------------------------------------

/// Parses a bit offset (Redis's `getBitOffsetFromArgument`). With `field_bits` (BITFIELD), the
/// form `#N` means the N-th field of that width. The offset must be non-negative and address a
/// byte below `proto-max-bulk-len`.
fn bit_offset(ctx: &ExecCtx, arg: &[u8], field_bits: Option<u32>) -> Result<u64, CmdError> {
    let invalid = || CmdError::err(BIT_OFFSET_ERR);
    let (digits, multiplier) = match (arg.strip_prefix(b"#"), field_bits) {
        (Some(rest), Some(bits)) => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    // Redis multiplies in C without a check; wrapping keeps its result for absurd inputs.
    let offset = parse_i64(digits)
        .map_err(|_| invalid())?
        .wrapping_mul(multiplier);
    let max_bytes = ctx.state.config.get_int("proto-max-bulk-len");
    if offset < 0 || (offset >> 3) >= max_bytes {
        return Err(invalid());
    }
    u64::try_from(offset).map_err(|_| invalid())
}

/// Reads the string at `key` for a bit reader: `None` when missing, WRONGTYPE for other types.
fn read_string(guard: &mut Guard<'_>, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    guard.get(key).map(|v| v.as_str().cloned()).transpose()
}

/// Redis's `lookupStringForBitCommand` followed by an edit: makes the string at `key` at least
/// long enough to hold bit `max_bit` (creating it, without TTL, when missing), raw-encoded, and
/// runs `edit` on its bytes. Returns `edit`'s result and whether the string was created or
/// grown (Redis then counts the write as a change even when no bit flips).
fn edit_bits<T>(
    guard: &mut Guard<'_>,
    key: &Bytes,
    max_bit: u64,
    edit: impl FnOnce(&mut [u8]) -> T,
) -> Result<(T, bool), CmdError> {
    // The offset was checked against proto-max-bulk-len, so the length fits in memory terms.
    let len = usize::try_from(max_bit >> 3).map_err(|_| CmdError::err(BIT_OFFSET_ERR))? + 1;
    let exists = match guard.lookup_write(key) {
        Some(entry) => {
            entry.value.as_str()?;
            true
        }
        None => false,
    };
    if !exists {
        let mut buf = vec![0u8; len];
        let out = edit(&mut buf);
        let value = Value::Str(StrValue::raw(Bytes::from(buf)));
        guard.insert(key.clone(), value, Ttl::Clear);
        return Ok((out, true));
    }
    let mut result = None;
    let mut grown = false;
    if let Some(Value::Str(s)) = guard.get_mut(key) {
        edit_str(s.bytes_for_edit(), |buf| {
            if buf.len() < len {
                buf.resize(len, 0);
                grown = true;
            }
            result = Some(edit(buf));
        });
    }
    // The key was checked to be a live string above, so the edit ran.
    result.map(|out| (out, grown)).ok_or(CmdError::WrongType)
}

/// The bit at `offset` (0 past the end).
fn bit_at(bytes: &[u8], offset: u64) -> bool {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return false;
    };
    bytes
        .get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

fn set_bit_at(bytes: &mut [u8], offset: u64, on: bool) {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return;
    };
    if let Some(b) = bytes.get_mut(byte) {
        let mask = 0x80 >> (offset & 7);
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SETBIT, GETBIT.
// ---------------------------------------------------------------------------------------------

fn setbit(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let offset = bit_offset(ctx, &args.next_bytes()?, None)?;
    let on = match parse_i64(&args.next_bytes()?) {
        Ok(0) => false,
        Ok(1) => true,
        _ => return Err(CmdError::err(BIT_VALUE_ERR)),
    };
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // Setting a bit to what it already is in a raw string that is long enough changes
    // nothing: Redis then reports no write (a WATCH on the key survives).
    if let Some(Value::Str(s)) = guard.lookup_write(&key).map(|e| &e.value)
        && s.encoding() == StrEncoding::Raw
        && offset >> 3 < s.len() as u64
        && bit_at(s, offset) == on
    {
        return Ok(Reply::Integer(i64::from(on)));
    }
    let (old, grown) = edit_bits(&mut guard, &key, offset, |bytes| {
        let old = bit_at(bytes, offset);
        set_bit_at(bytes, offset, on);
        old
    })?;
    drop(guard);
    if grown || old != on {
        ctx.notify(NotifyClass::STRING, "setbit", &key);
    }
    Ok(Reply::Integer(i64::from(old)))
}

fn getbit(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let offset = bit_offset(ctx, &args.next_bytes()?, None)?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let bytes = read_string(&mut guard, &key)?.unwrap_or_default();
    Ok(Reply::Integer(i64::from(bit_at(&bytes, offset))))
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT, BITPOS.
// ---------------------------------------------------------------------------------------------

/// Parses the optional `BYTE | BIT` unit word.
fn unit_is_bit(word: &[u8]) -> Result<bool, CmdError> {
    if eq_ignore_case(word, "bit") {
        Ok(true)
    } else if eq_ignore_case(word, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Clamps a `start end` range in units of `total` (bytes or bits) as Redis does, and turns it
/// into an inclusive range of bits; `None` when the range is empty.
fn bit_range(start: i64, end: i64, total: i64, in_bits: bool) -> Option<(u64, u64)> {
    let fix = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let start = fix(start);
    let end = fix(end).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (u64::try_from(start).ok()?, u64::try_from(end).ok()?);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// The bytes covering bits `first..=last`: each byte's index, value (0 past the end) and the
/// mask of its bits inside the range.
fn range_bytes(bytes: &[u8], first: u64, last: u64) -> impl Iterator<Item = (u64, u8, u8)> + '_ {
    (first >> 3..=last >> 3).map(move |i| {
        let mut mask = 0xffu8;
        if i == first >> 3 {
            mask &= 0xff >> (first & 7);
        }
        if i == last >> 3 {
            mask &= 0xff << (7 - (last & 7));
        }
        let byte = usize::try_from(i)
            .ok()
            .and_then(|i| bytes.get(i))
            .copied()
            .unwrap_or(0);
        (i, byte, mask)
    })
}

fn bitcount(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // Redis 7.0 looks the key up before it parses the range: a missing key counts 0 whatever
    // follows.
    let Some(bytes) = read_string(&mut guard, &key)? else {
        return Ok(Reply::Integer(0));
    };
    drop(guard);
    let len = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let range = match args.remaining() {
        0 => bit_range(0, -1, len, false),
        2 | 3 => {
            let start = args.next_i64()?;
            let end = args.next_i64()?;
            // Redis 7.0 answers an inverted negative range before it reads the unit.
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Integer(0));
            }
            let in_bits = match args.peek() {
                Some(word) => unit_is_bit(word)?,
                None => false,
            };
            let total = if in_bits { len * 8 } else { len };
            bit_range(start, end, total, in_bits)
        }
        _ => return Err(CmdError::Syntax),
    };
    let count = range.map_or(0, |(first, last)| {
        range_bytes(&bytes, first, last)
            .map(|(_, byte, mask)| u64::from((byte & mask).count_ones()))
            .sum()
    });
    Ok(Reply::Integer(i64::try_from(count).unwrap_or(i64::MAX)))
}

fn bitpos(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let bit = match args.next_i64()? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // A missing key is an endless run of zeros.
    let Some(bytes) = read_string(&mut guard, &key)? else {
        return Ok(Reply::Integer(if bit { -1 } else { 0 }));
    };
    drop(guard);
    let len = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let (range, end_given) = match args.remaining() {
        0 => (bit_range(0, -1, len, false), false),
        1..=3 => {
            let start = args.next_i64()?;
            let in_bits = match args.argv().get(5) {
                Some(word) => unit_is_bit(word)?,
                None => false,
            };
            let end = match args.peek() {
                Some(_) => Some(args.next_i64()?),
                None => None,
            };
            let total = if in_bits { len * 8 } else { len };
            (
                bit_range(start, end.unwrap_or(total - 1), total, in_bits),
                end.is_some(),
            )
        }
        _ => return Err(CmdError::Syntax),
    };
    let Some((first, last)) = range else {
        return Ok(Reply::Integer(-1));
    };
    let found = range_bytes(&bytes, first, last).find_map(|(i, byte, mask)| {
        let wanted = if bit { byte } else { !byte } & mask;
        (wanted != 0).then(|| i * 8 + u64::from(wanted.leading_zeros()))
    });
    let pos = match found {
        Some(pos) => i64::try_from(pos).unwrap_or(-1),
        // No clear bit in the string: the one after it, unless the caller bounded the range.
        None if !bit && !end_given => (len * 8).max(0),
        None => -1,
    };
    Ok(Reply::Integer(pos))
}

// ---------------------------------------------------------------------------------------------
// BITOP.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = args.next_bytes()?;
    let op = [
        ("and", BitOp::And),
        ("or", BitOp::Or),
        ("xor", BitOp::Xor),
        ("not", BitOp::Not),
    ]
    .into_iter()
    .find(|(word, _)| eq_ignore_case(&name, word))
    .map(|(_, op)| op)
    .ok_or(CmdError::Syntax)?;
    let dest = args.next_bytes()?;
    let sources = args.rest();
    if op == BitOp::Not && sources.len() != 1 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let mut keys: Vec<&[u8]> = vec![&dest];
    keys.extend(sources.iter().map(|k| &k[..]));
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let mut inputs = Vec::with_capacity(sources.len());
    for key in &sources {
        inputs.push(read_string(&mut guard, key)?.unwrap_or_default());
    }
    let max_len = inputs.iter().map(Bytes::len).max().unwrap_or(0);
    if max_len == 0 {
        let existed = guard.remove(&dest).is_some();
        drop(guard);
        if existed {
            ctx.notify(NotifyClass::GENERIC, "del", &dest);
        }
        return Ok(Reply::Integer(0));
    }
    // Shorter inputs count as padded with zero bytes.
    let byte = |input: &Bytes, i: usize| input.get(i).copied().unwrap_or(0);
    let result: Vec<u8> = (0..max_len)
        .map(|i| {
            let mut values = inputs.iter().map(|input| byte(input, i));
            let first = values.next().unwrap_or(0);
            match op {
                BitOp::And => values.fold(first, |a, b| a & b),
                BitOp::Or => values.fold(first, |a, b| a | b),
                BitOp::Xor => values.fold(first, |a, b| a ^ b),
                BitOp::Not => !first,
            }
        })
        .collect();
    // Redis stores the result as a new raw string object, dropping any TTL.
    let value = Value::Str(StrValue::raw(Bytes::from(result)));
    guard.insert(dest.clone(), value, Ttl::Clear);
    drop(guard);
    ctx.notify(NotifyClass::STRING, "set", &dest);
    Ok(Reply::Integer(i64::try_from(max_len).unwrap_or(i64::MAX)))
}

// ---------------------------------------------------------------------------------------------
// BITFIELD, BITFIELD_RO.
// ---------------------------------------------------------------------------------------------

/// What happens when SET or INCRBY passes a field's range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// An integer field: its signedness and width (1..=64 signed, 1..=63 unsigned).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct FieldType {
    signed: bool,
    bits: u32,
}

impl FieldType {
    /// Parses `i<bits>` / `u<bits>` (case-sensitive, as Redis reads it).
    fn parse(arg: &[u8]) -> Result<FieldType, CmdError> {
        let invalid = || CmdError::err(BITFIELD_TYPE_ERR);
        // Redis reads the width with strlen: it ends at the first NUL byte.
        let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
        let (signed, width) = match arg.split_first() {
            Some((b'i', rest)) => (true, rest),
            Some((b'u', rest)) => (false, rest),
            _ => return Err(invalid()),
        };
        let bits = parse_i64(width).map_err(|_| invalid())?;
        let max = if signed { 64 } else { 63 };
        if !(1..=max).contains(&bits) {
            return Err(invalid());
        }
        Ok(FieldType {
            signed,
            bits: u32::try_from(bits).map_err(|_| invalid())?,
        })
    }

    /// Reads the field at bit `offset` (zeros past the end), sign-extended when signed.
    fn get(self, bytes: &[u8], offset: u64) -> i64 {
        let raw = (0..u64::from(self.bits)).fold(0u64, |acc, j| {
            (acc << 1) | u64::from(bit_at(bytes, offset + j))
        });
        if self.signed && self.bits < 64 && raw & (1 << (self.bits - 1)) != 0 {
            (raw | (u64::MAX << self.bits)) as i64
        } else {
            raw as i64
        }
    }

    /// Writes the low `bits` bits of `value` at bit `offset`.
    fn set(self, bytes: &mut [u8], offset: u64, value: i64) {
        let value = value as u64;
        for j in 0..u64::from(self.bits) {
            let bit = value & (1 << (u64::from(self.bits) - 1 - j)) != 0;
            set_bit_at(bytes, offset + j, bit);
        }
    }

    /// `value + incr` within this type (Redis's `check{Signed,Unsigned}BitfieldOverflow`):
    /// `Ok(sum)` when it fits, else `Err(replacement)` — the wrapped or saturated value per
    /// `overflow` (FAIL reports it and writes nothing).
    fn add(self, value: i64, incr: i64, overflow: Overflow) -> Result<i64, i64> {
        if self.signed {
            self.add_signed(value, incr, overflow)
        } else {
            self.add_unsigned(value as u64, incr, overflow)
        }
    }

    fn add_signed(self, value: i64, incr: i64, overflow: Overflow) -> Result<i64, i64> {
        let bits = self.bits;
        let max: i64 = if bits == 64 {
            i64::MAX
        } else {
            (1i64 << (bits - 1)) - 1
        };
        let min = -max - 1;
        let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
        let min_incr = min.wrapping_sub(value);
        let wrap = || {
            let sum = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                let high = u64::MAX << bits;
                if sum & (1 << (bits - 1)) != 0 {
                    (sum | high) as i64
                } else {
                    (sum & !high) as i64
                }
            } else {
                sum as i64
            }
        };
        let limit = if value > max
            || (bits != 64 && incr > max_incr)
            || (value >= 0 && incr > 0 && incr > max_incr)
        {
            max
        } else if value < min
            || (bits != 64 && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr)
        {
            min
        } else {
            return Ok(value.wrapping_add(incr));
        };
        Err(match overflow {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => limit,
        })
    }

    fn add_unsigned(self, value: u64, incr: i64, overflow: Overflow) -> Result<i64, i64> {
        let max: u64 = (1u64 << self.bits) - 1;
        let max_incr = max.wrapping_sub(value) as i64;
        let min_incr = (value as i64).wrapping_neg();
        let limit = if value > max || (incr > 0 && incr > max_incr) {
            max
        } else if incr < 0 && incr < min_incr {
            0
        } else {
            return Ok(value.wrapping_add(incr as u64) as i64);
        };
        Err(match overflow {
            Overflow::Wrap => (value.wrapping_add(incr as u64) & max) as i64,
            Overflow::Sat | Overflow::Fail => limit as i64,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

struct BitfieldOp {
    op: FieldOp,
    field: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// Parses BITFIELD's subcommands (after the key) into operations, with Redis's errors in the
/// order it meets them.
fn parse_bitfield(ctx: &ExecCtx, argv: &[Bytes]) -> Result<Vec<BitfieldOp>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 0;
    while i < argv.len() {
        let word = &argv[i];
        let remaining = argv.len() - i - 1;
        let takes_value = if eq_ignore_case(word, "get") && remaining >= 2 {
            false
        } else if (eq_ignore_case(word, "set") || eq_ignore_case(word, "incrby")) && remaining >= 3
        {
            true
        } else if eq_ignore_case(word, "overflow") && remaining >= 1 {
            let kind = &argv[i + 1];
            overflow = [
                ("wrap", Overflow::Wrap),
                ("sat", Overflow::Sat),
                ("fail", Overflow::Fail),
            ]
            .into_iter()
            .find(|(name, _)| eq_ignore_case(kind, name))
            .map(|(_, o)| o)
            .ok_or_else(|| CmdError::err("Invalid OVERFLOW type specified"))?;
            i += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let field = FieldType::parse(&argv[i + 1])?;
        let offset = bit_offset(ctx, &argv[i + 2], Some(field.bits))?;
        let op = if takes_value {
            let value = parse_i64(&argv[i + 3])?;
            if eq_ignore_case(word, "set") {
                FieldOp::Set(value)
            } else {
                FieldOp::IncrBy(value)
            }
        } else {
            FieldOp::Get
        };
        ops.push(BitfieldOp {
            op,
            field,
            offset,
            overflow,
        });
        i += if takes_value { 4 } else { 3 };
    }
    Ok(ops)
}

/// Runs one operation on `bytes`; a GET past the end reads zeros.
fn run_field_op(bytes: &mut [u8], op: &BitfieldOp) -> Reply {
    let old = op.field.get(bytes, op.offset);
    let (result, reply_old) = match op.op {
        FieldOp::Get => return Reply::Integer(old),
        FieldOp::Set(value) => (op.field.add(value, 0, op.overflow), true),
        FieldOp::IncrBy(incr) => (op.field.add(old, incr, op.overflow), false),
    };
    let new = match result {
        Ok(v) => v,
        Err(_) if op.overflow == Overflow::Fail => return Reply::Nil,
        Err(v) => v,
    };
    op.field.set(bytes, op.offset, new);
    Reply::Integer(if reply_old { old } else { new })
}

/// BITFIELD's key flags for `argv` (Redis's `bitfieldGetKeys`): read-only when every
/// subcommand is a GET or OVERFLOW.
fn bitfield_key_flags(argv: &[Bytes]) -> KeyFlags {
    let mut i = 2;
    while i < argv.len() {
        let remaining = argv.len() - i - 1;
        let word = &argv[i];
        if eq_ignore_case(word, "get") && remaining >= 2 {
            i += 3;
        } else if eq_ignore_case(word, "overflow") && remaining >= 1 {
            i += 2;
        } else {
            return KeyFlags::RW_ACCESS_UPDATE;
        }
    }
    KeyFlags::RO_ACCESS
}

fn bitfield(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(
    ctx: &mut ExecCtx,
    args: &mut Args,
    read_only: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let ops = parse_bitfield(ctx, &args.rest())?;
    let highest_write = ops
        .iter()
        .filter(|op| !matches!(op.op, FieldOp::Get))
        .map(|op| op.offset + u64::from(op.field.bits) - 1)
        .max();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(highest_write) = highest_write else {
        let mut bytes = read_string(&mut guard, &key)?.unwrap_or_default().to_vec();
        return Ok(Reply::Array(
            ops.iter().map(|op| run_field_op(&mut bytes, op)).collect(),
        ));
    };
    if read_only {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let (replies, _) = edit_bits(&mut guard, &key, highest_write, |bytes| {
        ops.iter()
            .map(|op| run_field_op(bytes, op))
            .collect::<Vec<_>>()
    })?;
    drop(guard);
    ctx.notify(NotifyClass::STRING, "setbit", &key);
    Ok(Reply::Array(replies))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(signed: bool, bits: u32) -> FieldType {
        FieldType { signed, bits }
    }

    #[test]
    fn field_types() {
        assert_eq!(FieldType::parse(b"i64"), Ok(t(true, 64)));
        assert_eq!(FieldType::parse(b"u63"), Ok(t(false, 63)));
        assert!(FieldType::parse(b"u64").is_err());
        assert!(FieldType::parse(b"i0").is_err());
        assert!(FieldType::parse(b"I8").is_err());
        assert!(FieldType::parse(b"i").is_err());
    }

    #[test]
    fn fields_read_and_write_msb_first() {
        let mut buf = [0u8; 3];
        t(false, 4).set(&mut buf, 2, 0b1011);
        assert_eq!(buf[0], 0b0010_1100);
        assert_eq!(t(false, 4).get(&buf, 2), 11);
        assert_eq!(t(true, 4).get(&buf, 2), -5);
        t(true, 8).set(&mut buf, 12, -1);
        assert_eq!(&buf[1..], &[0x0f, 0xf0]);
        assert_eq!(t(true, 64).get(&buf, 0), t(true, 64).get(&buf, 0));
    }

    #[test]
    fn overflow_rules() {
        let u8t = t(false, 8);
        assert_eq!(u8t.add(250, 10, Overflow::Wrap), Err(4));
        assert_eq!(u8t.add(250, 10, Overflow::Sat), Err(255));
        assert_eq!(u8t.add(5, -10, Overflow::Sat), Err(0));
        assert_eq!(u8t.add(5, -10, Overflow::Wrap), Err(251));
        assert_eq!(u8t.add(-1, 0, Overflow::Sat), Err(255));
        let i8t = t(true, 8);
        assert_eq!(i8t.add(100, 100, Overflow::Wrap), Err(-56));
        assert_eq!(i8t.add(-100, -100, Overflow::Sat), Err(-128));
        assert_eq!(i8t.add(200, 0, Overflow::Wrap), Err(-56));
        assert_eq!(i8t.add(1, 2, Overflow::Fail), Ok(3));
        let i64t = t(true, 64);
        assert_eq!(i64t.add(i64::MAX, 1, Overflow::Wrap), Err(i64::MIN));
        assert_eq!(i64t.add(i64::MIN, -1, Overflow::Sat), Err(i64::MIN));
        assert_eq!(i64t.add(5, -1, Overflow::Sat), Ok(4));
    }

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(bit_range(0, -1, 3, false), Some((0, 23)));
        assert_eq!(bit_range(-100, 100, 3, false), Some((0, 23)));
        assert_eq!(bit_range(2, 1, 3, false), None);
        assert_eq!(bit_range(5, 9, 24, true), Some((5, 9)));
        assert_eq!(bit_range(0, -1, 0, false), None);
    }
}
