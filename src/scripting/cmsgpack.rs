//! The `cmsgpack` library scripts get (lua-cmsgpack as Redis bundles it): `pack(...)`
//! serialises its arguments one after another; `unpack`, `unpack_one` and `unpack_limit`
//! read them back. Its rules: a table whose keys are exactly 1..n packs as an array, any
//! other table as a map (in the table's iteration order); a number that is a whole 64-bit
//! integer packs as the smallest integer format, other numbers as a float when a float holds
//! them exactly, else a double; strings always as str (never bin); tables nested deeper than
//! 16 levels, functions and userdata pack as nil. Every integer reads back as a Lua number;
//! bin and ext values are refused as bad data, as Redis's copy refuses them.
//!
//! The format is small enough to write out here rather than bring in a crate: these exact
//! header choices are what scripts (and clients decoding their output) depend on.

use mlua::{Lua, MultiValue, Result, Table, Value};

use super::{arg_error, raise_here};

/// Tables deeper than this pack as nil, as in lua-cmsgpack.
const MAX_NESTING: usize = 16;

/// Builds the `cmsgpack` table.
pub fn library(lua: &Lua) -> Result<Table> {
    let cmsgpack = lua.create_table()?;
    cmsgpack.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(arg_error(lua, 0, "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for value in &args {
                encode(value, 0, &mut out);
            }
            lua.create_string(&out)
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| unpack(lua, &args, 0, 0))?,
    )?;
    cmsgpack.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let offset = optional_integer(lua, &args, 2)?.unwrap_or(0);
            unpack(lua, &args, 1, offset)
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let limit = optional_integer(lua, &args, 2)?
                .ok_or_else(|| arg_error(lua, 2, &expected("number", args.get(1))))?;
            let offset = optional_integer(lua, &args, 3)?.unwrap_or(0);
            unpack(lua, &args, limit, offset)
        })?,
    )?;
    Ok(cmsgpack)
}

/// `luaL_checkinteger`'s message for argument `value`.
pub(super) fn expected(what: &str, value: Option<&Value>) -> String {
    let got = value.map_or("no value", Value::type_name);
    format!("{what} expected, got {got}")
}

/// Argument `n` (1-based) as an integer when given (`luaL_optinteger`).
fn optional_integer(lua: &Lua, args: &MultiValue, n: usize) -> Result<Option<i64>> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => Ok(None),
        Some(value) => match lua.coerce_number(value.clone())? {
            Some(number) => Ok(Some(c_integer(number))),
            None => Err(arg_error(lua, n, &expected("number", Some(value)))),
        },
    }
}

/// A double converted to a 64-bit integer as C does on x86-64: truncated, and the
/// "integer indefinite" value (i64::MIN) when out of range or NaN.
pub(super) fn c_integer(n: f64) -> i64 {
    if n.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// `mp_unpack_full`: decodes up to `limit` values (all when both `limit` and `offset` are 0)
/// from byte `offset`; unless decoding all, the next offset (-1 at the end) comes first.
fn unpack(lua: &Lua, args: &MultiValue, limit: i64, offset: i64) -> Result<MultiValue> {
    let input = match args.front() {
        Some(value @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => {
            lua.coerce_string(value.clone())?
        }
        _ => None,
    };
    let Some(input) = input else {
        return Err(arg_error(lua, 1, &expected("string", args.front())));
    };
    let data = input.as_bytes();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(raise_here(
            lua,
            &format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32,
                data.len() as i32
            ),
        ));
    }
    if offset as u64 > data.len() as u64 {
        return Err(raise_here(
            lua,
            &format!(
                "Start offset {} greater than input length {}.",
                offset as i32,
                data.len() as i32
            ),
        ));
    }
    let limit = if decode_all { i64::MAX } else { limit };
    let mut cursor = Cursor {
        data: &data,
        at: offset as usize,
    };
    let mut values = Vec::new();
    while cursor.at < data.len() && (values.len() as i64) < limit {
        match decode(lua, &mut cursor)? {
            Ok(value) => values.push(value),
            Err(Malformed::Eof) => return Err(raise_here(lua, "Missing bytes in input.")),
            Err(Malformed::Format) => return Err(raise_here(lua, "Bad data format in input.")),
        }
    }
    if !decode_all {
        let next = if cursor.at >= data.len() {
            -1
        } else {
            cursor.at as i64
        };
        values.insert(0, Value::Integer(next));
    }
    Ok(values.into_iter().collect())
}

