//! RDB snapshots end to end: SAVE / restart round trips of every type (expiries, several
//! databases, functions, search index definitions); files written by Debian's real
//! `redis-server` 7.0.15 load here and ours load there; corrupt and truncated files are
//! refused at start-up and left untouched; BGSAVE is a point-in-time copy; the `save` rules,
//! SHUTDOWN, SIGTERM, FLUSHALL and DEBUG RELOAD save; a failed save turns on MISCONF.
//!
//! Run: `cargo test --test persistence_snapshot` (needs `redis-server` on PATH).
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Server, TempDir, V};

/// The snapshot file of `dir`.
fn dump(dir: &TempDir) -> PathBuf {
    dir.path().join("dump.rdb")
}

/// ferrostack on `dir` with `extra` options (`save` off unless given).
fn ferro(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.str(), "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Debian's real redis-server on `dir`, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &TempDir) -> Redis {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--dir", dir.str()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Connected: but the dataset may still be loading.
                    let mut c = Client::connect(port);
                    while c.q("PING").is_error() {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    return Redis { child, port };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    fn client(&self) -> Client {
        Client::connect(self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply as short readable text.
fn show(v: &V) -> String {
    match v {
        V::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        V::Array(items) | V::Set(items) => {
            format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(","))
        }
        V::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => format!("{other:?}"),
    }
}

/// Compares two `contents` listings, showing only the lines that differ.
fn assert_same(got: &[String], want: &[String]) {
    let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).collect();
    let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).collect();
    let cut = |l: &&String| l.chars().take(300).collect::<String>();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "expected but missing:\n{}\nfound instead:\n{}",
        missing.iter().map(cut).collect::<Vec<_>>().join("\n"),
        extra.iter().map(cut).collect::<Vec<_>>().join("\n")
    );
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

/// Every key of every database, read back through commands both servers answer alike:
/// `db key type encoding expire-time contents`, one line each, sorted.
fn contents(c: &mut Client) -> Vec<String> {
    listing(c, true)
}

/// [`contents`] without the encodings: Redis 7.0 and 7.4 (which this server follows) load
/// lists and small sets into different encodings.
fn contents_across_versions(c: &mut Client) -> Vec<String> {
    listing(c, false)
}

fn listing(c: &mut Client, with_encoding: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for db in 0..16 {
        c.q(&format!("SELECT {db}"));
        let keys = sorted(c.q("KEYS *").items().iter().map(V::text).collect());
        for key in keys {
            let k = key.as_bytes();
            let kind = c.cmd(&[b"TYPE".as_ref(), k]).text();
            let encoding = match with_encoding {
                true => c.cmd(&[b"OBJECT".as_ref(), b"ENCODING", k]).text(),
                false => String::new(),
            };
            let expire = show(&c.cmd(&[b"PEXPIRETIME".as_ref(), k]));
            let pairs = |v: V| -> Vec<String> {
                v.items()
                    .chunks(2)
                    .map(|p| format!("{}={}", show(&p[0]), show(&p[1])))
                    .collect()
            };
            let value = match kind.as_str() {
                "string" => show(&c.cmd(&[b"GET".as_ref(), k])),
                "hash" => sorted(pairs(c.cmd(&[b"HGETALL".as_ref(), k]))).join(","),
                "list" => show(&c.cmd(&[b"LRANGE".as_ref(), k, b"0", b"-1"])),
                "set" => sorted(
                    c.cmd(&[b"SMEMBERS".as_ref(), k])
                        .items()
                        .iter()
                        .map(show)
                        .collect(),
                )
                .join(","),
                "zset" => show(&c.cmd(&[b"ZRANGE".as_ref(), k, b"0", b"-1", b"WITHSCORES"])),
                "stream" => format!(
                    "{} {} {}",
                    show(&c.cmd(&[b"XRANGE".as_ref(), k, b"-", b"+"])),
                    show(&c.cmd(&[b"XINFO".as_ref(), b"GROUPS", k])),
                    show(&c.cmd(&[b"XPENDING".as_ref(), k, b"g1"])),
                ),
                other => other.to_string(),
            };
            lines.push(format!("{db} {key} {kind} {encoding} {expire} {value}"));
        }
    }
    c.q("SELECT 0");
    lines
}

/// Writes one key of every type and encoding, expiries, and keys in other databases.
fn fill(c: &mut Client) {
    for line in [
        "SET str:int 12345",
        "SET str:raw hello-world",
        "SET str:neg -7",
        "HSET h:small a 1 b 2",
        "RPUSH l:small a b 3",
        "SADD s:int 1 2 3 -5",
        "SADD s:lp a b c",
        "ZADD z:small 1 a 2.5 b -3 c",
        "SET ttl:key v PXAT 4102444800123",
        "HSET ttl:hash f v",
        "PEXPIREAT ttl:hash 4102444800999",
        "XADD st 1-1 f v",
        "XADD st 2-1 f2 v2 g 3",
        "XGROUP CREATE st g1 0",
        "XREADGROUP GROUP g1 alice COUNT 1 STREAMS st >",
        "SELECT 3",
        "SET db3:key in-db-3",
        "LPUSH db3:list x",
        "SELECT 0",
    ] {
        let reply = c.q(line);
        assert!(!reply.is_error(), "{line}: {reply:?}");
    }
    // Long values: compressible strings, encodings past the listpack limits.
    let long = "x".repeat(5000);
    c.cmd(&["SET", "str:long", &long]);
    let mut hset = vec!["HSET".to_string(), "h:big".into()];
    let mut rpush = vec!["RPUSH".to_string(), "l:big".into()];
    let mut sadd = vec!["SADD".to_string(), "s:big".into()];
    let mut zadd = vec!["ZADD".to_string(), "z:big".into()];
    let mut sint = vec!["SADD".to_string(), "s:manyint".into()];
    for i in 0..600 {
        hset.extend([format!("f{i}"), format!("v{i}")]);
        rpush.push(format!("item-{i}"));
        sadd.push(format!("m{i}"));
        zadd.extend([format!("{}", i as f64 / 3.0), format!("m{i}")]);
        sint.push(format!("{}", i * 1000));
    }
    for cmd in [hset, rpush, sadd, zadd, sint] {
        assert!(!c.cmd(&cmd).is_error());
    }
    c.cmd(&["HSET", "h:wide", "f", &"y".repeat(100)]);
}

/// Waits for `f` to hold, up to 20 seconds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn info_field(c: &mut Client, name: &str) -> String {
    let info = c.q("INFO persistence").text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} missing from INFO"))
        .trim()
        .to_string()
}

