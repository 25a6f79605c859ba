//! The append-only file end to end: what each command appends (the propagated forms Redis
//! writes), restarts that replay it, BGREWRITEAOF, fsync modes, a truncated or corrupt file,
//! loading real redis-server's AOF, and acknowledged writes surviving kill -9.

// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Server, V};
use ferrostack::persistence::aof::{Manifest, Parsed, parse_command};

/// A scratch directory, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!("ferro-aof-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }

    fn aof_dir(&self) -> PathBuf {
        self.0.join("appendonlydir")
    }

    fn manifest(&self) -> Manifest {
        let text = std::fs::read_to_string(self.aof_dir().join("appendonly.aof.manifest"))
            .expect("manifest");
        Manifest::parse(&text).unwrap()
    }

    /// The newest incremental file's path.
    fn last_incr(&self) -> PathBuf {
        let manifest = self.manifest();
        self.aof_dir()
            .join(&manifest.incrs.last().expect("an incr file").name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(dir: &Dir, extra: &[&str]) -> Server {
    let mut args = vec!["--appendonly", "yes", "--dir", dir.s()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// Every command of a file, as text words.
fn commands(path: &Path) -> Vec<Vec<String>> {
    let data = Bytes::from(std::fs::read(path).unwrap());
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        match parse_command(&data, pos) {
            Parsed::Command(argv, next) => {
                out.push(
                    argv.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                );
                pos = next;
            }
            Parsed::End => return out,
            other => panic!("{path:?} at {pos}: {other:?}"),
        }
    }
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

/// What running `line` appends to the AOF (SELECT left out unless it is all there is).
fn appended(c: &mut common::Client, dir: &Dir, line: &str) -> Vec<Vec<String>> {
    let before = commands(&dir.last_incr()).len();
    let reply = c.q(line);
    assert!(!reply.is_error(), "{line}: {reply:?}");
    let all = commands(&dir.last_incr());
    all[before..]
        .iter()
        .filter(|cmd| cmd[0] != "SELECT")
        .cloned()
        .collect()
}

/// Runs `command` and checks the AOF got exactly `form` for it.
fn appends_as(c: &mut common::Client, dir: &Dir, command: &str, form: &str) {
    assert_eq!(appended(c, dir, command), vec![words(form)], "{command}");
}

fn wait_rewrite(c: &mut common::Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = c.q("INFO persistence").text();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite never finished: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn shutdown(mut server: Server, c: &mut common::Client) {
    c.send(&["SHUTDOWN"]);
    assert!(server.wait_exit(Duration::from_secs(10)).is_some());
}

#[test]
fn plain_writes_are_appended_as_received_and_reads_not_at_all() {
    let dir = Dir::new("plain");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut c = server.client();
    appends_as(&mut c, &dir, "SET k v", "SET k v");
    assert!(appended(&mut c, &dir, "GET k").is_empty());
    assert!(
        appended(&mut c, &dir, "DEL missing").is_empty(),
        "nothing changed"
    );
    appends_as(&mut c, &dir, "HSET h f 1", "HSET h f 1");
    // A database change is announced with SELECT.
    c.q("SELECT 3");
    let before = commands(&dir.last_incr()).len();
    c.q("SET other 1");
    assert_eq!(
        commands(&dir.last_incr())[before..].to_vec(),
        vec![words("SELECT 3"), words("SET other 1")]
    );
}

#[test]
fn relative_and_server_chosen_forms_are_rewritten() {
    let dir = Dir::new("rewrites");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut c = server.client();
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    // The absolute time a relative one stood for: within a few seconds of now + ttl.
    let near = |text: &str, expect_ms: i64| {
        let at: i64 = text.parse().unwrap();
        assert!((at - expect_ms).abs() < 5000, "{at} vs {expect_ms}");
    };
    c.q("SET k v");
    let cmds = appended(&mut c, &dir, "EXPIRE k 100");
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0][..2], ["PEXPIREAT", "k"]);
    near(&cmds[0][2], now_ms() + 100_000);
    let cmds = appended(&mut c, &dir, "PEXPIRE k 5000");
    assert_eq!(cmds[0][0], "PEXPIREAT");
    near(&cmds[0][2], now_ms() + 5000);
    let cmds = appended(&mut c, &dir, "EXPIREAT k 4000000000");
    assert_eq!(cmds, vec![words("PEXPIREAT k 4000000000000")]);
    appends_as(&mut c, &dir, "EXPIRE k -1", "DEL k");

    let cmds = appended(&mut c, &dir, "SETEX s 100 v");
    assert_eq!(cmds[0][..4], ["SET", "s", "v", "PXAT"]);
    near(&cmds[0][4], now_ms() + 100_000);
    let cmds = appended(&mut c, &dir, "PSETEX s 100000 v");
    assert_eq!(cmds[0][..4], ["SET", "s", "v", "PXAT"]);
    let cmds = appended(&mut c, &dir, "SET s v2 EX 100 GET");
    assert_eq!(cmds[0][..4], ["SET", "s", "v2", "PXAT"]);
    assert_eq!(
        appended(&mut c, &dir, "SET s v3 PXAT 4000000000000"),
        vec![words("SET s v3 PXAT 4000000000000")],
        "PXAT is kept as sent"
    );
    let cmds = appended(&mut c, &dir, "GETEX s EX 50");
    assert_eq!(cmds[0][..2], ["PEXPIREAT", "s"]);
    near(&cmds[0][2], now_ms() + 50_000);
    appends_as(&mut c, &dir, "GETEX s PERSIST", "PERSIST s");
    assert!(appended(&mut c, &dir, "GETEX s").is_empty());
    appends_as(&mut c, &dir, "GETDEL s", "DEL s");

    c.q("SET f 10.5");
    c.q("EXPIRE f 1000");
    appends_as(&mut c, &dir, "INCRBYFLOAT f 0.1", "SET f 10.6 KEEPTTL");
    appends_as(&mut c, &dir, "HINCRBYFLOAT h x 2.5", "HSET h x 2.5");

    c.q("HSET fh a 1 b 2");
    let cmds = appended(&mut c, &dir, "HEXPIRE fh 100 FIELDS 2 a nope");
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0][..2], ["HPEXPIREAT", "fh"]);
    near(&cmds[0][2], now_ms() + 100_000);
    assert_eq!(cmds[0][3..], ["FIELDS", "1", "a"]);
    appends_as(&mut c, &dir, "HEXPIREAT fh 1 FIELDS 1 b", "HDEL fh b");

    c.q("SADD set a");
    appends_as(&mut c, &dir, "SPOP set", "SREM set a");
    c.q("SADD set a b c");
    let cmds = appended(&mut c, &dir, "SPOP set 2");
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0][..2], ["SREM", "set"]);
    assert_eq!(cmds[0].len(), 4);
    appends_as(&mut c, &dir, "SPOP set 5", "DEL set");

    c.q("RPUSH l a b c d");
    appends_as(&mut c, &dir, "BLPOP nothing l 0", "LPOP l");
    appends_as(&mut c, &dir, "BRPOP l 0", "RPOP l");
    appends_as(&mut c, &dir, "BLMPOP 0 1 l LEFT COUNT 5", "LPOP l 2");
    c.q("RPUSH l a");
    appends_as(
        &mut c,
        &dir,
        "BLMOVE l dst RIGHT LEFT 0",
        "LMOVE l dst RIGHT LEFT",
    );
    appends_as(&mut c, &dir, "LMPOP 1 dst RIGHT", "RPOP dst 1");
    c.q("ZADD z 1 a 2 b 3 c");
    appends_as(&mut c, &dir, "BZPOPMIN z 0", "ZPOPMIN z");
    appends_as(&mut c, &dir, "ZMPOP 1 z MAX COUNT 1", "ZPOPMAX z 1");

    let id = c.q("XADD x * f v").text();
    let all = commands(&dir.last_incr());
    assert_eq!(*all.last().unwrap(), words(&format!("XADD x {id} f v")));
    let cmds = appended(&mut c, &dir, "XADD x MAXLEN 5 * g w");
    assert_eq!(cmds[0][..4], ["XADD", "x", "MAXLEN", "5"]);
    assert_ne!(cmds[0][4], "*");

    c.q("SET r v");
    let payload = match c.q("DUMP r") {
        V::Bulk(b) => b,
        other => panic!("{other:?}"),
    };
    let cmds = {
        let before = commands(&dir.last_incr()).len();
        c.cmd(&[b"RESTORE".as_ref(), b"r2", b"100000", &payload]);
        commands(&dir.last_incr())[before..].to_vec()
    };
    let restore: Vec<&[String]> = cmds.iter().map(|c| c.as_slice()).collect();
    assert_eq!(restore[0][0], "RESTORE");
    near(&restore[0][2], now_ms() + 100_000);
    assert_eq!(restore[0].last().unwrap(), "ABSTTL");
}

