//! The `bit` library scripts get (LuaBitOp, as bundled with Redis): 32-bit operations on Lua
//! numbers, results as signed 32-bit numbers.

use mlua::{Lua, Result, Table, Variadic};

/// A Lua number as LuaBitOp reads it: rounded to the nearest integer (ties to even) and
/// wrapped to 32 bits.
fn tobit(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    // Wrap in 64-bit first, as adding 2^52 + 2^51 does in LuaBitOp for numbers it handles.
    let rounded = n.round_ties_even();
    (rounded.rem_euclid(4_294_967_296.0) as u64 as u32) as i32
}

fn number(n: i32) -> f64 {
    f64::from(n)
}

/// `bit.tohex(x [, n])`: `n` hex digits (default 8, at most 8), upper case when negative.
fn tohex(x: f64, digits: Option<f64>) -> String {
    let x = tobit(x) as u32;
    let n = digits.map_or(8, tobit);
    let upper = n < 0;
    let width = n.unsigned_abs().min(8) as usize;
    let masked = if width == 8 {
        x
    } else {
        x & ((1u32 << (4 * width)) - 1)
    };
    if upper {
        format!("{masked:0width$X}")
    } else {
        format!("{masked:0width$x}")
    }
}

/// Builds the `bit` table.
pub fn library(lua: &Lua) -> Result<Table> {
    let bit = lua.create_table()?;
    let fold = |lua: &Lua, f: fn(i32, i32) -> i32| {
        lua.create_function(move |_, (first, rest): (f64, Variadic<f64>)| {
            Ok(number(
                rest.iter().fold(tobit(first), |acc, &n| f(acc, tobit(n))),
            ))
        })
    };
    bit.raw_set("band", fold(lua, |a, b| a & b)?)?;
    bit.raw_set("bor", fold(lua, |a, b| a | b)?)?;
    bit.raw_set("bxor", fold(lua, |a, b| a ^ b)?)?;
    let shift = |lua: &Lua, f: fn(i32, u32) -> i32| {
        lua.create_function(move |_, (x, n): (f64, f64)| {
            Ok(number(f(tobit(x), (tobit(n) & 31) as u32)))
        })
    };
    bit.raw_set("lshift", shift(lua, |x, n| ((x as u32) << n) as i32)?)?;
    bit.raw_set("rshift", shift(lua, |x, n| ((x as u32) >> n) as i32)?)?;
    bit.raw_set("arshift", shift(lua, |x, n| x >> n)?)?;
    bit.raw_set("rol", shift(lua, |x, n| (x as u32).rotate_left(n) as i32)?)?;
    bit.raw_set("ror", shift(lua, |x, n| (x as u32).rotate_right(n) as i32)?)?;
    bit.raw_set(
        "tobit",
        lua.create_function(|_, x: f64| Ok(number(tobit(x))))?,
    )?;
    bit.raw_set(
        "bnot",
        lua.create_function(|_, x: f64| Ok(number(!tobit(x))))?,
    )?;
    bit.raw_set(
        "bswap",
        lua.create_function(|_, x: f64| Ok(number(tobit(x).swap_bytes())))?,
    )?;
    bit.raw_set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| Ok(tohex(x, n)))?,
    )?;
    Ok(bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_wrap_to_signed_32_bits() {
        assert_eq!(tobit(4_294_967_295.0), -1);
        assert_eq!(tobit(4_294_967_296.0 + 5.0), 5);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(2.5), 2);
        assert_eq!(tobit(3.5), 4);
    }

    #[test]
    fn hex_digits() {
        assert_eq!(tohex(255.0, None), "000000ff");
        assert_eq!(tohex(255.0, Some(-4.0)), "00FF");
        assert_eq!(tohex(-1.0, Some(2.0)), "ff");
    }
}
