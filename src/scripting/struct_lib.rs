//! The `struct` library scripts get (Roberto Ierusalimschy's lua-struct as Redis bundles it):
//! `pack(fmt, ...)`, `unpack(fmt, data [, pos])` and `size(fmt)` convert between Lua values
//! and C-struct-like byte strings, as on the 64-bit little-endian machines Redis runs on.
//!
//! Format letters: `>` big endian, `<` little endian, `![n]` alignment (default 8), `x`
//! padding byte, `b`/`B` char, `h`/`H` short, `l`/`L` long, `T` size_t, `i[n]`/`I[n]` n-byte
//! integer (default 4, at most 32), `f` float, `d` double, `c[n]` n chars (`c0`: the whole
//! string when packing, the previous number as length when unpacking), `s` zero-terminated
//! string, space ignored. Lower-case integer letters are signed.

use mlua::{Lua, MultiValue, Result, Table, Value};

use super::cmsgpack::{c_integer, expected};
use super::{arg_error, raise_here};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

/// The current byte order and alignment while a format is read.
struct Header {
    big: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            big: false,
            align: 1,
        }
    }
}

/// A format string being read.
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let opt = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(opt)
    }

    /// The digits at the cursor, or `default` without any.
    fn number(&mut self, lua: &Lua, default: usize) -> Result<usize> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut n: usize = 0;
        while let Some(&d) = self.fmt.get(self.at).filter(|c| c.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(d - b'0')))
                .filter(|&n| n <= i32::MAX as usize)
                .ok_or_else(|| raise_here(lua, "integral size overflow"))?;
            self.at += 1;
        }
        Ok(n)
    }

    /// The size of option `opt` (reading its count), 0 for control options.
    fn size(&mut self, lua: &Lua, opt: u8) -> Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'f' => 4,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'c' => self.number(lua, 1)?,
            b'i' | b'I' => {
                let size = self.number(lua, 4)?;
                if size > MAXINTSIZE {
                    return Err(raise_here(
                        lua,
                        &format!("integral size {size} is larger than limit of {MAXINTSIZE}"),
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// Applies a control option (`<`, `>`, `!n`, space); anything else is refused.
    fn control(&mut self, lua: &Lua, opt: u8, h: &mut Header) -> Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.big = true,
            b'<' => h.big = false,
            b'!' => {
                let align = self.number(lua, MAXALIGN)?;
                if !align.is_power_of_two() {
                    return Err(raise_here(
                        lua,
                        &format!("alignment {align} is not a power of 2"),
                    ));
                }
                h.align = align;
            }
            _ => {
                return Err(arg_error(
                    lua,
                    1,
                    &format!("invalid format option '{}'", opt as char),
                ));
            }
        }
        Ok(())
    }
}

/// Padding before an item of `size` bytes at offset `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    // Only powers of two align meaningfully; lua-struct applies the same mask regardless.
    (size.wrapping_sub(len & (size - 1))) & (size - 1)
}

/// Argument `n` (1-based) as `luaL_checknumber` reads it.
fn check_number(lua: &Lua, args: &MultiValue, n: usize) -> Result<f64> {
    let value = args.get(n - 1);
    let number = match value {
        Some(v @ (Value::Integer(_) | Value::Number(_) | Value::String(_))) => {
            lua.coerce_number(v.clone())?
        }
        _ => None,
    };
    number.ok_or_else(|| arg_error(lua, n, &expected("number", value)))
}

/// Argument `n` (1-based) as `luaL_checklstring` reads it.
fn check_string(lua: &Lua, args: &MultiValue, n: usize) -> Result<Vec<u8>> {
    let value = args.get(n - 1);
    let text = match value {
        Some(v @ (Value::Integer(_) | Value::Number(_) | Value::String(_))) => {
            lua.coerce_string(v.clone())?
        }
        _ => None,
    };
    text.map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| arg_error(lua, n, &expected("string", value)))
}