#[test]
fn transactions_and_scripts_append_their_effects_wrapped_in_multi_exec() {
    let dir = Dir::new("multi");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut c = server.client();
    c.q("MULTI");
    c.q("SET a 1");
    c.q("GET a");
    c.q("INCR a");
    let before = commands(&dir.last_incr()).len();
    c.q("EXEC");
    let cmds: Vec<Vec<String>> = commands(&dir.last_incr())[before..]
        .iter()
        .filter(|c| c[0] != "SELECT")
        .cloned()
        .collect();
    assert_eq!(
        cmds,
        vec![
            words("MULTI"),
            words("SET a 1"),
            words("INCR a"),
            words("EXEC")
        ]
    );
    // A script: what it ran, not EVAL; a random choice is replayed as what it chose.
    let before = commands(&dir.last_incr()).len();
    let script =
        "redis.call('set','b','2');redis.call('sadd','s','x');return redis.call('spop','s')";
    assert_eq!(c.cmd(&["EVAL", script, "0"]), V::bulk("x"));
    let cmds: Vec<Vec<String>> = commands(&dir.last_incr())[before..]
        .iter()
        .filter(|c| c[0] != "SELECT")
        .cloned()
        .collect();
    assert_eq!(
        cmds,
        vec![
            words("MULTI"),
            words("set b 2"),
            words("sadd s x"),
            words("SREM s x"),
            words("EXEC")
        ]
    );
    // One write is not wrapped; a read-only script appends nothing.
    appends_as(&mut c, &dir, "EVAL redis.call('incr','b') 0", "incr b");
    assert!(appended(&mut c, &dir, "EVAL return(redis.call('get','b')) 0").is_empty());
    // XGROUP changes a stream without a key event; it is appended all the same.
    c.q("XADD st 1-1 f v");
    appends_as(&mut c, &dir, "XGROUP CREATE st g 0", "XGROUP CREATE st g 0");
}