fn encode(value: &Value, level: usize, out: &mut Vec<u8>) {
    match value {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => encode_number(*n as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::String(s) => encode_str(&s.as_bytes(), out),
        Value::Table(table) if level < MAX_NESTING => {
            super::deep(|| encode_table(table, level, out));
        }
        _ => out.push(0xc0),
    }
}

fn encode_number(n: f64, out: &mut Vec<u8>) {
    // A whole number within int64 packs as an integer (-0 included).
    if n.is_finite()
        && n.fract() == 0.0
        && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n)
    {
        encode_int(n as i64, out);
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        match n {
            0..=0x7f => out.push(n as u8),
            0x80..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A header with `len` in the fix form (`fix | len` when below `fix_limit`), or the
/// `codes` (8/16/32-bit length) form that fits.
fn header(len: usize, fix: u8, fix_limit: usize, codes: [Option<u8>; 3], out: &mut Vec<u8>) {
    if len < fix_limit {
        out.push(fix | len as u8);
    } else if let (Some(code), true) = (codes[0], len <= 0xff) {
        out.extend_from_slice(&[code, len as u8]);
    } else if let (Some(code), true) = (codes[1], len <= 0xffff) {
        out.push(code);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else if let Some(code) = codes[2] {
        out.push(code);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode_str(bytes: &[u8], out: &mut Vec<u8>) {
    header(
        bytes.len(),
        0xa0,
        32,
        [Some(0xd9), Some(0xda), Some(0xdb)],
        out,
    );
    out.extend_from_slice(bytes);
}

/// The item count when `table`'s keys are exactly 1..n (an array), `None` for a map.
fn array_len(table: &Table) -> Option<usize> {
    let (mut max, mut count) = (0f64, 0usize);
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair.ok()?;
        let index = match key {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return None,
        };
        if index <= 0.0 || index.fract() != 0.0 {
            return None;
        }
        max = max.max(index);
        count += 1;
    }
    (max == count as f64).then_some(count)
}

fn encode_table(table: &Table, level: usize, out: &mut Vec<u8>) {
    if let Some(len) = array_len(table) {
        header(len, 0x90, 16, [None, Some(0xdc), Some(0xdd)], out);
        for i in 1..=len {
            let item = table.raw_get::<Value>(i).unwrap_or(Value::Nil);
            encode(&item, level + 1, out);
        }
        return;
    }
    let pairs: Vec<(Value, Value)> = table
        .pairs::<Value, Value>()
        .filter_map(|p| p.ok())
        .collect();
    header(pairs.len(), 0x80, 16, [None, Some(0xde), Some(0xdf)], out);
    for (key, item) in &pairs {
        encode(key, level + 1, out);
        encode(item, level + 1, out);
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

/// Why input could not be decoded.
enum Malformed {
    Eof,
    Format,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], Malformed> {
        let end = self.at.checked_add(n).ok_or(Malformed::Eof)?;
        let bytes = self.data.get(self.at..end).ok_or(Malformed::Eof)?;
        self.at = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], Malformed> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A big-endian unsigned length of `n` bytes.
    fn len(&mut self, n: usize) -> std::result::Result<usize, Malformed> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
    }
}

/// One value; the outer `Result` is a Lua failure, the inner one malformed input.
fn decode(lua: &Lua, c: &mut Cursor<'_>) -> Result<std::result::Result<Value, Malformed>> {
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(m) => return Ok(Err(m)),
            }
        };
    }
    let first = tri!(c.array::<1>())[0];
    let number = |n: f64| Ok(Ok(Value::Number(n)));
    match first {
        0x00..=0x7f => number(f64::from(first)),
        0xe0..=0xff => number(f64::from(first as i8)),
        0xc0 => Ok(Ok(Value::Nil)),
        0xc2 => Ok(Ok(Value::Boolean(false))),
        0xc3 => Ok(Ok(Value::Boolean(true))),
        0xcc => number(f64::from(tri!(c.array::<1>())[0])),
        0xcd => number(f64::from(u16::from_be_bytes(tri!(c.array())))),
        0xce => number(f64::from(u32::from_be_bytes(tri!(c.array())))),
        0xcf => number(u64::from_be_bytes(tri!(c.array())) as f64),
        0xd0 => number(f64::from(tri!(c.array::<1>())[0] as i8)),
        0xd1 => number(f64::from(i16::from_be_bytes(tri!(c.array())))),
        0xd2 => number(f64::from(i32::from_be_bytes(tri!(c.array())))),
        0xd3 => number(i64::from_be_bytes(tri!(c.array())) as f64),
        0xca => number(f64::from(f32::from_be_bytes(tri!(c.array())))),
        0xcb => number(f64::from_be_bytes(tri!(c.array()))),
        0xa0..=0xbf => string(lua, c, usize::from(first & 0x1f)),
        0xd9 => {
            let len = tri!(c.len(1));
            string(lua, c, len)
        }
        0xda => {
            let len = tri!(c.len(2));
            string(lua, c, len)
        }
        0xdb => {
            let len = tri!(c.len(4));
            string(lua, c, len)
        }
        0x90..=0x9f => super::deep(|| array(lua, c, usize::from(first & 0x0f))),
        0xdc | 0xdd => {
            let len = tri!(c.len(if first == 0xdc { 2 } else { 4 }));
            super::deep(|| array(lua, c, len))
        }
        0x80..=0x8f => super::deep(|| map(lua, c, usize::from(first & 0x0f))),
        0xde | 0xdf => {
            let len = tri!(c.len(if first == 0xde { 2 } else { 4 }));
            super::deep(|| map(lua, c, len))
        }
        _ => Ok(Err(Malformed::Format)),
    }
}

fn string(
    lua: &Lua,
    c: &mut Cursor<'_>,
    len: usize,
) -> Result<std::result::Result<Value, Malformed>> {
    Ok(match c.take(len) {
        Ok(bytes) => Ok(Value::String(lua.create_string(bytes)?)),
        Err(m) => Err(m),
    })
}

fn array(
    lua: &Lua,
    c: &mut Cursor<'_>,
    len: usize,
) -> Result<std::result::Result<Value, Malformed>> {
    // The count comes from the input: grow as items arrive rather than trusting it.
    let table = lua.create_table()?;
    for i in 1..=len {
        match decode(lua, c)? {
            Ok(item) => table.raw_set(i, item)?,
            Err(m) => return Ok(Err(m)),
        }
    }
    Ok(Ok(Value::Table(table)))
}

fn map(lua: &Lua, c: &mut Cursor<'_>, len: usize) -> Result<std::result::Result<Value, Malformed>> {
    let table = lua.create_table()?;
    for _ in 0..len {
        let key = match decode(lua, c)? {
            Ok(key) => key,
            Err(m) => return Ok(Err(m)),
        };
        let item = match decode(lua, c)? {
            Ok(item) => item,
            Err(m) => return Ok(Err(m)),
        };
        table
            .raw_set(key, item)
            .map_err(|e| raise_here(lua, &e.to_string()))?;
    }
    Ok(Ok(Value::Table(table)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(n: f64) -> Vec<u8> {
        let mut out = Vec::new();
        encode_number(n, &mut out);
        out
    }

    #[test]
    fn numbers_pick_the_smallest_format() {
        assert_eq!(packed(5.0), [0x05]);
        assert_eq!(packed(-1.0), [0xff]);
        assert_eq!(packed(200.0), [0xcc, 200]);
        assert_eq!(packed(-200.0), [0xd1, 0xff, 0x38]);
        assert_eq!(packed(0.5), [0xca, 0x3f, 0x00, 0x00, 0x00]);
        assert_eq!(packed(0.1)[0], 0xcb);
        assert_eq!(packed(f64::INFINITY)[0], 0xca);
    }

    #[test]
    fn string_headers() {
        let mut out = Vec::new();
        encode_str(&[b'a'; 40], &mut out);
        assert_eq!(&out[..2], &[0xd9, 40]);
        out.clear();
        encode_str(&[b'a'; 300], &mut out);
        assert_eq!(&out[..3], &[0xda, 1, 44]);
    }
}
