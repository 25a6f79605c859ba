//! Conversions between Redis replies and Lua values, by Redis 7's rules, and the number
//! formatting scripts see.
//!
//! RESP -> Lua (what `redis.call` returns): integers become numbers, bulk strings strings,
//! nil `false`, arrays tables, status replies `{ok=...}`, errors `{err=...}`; under
//! `redis.setresp(3)` maps become `{map={...}}`, sets `{set={...}}`, doubles `{double=n}`,
//! booleans booleans, big numbers `{big_number=...}` and null `nil`.
//! Lua -> RESP (what a script returns): numbers truncated to integers, strings bulk, tables
//! arrays up to their first nil unless they carry `err` / `ok` / `double` / `big_number` /
//! `map` / `set`; `true` is 1 and `false` nil (RESP3 booleans under `setresp(3)`).

use bytes::Bytes;
use mlua::{Lua, Table, Value};

use crate::protocol::Reply;

/// A reply as `redis.call` hands it to the script. `Err` carries the error table of an
/// error reply, which `redis.call` raises and `redis.pcall` returns.
pub fn reply_to_lua(lua: &Lua, reply: Reply, resp: u8) -> mlua::Result<Result<Value, Value>> {
    if let Reply::Error(text) = reply {
        let table = error_table(lua, &text)?;
        // Already counted in the error statistics when the command failed.
        table.raw_set(COUNTED, true)?;
        return Ok(Err(Value::Table(table)));
    }
    to_lua(lua, reply, resp).map(Ok)
}

/// The field Redis sets in the error table of a failed command: the error was counted in the
/// error statistics already, so the script's error reply is not counted again.
pub const COUNTED: &str = "ignore_error_stats_update";

/// `{err=text}`.
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.raw_set("err", lua.create_string(text)?)?;
    Ok(table)
}

fn single(lua: &Lua, field: &str, value: impl mlua::IntoLua) -> mlua::Result<Value> {
    let table = lua.create_table()?;
    table.raw_set(field, value)?;
    Ok(Value::Table(table))
}

fn array(lua: &Lua, items: Vec<Reply>, resp: u8) -> mlua::Result<Value> {
    let table = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.into_iter().enumerate() {
        table.raw_set(i + 1, to_lua(lua, item, resp)?)?;
    }
    Ok(Value::Table(table))
}

fn to_lua(lua: &Lua, reply: Reply, resp: u8) -> mlua::Result<Value> {
    let string = |bytes: &[u8]| lua.create_string(bytes).map(Value::String);
    Ok(match reply {
        Reply::Simple(text) => single(lua, "ok", text)?,
        Reply::Error(text) => Value::Table(error_table(lua, &text)?),
        Reply::Integer(n) => Value::Number(n as f64),
        Reply::Bulk(bytes) => string(&bytes)?,
        Reply::Verbatim(format, bytes) if resp == 3 => {
            let inner = lua.create_table()?;
            inner.raw_set("format", format)?;
            inner.raw_set("string", lua.create_string(&bytes)?)?;
            single(lua, "verbatim_string", inner)?
        }
        Reply::Verbatim(_, bytes) => string(&bytes)?,
        Reply::Nil | Reply::NilArray if resp == 3 => Value::Nil,
        Reply::Nil | Reply::NilArray => Value::Boolean(false),
        Reply::Array(items) | Reply::Push(items) => array(lua, items, resp)?,
        Reply::Map(pairs) if resp == 3 => {
            let map = lua.create_table()?;
            for (k, v) in pairs {
                map.raw_set(to_lua(lua, k, resp)?, to_lua(lua, v, resp)?)?;
            }
            single(lua, "map", map)?
        }
        Reply::Map(pairs) => array(
            lua,
            pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            resp,
        )?,
        Reply::Set(items) if resp == 3 => {
            let set = lua.create_table()?;
            for item in items {
                set.raw_set(to_lua(lua, item, resp)?, true)?;
            }
            single(lua, "set", set)?
        }
        Reply::Set(items) => array(lua, items, resp)?,
        Reply::Double(d) if resp == 3 => single(lua, "double", d)?,
        Reply::Double(d) => string(crate::protocol::format_double(d).as_bytes())?,
        Reply::Bool(b) if resp == 3 => Value::Boolean(b),
        Reply::Bool(b) => Value::Number(if b { 1.0 } else { 0.0 }),
        Reply::BigNumber(n) if resp == 3 => single(lua, "big_number", n)?,
        Reply::BigNumber(n) => string(n.as_bytes())?,
    })
}

/// How deep a script's reply may nest before the innermost table becomes an error, as when
/// Redis runs into its Lua stack limit. Redis gets to ~8000 levels; here the reply must still
/// be written (and dropped) by recursive code on a worker thread's stack, so less.
const MAX_REPLY_DEPTH: usize = 300;