fn put_integer(n: f64, big: bool, size: usize, out: &mut Vec<u8>) {
    // Negative numbers go through a signed conversion, others an unsigned one (saturating
    // where C's conversion would be undefined).
    let mut value = if n.is_nan() || n < 9.223_372_036_854_776e18 {
        c_integer(n) as u64
    } else {
        // C's unsigned conversion of large doubles on x86-64.
        (c_integer(n - 9.223_372_036_854_776e18) as u64) ^ (1 << 63)
    };
    let mut bytes = vec![0u8; size];
    for byte in bytes.iter_mut() {
        *byte = (value & 0xff) as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    if big {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn get_integer(data: &[u8], big: bool, signed: bool, size: usize) -> f64 {
    let mut value: u64 = 0;
    let mut push = |b: &u8| value = value.checked_shl(8).unwrap_or(0) | u64::from(*b);
    if big {
        data.iter().for_each(&mut push);
    } else {
        data.iter().rev().for_each(&mut push);
    }
    if !signed {
        return value as f64;
    }
    let bits = size * 8;
    if (1..64).contains(&bits) {
        let mask = u64::MAX << (bits - 1);
        if value & mask != 0 {
            value |= mask;
        }
    }
    value as i64 as f64
}

fn ordered(mut bytes: Vec<u8>, big: bool) -> Vec<u8> {
    if big {
        bytes.reverse();
    }
    bytes
}

fn pack(lua: &Lua, args: &MultiValue) -> Result<Vec<u8>> {
    let fmt = check_string(lua, args, 1)?;
    let mut fmt = Format { fmt: &fmt, at: 0 };
    let mut h = Header::default();
    let mut arg = 2;
    let mut out = Vec::new();
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(lua, opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                put_integer(check_number(lua, args, arg)?, h.big, size, &mut out);
                arg += 1;
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, args, arg)? as f32;
                arg += 1;
                out.extend(ordered(f.to_le_bytes().to_vec(), h.big));
            }
            b'd' => {
                let d = check_number(lua, args, arg)?;
                arg += 1;
                out.extend(ordered(d.to_le_bytes().to_vec(), h.big));
            }
            b'c' | b's' => {
                let s = check_string(lua, args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // lua-struct names the argument after the one it read.
                    return Err(arg_error(lua, arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(lua, opt, &mut h)?,
        }
    }
    Ok(out)
}

fn unpack(lua: &Lua, args: &MultiValue) -> Result<MultiValue> {
    let fmt = check_string(lua, args, 1)?;
    let data = check_string(lua, args, 2)?;
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1,
        Some(_) => c_integer(check_number(lua, args, 3)?),
    };
    let pos = start.wrapping_sub(1);
    if pos < 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    let mut pos = pos as usize;
    let mut fmt = Format { fmt: &fmt, at: 0 };
    let mut h = Header::default();
    let mut values: Vec<Value> = Vec::new();
    let too_short = || arg_error(lua, 2, "data string too short");
    let fits = |pos: usize, size: usize| size <= data.len() && pos <= data.len() - size;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(lua, opt)?;
        pos += to_align(pos, &h, opt, size);
        if !fits(pos, size) {
            return Err(too_short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                let n = get_integer(&data[pos..pos + size], h.big, signed, size);
                values.push(Value::Number(n));
            }
            b'x' => {}
            b'f' => {
                let mut bytes = [0u8; 4];
                bytes.copy_from_slice(&data[pos..pos + 4]);
                let f = if h.big {
                    f32::from_be_bytes(bytes)
                } else {
                    f32::from_le_bytes(bytes)
                };
                values.push(Value::Number(f64::from(f)));
            }
            b'd' => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.big {
                    f64::from_be_bytes(bytes)
                } else {
                    f64::from_le_bytes(bytes)
                };
                values.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let previous = values
                        .last()
                        .cloned()
                        .and_then(|v| lua.coerce_number(v).ok().flatten());
                    let Some(previous) = previous else {
                        return Err(raise_here(lua, "format 'c0' needs a previous size"));
                    };
                    values.pop();
                    size = previous as usize;
                    if !fits(pos, size) {
                        return Err(too_short());
                    }
                }
                values.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(raise_here(lua, "unfinished string in data"));
                };
                values.push(Value::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            _ => fmt.control(lua, opt, &mut h)?,
        }
        pos += size;
    }
    values.push(Value::Integer(pos as i64 + 1));
    Ok(values.into_iter().collect())
}

fn size(lua: &Lua, args: &MultiValue) -> Result<i64> {
    let fmt = check_string(lua, args, 1)?;
    let mut fmt = Format { fmt: &fmt, at: 0 };
    let mut h = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = fmt.next() {
        let size = fmt.size(lua, opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(lua, opt, &mut h)?;
        }
        pos += size;
    }
    Ok(pos as i64)
}

/// Builds the `struct` table.
pub fn library(lua: &Lua) -> Result<Table> {
    let lib = lua.create_table()?;
    lib.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| lua.create_string(pack(lua, &args)?))?,
    )?;
    lib.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| unpack(lua, &args))?,
    )?;
    lib.raw_set(
        "size",
        lua.create_function(|lua, args: MultiValue| size(lua, &args))?,
    )?;
    Ok(lib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_in_both_orders() {
        let mut out = Vec::new();
        put_integer(-2.0, true, 2, &mut out);
        assert_eq!(out, [0xff, 0xfe]);
        assert_eq!(get_integer(&out, true, true, 2), -2.0);
        assert_eq!(get_integer(&out, true, false, 2), 65534.0);
        out.clear();
        put_integer(258.0, false, 4, &mut out);
        assert_eq!(out, [2, 1, 0, 0]);
    }

    #[test]
    fn alignment_pads_to_the_item_size_up_to_the_limit() {
        let h = Header {
            big: false,
            align: 4,
        };
        assert_eq!(to_align(1, &h, b'i', 4), 3);
        assert_eq!(to_align(1, &h, b'd', 8), 3);
        assert_eq!(to_align(1, &h, b'c', 4), 0);
    }
}
