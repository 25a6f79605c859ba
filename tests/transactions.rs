//! MULTI / EXEC / DISCARD / WATCH / UNWATCH against a running server: queue-time errors and
//! EXECABORT, run-time errors inside the reply array, WATCH invalidated by another client's
//! write, by expiry, by FLUSHALL and SWAPDB, and atomicity against a concurrent reader.
//! Reply texts are those of redis-server 7.0.15.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Client, Server, V};

fn queued() -> V {
    V::Simple("QUEUED".into())
}

fn arr(items: Vec<V>) -> V {
    V::Array(items)
}

/// Sends `line` and returns the raw reply bytes (to tell `*-1` from `$-1` and `_`).
fn raw(c: &mut Client, line: &str) -> Vec<u8> {
    let args: Vec<&str> = line.split(' ').collect();
    c.send(&args);
    c.read_raw().unwrap().1
}

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

#[test]
fn queue_time_errors_abort_the_transaction() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("EXEC"), V::err("ERR EXEC without MULTI"));
    assert_eq!(c.q("DISCARD"), V::err("ERR DISCARD without MULTI"));
    assert_eq!(c.q("MULTI"), V::ok());
    assert_eq!(c.q("MULTI"), V::err("ERR MULTI calls can not be nested"));
    assert_eq!(
        c.q("WATCH a"),
        V::err("ERR WATCH inside MULTI is not allowed")
    );
    // Those three did not spoil the transaction; an unknown command does.
    assert_eq!(c.q("SET a 1"), queued());
    assert_eq!(
        c.q("NOSUCH x"),
        V::err("ERR unknown command 'NOSUCH', with args beginning with: 'x' ")
    );
    assert_eq!(c.q("SET b 1"), queued());
    assert_eq!(c.q("EXEC"), V::err(EXECABORT));
    assert_eq!(c.q("EXISTS a b"), V::Int(0), "nothing ran");
    assert_eq!(c.q("EXEC"), V::err("ERR EXEC without MULTI"), "MULTI ended");

    // A wrong arity.
    c.q("MULTI");
    assert_eq!(
        c.q("GET"),
        V::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(c.q("EXEC"), V::err(EXECABORT));

    // A command flagged no-multi.
    c.q("MULTI");
    assert_eq!(
        c.q("SHUTDOWN"),
        V::err("ERR Command not allowed inside a transaction")
    );
    assert_eq!(c.q("EXEC"), V::err(EXECABORT));

    // An EXEC refused itself (here for its arity) discards the transaction, with the
    // refusal as the reason.
    c.q("MULTI");
    c.q("SET a 1");
    assert_eq!(
        c.q("EXEC junk"),
        V::err(
            "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' \
             command"
        )
    );
    assert_eq!(c.q("EXEC"), V::err("ERR EXEC without MULTI"));
    assert_eq!(
        c.q("DISCARD junk"),
        V::err("ERR wrong number of arguments for 'discard' command")
    );

    // DISCARD drops the queue.
    c.q("MULTI");
    c.q("SET a 1");
    assert_eq!(c.q("DISCARD"), V::ok());
    assert_eq!(c.q("GET a"), V::Nil);
}

#[test]
fn run_time_errors_stay_in_the_reply_array() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h f v");
    c.q("MULTI");
    for line in ["SET a 1", "INCR h", "INCR a", "HGET h f"] {
        assert_eq!(c.q(line), queued());
    }
    assert_eq!(
        c.q("EXEC"),
        arr(vec![
            V::ok(),
            V::err("WRONGTYPE Operation against a key holding the wrong kind of value"),
            V::Int(2),
            V::bulk("v"),
        ])
    );
    // An empty transaction answers an empty array.
    c.q("MULTI");
    assert_eq!(c.q("EXEC"), arr(vec![]));
}

#[test]
fn select_inside_multi_applies_to_later_commands() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("MULTI");
    c.q("SELECT 1");
    c.q("SET a 9");
    c.q("GET a");
    assert_eq!(c.q("EXEC"), arr(vec![V::ok(), V::ok(), V::bulk("9")]));
    assert_eq!(c.q("GET a"), V::bulk("9"), "still in db 1");
    c.q("SELECT 0");
    assert_eq!(c.q("GET a"), V::Nil);
}