#[test]
fn expired_keys_are_appended_as_del() {
    let dir = Dir::new("expiry");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut c = server.client();
    // Reclaimed lazily by the GET or by the expiry cycle: either way a DEL.
    for key in ["lazy", "active"] {
        c.cmd(&["SET", key, "v", "PX", "50"]);
        std::thread::sleep(Duration::from_millis(100));
        if key == "lazy" {
            assert_eq!(c.q("GET lazy"), V::Nil);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            c.q("PING"); // an expiry reaches the file before the next reply goes out
            let all = commands(&dir.last_incr());
            if all.last() == Some(&words(&format!("DEL {key}"))) {
                break;
            }
            assert!(Instant::now() < deadline, "{all:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Writes one key of every type (and an index) and returns what reads them back.
fn fill(c: &mut common::Client) {
    for line in [
        "SET str hello",
        "SET ttl v EX 1000",
        "INCRBYFLOAT fl 1.5",
        "HSET doc:1 title hello body world n 5",
        "HSET doc:2 title bye n 7",
        "RPUSH list a b c",
        "SADD set x y z",
        "SADD ints 1 2 3",
        "ZADD zset 1 a 2.5 b",
        "XADD stream 1-1 f v",
        "XGROUP CREATE stream g 0",
        "PFADD hll a b c",
        "SETBIT bits 7 1",
        "HSET fttl a 1 b 2",
        "HPEXPIREAT fttl 4102444800000 FIELDS 1 a",
        "FT.CREATE idx PREFIX 1 doc: SCHEMA title TEXT n NUMERIC",
        "FT.ALIASADD al idx",
        "FT.DICTADD dict one two",
        "FT.SUGADD sug hello 1",
        "SELECT 2",
        "SET indb2 yes",
        "SELECT 0",
    ] {
        let reply = c.q(line);
        assert!(!reply.is_error(), "{line}: {reply:?}");
    }
}

fn readback(c: &mut common::Client) -> Vec<V> {
    // After a load the index fills in the background.
    common::ft::wait_indexed(c, "idx");
    let mut out = Vec::new();
    for line in [
        "GET str",
        "GET fl",
        "HGETALL doc:1",
        "LRANGE list 0 -1",
        "SORT set ALPHA",
        "SORT ints",
        "ZRANGE zset 0 -1 WITHSCORES",
        "XRANGE stream - +",
        "XINFO GROUPS stream",
        "PFCOUNT hll",
        "GET bits",
        "HGETALL fttl",
        "HPEXPIRETIME fttl FIELDS 2 a b",
        "FT.SEARCH idx @title:bye NOCONTENT",
        "FT.SEARCH al hello NOCONTENT",
        "FT.DICTDUMP dict",
        "FT.SUGGET sug he",
        "TYPE ttl",
        "DBSIZE",
    ] {
        out.push(c.q(line));
    }
    let ttl = c.q("TTL ttl");
    assert!(matches!(ttl, V::Int(t) if t > 900 && t <= 1000), "{ttl:?}");
    c.q("SELECT 2");
    out.push(c.q("GET indb2"));
    c.q("SELECT 0");
    out
}

#[test]
fn every_type_survives_a_restart_from_incr_and_from_a_rewritten_base() {
    // The base as an RDB file (Redis's default) or as commands.
    for (preamble, suffix) in [("yes", ".base.rdb"), ("no", ".base.aof")] {
        round_trip_through_a_rewrite(&["--aof-use-rdb-preamble", preamble], suffix);
    }
}

fn round_trip_through_a_rewrite(options: &[&str], base_suffix: &str) {
    let dir = Dir::new("roundtrip");
    let server = start(&dir, options);
    let mut c = server.client();
    fill(&mut c);
    let expected = readback(&mut c);
    shutdown(server, &mut c);

    let server = start(&dir, options);
    let mut c = server.client();
    assert_eq!(readback(&mut c), expected, "replayed from the incr file");
    assert_eq!(
        c.q("BGREWRITEAOF"),
        V::Simple("Background append only file rewriting started".into())
    );
    wait_rewrite(&mut c);
    let manifest = dir.manifest();
    let base = manifest.base.clone().unwrap();
    assert!(base.name.ends_with(base_suffix), "{manifest:?}");
    assert!(base.seq >= 2, "{manifest:?}");
    // Files the rewrite replaced are gone.
    let listed: Vec<String> = manifest
        .load_order()
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir.aof_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".manifest"))
        .collect();
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(on_disk, sorted);
    let info = c.q("INFO persistence").text();
    assert!(info.contains("aof_enabled:1"), "{info}");
    assert!(info.contains("aof_rewrites:1"), "{info}");
    assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
    c.q("SET after rewrite");
    shutdown(server, &mut c);

    let server = start(&dir, options);
    let mut c = server.client();
    assert_eq!(c.q("GET after"), V::bulk("rewrite"));
    c.q("DEL after");
    assert_eq!(
        readback(&mut c),
        expected,
        "replayed from the rewritten base"
    );
}

#[test]
fn rewrite_while_writing_loses_nothing() {
    let dir = Dir::new("busy");
    let server = start(&dir, &["--appendfsync", "no"]);
    let port = server.port;
    let writer = std::thread::spawn(move || {
        let mut c = common::Client::connect(port);
        for i in 0..3000 {
            c.q("INCR counter");
            c.q(&format!("RPUSH log {i}"));
        }
    });
    let mut c = server.client();
    for _ in 0..3 {
        c.q("BGREWRITEAOF");
        wait_rewrite(&mut c);
    }
    writer.join().unwrap();
    let counter = c.q("GET counter");
    let len = c.q("LLEN log");
    shutdown(server, &mut c);
    let server = start(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q("GET counter"), counter);
    assert_eq!(c.q("LLEN log"), len);
    assert_eq!(counter, V::bulk("3000"));
}

#[test]
fn config_set_appendonly_yes_writes_a_base_of_what_is_there() {
    let dir = Dir::new("enable");
    let server = Server::start(&["--dir", dir.s()]);
    let mut c = server.client();
    c.q("SET before enable");
    assert!(c.q("INFO persistence").text().contains("aof_enabled:0"));
    assert_eq!(c.q("CONFIG SET appendonly yes"), V::ok());
    wait_rewrite(&mut c);
    c.q("SET after 1");
    assert!(c.q("INFO persistence").text().contains("aof_enabled:1"));
    shutdown(server, &mut c);
    let server = start(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q("GET before"), V::bulk("enable"));
    assert_eq!(c.q("GET after"), V::bulk("1"));
}

#[test]
fn a_truncated_tail_is_cut_off_and_a_corrupt_middle_stops_the_start() {
    let dir = Dir::new("truncated");
    let server = start(&dir, &["--appendfsync", "always"]);
    let mut c = server.client();
    c.q("SET a 1");
    c.q("SET b 2");
    shutdown(server, &mut c);
    let incr = dir.last_incr();
    let good = std::fs::read(&incr).unwrap();
    let mut torn = good.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1");
    std::fs::write(&incr, &torn).unwrap();
    let server = start(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q("GET b"), V::bulk("2"));
    assert_eq!(c.q("EXISTS c"), V::Int(0));
    shutdown(server, &mut c);
    assert_eq!(
        std::fs::read(&incr).unwrap(),
        good,
        "cut back to the last command"
    );

    // The same torn tail with aof-load-truncated no refuses to start.
    std::fs::write(&incr, &torn).unwrap();
    let status = run_to_exit(&dir, &["--aof-load-truncated", "no"]);
    assert!(!status.success());
    // Garbage in the middle: a clear error, never a partial load.
    let mut corrupt = b"*2\r\n$3\r\nDEL\r\n$1\r\nz\r\nGARBAGE\r\n".to_vec();
    corrupt.extend_from_slice(&good);
    std::fs::write(&incr, &corrupt).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ferrostack"))
        .args(["--port", "0", "--appendonly", "yes", "--dir", dir.s()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("Bad file format"), "{text}");
    // A command this server does not know stops the start too.
    let mut unknown = b"*2\r\n$7\r\nNOSUCHC\r\n$1\r\nz\r\n".to_vec();
    unknown.extend_from_slice(&good);
    std::fs::write(&incr, &unknown).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ferrostack"))
        .args(["--port", "0", "--appendonly", "yes", "--dir", dir.s()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("Unknown command 'NOSUCHC'"), "{text}");
}

fn run_to_exit(dir: &Dir, extra: &[&str]) -> std::process::ExitStatus {
    Command::new(env!("CARGO_BIN_EXE_ferrostack"))
        .args(["--port", "0", "--appendonly", "yes", "--dir", dir.s()])
        .args(extra)
        .output()
        .unwrap()
        .status
}

#[test]
fn acknowledged_writes_survive_kill_9_with_appendfsync_always() {
    let dir = Dir::new("crash");
    let mut acknowledged = 0;
    for round in 0..3 {
        let server = start(&dir, &["--appendfsync", "always"]);
        let port = server.port;
        let mut c = server.client();
        assert_eq!(
            c.q("GET n"),
            if round == 0 {
                V::Nil
            } else {
                V::bulk(&acknowledged.to_string())
            }
        );
        let mut writers = Vec::new();
        for w in 0..4 {
            writers.push(std::thread::spawn(move || {
                let mut c = common::Client::connect(port);
                let mut done = 0;
                // Stops at the kill: whatever was answered was acknowledged.
                for i in 0..100_000 {
                    c.send(&["SET", &format!("w{w}:{i}"), "x"]);
                    match c.try_read() {
                        Some(V::Simple(_)) => done += 1,
                        _ => break,
                    }
                }
                done
            }));
        }
        for _ in 0..50 {
            if matches!(c.q("INCR n"), V::Int(_)) {
                acknowledged += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        drop(server); // SIGKILL
        let counts: Vec<usize> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        let server = start(&dir, &[]);
        let mut c = server.client();
        for (w, count) in counts.iter().enumerate() {
            if *count > 0 {
                let last = format!("w{w}:{}", count - 1);
                assert_eq!(
                    c.cmd(&["EXISTS", &last]),
                    V::Int(1),
                    "round {round}: {last}"
                );
            }
        }
        assert_eq!(c.q("GET n"), V::bulk(&acknowledged.to_string()));
        drop(server);
    }
}

/// A free port for redis-server.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A client of the redis-server starting on `port`, once it accepts connections and has
/// finished loading its data (until then it answers `LOADING`).
fn redis_client(port: u16) -> common::Client {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let mut c = common::Client::connect(port);
            if c.q("PING") == V::Simple("PONG".into()) {
                return c;
            }
        }
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn redis_server_and_ferrostack_load_each_others_aof() {
    aof_round_trip_with_redis_server("no");
}

/// Redis's default: the base redis-server writes is an RDB file.
#[test]
fn an_rdb_preamble_base_from_redis_server_loads() {
    aof_round_trip_with_redis_server("yes");
}

/// redis-server writes an AOF (its base in command form or, with `preamble` yes, as an RDB
/// file), ferrostack loads it and reads the same, then redis-server loads what ferrostack
/// wrote after a rewrite of its own.
fn aof_round_trip_with_redis_server(preamble: &str) {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    let dir = Dir::new("redis");
    let port = free_port().to_string();
    let started = Command::new("redis-server")
        .args(["--port", &port, "--save", "", "--daemonize", "yes"])
        .args(["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
        .args(["--dir", dir.s(), "--appendfsync", "always"])
        .status()
        .unwrap();
    assert!(started.success());
    let mut r = redis_client(port.parse().unwrap());
    let redis_lines = [
        "SET str hello",
        "SET ttl v EX 1000",
        "INCRBYFLOAT fl 1.5",
        "HSET h a 1 b 2",
        "RPUSH list a b c",
        "SADD set x y z",
        "ZADD zset 1 a 2.5 b",
        "XADD stream 1-1 f v",
        "SELECT 2",
        "SET indb2 yes",
        "SELECT 0",
    ];
    for line in redis_lines {
        assert!(!r.q(line).is_error(), "{line}");
    }
    r.q("BGREWRITEAOF");
    std::thread::sleep(Duration::from_millis(500));
    r.q("SET after rewrite");
    let reads = [
        "GET str",
        "GET fl",
        "HGETALL h",
        "LRANGE list 0 -1",
        "SORT set ALPHA",
        "ZRANGE zset 0 -1 WITHSCORES",
        "XRANGE stream - +",
        "GET after",
        "DBSIZE",
    ];
    let mut from_redis: Vec<V> = reads.iter().map(|l| r.q(l)).collect();
    r.send(&["SHUTDOWN"]);
    let _ = r.try_read();
    std::thread::sleep(Duration::from_millis(500));

    let server = start(&dir, &[]);
    let mut c = server.client();
    let ours: Vec<V> = reads.iter().map(|l| c.q(l)).collect();
    assert_eq!(ours, from_redis);
    c.q("SET ours 1");
    c.q("BGREWRITEAOF");
    wait_rewrite(&mut c);
    c.q("SET ours 2");
    shutdown(server, &mut c);

    // And back: redis-server loads what we wrote (base and incr).
    let port = free_port();
    let started = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--daemonize",
            "yes",
        ])
        .args(["--appendonly", "yes", "--dir", dir.s()])
        .status()
        .unwrap();
    assert!(started.success());
    let mut r = redis_client(port);
    let mut back: Vec<V> = reads.iter().map(|l| r.q(l)).collect();
    // Our key `ours` is there too.
    assert_eq!(back.pop(), Some(V::Int(10)));
    from_redis.pop();
    let ours_key = r.q("GET ours");
    r.send(&["SHUTDOWN", "NOSAVE"]);
    let _ = r.try_read();
    assert_eq!(back, from_redis);
    assert_eq!(ours_key, V::bulk("2"));
}

/// A full disk: /dev/full accepts the open and fails every write with ENOSPC, so the
/// incremental file a rewrite opens next is made a link to it. Writes are then refused with
/// Redis's MISCONF (PING too), reads go on, INFO says `aof_last_write_status:err`; nothing
/// acknowledged is dropped or applied twice: the data a failed write kept goes to disk in
/// the next rewrite's base, and writes are accepted again once that is written.
#[test]
fn a_failed_aof_write_refuses_writes_with_misconf_until_one_succeeds() {
    let dir = Dir::new("diskfull");
    let server = start(&dir, &["--appendfsync", "everysec"]);
    let mut c = server.client();
    assert_eq!(c.q("SET a 1"), V::ok());
    let next_incr = dir.aof_dir().join("appendonly.aof.2.incr.aof");
    std::os::unix::fs::symlink("/dev/full", &next_incr).unwrap();
    c.q("BGREWRITEAOF");
    wait_rewrite(&mut c);
    assert_eq!(dir.last_incr(), next_incr);
    // Accepted and kept in memory; the once-a-second flush then fails.
    assert_eq!(c.q("RPUSH log x"), V::Int(1));
    let misconf = V::err("MISCONF Errors writing to the AOF file: No space left on device");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.q("SET b 2") != misconf {
        assert!(Instant::now() < deadline, "writes never refused");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(c.q("PING"), misconf);
    assert_eq!(c.q("GET a"), V::bulk("1"));
    assert!(
        c.q("INFO persistence")
            .text()
            .contains("aof_last_write_status:err")
    );
    // A rewrite to a real file: its base holds what could not be written, and once it is
    // on disk writes are accepted again.
    std::fs::remove_file(&next_incr).unwrap();
    c.q("BGREWRITEAOF");
    wait_rewrite(&mut c);
    assert_eq!(c.q("SET c 3"), V::ok());
    assert!(
        c.q("INFO persistence")
            .text()
            .contains("aof_last_write_status:ok")
    );
    shutdown(server, &mut c);
    let server = start(&dir, &[]);
    let mut c = server.client();
    assert_eq!(
        c.q("MGET a b c"),
        V::Array(vec![V::bulk("1"), V::Nil, V::bulk("3")])
    );
    // Acknowledged while the disk was full, and applied once.
    assert_eq!(c.q("LRANGE log 0 -1"), V::Array(vec![V::bulk("x")]));
}
