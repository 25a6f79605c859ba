//! Reply normalisers: for replies that legitimately differ between two correct servers
//! (random picks, hash-table order, times, ids, versions), decide whether they still agree.
//! Each function gets two non-error replies that are not byte-identical and returns the
//! reason they disagree.

use crate::common::V;

/// INFO fields whose values must be equal whenever the oracle prints them.
const INFO_EQUAL: &[&str] = &[
    "redis_mode",
    "arch_bits",
    "role",
    "connected_slaves",
    "cluster_enabled",
    "aof_enabled",
    "maxmemory",
    "maxmemory_policy",
    "maxclients",
    "loading",
    "rdb_bgsave_in_progress",
    "aof_rewrite_in_progress",
    "blocked_clients",
    "tracking_clients",
    "pubsub_channels",
    "pubsub_patterns",
];

/// INFO fields clients and dashboards read: they must be present, with any value (versions,
/// pids, ports, memory and times differ between any two servers).
const INFO_PRESENT: &[&str] = &[
    "redis_version",
    "os",
    "process_id",
    "run_id",
    "tcp_port",
    "server_time_usec",
    "uptime_in_seconds",
    "uptime_in_days",
    "hz",
    "lru_clock",
    "executable",
    "config_file",
    "connected_clients",
    "used_memory",
    "used_memory_human",
    "used_memory_rss",
    "used_memory_peak",
    "used_memory_peak_human",
    "maxmemory_human",
    "mem_fragmentation_ratio",
    "mem_allocator",
    "rdb_changes_since_last_save",
    "rdb_last_save_time",
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "total_net_input_bytes",
    "total_net_output_bytes",
    "rejected_connections",
    "expired_keys",
    "evicted_keys",
    "keyspace_hits",
    "keyspace_misses",
    "total_error_replies",
    "master_replid",
    "master_repl_offset",
    "used_cpu_sys",
    "used_cpu_user",
];

/// Commands whose call counts differ legitimately: each server iterates SCAN / HSCAN with its
/// own cursors, so the number of pages differs.
const PAGED_COMMANDS: &[&str] = &["scan", "hscan", "sscan", "zscan"];

/// CLIENT LIST / CLIENT INFO fields compared per connection (addresses, ids, ages, buffer
/// sizes and fields added after Redis 7.0 are free).
const CLIENT_FIELDS: &[&str] = &[
    "name", "db", "sub", "psub", "ssub", "multi", "flags", "cmd", "user", "redir", "resp",
];

fn differ(what: &str) -> Result<(), String> {
    Err(what.to_string())
}

fn kind(v: &V) -> &'static str {
    match v {
        V::Simple(_) => "simple",
        V::Error(_) => "error",
        V::Int(_) => "integer",
        V::Bulk(_) => "bulk",
        V::Nil => "nil",
        V::Array(_) => "array",
        V::Map(_) => "map",
        V::Set(_) => "set",
        V::Double(_) => "double",
        V::Bool(_) => "bool",
        V::Verbatim(_) => "verbatim",
        V::BigNumber(_) => "bignumber",
        V::Push(_) => "push",
    }
}

fn same_kind(r: &V, f: &V) -> Result<(), String> {
    if kind(r) == kind(f) {
        Ok(())
    } else {
        Err(format!("reply types differ: {} vs {}", kind(r), kind(f)))
    }
}

/// The text of a string-like reply.
fn text(v: &V) -> Option<String> {
    match v {
        V::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
        V::Simple(s) | V::Verbatim(s) => Some(s.clone()),
        _ => None,
    }
}

fn elements(v: &V) -> Option<&[V]> {
    match v {
        V::Array(items) | V::Set(items) => Some(items),
        _ => None,
    }
}

