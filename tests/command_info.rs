//! `COMMAND INFO` of every command and subcommand ferrostack has, compared with Debian's real
//! `redis-server` 7.0.15 (the differential test's oracle): arity, flags, key triple, ACL
//! categories, tips, key specs and subcommands, in RESP2 and RESP3.
//!
//! ferrostack targets Redis 7.4. The only deliberate differences from 7.0.15 are the
//! subcommands added since ([`NEWER_THAN_7_0`]), checked against their 7.4 entries; every
//! entry 7.0 has must be identical. Subcommands 7.0 has and ferrostack leaves out are
//! printed, not failed: they are absent (unknown-subcommand error), not wrong.
//!
//! Run: `cargo test --test command_info -- --nocapture` (needs `redis-server` on PATH).

mod common;
#[path = "differential/oracle.rs"]
mod oracle;

use common::{Client, Server, V};
use oracle::RealRedis;

/// Commands and subcommands Redis 7.0 does not have (added in 7.2 or 7.4). The oracle must
/// answer nil for them; their entries are checked against the 7.4 values in [`NEWER_ENTRIES`].
const NEWER_THAN_7_0: &[&str] = &[
    "client|no-touch",
    "client|setinfo",
    "hexpire",
    "hexpireat",
    "hexpiretime",
    "hpersist",
    "hpexpire",
    "hpexpireat",
    "hpexpiretime",
    "hpttl",
    "httl",
];

/// The 7.4 entries of [`NEWER_THAN_7_0`] (from Redis 7.4's command table): name, arity,
/// flags, ACL categories, tips, number of key specs. None of them has subcommands.
const NEWER_ENTRIES: &[(&str, i64, &str, &str, &str, usize)] = &[
    (
        "client|no-touch",
        3,
        "noscript loading stale",
        "@slow @connection",
        "",
        0,
    ),
    (
        "client|setinfo",
        4,
        "noscript loading stale",
        "@slow @connection",
        "",
        0,
    ),
    (
        "hexpire",
        -6,
        "write denyoom fast",
        "@write @hash @fast",
        "",
        1,
    ),
    (
        "hpexpire",
        -6,
        "write denyoom fast",
        "@write @hash @fast",
        "",
        1,
    ),
    (
        "hexpireat",
        -6,
        "write denyoom fast",
        "@write @hash @fast",
        "",
        1,
    ),
    (
        "hpexpireat",
        -6,
        "write denyoom fast",
        "@write @hash @fast",
        "",
        1,
    ),
    ("httl", -5, "readonly fast", "@read @hash @fast", "", 1),
    ("hpttl", -5, "readonly fast", "@read @hash @fast", "", 1),
    (
        "hexpiretime",
        -5,
        "readonly fast",
        "@read @hash @fast",
        "",
        1,
    ),
    (
        "hpexpiretime",
        -5,
        "readonly fast",
        "@read @hash @fast",
        "",
        1,
    ),
    ("hpersist", -5, "write fast", "@write @hash @fast", "", 1),
];

/// Commands whose arity grew after 7.0 (ZRANK / ZREVRANK took WITHSCORE in 7.2): their
/// arity is checked against the newer value; every other field must match 7.0.
const ARITY_SINCE_7_0: &[(&str, i64)] = &[("zrank", -3), ("zrevrank", -3)];

/// The names of the fields of a COMMAND INFO entry, by position.
const FIELDS: [&str; 10] = [
    "name",
    "arity",
    "flags",
    "first key",
    "last key",
    "step",
    "ACL categories",
    "tips",
    "key specs",
    "subcommands",
];