#[test]
fn client_list_shows_the_transaction() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    c.q("CLIENT SETNAME tx");
    c.q("MULTI");
    c.q("SET a 1");
    c.q("SET b 1");
    let list = other.q("CLIENT LIST").text();
    let line = list.lines().find(|l| l.contains("name=tx")).unwrap();
    assert!(
        line.contains(" flags=x ") && line.contains(" multi=2 "),
        "{line}"
    );
    // While EXEC runs its commands the client is still in MULTI, and `cmd` stays exec.
    c.q("CLIENT LIST");
    let inside = c.q("EXEC").items()[2].text();
    assert!(inside.contains(" flags=x ") && inside.contains(" multi=3 "));
    assert!(inside.contains(" cmd=exec "), "{inside}");
    // Argument bytes plus a pointer per argument, as Redis 7.0 counts: 29 + 29 + 26.
    assert!(inside.contains(" multi-mem=84 "), "{inside}");
    let list = other.q("CLIENT LIST").text();
    let line = list.lines().find(|l| l.contains("name=tx")).unwrap();
    assert!(
        line.contains(" flags=N ") && line.contains(" multi=-1 "),
        "{line}"
    );
}

#[test]
fn monitor_and_stats_count_as_redis() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut monitor = server.client();
    assert_eq!(monitor.q("MONITOR"), V::ok());
    c.q("CONFIG RESETSTAT");
    c.q("MULTI");
    c.q("SET a 1");
    c.q("INCR a");
    c.q("EXEC");
    c.q("MULTI");
    c.q("GET");
    c.q("EXEC");
    // Redis 7.0 feeds MULTI and EXEC, not the commands queued or run by EXEC (and never
    // administrative ones such as CONFIG).
    let mut fed = Vec::new();
    for _ in 0..4 {
        fed.push(monitor.read().text());
    }
    let commands: Vec<&str> = fed.iter().map(|l| l.rsplit("] ").next().unwrap()).collect();
    assert_eq!(commands, ["\"MULTI\"", "\"EXEC\"", "\"MULTI\"", "\"EXEC\""]);
    let stats = c.q("INFO commandstats").text();
    let line = |name: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .map(|l| {
                l.split(',')
                    .filter(|f| !f.starts_with("usec"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    assert_eq!(
        line("multi"),
        "cmdstat_multi:calls=2,rejected_calls=0,failed_calls=0"
    );
    assert_eq!(
        line("exec"),
        "cmdstat_exec:calls=2,rejected_calls=0,failed_calls=1"
    );
    assert_eq!(
        line("set"),
        "cmdstat_set:calls=1,rejected_calls=0,failed_calls=0"
    );
    assert_eq!(
        line("get"),
        "cmdstat_get:calls=0,rejected_calls=1,failed_calls=0"
    );
    let errors = c.q("INFO errorstats").text();
    assert!(errors.contains("errorstat_EXECABORT:count=1"), "{errors}");
    // MONITOR cannot start inside EXEC.
    c.q("MULTI");
    c.q("MONITOR");
    assert_eq!(
        c.q("EXEC"),
        arr(vec![V::err(
            "ERR MONITOR isn't allowed for DENY BLOCKING client"
        )])
    );
}

/// WATCH k, let `other` run `lines`, then EXEC a transaction: the raw EXEC reply.
fn exec_after(c: &mut Client, other: &mut Client, lines: &[&str]) -> Vec<u8> {
    assert_eq!(c.q("WATCH k"), V::ok());
    for line in lines {
        other.q(line);
    }
    c.q("MULTI");
    c.q("PING");
    raw(c, "EXEC")
}

const RAN: &[u8] = b"*1\r\n+PONG\r\n";
const ABORTED: &[u8] = b"*-1\r\n";

#[test]
fn watch_fails_exec_when_another_client_writes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    c.q("SET k 1");
    assert_eq!(exec_after(&mut c, &mut other, &[]), RAN);
    assert_eq!(exec_after(&mut c, &mut other, &["SET k 1"]), ABORTED);
    assert_eq!(exec_after(&mut c, &mut other, &["GET k"]), RAN);
    assert_eq!(exec_after(&mut c, &mut other, &["EXPIRE k 100"]), ABORTED);
    assert_eq!(exec_after(&mut c, &mut other, &["PERSIST k"]), ABORTED);
    assert_eq!(
        exec_after(&mut c, &mut other, &["PERSIST k"]),
        RAN,
        "no TTL to remove"
    );
    assert_eq!(exec_after(&mut c, &mut other, &["SET j 1"]), RAN);
    assert_eq!(
        exec_after(&mut c, &mut other, &["SELECT 1", "SET k 2", "SELECT 0"]),
        RAN,
        "another database's k"
    );
    assert_eq!(exec_after(&mut c, &mut other, &["RENAME k z"]), ABORTED);
    assert_eq!(exec_after(&mut c, &mut other, &["RENAME z k"]), ABORTED);
    assert_eq!(exec_after(&mut c, &mut other, &["DEL k"]), ABORTED);
    assert_eq!(
        exec_after(&mut c, &mut other, &["DEL k"]),
        RAN,
        "was missing"
    );
    // A write by the watching client itself counts too.
    c.q("WATCH k");
    c.q("SET k 5");
    c.q("MULTI");
    assert_eq!(raw(&mut c, "EXEC"), ABORTED);
    // UNWATCH forgets; EXEC and DISCARD unwatch.
    c.q("WATCH k");
    other.q("SET k 6");
    c.q("UNWATCH");
    c.q("MULTI");
    c.q("PING");
    assert_eq!(raw(&mut c, "EXEC"), RAN);
    c.q("WATCH k");
    c.q("MULTI");
    c.q("DISCARD");
    other.q("SET k 7");
    c.q("MULTI");
    c.q("PING");
    assert_eq!(raw(&mut c, "EXEC"), RAN);
    // RESP3 answers a null.
    c.resp3();
    c.q("WATCH k");
    other.q("SET k 8");
    c.q("MULTI");
    assert_eq!(raw(&mut c, "EXEC"), b"_\r\n");
}

#[test]
fn watch_sees_expiry() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    // Expired between WATCH and EXEC, not yet reclaimed: EXEC fails (Redis 7).
    c.q("SET k 1");
    c.q("PEXPIRE k 30");
    c.q("WATCH k");
    std::thread::sleep(Duration::from_millis(60));
    c.q("MULTI");
    c.q("PING");
    assert_eq!(raw(&mut c, "EXEC"), ABORTED);
    // Reclaimed by a read between WATCH and EXEC: fails too.
    c.q("SET k 1");
    c.q("PEXPIRE k 30");
    c.q("WATCH k");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(other.q("GET k"), V::Nil);
    c.q("MULTI");
    c.q("PING");
    assert_eq!(raw(&mut c, "EXEC"), ABORTED);
    // Already expired when watched: its reclamation is no change, a new value is.
    for (between, reply) in [("GET k", RAN), ("SET k 2", ABORTED), ("FLUSHALL", RAN)] {
        c.q("SET k 1");
        c.q("PEXPIRE k 20");
        std::thread::sleep(Duration::from_millis(40));
        c.q("WATCH k");
        other.q(between);
        c.q("MULTI");
        c.q("PING");
        assert_eq!(raw(&mut c, "EXEC"), reply, "{between}");
    }
}

#[test]
fn watch_sees_flushes_and_swapdb_of_existing_keys() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    c.q("SET k 1");
    assert_eq!(exec_after(&mut c, &mut other, &["FLUSHALL"]), ABORTED);
    assert_eq!(
        exec_after(&mut c, &mut other, &["FLUSHALL"]),
        RAN,
        "k missing"
    );
    c.q("SET k 1");
    assert_eq!(exec_after(&mut c, &mut other, &["FLUSHDB"]), ABORTED);
    c.q("SET k 1");
    assert_eq!(
        exec_after(&mut c, &mut other, &["SELECT 1", "FLUSHDB", "SELECT 0"]),
        RAN
    );
    c.q("FLUSHALL");
    other.q("SELECT 1");
    other.q("SET k 1");
    assert_eq!(exec_after(&mut c, &mut other, &["SWAPDB 0 1"]), ABORTED);
    c.q("FLUSHALL");
    other.q("SET j 1");
    assert_eq!(exec_after(&mut c, &mut other, &["SWAPDB 0 1"]), RAN);
}