/// Key/value pairs of a RESP3 map or a RESP2 flat array.
fn pairs(v: &V) -> Option<Vec<(V, V)>> {
    match v {
        V::Map(pairs) => Some(pairs.clone()),
        V::Array(items) if items.len() % 2 == 0 => Some(
            items
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn sorted<T: std::fmt::Debug>(mut items: Vec<T>) -> Vec<T> {
    items.sort_by_key(|x| format!("{x:?}"));
    items
}

/// The same elements in any order.
pub fn unordered(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let (Some(a), Some(b)) = (elements(r), elements(f)) else {
        return differ("not both aggregates");
    };
    if sorted(a.to_vec()) == sorted(b.to_vec()) {
        Ok(())
    } else {
        differ("different elements (compared in any order)")
    }
}

/// HGETALL / HKEYS / HVALS. `listpack`: the oracle keeps the hash in insertion order, so the
/// order must match too.
pub fn hash_order(command: &[u8], listpack: bool, r: &V, f: &V) -> Result<(), String> {
    if listpack {
        return differ(
            "different reply; the oracle keeps this hash as a listpack, so the order \
             (insertion order) must match too",
        );
    }
    if !command.eq_ignore_ascii_case(b"HGETALL") {
        return unordered(r, f);
    }
    same_kind(r, f)?;
    match (pairs(r), pairs(f)) {
        (Some(a), Some(b)) if sorted(a.clone()) == sorted(b.clone()) => Ok(()),
        _ => differ("different field/value pairs (compared in any order)"),
    }
}

/// Integers within `tolerance`; negative codes (-1 no TTL, -2 no key) must be equal.
pub fn near(tolerance: i64, r: &V, f: &V) -> Result<(), String> {
    match (r, f) {
        (V::Int(a), V::Int(b)) if *a >= 0 && *b >= 0 && (a - b).abs() <= tolerance => Ok(()),
        (V::Int(_), V::Int(_)) => Err(format!("integers differ by more than {tolerance}")),
        _ => differ("not both integers"),
    }
}

pub fn any_int(r: &V, f: &V) -> Result<(), String> {
    match (r, f) {
        (V::Int(_), V::Int(_)) => Ok(()),
        _ => differ("not both integers"),
    }
}

pub fn nil_or_int(r: &V, f: &V) -> Result<(), String> {
    match (r, f) {
        (V::Int(_), V::Int(_)) | (V::Nil, V::Nil) => Ok(()),
        _ => differ("not both nil or both integers"),
    }
}

/// TIME: `[seconds, microseconds]` as bulk strings, clocks within 2 seconds.
pub fn time(r: &V, f: &V) -> Result<(), String> {
    let parse = |v: &V| -> Option<(i64, i64)> {
        match elements(v)? {
            [V::Bulk(s), V::Bulk(us)] => Some((
                std::str::from_utf8(s).ok()?.parse().ok()?,
                std::str::from_utf8(us).ok()?.parse().ok()?,
            )),
            _ => None,
        }
    };
    same_kind(r, f)?;
    match (parse(r), parse(f)) {
        (Some((a, _)), Some((b, us))) if (a - b).abs() <= 2 && (0..1_000_000).contains(&us) => {
            Ok(())
        }
        _ => differ("not two bulk integers with close seconds"),
    }
}

/// HELLO: the same fields in the same order; `id` any integer, `version` any string,
/// `modules` any array.
pub fn hello(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let (Some(a), Some(b)) = (pairs(r), pairs(f)) else {
        return differ("not a map");
    };
    let names = |p: &[(V, V)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    if names(&a) != names(&b) {
        return differ("different field names");
    }
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let ok = match text(name).as_deref() {
            Some("id") => matches!((x, y), (V::Int(_), V::Int(_))),
            Some("version") => kind(x) == kind(y),
            // ferrostack lists its built-in search module; the oracle has none.
            Some("modules") => kind(x) == kind(y),
            _ => x == y,
        };
        if !ok {
            return Err(format!("field {name:?} differs"));
        }
    }
    Ok(())
}

type Section = (String, Vec<(String, String)>);

/// `field:value` lines grouped by `# Section`.
fn parse_info(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix("# ") {
            sections.push((name.to_ascii_lowercase(), Vec::new()));
        } else if let Some((k, v)) = line.split_once(':')
            && let Some((_, fields)) = sections.last_mut()
        {
            fields.push((k.to_string(), v.to_string()));
        }
    }
    sections
}

/// One counter of an `a=1,b=2` value (keyspace and commandstats lines).
fn counter<'a>(value: &'a str, key: &str) -> Option<&'a str> {
    value
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn lookup<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn field_names(fields: &[(String, String)]) -> Vec<String> {
    sorted(fields.iter().map(|(k, _)| k.clone()).collect())
}

/// Compares the listed counters of every line; both sections must list the same lines.
fn same_counters(
    section: &str,
    a: &[(String, String)],
    b: &[(String, String)],
    counters: &[&str],
    skip: &[&str],
) -> Result<(), String> {
    if field_names(a) != field_names(b) {
        return Err(format!(
            "{section}: different lines: {:?} vs {:?}",
            field_names(a),
            field_names(b)
        ));
    }
    for (name, va) in a {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let vb = lookup(b, name).unwrap_or_default();
        for c in counters {
            if counter(va, c) != counter(vb, c) {
                return Err(format!("{section} {name}: {c} differs ({va} vs {vb})"));
            }
        }
    }
    Ok(())
}

/// INFO: the same sections in the same order; keyspace key/expire counts, errorstats and
/// command call counts equal; latencystats the same commands; every [`INFO_EQUAL`] field
/// equal and every [`INFO_PRESENT`] field present.
pub fn info(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let (Some(a), Some(b)) = (text(r), text(f)) else {
        return differ("not text");
    };
    let (a, mut b) = (parse_info(&a), parse_info(&b));
    // ferrostack's built-in search module adds its sections (INFO everything, modules);
    // the oracle has no module.
    b.retain(|(name, _)| !name.starts_with("search_"));
    let names = |s: &[Section]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    if names(&a) != names(&b) {
        return Err(format!(
            "different sections: {:?} vs {:?}",
            names(&a),
            names(&b)
        ));
    }
    let paged: Vec<String> = PAGED_COMMANDS
        .iter()
        .map(|c| format!("cmdstat_{c}"))
        .collect();
    let paged: Vec<&str> = paged.iter().map(String::as_str).collect();
    for ((section, fa), (_, fb)) in a.iter().zip(&b) {
        match section.as_str() {
            "keyspace" => same_counters(section, fa, fb, &["keys", "expires"], &[])?,
            "errorstats" if sorted(fa.clone()) != sorted(fb.clone()) => {
                return Err(format!("errorstats differ: {fa:?} vs {fb:?}"));
            }
            "commandstats" => same_counters(
                section,
                fa,
                fb,
                &["calls", "rejected_calls", "failed_calls"],
                &paged,
            )?,
            "latencystats" => same_counters(section, fa, fb, &[], &[])?,
            "errorstats" => {}
            _ => {
                for (name, va) in fa {
                    let vb = lookup(fb, name);
                    if INFO_EQUAL.contains(&name.as_str()) && vb != Some(va.as_str()) {
                        return Err(format!("{section}: {name} differs"));
                    }
                    if INFO_PRESENT.contains(&name.as_str()) && vb.is_none() {
                        return Err(format!("{section}: {name} missing"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// CLIENT LIST / INFO: the same connections, compared by [`CLIENT_FIELDS`].
pub fn client_list(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let (Some(a), Some(b)) = (text(r), text(f)) else {
        return differ("not text");
    };
    let rows = |text: &str| {
        let rows = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let fields: Vec<(&str, &str)> = line
                    .split(' ')
                    .filter_map(|kv| kv.split_once('='))
                    .collect();
                CLIENT_FIELDS
                    .iter()
                    .map(|name| {
                        let value = fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
                        format!("{name}={}", value.unwrap_or("<missing>"))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        sorted(rows)
    };
    let (ra, rb) = (rows(&a), rows(&b));
    if ra == rb {
        Ok(())
    } else {
        Err(format!(
            "connections differ in {CLIENT_FIELDS:?}:\n    oracle: {ra:?}\n    other:  {rb:?}"
        ))
    }
}

/// A HELP reply: a non-empty array of strings.
pub fn help(r: &V, f: &V) -> Result<(), String> {
    let ok = |v: &V| {
        elements(v)
            .is_some_and(|items| !items.is_empty() && items.iter().all(|i| text(i).is_some()))
    };
    if ok(r) && ok(f) {
        Ok(())
    } else {
        differ("not both a non-empty array of strings")
    }
}

type SlowEntry = (Vec<V>, V);

/// SLOWLOG GET: the same logged argument lists and client names, newest first. When SCAN
/// pages were logged (their number differs per server) those entries are dropped and only
/// the newest entries both sides still have are compared.
pub fn slowlog(scans_logged: bool, r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let entries = |v: &V| -> Option<Vec<SlowEntry>> {
        let mut out = Vec::new();
        for entry in elements(v)? {
            let [V::Int(_), V::Int(_), V::Int(_), args, V::Bulk(_), name] = elements(entry)? else {
                return None;
            };
            let args = elements(args)?.to_vec();
            let paged = args
                .first()
                .and_then(text)
                .is_some_and(|c| PAGED_COMMANDS.contains(&c.to_ascii_lowercase().as_str()));
            if !(scans_logged && paged) {
                out.push((args, name.clone()));
            }
        }
        Some(out)
    };
    let (Some(mut a), Some(mut b)) = (entries(r), entries(f)) else {
        return differ("not a list of slowlog entries [id, time, duration, args, peer, name]");
    };
    if scans_logged {
        let n = a.len().min(b.len());
        a.truncate(n);
        b.truncate(n);
    }
    if a == b {
        Ok(())
    } else {
        differ("different logged commands or client names")
    }
}

/// COMMAND INFO: exactly the same entries, except that a container's subcommands (the
/// tenth element) may come in any order — Redis lists them in hash-table order.
pub fn command_info(r: &V, f: &V) -> Result<(), String> {
    let normalise = |v: &V| -> Option<Vec<V>> {
        elements(v)?
            .iter()
            .map(|entry| match entry {
                V::Array(fields) if fields.len() >= 10 => {
                    let mut fields = fields.clone();
                    fields[9] = V::Array(sorted(elements(&fields[9])?.to_vec()));
                    Some(V::Array(fields))
                }
                other => Some(other.clone()),
            })
            .collect()
    };
    same_kind(r, f)?;
    match (normalise(r), normalise(f)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => differ("different command entries (subcommands compared in any order)"),
    }
}

/// Parameters ferrostack has (it follows Redis 7.4) that the 7.0 oracle does not know, so a
/// CONFIG GET pattern matches them only on ferrostack's side. Each is a legitimate
/// 7.0-vs-7.4 difference:
const NEWER_PARAMETERS: &[&str] = &[
    // Redis 7.2 added listpack encoding for small sets, with these two limits.
    "set-max-listpack-entries",
    "set-max-listpack-value",
];

/// CONFIG GET: the same pairs in any order, in the same reply type, apart from
/// [`NEWER_PARAMETERS`] on the other server's side.
pub fn config_get(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let known_to_oracle = |pairs: Vec<(V, V)>| -> Vec<(V, V)> {
        pairs
            .into_iter()
            .filter(|(name, _)| !text(name).is_some_and(|n| NEWER_PARAMETERS.contains(&n.as_str())))
            .collect()
    };
    match (pairs(r), pairs(f).map(known_to_oracle)) {
        (Some(a), Some(b)) if sorted(a.clone()) == sorted(b.clone()) => Ok(()),
        _ => differ("different parameter/value pairs (compared in any order)"),
    }
}

/// COMMAND DOCS: the same command names.
pub fn command_docs(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let names = |v: &V| pairs(v).map(|p| sorted(p.into_iter().map(|(k, _)| k).collect()));
    match (names(r), names(f)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => differ("documented different commands"),
    }
}

type Pick = (V, Option<V>);

/// HRANDFIELD against the hash's contents (`hash`: the oracle's HGETALL pairs). Without a
/// count: a field of the hash. With one: the same number of picks in the same shape, each
/// a field (with its value) of the hash, all distinct when the count is positive.
pub fn hrandfield(argv: &[Vec<u8>], hash: &[(V, V)], r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let Some(count) = argv.get(2) else {
        return if hash.iter().any(|(k, _)| k == f) {
            Ok(())
        } else {
            differ("the other server's pick is not a field of the hash")
        };
    };
    let count: i64 = std::str::from_utf8(count)
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let with_values = argv.len() > 3;
    // Picks as (field, value?) plus whether each pair is nested in its own array (RESP3).
    let picks = |v: &V| -> Option<(bool, Vec<Pick>)> {
        let items = elements(v)?;
        let nested = items.first().is_some_and(|i| matches!(i, V::Array(_)));
        let picks = if !with_values {
            items.iter().map(|i| (i.clone(), None)).collect()
        } else if nested {
            items
                .iter()
                .map(|i| match elements(i)? {
                    [k, v] => Some((k.clone(), Some(v.clone()))),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?
        } else {
            pairs(v)?.into_iter().map(|(k, v)| (k, Some(v))).collect()
        };
        Some((nested, picks))
    };
    let (Some((nested_a, a)), Some((nested_b, b))) = (picks(r), picks(f)) else {
        return differ("unexpected reply shape");
    };
    if nested_a != nested_b {
        return differ("pairs nested differently (RESP3 nests each field/value pair)");
    }
    if a.len() != b.len() {
        return Err(format!("{} picks vs {}", a.len(), b.len()));
    }
    for (field, value) in &b {
        let Some((_, expected)) = hash.iter().find(|(k, _)| k == field) else {
            return Err(format!("{field:?} is not a field of the hash"));
        };
        if value.as_ref().is_some_and(|v| v != expected) {
            return Err(format!("{field:?} came with the wrong value"));
        }
    }
    if count > 0 {
        let mut fields: Vec<String> = b.iter().map(|(k, _)| format!("{k:?}")).collect();
        fields.sort();
        fields.dedup();
        if fields.len() != b.len() {
            return differ("repeated fields for a positive count");
        }
    }
    Ok(())
}

/// Unix-ms times (delivery and seen times) and the ms part of clock-generated ids are at
/// least this large; the ids the generator writes itself are far smaller.
const CLOCK_MS: u64 = 1_000_000_000_000;

/// A stream reply with what the clock decides replaced by placeholders: `<ms>-<seq>` ids
/// whose ms is a clock time, integers that are unix-ms times, the value after an `idle`
/// name, and the idle time of XPENDING's `[id, consumer, idle, deliveries]` rows.
fn stream_normal(v: &V) -> V {
    const FREE: &[&str] = &["idle"];
    let placeholder = V::Simple("<free>".into());
    let clock_id = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.split_once('-'))
            .and_then(|(ms, seq)| Some((ms.parse::<u64>().ok()?, seq.parse::<u64>().ok()?)))
            .is_some_and(|(ms, _)| ms >= CLOCK_MS)
    };
    let list = |items: &[V]| -> Vec<V> {
        let mut out: Vec<V> = items.iter().map(stream_normal).collect();
        for i in 1..out.len() {
            if text(&items[i - 1]).is_some_and(|t| FREE.contains(&t.as_str())) {
                out[i] = placeholder.clone();
            }
        }
        if let [V::Bulk(_), V::Bulk(_), V::Int(_), V::Int(_)] = items {
            out[2] = placeholder.clone();
        }
        out
    };
    match v {
        V::Bulk(b) if clock_id(b) => V::Simple("<clock-id>".into()),
        V::Int(n) if n.unsigned_abs() >= CLOCK_MS => placeholder,
        V::Array(items) => V::Array(list(items)),
        V::Map(pairs) => V::Map(
            pairs
                .iter()
                .map(|(k, x)| {
                    let free = text(k).is_some_and(|t| FREE.contains(&t.as_str()));
                    let x = if free {
                        placeholder.clone()
                    } else {
                        stream_normal(x)
                    };
                    (stream_normal(k), x)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Stream replies equal once clock-decided values are set aside (see [`stream_normal`]).
pub fn stream(r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    if stream_normal(r) == stream_normal(f) {
        Ok(())
    } else {
        differ("different stream reply (clock ids, times and idle times aside)")
    }
}

/// SPOP / SRANDMEMBER (see `Check::SetPick`): `members` is the set before the command.
pub fn set_pick(argv: &[Vec<u8>], members: &[V], r: &V, f: &V) -> Result<(), String> {
    same_kind(r, f)?;
    let Some(count) = argv.get(2) else {
        return if members.contains(f) {
            Ok(())
        } else {
            differ("the other server's pick is not a member of the set")
        };
    };
    let count: i64 = std::str::from_utf8(count)
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (Some(a), Some(b)) = (elements(r), elements(f)) else {
        return differ("unexpected reply shape");
    };
    if a.len() != b.len() {
        return Err(format!("{} picks vs {}", a.len(), b.len()));
    }
    if let Some(stranger) = b.iter().find(|m| !members.contains(m)) {
        return Err(format!("{stranger:?} is not a member of the set"));
    }
    if count > 0 && sorted(b.to_vec()).windows(2).any(|w| w[0] == w[1]) {
        return differ("repeated members for a positive count");
    }
    Ok(())
}

/// OBJECT ENCODING of a set (see `Check::SetEncoding`).
pub fn set_encoding(r: &V, f: &V) -> Result<(), String> {
    let oracle_has = matches!(text(r).as_deref(), Some("intset" | "hashtable"));
    if oracle_has && text(f).as_deref() == Some("listpack") {
        Ok(())
    } else {
        differ("different encodings (only a listpack where Redis 7.0 has none is allowed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> V {
        V::bulk(s)
    }

    #[test]
    fn unordered_ignores_order_only() {
        let a = V::Array(vec![bulk("a"), bulk("b")]);
        let b = V::Array(vec![bulk("b"), bulk("a")]);
        assert!(unordered(&a, &b).is_ok());
        assert!(unordered(&a, &V::Array(vec![bulk("a")])).is_err());
        assert!(unordered(&a, &V::Set(vec![bulk("b"), bulk("a")])).is_err());
    }

    #[test]
    fn near_keeps_negative_codes_exact() {
        assert!(near(1, &V::Int(100), &V::Int(99)).is_ok());
        assert!(near(1, &V::Int(100), &V::Int(98)).is_err());
        assert!(near(1, &V::Int(-1), &V::Int(0)).is_err());
    }

    #[test]
    fn info_compares_keyspace_counts_and_call_counts() {
        let a = "# Server\r\nredis_version:7.0.15\r\nrole:master\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=5\r\n";
        let b = "# Server\r\nredis_version:7.4.2\r\nrole:master\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=9\r\n";
        assert!(info(&bulk(a), &bulk(b)).is_ok());
        assert!(info(&bulk(a), &bulk(&b.replace("keys=2", "keys=3"))).is_err());
        assert!(info(&bulk(a), &bulk(&b.replace("redis_version:7.4.2\r\n", ""))).is_err());
        assert!(info(&bulk(a), &bulk(&b.replace("role:master", "role:slave"))).is_err());
        let e = "# Commandstats\r\ncmdstat_get:calls=2,usec=5,usec_per_call=2.5,rejected_calls=0,failed_calls=0\r\n";
        assert!(info(&bulk(e), &bulk(&e.replace("usec=5", "usec=9"))).is_ok());
        assert!(info(&bulk(e), &bulk(&e.replace("calls=2", "calls=3"))).is_err());
        let s = e.replace("cmdstat_get", "cmdstat_scan");
        assert!(info(&bulk(&s), &bulk(&s.replace("calls=2", "calls=3"))).is_ok());
        let search = format!("{b}\r\n# search_version\r\nsearch_version:2.10.20\r\n");
        assert!(info(&bulk(a), &bulk(&search)).is_ok());
    }

    #[test]
    fn config_get_ignores_only_newer_parameters() {
        let map = |items: &[(&str, &str)]| {
            V::Map(items.iter().map(|(k, v)| (bulk(k), bulk(v))).collect())
        };
        let oracle = map(&[("zset-max-listpack-entries", "128")]);
        let ours = map(&[
            ("zset-max-listpack-entries", "128"),
            ("set-max-listpack-entries", "128"),
        ]);
        assert!(config_get(&oracle, &ours).is_ok());
        let extra = map(&[("zset-max-listpack-entries", "128"), ("shards", "16")]);
        assert!(config_get(&oracle, &extra).is_err());
    }

    #[test]
    fn set_pick_checks_membership_shape_and_distinctness() {
        let set = vec![bulk("a"), bulk("b")];
        let argv = |s: &str| {
            s.split(' ')
                .map(|a| a.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        let two = |x: &str, y: &str| V::Array(vec![bulk(x), bulk(y)]);
        assert!(set_pick(&argv("SPOP s"), &set, &bulk("a"), &bulk("b")).is_ok());
        assert!(set_pick(&argv("SPOP s"), &set, &bulk("a"), &bulk("c")).is_err());
        let args = argv("SPOP s 2");
        assert!(set_pick(&args, &set, &two("a", "b"), &two("b", "a")).is_ok());
        assert!(set_pick(&args, &set, &two("a", "b"), &two("a", "a")).is_err());
        assert!(set_pick(&args, &set, &two("a", "b"), &V::Array(vec![bulk("a")])).is_err());
        let args = argv("SRANDMEMBER s -2");
        assert!(set_pick(&args, &set, &two("a", "b"), &two("a", "a")).is_ok());
        assert!(set_encoding(&bulk("hashtable"), &bulk("listpack")).is_ok());
        assert!(set_encoding(&bulk("listpack"), &bulk("hashtable")).is_err());
        assert!(set_encoding(&bulk("intset"), &bulk("hashtable")).is_err());
    }

    #[test]
    fn hrandfield_checks_membership_shape_and_distinctness() {
        let hash = vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))];
        let argv = |s: &str| {
            s.split(' ')
                .map(|a| a.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        assert!(hrandfield(&argv("HRANDFIELD h"), &hash, &bulk("a"), &bulk("b")).is_ok());
        assert!(hrandfield(&argv("HRANDFIELD h"), &hash, &bulk("a"), &bulk("c")).is_err());
        let two = |x: &str, y: &str| V::Array(vec![bulk(x), bulk(y)]);
        let args = argv("HRANDFIELD h 2");
        assert!(hrandfield(&args, &hash, &two("a", "b"), &two("b", "a")).is_ok());
        assert!(hrandfield(&args, &hash, &two("a", "b"), &two("a", "a")).is_err());
        let args = argv("HRANDFIELD h -2");
        assert!(hrandfield(&args, &hash, &two("a", "b"), &two("a", "a")).is_ok());
        let args = argv("HRANDFIELD h -1 WITHVALUES");
        assert!(hrandfield(&args, &hash, &two("a", "1"), &two("b", "2")).is_ok());
        assert!(hrandfield(&args, &hash, &two("a", "1"), &two("b", "1")).is_err());
        let nested = V::Array(vec![two("b", "2")]);
        assert!(hrandfield(&args, &hash, &two("a", "1"), &nested).is_err());
    }

    #[test]
    fn client_list_compares_selected_fields() {
        let a = "id=3 addr=127.0.0.1:1 name=x db=0 sub=0 psub=0 ssub=0 multi=-1 flags=N cmd=client|list user=default redir=-1 resp=2\n";
        let b = "id=9 addr=127.0.0.1:2 name=x db=0 sub=0 psub=0 ssub=0 multi=-1 flags=N cmd=client|list user=default redir=-1 resp=2 lib-name=\n";
        assert!(client_list(&bulk(a), &bulk(b)).is_ok());
        assert!(client_list(&bulk(a), &bulk(&b.replace("db=0", "db=1"))).is_err());
    }
}