const LIBRARY: &str =
    "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)";

#[test]
fn save_and_restart_round_trips_every_type() {
    let dir = TempDir::new("roundtrip");
    let before;
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        fill(&mut c);
        assert!(!c.cmd(&["FUNCTION", "LOAD", LIBRARY]).is_error());
        c.q("FT.CREATE idx PREFIX 1 doc: SCHEMA title TEXT n NUMERIC SORTABLE t TAG");
        c.q("FT.ALTER idx SCHEMA ADD extra TEXT");
        c.q("FT.ALIASADD myalias idx");
        c.q("HSET doc:1 title hello n 5 t red extra more");
        c.q("HSET doc:2 title world n 7 t blue");
        c.q("FT.SUGADD sug hello 1");
        c.q("FT.SUGADD sug help 2 PAYLOAD pl");
        c.q("FT.SYNUPDATE idx g1 car auto");
        c.q("FT.DICTADD dict alpha beta");
        before = contents(&mut c);
        assert_eq!(c.q("SAVE"), V::ok());
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
        let lastsave = c.q("LASTSAVE");
        assert!(matches!(lastsave, V::Int(t) if t > 1_700_000_000));
    }
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_same(&contents(&mut c), &before);
    assert_eq!(
        info_field(&mut c, "rdb_last_load_keys_loaded"),
        before.len().to_string()
    );
    assert_eq!(c.q("FCALL hello 0"), V::bulk("hi"));
    eventually("the index to be rebuilt", || {
        c.q("FT.SEARCH myalias @extra:more NOCONTENT")
            == V::Array(vec![V::Int(1), V::bulk("doc:1")])
    });
    assert_eq!(
        c.q("FT.SEARCH idx @t:{blue} NOCONTENT"),
        V::Array(vec![V::Int(1), V::bulk("doc:2")])
    );
    assert_eq!(
        c.q("FT.SUGGET sug hel WITHPAYLOADS").items().len(),
        4,
        "two suggestions with their payloads"
    );
    assert_eq!(
        c.q("FT.SYNDUMP idx"),
        V::Array(vec![
            V::bulk("auto"),
            V::Array(vec![V::bulk("g1")]),
            V::bulk("car"),
            V::Array(vec![V::bulk("g1")]),
        ])
    );
    assert_eq!(
        c.q("FT.DICTDUMP dict"),
        V::Array(vec![V::bulk("alpha"), V::bulk("beta")])
    );
}