#[test]
fn exec_is_atomic_against_other_clients() {
    let server = Server::start(&[]);
    let mut writer = server.client();
    let mut reader = server.client();
    writer.q("MSET a 0 b 0");
    let rounds = 300;
    let handle = std::thread::spawn(move || {
        for _ in 0..rounds {
            writer.q("MULTI");
            writer.q("INCR a");
            writer.q("INCR b");
            let reply = writer.q("EXEC");
            assert_eq!(reply.items().len(), 2);
        }
        writer
    });
    let mut checks = 0;
    while !handle.is_finished() || checks < 100 {
        let values = reader.q("MGET a b").items();
        assert_eq!(values[0], values[1], "a half-done transaction was seen");
        checks += 1;
    }
    handle.join().unwrap();
    assert_eq!(reader.q("GET a"), V::bulk(&rounds.to_string()));
}

#[test]
fn reset_and_quit_end_the_transaction() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    c.q("SET k 1");
    c.q("WATCH k");
    c.q("MULTI");
    c.q("SET k 2");
    assert_eq!(c.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(c.q("EXEC"), V::err("ERR EXEC without MULTI"));
    other.q("SET k 3");
    c.q("MULTI");
    c.q("PING");
    assert_eq!(raw(&mut c, "EXEC"), RAN, "RESET unwatched k");
    assert_eq!(c.q("GET k"), V::bulk("3"));
    c.q("MULTI");
    assert_eq!(c.q("QUIT"), V::ok());
}