/// A compact rendering of a reply for the failure report.
fn show(v: &V) -> String {
    let list = |open: &str, items: &[V], close: &str| {
        let inner: Vec<String> = items.iter().map(show).collect();
        format!("{open}{}{close}", inner.join(" "))
    };
    match v {
        V::Simple(s) => format!("+{s}"),
        V::Bulk(b) => format!("{:?}", String::from_utf8_lossy(b)),
        V::Int(n) => n.to_string(),
        V::Nil => "nil".into(),
        V::Array(items) => list("[", items, "]"),
        V::Set(items) => list("~{", items, "}"),
        V::Map(pairs) => {
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect();
            format!("%{{{}}}", inner.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn entry_fields(entry: &V) -> Vec<V> {
    match entry {
        V::Array(fields) if fields.len() == 10 => fields.clone(),
        other => panic!("not a 10-field COMMAND INFO entry: {}", show(other)),
    }
}

/// Compares one entry (and, recursively, its subcommands) field by field, appending every
/// difference to `diffs` and every oracle subcommand ferrostack lacks to `absent`.
fn compare(oracle: &V, ours: &V, diffs: &mut Vec<String>, absent: &mut Vec<String>) {
    let (a, b) = (entry_fields(oracle), entry_fields(ours));
    let name = a[0].text();
    let newer_arity = ARITY_SINCE_7_0.iter().find(|(n, _)| *n == name);
    for field in 0..9 {
        let expected = match newer_arity {
            Some((_, arity)) if field == 1 => V::Int(*arity),
            _ => a[field].clone(),
        };
        if expected != b[field] {
            diffs.push(format!(
                "{name} {}:\n    redis 7.0:  {}\n    ferrostack: {}",
                FIELDS[field],
                show(&a[field]),
                show(&b[field])
            ));
        }
    }
    // Subcommands: Redis lists them in hash-table order, so match them by name.
    let subs = |v: &V| -> Vec<V> {
        match v {
            V::Array(items) | V::Set(items) => items.clone(),
            other => panic!(
                "subcommands of {name} are not an aggregate: {}",
                show(other)
            ),
        }
    };
    if std::mem::discriminant(&a[9]) != std::mem::discriminant(&b[9]) {
        diffs.push(format!(
            "{name} subcommands: different reply types ({} vs {})",
            show(&a[9]),
            show(&b[9])
        ));
    }
    let (ours_subs, oracle_subs) = (subs(&b[9]), subs(&a[9]));
    for sub in &ours_subs {
        let sub_name = entry_fields(sub)[0].text();
        match oracle_subs
            .iter()
            .find(|o| entry_fields(o)[0].text() == sub_name)
        {
            Some(o) => compare(o, sub, diffs, absent),
            None if NEWER_THAN_7_0.contains(&sub_name.as_str()) => {}
            None => diffs.push(format!("{sub_name}: a subcommand Redis 7.0 does not have")),
        }
    }
    for sub in &oracle_subs {
        let sub_name = entry_fields(sub)[0].text();
        if !ours_subs
            .iter()
            .any(|s| entry_fields(s)[0].text() == sub_name)
        {
            absent.push(sub_name);
        }
    }
}

/// Every command and subcommand name ferrostack lists.
/// Every command ferrostack has, except those of its search module (FT.*), which the Redis
/// 7.0 oracle does not have.
fn command_names(c: &mut Client) -> Vec<String> {
    let module: Vec<String> = c
        .q("COMMAND LIST FILTERBY MODULE search")
        .items()
        .iter()
        .map(V::text)
        .collect();
    assert!(!module.is_empty(), "the search module lists its commands");
    let mut names: Vec<String> = c
        .q("COMMAND LIST")
        .items()
        .iter()
        .map(V::text)
        .filter(|name| !module.contains(name))
        .collect();
    names.sort();
    names
}

fn words(v: &V) -> String {
    v.items().iter().map(V::text).collect::<Vec<_>>().join(" ")
}

/// The newer-than-7.0 entries against their Redis 7.4 values.
fn check_newer(ours: &mut Client, diffs: &mut Vec<String>) {
    for (name, arity, flags, acl, tips, key_specs) in NEWER_ENTRIES {
        let entry = entry_fields(&ours.cmd(&["COMMAND", "INFO", name]).items()[0]);
        let got = (
            entry[1].clone(),
            words(&entry[2]),
            words(&entry[6]),
            words(&entry[7]),
            entry[8].items().len() + entry[9].items().len(),
        );
        let want = (
            V::Int(*arity),
            flags.to_string(),
            acl.to_string(),
            tips.to_string(),
            *key_specs,
        );
        if got != want {
            diffs.push(format!("{name}: {got:?}, Redis 7.4 has {want:?}"));
        }
    }
}

#[test]
fn command_info_matches_real_redis() {
    let redis = RealRedis::start();
    let ferro = Server::start(&[]);
    let mut diffs = Vec::new();
    let mut absent = Vec::new();
    for resp3 in [false, true] {
        let (mut oracle, mut ours) = (Client::connect(redis.port), ferro.client());
        if resp3 {
            oracle.resp3();
            ours.resp3();
        }
        for name in command_names(&mut ours) {
            let is_sub = name.contains('|');
            let (a, b) = (
                oracle.cmd(&["COMMAND", "INFO", &name]).items()[0].clone(),
                ours.cmd(&["COMMAND", "INFO", &name]).items()[0].clone(),
            );
            if NEWER_THAN_7_0.contains(&name.as_str()) {
                assert_eq!(
                    a,
                    V::Nil,
                    "Redis 7.0 knows {name}: drop it from NEWER_THAN_7_0"
                );
                continue;
            }
            assert_ne!(a, V::Nil, "Redis 7.0 does not know {name}");
            // Subcommands are compared inside their container's entry.
            if !is_sub {
                compare(&a, &b, &mut diffs, &mut absent);
            }
        }
        check_newer(&mut ours, &mut diffs);
    }
    absent.sort();
    absent.dedup();
    println!("subcommands Redis 7.0 has and ferrostack leaves out: {absent:?}");
    diffs.dedup();
    assert!(
        diffs.is_empty(),
        "{} COMMAND INFO difference(s) from redis-server {}:\n{}",
        diffs.len(),
        RealRedis::version(),
        diffs.join("\n")
    );
}

/// Argument vectors for COMMAND GETKEYS of `name` (`container|sub` included): every length
/// from one short of the arity to three past it, with distinct arguments.
fn sample_argvs(name: &str, arity: i64) -> Vec<Vec<String>> {
    let head: Vec<String> = name.split('|').map(str::to_string).collect();
    let min = arity.unsigned_abs() as usize;
    (min.saturating_sub(1).max(head.len())..=min + 3)
        .map(|len| {
            let mut argv = head.clone();
            argv.extend((argv.len()..len).map(|i| format!("a{i}")));
            argv
        })
        .collect()
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS give the same keys, flags and errors as Redis for
/// every command ferrostack has, over argument counts around each arity, plus SET with and
/// without its GET option (whose key flags depend on it).
#[test]
fn getkeys_and_flags_match_real_redis() {
    let redis = RealRedis::start();
    let ferro = Server::start(&[]);
    let (mut oracle, mut ours) = (Client::connect(redis.port), ferro.client());
    let mut argvs = vec![
        vec!["set", "k", "v", "get"],
        vec!["set", "k", "v", "EX", "10", "GeT"],
        vec!["set", "k", "get"],
        vec!["set", "k", "v", "px", "get"],
        vec!["nosuch", "k"],
        vec!["object", "nosuch", "k"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(str::to_string).collect())
    .collect::<Vec<Vec<String>>>();
    for name in command_names(&mut ours) {
        if NEWER_THAN_7_0.contains(&name.as_str()) {
            continue;
        }
        let entry = entry_fields(&ours.cmd(&["COMMAND", "INFO", &name]).items()[0]);
        let V::Int(arity) = entry[1] else {
            panic!("{name}: arity is not an integer")
        };
        let mut samples = sample_argvs(&name, arity);
        if ARITY_SINCE_7_0.iter().any(|(n, _)| *n == name) {
            // 7.0 refuses the longer forms newer versions accept.
            samples.retain(|argv| argv.len() <= arity.unsigned_abs() as usize);
        }
        argvs.extend(samples);
    }
    let mut diffs = Vec::new();
    for argv in &argvs {
        for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
            let mut cmd = vec!["COMMAND".to_string(), sub.to_string()];
            cmd.extend(argv.iter().cloned());
            let (a, b) = (oracle.cmd(&cmd), ours.cmd(&cmd));
            if a != b {
                diffs.push(format!(
                    "{}:\n    redis 7.0:  {}\n    ferrostack: {}",
                    cmd.join(" "),
                    show(&a),
                    show(&b)
                ));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s) from redis-server {}:\n{}",
        diffs.len(),
        RealRedis::version(),
        diffs.join("\n")
    );
}