#[test]
fn a_file_written_by_redis_loads_here() {
    let dir = TempDir::new("fromredis");
    let expected;
    {
        let redis = Redis::start(&dir);
        let mut c = redis.client();
        fill(&mut c);
        assert!(!c.cmd(&["FUNCTION", "LOAD", LIBRARY]).is_error());
        expected = contents_across_versions(&mut c);
        assert_eq!(c.q("SAVE"), V::ok());
    }
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_same(&contents_across_versions(&mut c), &expected);
    assert_eq!(c.q("FCALL hello 0"), V::bulk("hi"));
    // The log tells what Redis's would of the file it loaded.
    let logged = |text: &str| server.log_line(text, Duration::from_secs(1));
    assert!(logged("Loading RDB produced by version 7.0.").is_some());
    assert!(logged("RDB age ").is_some());
    let memory = logged("RDB memory usage when created ").expect("memory line");
    assert!(memory.ends_with(" Mb"), "{memory}");
    assert!(logged("Done loading RDB, keys loaded: ").is_some());
}

#[test]
fn a_file_written_here_loads_in_redis() {
    let dir = TempDir::new("toredis");
    let expected;
    {
        let server = ferro(&dir, &["--maxmemory-policy", "allkeys-lru"]);
        let mut c = server.client();
        fill(&mut c);
        assert!(!c.cmd(&["FUNCTION", "LOAD", LIBRARY]).is_error());
        // An index definition travels in an AUX field real Redis skips.
        c.q("FT.CREATE idx SCHEMA title TEXT");
        expected = contents_across_versions(&mut c);
        assert_eq!(c.q("SAVE"), V::ok());
    }
    let redis = Redis::start(&dir);
    let mut c = redis.client();
    assert_same(&contents_across_versions(&mut c), &expected);
    assert_eq!(c.q("FCALL hello 0"), V::bulk("hi"));
}

/// Starts the binary on `dir` and expects it to refuse: exit status non-zero, `message` in
/// its log.
fn refuses_to_start(dir: &TempDir, message: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrostack"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--dir", dir.str()])
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started anyway: {log}");
    assert!(log.contains(message), "{message:?} not in {log}");
    assert!(!log.contains("Ready to accept connections"), "{log}");
}

#[test]
fn corrupt_or_truncated_files_are_refused_and_left_alone() {
    let dir = TempDir::new("corrupt");
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        fill(&mut c);
        assert_eq!(c.q("SAVE"), V::ok());
    }
    let good = std::fs::read(dump(&dir)).unwrap();
    let truncated = &good[..good.len() / 2];
    std::fs::write(dump(&dir), truncated).unwrap();
    refuses_to_start(
        &dir,
        "Short read or OOM loading DB. Unrecoverable error, aborting now.",
    );
    assert_eq!(std::fs::read(dump(&dir)).unwrap(), truncated);

    let mut flipped = good.clone();
    let at = flipped.len() - 20;
    flipped[at] ^= 0x55;
    std::fs::write(dump(&dir), &flipped).unwrap();
    refuses_to_start(&dir, "Wrong RDB checksum expected");
    assert_eq!(std::fs::read(dump(&dir)).unwrap(), flipped);

    std::fs::write(dump(&dir), b"NOTREDIS0010").unwrap();
    refuses_to_start(&dir, "Wrong signature trying to load DB from file");
}

/// Pipelines `SET k<i> value` for i in 0..n and reads the replies.
fn set_keys(c: &mut Client, n: usize, value: &str) {
    let mut pipeline = Vec::new();
    for i in 0..n {
        pipeline.extend(common::encode_command(&["SET", &format!("k{i}"), value]));
    }
    c.send_raw(&pipeline);
    for _ in 0..n {
        c.read();
    }
}

#[test]
fn bgsave_reports_its_progress_and_outcome() {
    let dir = TempDir::new("pit");
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        let n = 50_000;
        set_keys(&mut c, n, "old");
        assert_eq!(c.q("BGSAVE"), V::Simple("Background saving started".into()));
        // Written after the reply: not in the snapshot.
        set_keys(&mut c, n, "new");
        c.q("SET added-later 1");
        eventually("the background save", || {
            info_field(&mut c, "rdb_bgsave_in_progress") == "0"
        });
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
        assert_eq!(info_field(&mut c, "rdb_saves"), "1");
        assert!(
            info_field(&mut c, "rdb_last_bgsave_time_sec")
                .parse::<i64>()
                .unwrap()
                >= 0
        );
        assert_eq!(
            c.q("BGSAVE SCHEDULE"),
            V::Simple("Background saving started".into())
        );
        eventually("the second save", || {
            info_field(&mut c, "rdb_bgsave_in_progress") == "0"
        });
        assert_eq!(c.q("BGSAVE x"), V::err("ERR syntax error"));
    }
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q("DBSIZE"), V::Int(50_001));
    assert_eq!(
        c.q("GET k0"),
        V::bulk("new"),
        "the second save has the new values"
    );
}

