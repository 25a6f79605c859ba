//! Blocking commands end to end: FIFO service among waiters, service before the pusher's
//! next reply, wake-ups by pushes inside MULTI/EXEC, timeouts, CLIENT UNBLOCK, disconnects,
//! chained BLMOVE, and INFO's counts.

#![allow(clippy::unwrap_used)]

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{Client, Server, V};

fn bulks(items: &[&str]) -> V {
    V::Array(items.iter().map(|s| V::bulk(s)).collect())
}

/// Waits until `n` clients are blocked, as INFO reports.
fn wait_blocked(c: &mut Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = format!("blocked_clients:{n}\r");
    while Instant::now() < deadline {
        if c.q("INFO clients").text().contains(&want) {
            return;
        }
        sleep(Duration::from_millis(5));
    }
    panic!("never saw {n} blocked clients");
}

#[test]
fn waiters_are_served_in_the_order_they_blocked_before_the_pusher_sees_its_reply() {
    let server = Server::start(&[]);
    let mut first = server.client();
    let mut second = server.client();
    let mut pusher = server.client();
    first.send(&["BLPOP", "q", "0"]);
    wait_blocked(&mut pusher, 1);
    second.send(&["BLPOP", "q", "0"]);
    wait_blocked(&mut pusher, 2);
    assert_eq!(pusher.q("RPUSH q a b c"), V::Int(3));
    // Both waiters were served before RPUSH's reply: only c is left.
    assert_eq!(pusher.q("LRANGE q 0 -1"), bulks(&["c"]));
    assert_eq!(first.read(), bulks(&["q", "a"]));
    assert_eq!(second.read(), bulks(&["q", "b"]));
    assert!(
        pusher
            .q("INFO clients")
            .text()
            .contains("blocked_clients:0\r")
    );
}

#[test]
fn pushes_inside_multi_and_scripts_wake_after_they_finish_and_multi_never_blocks() {
    let server = Server::start(&[]);
    let mut waiter = server.client();
    let mut c = server.client();
    waiter.send(&["BRPOP", "q", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.q("MULTI"), V::ok());
    assert_eq!(c.q("LPUSH q x"), V::Simple("QUEUED".into()));
    assert_eq!(c.q("LPUSH q y"), V::Simple("QUEUED".into()));
    assert_eq!(c.q("EXEC"), V::Array(vec![V::Int(1), V::Int(2)]));
    assert_eq!(waiter.read(), bulks(&["q", "x"]));
    // A push from a Lua script wakes the waiter once the script is done.
    waiter.send(&["BLPOP", "lua", "0"]);
    wait_blocked(&mut c, 1);
    let script = "redis.call('RPUSH', KEYS[1], 'a', 'b'); return redis.call('LLEN', KEYS[1])";
    assert_eq!(c.cmd(&["EVAL", script, "1", "lua"]), V::Int(2));
    assert_eq!(waiter.read(), bulks(&["lua", "a"]));
    assert_eq!(c.q("LRANGE lua 0 -1"), bulks(&["b"]));
    // Inside MULTI a blocking pop on an empty list answers at once.
    assert_eq!(c.q("MULTI"), V::ok());
    c.q("BLPOP empty 0");
    assert_eq!(c.q("EXEC"), V::Array(vec![V::Nil]));
}

#[test]
fn timeouts_unblock_and_disconnects() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let started = Instant::now();
    assert_eq!(c.q("BLPOP nothing 0.2"), V::Nil);
    assert!(started.elapsed() >= Duration::from_millis(190));
    assert_eq!(c.q("BLMOVE nothing dst LEFT RIGHT 0.05"), V::Nil);
    assert_eq!(c.q("BLPOP k -1"), V::err("ERR timeout is negative"));
    assert_eq!(
        c.q("BLPOP k abc"),
        V::err("ERR timeout is not a float or out of range")
    );

    // CLIENT UNBLOCK with TIMEOUT and ERROR.
    let mut waiter = server.client();
    let id = match waiter.q("CLIENT ID") {
        V::Int(id) => id,
        other => panic!("{other:?}"),
    };
    waiter.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id.to_string()]), V::Int(1));
    assert_eq!(waiter.read(), V::Nil);
    waiter.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]),
        V::Int(1)
    );
    assert_eq!(
        waiter.read(),
        V::err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    );
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id.to_string()]), V::Int(0));
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", &id.to_string(), "MAYBE"]),
        V::err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );

    // A waiter that disconnects is forgotten: the push stays in the list.
    let mut gone = server.client();
    gone.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    drop(gone);
    wait_blocked(&mut c, 0);
    assert_eq!(c.q("RPUSH k v"), V::Int(1));
    assert_eq!(c.q("LLEN k"), V::Int(1));
}

#[test]
fn blmove_chains_wake_the_next_waiter_and_pipelined_commands_wait_their_turn() {
    let server = Server::start(&[]);
    let mut mover = server.client();
    let mut tail = server.client();
    let mut c = server.client();
    tail.send(&["BLPOP", "b", "0"]);
    wait_blocked(&mut c, 1);
    // A pipeline: the command after a blocking one runs only once it is served.
    let mut pipeline = common::encode_command(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]);
    pipeline.extend(common::encode_command(&["LLEN", "b"]));
    mover.send_raw(&pipeline);
    wait_blocked(&mut c, 2);
    assert_eq!(c.q("RPUSH a v"), V::Int(1));
    assert_eq!(mover.read(), V::bulk("v"));
    // BLMOVE pushed v to b, which served the BLPOP waiter in the same round.
    assert_eq!(tail.read(), bulks(&["b", "v"]));
    assert_eq!(mover.read(), V::Int(0));
    // A key of another type keeps the waiter blocked; a list then serves it.
    let mut waiter = server.client();
    waiter.send(&["BLPOP", "s", "1"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.q("SET s str"), V::ok());
    assert_eq!(c.q("DEL s"), V::Int(1));
    assert_eq!(c.q("RPUSH s x"), V::Int(1));
    assert_eq!(waiter.read(), bulks(&["s", "x"]));
}