#[test]
fn a_write_pause_holds_exec_of_queued_writes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut admin = server.client();
    c.q("MULTI");
    c.q("GET a");
    admin.q("CLIENT PAUSE 300 WRITE");
    let started = std::time::Instant::now();
    assert_eq!(c.q("EXEC"), arr(vec![V::Nil]));
    assert!(started.elapsed() < Duration::from_millis(200), "reads pass");
    c.q("MULTI");
    c.q("SET a 1");
    admin.q("CLIENT PAUSE 300 WRITE");
    let started = std::time::Instant::now();
    assert_eq!(c.q("EXEC"), arr(vec![V::ok()]));
    assert!(started.elapsed() >= Duration::from_millis(200), "held");
}

#[test]
fn info_counts_watching_clients_and_watched_keys() {
    let server = Server::start(&[]);
    let mut a = server.client();
    let mut b = server.client();
    let counts = |c: &mut Client| {
        let info = c.q("INFO clients").text();
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap()
                .to_string()
        };
        (field("watching_clients"), field("total_watched_keys"))
    };
    a.q("WATCH k j");
    b.q("WATCH k");
    b.q("SELECT 1");
    b.q("WATCH k");
    assert_eq!(counts(&mut a), ("2".into(), "3".into()));
    a.q("UNWATCH");
    assert_eq!(counts(&mut a), ("1".into(), "2".into()));
    // A touched client is as good as unwatched (Redis 7.4 unwatches it at once).
    a.q("SELECT 1");
    a.q("SET k 1");
    assert_eq!(counts(&mut a), ("0".into(), "0".into()));
    b.q("UNWATCH");
    b.q("WATCH k");
    assert_eq!(counts(&mut a), ("1".into(), "1".into()));
    drop(b);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        counts(&mut a),
        ("0".into(), "0".into()),
        "disconnecting unwatches"
    );
}

#[test]
fn blocking_commands_answer_at_once_inside_exec() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("RPUSH l x");
    c.q("MULTI");
    for line in ["BLPOP nolist 0", "BLMOVE a b LEFT RIGHT 0", "BLPOP l 0"] {
        assert_eq!(c.q(line), queued());
    }
    // As Redis 7.0 writes them in RESP2: a null array, a null bulk, the popped element.
    assert_eq!(
        raw(&mut c, "EXEC"),
        b"*3\r\n*-1\r\n$-1\r\n*2\r\n$1\r\nl\r\n$1\r\nx\r\n"
    );
    c.resp3();
    c.q("MULTI");
    c.q("BLPOP nolist 0");
    assert_eq!(raw(&mut c, "EXEC"), b"*1\r\n_\r\n");
}