/// What a script's return value (or an element of it) answers. `resp` is the version the
/// script last chose with `redis.setresp`: it decides how booleans come out.
pub fn lua_to_reply(value: &Value, resp: u8) -> Reply {
    to_reply(value, resp, 0)
}

fn to_reply(value: &Value, resp: u8, depth: usize) -> Reply {
    match value {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Integer(n) => Reply::Integer(*n),
        Value::Number(n) => Reply::Integer(number_to_i64(*n)),
        Value::Boolean(b) if resp == 3 => Reply::Bool(*b),
        Value::Boolean(true) => Reply::Integer(1),
        Value::Table(_) if depth >= MAX_REPLY_DEPTH => {
            Reply::Error(Bytes::from_static(b"ERR reached lua stack limit"))
        }
        // Deep replies would exhaust the thread's stack: it grows on the heap as needed.
        Value::Table(table) => super::deep(|| table_to_reply(table, resp, depth + 1)),
        _ => Reply::Nil,
    }
}

fn table_to_reply(table: &Table, resp: u8, depth: usize) -> Reply {
    let lua_to_reply = |value: &Value, resp: u8| to_reply(value, resp, depth);
    let field = |name: &str| table.raw_get::<Value>(name).unwrap_or(Value::Nil);
    if let Value::String(err) = field("err") {
        return Reply::Error(error_text(&err.as_bytes()));
    }
    if let Value::String(ok) = field("ok") {
        return Reply::Simple(String::from_utf8_lossy(&ok.as_bytes()).replace(['\r', '\n'], " "));
    }
    match field("double") {
        Value::Number(d) => return Reply::Double(d),
        Value::Integer(d) => return Reply::Double(d as f64),
        _ => {}
    }
    if let Value::String(n) = field("big_number") {
        return Reply::BigNumber(String::from_utf8_lossy(&n.as_bytes()).into_owned());
    }
    if let Value::Table(map) = field("map") {
        let pairs = map.pairs::<Value, Value>().filter_map(Result::ok);
        return Reply::Map(
            pairs
                .map(|(k, v)| (lua_to_reply(&k, resp), lua_to_reply(&v, resp)))
                .collect(),
        );
    }
    if let Value::Table(set) = field("set") {
        let members = set.pairs::<Value, Value>().filter_map(Result::ok);
        return Reply::Set(members.map(|(k, _)| lua_to_reply(&k, resp)).collect());
    }
    let mut items = Vec::new();
    for i in 1.. {
        match table.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(item) => items.push(lua_to_reply(&item, resp)),
        }
    }
    Reply::Array(items)
}

/// An error reply's line from a script's `{err=...}`: a leading `-` dropped, line breaks
/// made spaces (a reply line cannot hold them), `ERR ` for an empty message.
pub fn error_text(raw: &[u8]) -> Bytes {
    let raw = raw.strip_prefix(b"-").unwrap_or(raw);
    if raw.is_empty() {
        return Bytes::from_static(b"ERR ");
    }
    raw.iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect::<Vec<u8>>()
        .into()
}

/// A Lua number as Redis turns it into an integer: truncated, and (as C's conversion does on
/// the machines Redis runs on) the minimum integer when it is out of range or NaN.
pub fn number_to_i64(n: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        i64::MIN
    } else {
        n.trunc() as i64
    }
}

/// A number passed to `redis.call` as Redis writes it: C's `%.17g`.
pub fn format_g17(n: f64) -> String {
    format_g(n, 17)
}

/// C's `%.<digits>g` (`digits` from 1 to 17).
pub fn format_g(n: f64, digits: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // `digits` significant digits, rounded once; %g then picks fixed or exponent notation.
    let sci = format!("{n:.*e}", digits.saturating_sub(1));
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exponent < -4 || exponent >= digits as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exponent.abs());
    }
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest.replace('.', "")),
        None => (false, mantissa.replace('.', "")),
    };
    // Place the decimal point `exponent + 1` digits into the significant ones.
    let point = exponent + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let (int, frac) = digits.split_at((point as usize).min(digits.len()));
        format!("{int}.{frac}")
    };
    let body = trim(&body);
    if negative { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_as_c_g17() {
        assert_eq!(format_g17(3.7), "3.7000000000000002");
        assert_eq!(format_g17(10.0 / 3.0), "3.3333333333333335");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(-0.0), "-0");
        assert_eq!(format_g17(3.0), "3");
        assert_eq!(format_g17(-12345.0), "-12345");
        assert_eq!(format_g17(0.001), "0.001");
        assert_eq!(format_g17(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(format_g17(123456789012345680.0), "1.2345678901234568e+17");
        assert_eq!(format_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(format_g(1e300, 14), "1e+300");
    }

    #[test]
    fn numbers_truncate_like_c() {
        assert_eq!(number_to_i64(-2.9), -2);
        assert_eq!(number_to_i64(3.99), 3);
        assert_eq!(number_to_i64(1e20), i64::MIN);
        assert_eq!(number_to_i64(f64::NAN), i64::MIN);
    }
}
