//! The `cjson` library scripts get (lua-cjson as Redis bundles it, default settings):
//! `encode` and `decode`, with its rules: tables whose keys are all positive integers are
//! arrays (nil holes become null, excessively sparse ones are refused), other tables objects
//! with string or number keys, numbers written `%.14g`, `/` escaped; `cjson.null` stands for
//! JSON null. Parsing is serde_json's, keeping the document's member order.

use mlua::{LightUserData, Lua, Result, Table, Value};

/// Deepest nesting `encode` accepts, as lua-cjson's default.
const MAX_DEPTH: usize = 1000;

/// lua-cjson's defaults: an array may have holes up to twice its item count, or any holes
/// while its largest index is at most 10.
const SPARSE_RATIO: usize = 2;
const SPARSE_SAFE: usize = 10;

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Builds the `cjson` table; `fail` turns a message into the error a script sees (with the
/// caller's position, as luaL_error writes it).
pub fn library(lua: &Lua, fail: fn(&Lua, &str) -> mlua::Error) -> Result<Table> {
    let cjson = lua.create_table()?;
    cjson.raw_set(
        "encode",
        lua.create_function(move |lua, value: Value| {
            let mut out = Vec::new();
            encode(&value, 0, &mut out).map_err(|msg| fail(lua, &msg))?;
            lua.create_string(&out)
        })?,
    )?;
    cjson.raw_set(
        "decode",
        lua.create_function(move |lua, text: mlua::LuaString| {
            let parsed: serde_json::Value =
                serde_json::from_slice(&text.as_bytes()).map_err(|e| {
                    fail(
                        lua,
                        &format!(
                            "Expected value but found invalid token at character {}",
                            e.column()
                        ),
                    )
                })?;
            decode(lua, parsed)
        })?,
    )?;
    cjson.raw_set("null", null())?;
    Ok(cjson)
}

fn decode(lua: &Lua, value: serde_json::Value) -> Result<Value> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => null(),
        J::Bool(b) => Value::Boolean(b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(lua.create_string(s)?),
        J::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.into_iter().enumerate() {
                table.raw_set(i + 1, decode(lua, item)?)?;
            }
            Value::Table(table)
        }
        J::Object(members) => {
            let table = lua.create_table()?;
            for (k, v) in members {
                table.raw_set(k, decode(lua, v)?)?;
            }
            Value::Table(table)
        }
    })
}

fn encode(value: &Value, depth: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    match value {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(ud) if ud.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Number(n) => encode_number(*n, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(table) => super::deep(|| encode_table(table, depth + 1, out))?,
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ));
        }
    }
    Ok(())
}

fn encode_number(n: f64, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    if !n.is_finite() {
        return Err("Cannot serialise number: must not be NaN or Inf".into());
    }
    out.extend_from_slice(super::convert::format_g(n, 14).as_bytes());
    Ok(())
}

fn encode_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// The largest index when every key is a positive integer, with the count of keys; `None`
/// for an object.
fn array_extent(table: &Table) -> Option<(usize, usize)> {
    let (mut max, mut count) = (0usize, 0usize);
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair.ok()?;
        let index = match key {
            Value::Integer(i) if i >= 1 => usize::try_from(i).ok()?,
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 && n < 9e15 => n as usize,
            _ => return None,
        };
        max = max.max(index);
        count += 1;
    }
    Some((max, count))
}

fn encode_table(table: &Table, depth: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("Cannot serialise, excessive nesting ({depth})"));
    }
    match array_extent(table) {
        Some((max, count)) if max > 0 => {
            if max > SPARSE_SAFE && max > count * SPARSE_RATIO {
                return Err("Cannot serialise table: excessively sparse array".into());
            }
            out.push(b'[');
            for i in 1..=max {
                if i > 1 {
                    out.push(b',');
                }
                let item = table.raw_get::<Value>(i).unwrap_or(Value::Nil);
                encode(&item, depth, out)?;
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            let mut first = true;
            for pair in table.pairs::<Value, Value>() {
                let (key, item) = pair.map_err(|e| e.to_string())?;
                if !first {
                    out.push(b',');
                }
                first = false;
                match &key {
                    Value::String(s) => encode_string(&s.as_bytes(), out),
                    Value::Integer(n) => encode_string(n.to_string().as_bytes(), out),
                    Value::Number(n) => {
                        encode_string(super::convert::format_g(*n, 14).as_bytes(), out)
                    }
                    other => {
                        return Err(format!(
                            "Cannot serialise {}: table key must be a number or string",
                            other.type_name()
                        ));
                    }
                }
                out.push(b':');
                encode(&item, depth, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}