#[test]
fn bgsave_excludes_writes_after_its_reply() {
    let dir = TempDir::new("pit2");
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        let n = 50_000;
        set_keys(&mut c, n, "old");
        // BGSAVE and the overwrites in one pipeline: everything after BGSAVE is excluded.
        let mut pipeline = common::encode_command(&["BGSAVE"]);
        for i in 0..n {
            pipeline.extend(common::encode_command(&["SET", &format!("k{i}"), "new"]));
        }
        c.send_raw(&pipeline);
        assert_eq!(c.read(), V::Simple("Background saving started".into()));
        for _ in 0..n {
            c.read();
        }
        eventually("the background save", || {
            info_field(&mut c, "rdb_bgsave_in_progress") == "0"
        });
        assert_eq!(
            info_field(&mut c, "rdb_changes_since_last_save"),
            format!("{n}")
        );
    }
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q("DBSIZE"), V::Int(50_000));
    for i in (0..50_000).step_by(997) {
        assert_eq!(c.q(&format!("GET k{i}")), V::bulk("old"));
    }
}

#[test]
fn failed_background_save_turns_on_misconf() {
    let dir = TempDir::new("misconf");
    let gone = dir.path().join("gone");
    std::fs::create_dir_all(&gone).unwrap();
    let server = ferro(
        &dir,
        &["--save", "3600 1", "--enable-protected-configs", "yes"],
    );
    let mut c = server.client();
    c.q("SET a 1");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", gone.to_str().unwrap()]),
        V::ok()
    );
    std::fs::remove_dir_all(&gone).unwrap();
    assert_eq!(c.q("BGSAVE"), V::Simple("Background saving started".into()));
    eventually("the failed save", || {
        info_field(&mut c, "rdb_last_bgsave_status") == "err"
    });
    let misconf = V::err(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
    );
    assert_eq!(c.q("SET b 2"), misconf);
    assert_eq!(c.q("GET a"), V::bulk("1"), "reads keep working");
    assert_eq!(c.q("MULTI"), V::ok());
    assert_eq!(c.q("INCR a"), misconf);
    assert!(c.q("EXEC").text().starts_with("EXECABORT"));
    // A plain SAVE fails too, with Redis's bare error.
    assert_eq!(c.q("SAVE"), V::err("ERR"));
    assert_eq!(c.q("CONFIG SET stop-writes-on-bgsave-error no"), V::ok());
    assert_eq!(c.q("SET b 2"), V::ok());
    c.q("CONFIG SET stop-writes-on-bgsave-error yes");
    assert_eq!(c.q("SET b 3"), misconf);
    std::fs::create_dir_all(&gone).unwrap();
    assert_eq!(c.q("BGSAVE"), V::Simple("Background saving started".into()));
    eventually("a good save", || {
        info_field(&mut c, "rdb_last_bgsave_status") == "ok"
    });
    assert_eq!(c.q("SET b 4"), V::ok());
    assert!(gone.join("dump.rdb").exists());
}

#[test]
fn save_rules_shutdown_sigterm_flushall_and_debug_reload_save() {
    let dir = TempDir::new("rules");
    // A rule of 1 change in 1 second fires on its own.
    {
        let server = ferro(&dir, &["--save", "1 1"]);
        let mut c = server.client();
        let started = match c.q("LASTSAVE") {
            V::Int(t) => t,
            other => panic!("{other:?}"),
        };
        c.q("SET by-rule 1");
        eventually("the save rule", || dump(&dir).exists());
        eventually("the save to finish", || {
            info_field(&mut c, "rdb_changes_since_last_save") == "0"
        });
        assert!(matches!(c.q("LASTSAVE"), V::Int(t) if t >= started));
    }
    // SHUTDOWN saves when rules exist.
    {
        let mut server = ferro(&dir, &["--save", "3600 1"]);
        let mut c = server.client();
        assert_eq!(c.q("GET by-rule"), V::bulk("1"));
        c.q("SET by-shutdown 1");
        c.send(&["SHUTDOWN"]);
        assert!(server.wait_exit(Duration::from_secs(10)).is_some());
    }
    // SIGTERM saves too.
    {
        let mut server = ferro(&dir, &["--save", "3600 1"]);
        let mut c = server.client();
        assert_eq!(c.q("GET by-shutdown"), V::bulk("1"));
        c.q("SET by-sigterm 1");
        Command::new("kill")
            .args(["-TERM", &server.pid().to_string()])
            .status()
            .unwrap();
        let status = server.wait_exit(Duration::from_secs(10)).unwrap();
        assert!(status.success());
    }
    // DEBUG RELOAD keeps the data; SHUTDOWN NOSAVE does not save.
    {
        let mut server = ferro(&dir, &["--save", "3600 1"]);
        let mut c = server.client();
        assert_eq!(c.q("GET by-sigterm"), V::bulk("1"));
        c.q("SET k v EX 1000");
        assert_eq!(c.q("DEBUG RELOAD"), V::ok());
        assert_eq!(c.q("GET k"), V::bulk("v"));
        assert!(matches!(c.q("TTL k"), V::Int(t) if t > 990));
        c.q("SET unsaved 1");
        c.send(&["SHUTDOWN", "NOSAVE"]);
        assert!(server.wait_exit(Duration::from_secs(10)).is_some());
    }
    // FLUSHALL saves the empty dataset at once.
    {
        let server = ferro(&dir, &["--save", "3600 1"]);
        let mut c = server.client();
        assert_eq!(c.q("GET unsaved"), V::Nil);
        assert_eq!(c.q("GET k"), V::bulk("v"));
        assert_eq!(c.q("FLUSHALL"), V::ok());
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "1");
    }
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q("DBSIZE"), V::Int(0));
}

#[test]
fn replies_match_redis() {
    let (ours, theirs) = (TempDir::new("diff-ours"), TempDir::new("diff-theirs"));
    let server = ferro(&ours, &[]);
    let redis = Redis::start(&theirs);
    let (mut a, mut b) = (server.client(), redis.client());
    // The real server refuses DEBUG unless enabled; compare what both accept.
    for line in [
        "SET k v",
        "SAVE",
        "SAVE now",
        "BGSAVE a b",
        "BGSAVE nope",
        "MULTI",
        "SAVE",
        "BGSAVE",
        "EXEC",
    ] {
        assert_eq!(a.q(line), b.q(line), "{line}");
        if line == "EXEC" {
            eventually("the scheduled saves", || {
                info_field(&mut a, "rdb_bgsave_in_progress") == "0"
                    && info_field(&mut b, "rdb_bgsave_in_progress") == "0"
            });
        }
    }
    for (c, dir) in [(&mut a, &ours), (&mut b, &theirs)] {
        assert!(matches!(c.q("LASTSAVE"), V::Int(_)));
        assert!(dump(dir).exists());
    }
}

/// Temp files a killed server left (its pid is gone) are removed at start-up; others stay.
#[test]
fn temp_files_of_killed_saves_are_removed_at_start_up() {
    let dir = TempDir::new("stale");
    let aof_dir = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&aof_dir).unwrap();
    // Pids never reach 2^22 on Linux.
    let stale = [
        dir.path().join("temp-4294967.rdb"),
        aof_dir.join("temp-rewriteaof-bg-4294967.aof"),
    ];
    let kept = dir.path().join("temp-notes.txt");
    for path in stale.iter().chain([&kept]) {
        std::fs::write(path, b"partial").unwrap();
    }
    let _server = ferro(&dir, &[]);
    assert!(stale.iter().all(|p| !p.exists()));
    assert!(kept.exists());
}

/// SETs `value` on `from`, restores its DUMP on `to` and checks the copy; returns the
/// payload's size.
fn cross(from: &mut Client, to: &mut Client, key: &str, value: &str) -> usize {
    assert_eq!(from.cmd(&["SET", key, value]), V::ok());
    let V::Bulk(payload) = from.cmd(&["DUMP", key]) else {
        panic!("DUMP {key}");
    };
    let restored = to.cmd(&[b"RESTORE".as_ref(), b"copy", b"0", &payload, b"REPLACE"]);
    assert_eq!(restored, V::ok(), "{key}: {payload:?}");
    assert_eq!(to.q("GET copy"), V::bulk(value));
    payload.len()
}

/// `rdbcompression`: strings over 20 bytes that LZF shrinks are stored compressed, in the
/// format Redis reads (DUMP payloads cross both ways through RESTORE), and raw once it is
/// turned off; a snapshot of compressible data is smaller, and loads back the same.
#[test]
fn rdbcompression_compresses_as_redis_does() {
    let (ours, theirs) = (TempDir::new("lzf-ours"), TempDir::new("lzf-theirs"));
    let server = ferro(&ours, &[]);
    let redis = Redis::start(&theirs);
    let (mut a, mut b) = (server.client(), redis.client());
    let long = "hello world, hello again and again and again ".repeat(4);
    let values = [
        "x".repeat(21),
        "y".repeat(20),
        long.clone(),
        "0123456789abcdefghijklmnopqrstuvwxyz".to_string(),
    ];
    let mut sizes = Vec::new();
    for setting in ["yes", "no"] {
        for c in [&mut a, &mut b] {
            assert_eq!(
                c.q(&format!("CONFIG SET rdbcompression {setting}")),
                V::ok()
            );
        }
        for (i, value) in values.iter().enumerate() {
            let key = format!("k{i}");
            sizes.push(cross(&mut a, &mut b, &key, value));
            cross(&mut b, &mut a, &key, value);
        }
    }
    // The long repetitive value shrinks; 20 bytes and the incompressible one do not.
    let n = values.len();
    assert!(sizes[2] * 2 < sizes[n + 2], "{sizes:?}");
    assert!(sizes[0] < sizes[n], "{sizes:?}");
    assert_eq!(
        (sizes[1], sizes[3]),
        (sizes[n + 1], sizes[n + 3]),
        "{sizes:?}"
    );
    let size = |c: &mut Client, setting: &str| {
        assert_eq!(
            c.q(&format!("CONFIG SET rdbcompression {setting}")),
            V::ok()
        );
        assert_eq!(c.q("SAVE"), V::ok());
        std::fs::metadata(dump(&ours)).unwrap().len()
    };
    for i in 0..200 {
        a.cmd(&["RPUSH", "list", &format!("{long}{i}")]);
        a.cmd(&["HSET", &format!("h{i}"), "body", &long]);
    }
    let (raw, packed) = (size(&mut a, "no"), size(&mut a, "yes"));
    assert!(packed * 2 < raw, "{packed} vs {raw} bytes");
    drop(a);
    drop(server);
    let server = ferro(&ours, &[]);
    let mut a = server.client();
    assert_eq!(a.cmd(&["HGET", "h7", "body"]), V::bulk(&long));
    assert_eq!(a.q("LINDEX list 199"), V::bulk(&format!("{long}199")));
}

/// Hash-field TTLs survive a snapshot (an AUX field after the hash, RDB 10 having no place
/// for them): fields keep their expiry times, fields whose time passed while the server was
/// down are gone, and so is a hash left with none. Redis 7.0 loads the same file, with the
/// fields and without their TTLs.
#[test]
fn hash_field_ttls_survive_a_snapshot() {
    let dir = TempDir::new("fieldttl");
    let far = "4102444800000";
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        assert_eq!(c.q("HSET h a 1 b 2 c 3"), V::Int(3));
        assert_eq!(
            c.q(&format!("HPEXPIREAT h {far} FIELDS 1 a")),
            V::Array(vec![V::Int(1)])
        );
        assert_eq!(c.q("HPEXPIRE h 300 FIELDS 1 b"), V::Array(vec![V::Int(1)]));
        assert_eq!(c.q("HSET gone x 1"), V::Int(1));
        assert_eq!(
            c.q("HPEXPIRE gone 300 FIELDS 1 x"),
            V::Array(vec![V::Int(1)])
        );
        assert_eq!(c.q("SAVE"), V::ok());
    }
    std::thread::sleep(Duration::from_millis(400));
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        assert_eq!(
            c.q("HGETALL h"),
            V::Array(vec![V::bulk("a"), V::bulk("1"), V::bulk("c"), V::bulk("3")])
        );
        assert_eq!(
            c.q("HPEXPIRETIME h FIELDS 2 a c"),
            V::Array(vec![V::Int(far.parse().unwrap()), V::Int(-1)])
        );
        assert_eq!(c.q("EXISTS gone"), V::Int(0));
        assert_eq!(c.q("SAVE"), V::ok());
    }
    let redis = Redis::start(&dir);
    let mut c = redis.client();
    assert_eq!(c.q("HGET h a"), V::bulk("1"));
    assert_eq!(c.q("HLEN h"), V::Int(2));
}
