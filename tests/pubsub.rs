//! Pub/sub and keyspace notifications end to end: reply shapes in RESP2 and RESP3, the
//! RESP2 subscribed-mode restrictions, delivery between connections, introspection, and the
//! keyspace events of string, hash and generic commands (including expiry).

mod common;

use common::{Client, Server, V};

fn arr(items: &[V]) -> V {
    V::Array(items.to_vec())
}

fn b(s: &str) -> V {
    V::bulk(s)
}

/// A subscribe/unsubscribe confirmation or message frame as a RESP2 array.
fn frame(parts: &[&str], count: Option<i64>) -> V {
    let mut items: Vec<V> = parts.iter().map(|p| b(p)).collect();
    if let Some(n) = count {
        items.push(V::Int(n));
    }
    V::Array(items)
}

#[test]
fn subscribe_confirmations_and_delivery_resp2() {
    let server = Server::start(&[]);
    let mut sub = server.client();
    let mut publisher = server.client();
    sub.send(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(sub.read(), frame(&["subscribe", "a"], Some(1)));
    assert_eq!(sub.read(), frame(&["subscribe", "b"], Some(2)));
    sub.send(&["PSUBSCRIBE", "a*"]);
    assert_eq!(sub.read(), frame(&["psubscribe", "a*"], Some(3)));

    assert_eq!(publisher.q("PUBLISH a hello"), V::Int(2));
    assert_eq!(sub.read(), frame(&["message", "a", "hello"], None));
    assert_eq!(sub.read(), frame(&["pmessage", "a*", "a", "hello"], None));
    assert_eq!(publisher.q("PUBLISH zzz x"), V::Int(0));

    assert_eq!(
        publisher.q("PUBSUB NUMSUB a b c"),
        arr(&[b("a"), V::Int(1), b("b"), V::Int(1), b("c"), V::Int(0)])
    );
    assert_eq!(publisher.q("PUBSUB NUMPAT"), V::Int(1));
    let mut channels = publisher.q("PUBSUB CHANNELS").items();
    channels.sort_by_key(|c| c.text());
    assert_eq!(channels, vec![b("a"), b("b")]);
    assert_eq!(publisher.q("PUBSUB CHANNELS b*"), arr(&[b("b")]));
    assert_eq!(
        publisher.q("PUBSUB CHANNELS a b"),
        V::err(
            "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
        )
    );

    // PING answers in the pub/sub shape; other commands are refused with Redis's text.
    assert_eq!(sub.q("PING"), frame(&["pong", ""], None));
    assert_eq!(sub.q("PING x"), frame(&["pong", "x"], None));
    assert_eq!(
        sub.q("GET a"),
        V::err(
            "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        )
    );
    assert_eq!(
        sub.q("CLIENT INFO"),
        V::err(
            "ERR Can't execute 'client|info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        )
    );
    let list = publisher.q("CLIENT LIST").text();
    assert!(list.contains("flags=P db=0 sub=2 psub=1 ssub=0"), "{list}");
    let clients = publisher.q("INFO clients").text();
    assert!(clients.contains("pubsub_clients:1\r\n"), "{clients}");
    let info = publisher.q("INFO stats").text();
    assert!(
        info.contains("pubsub_channels:2\r\npubsub_patterns:1\r\n"),
        "{info}"
    );

    sub.send(&["UNSUBSCRIBE"]);
    assert_eq!(sub.read(), frame(&["unsubscribe", "a"], Some(2)));
    assert_eq!(sub.read(), frame(&["unsubscribe", "b"], Some(1)));
    sub.send(&["PUNSUBSCRIBE"]);
    assert_eq!(sub.read(), frame(&["punsubscribe", "a*"], Some(0)));
    // Nothing left: one frame with a nil channel.
    assert_eq!(
        sub.q("UNSUBSCRIBE"),
        arr(&[b("unsubscribe"), V::Nil, V::Int(0)])
    );
    assert_eq!(sub.q("PING"), V::Simple("PONG".into()));
    assert_eq!(sub.q("SET k v"), V::ok());
}

#[test]
fn resp3_pushes_interleave_with_replies() {
    let server = Server::start(&[]);
    let mut sub = server.client();
    sub.resp3();
    sub.send(&["SUBSCRIBE", "ch"]);
    assert_eq!(
        sub.read(),
        V::Push(vec![b("subscribe"), b("ch"), V::Int(1)])
    );
    // Normal commands work; a message the command itself publishes precedes its reply.
    assert_eq!(
        sub.q("PUBLISH ch self"),
        V::Push(vec![b("message"), b("ch"), b("self")])
    );
    assert_eq!(sub.read(), V::Int(1));
    assert_eq!(sub.q("PING"), V::Simple("PONG".into()));
    assert_eq!(sub.q("GET nope"), V::Nil);
    let mut publisher = server.client();
    assert_eq!(publisher.q("PUBLISH ch other"), V::Int(1));
    assert_eq!(sub.read(), V::Push(vec![b("message"), b("ch"), b("other")]));
}

#[test]
fn shard_channels() {
    let server = Server::start(&[]);
    let mut sub = server.client();
    let mut publisher = server.client();
    sub.send(&["SSUBSCRIBE", "s1", "s2"]);
    assert_eq!(sub.read(), frame(&["ssubscribe", "s1"], Some(1)));
    assert_eq!(sub.read(), frame(&["ssubscribe", "s2"], Some(2)));
    assert_eq!(publisher.q("SPUBLISH s1 m"), V::Int(1));
    assert_eq!(sub.read(), frame(&["smessage", "s1", "m"], None));
    // Shard channels are not ordinary channels.
    assert_eq!(publisher.q("PUBLISH s1 m"), V::Int(0));
    assert_eq!(
        publisher.q("PUBSUB SHARDNUMSUB s1 x"),
        arr(&[b("s1"), V::Int(1), b("x"), V::Int(0)])
    );
    assert_eq!(publisher.q("PUBSUB NUMSUB s1"), arr(&[b("s1"), V::Int(0)]));
    assert_eq!(publisher.q("PUBSUB SHARDCHANNELS s2"), arr(&[b("s2")]));
    assert_eq!(
        sub.q("SUNSUBSCRIBE s1"),
        frame(&["sunsubscribe", "s1"], Some(1))
    );
    assert_eq!(
        sub.q("UNSUBSCRIBE"),
        arr(&[b("unsubscribe"), V::Nil, V::Int(0)])
    );
}

#[test]
fn reset_and_disconnect_drop_subscriptions() {
    let server = Server::start(&[]);
    let mut publisher = server.client();
    let mut sub = server.client();
    sub.q("SUBSCRIBE a");
    assert_eq!(sub.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(sub.q("GET a"), V::Nil);
    assert_eq!(publisher.q("PUBLISH a x"), V::Int(0));
    let mut gone = server.client();
    gone.q("PSUBSCRIBE p*");
    assert_eq!(publisher.q("PUBSUB NUMPAT"), V::Int(1));
    drop(gone);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while publisher.q("PUBSUB NUMPAT") != V::Int(0) {
        assert!(
            std::time::Instant::now() < deadline,
            "pattern outlived its client"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Subscribes `sub` to every keyspace and keyevent channel and turns notifications on.
fn watch_keyspace(server: &Server, events: &str) -> (Client, Client) {
    let mut sub = server.client();
    let mut c = server.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", events]),
        V::ok()
    );
    sub.send(&["PSUBSCRIBE", "__key*__:*"]);
    sub.read();
    (sub, c)
}

/// Reads the next keyspace notification as (channel, payload).
fn next_event(sub: &mut Client) -> (String, String) {
    let items = sub.read().items();
    assert_eq!(items[0], b("pmessage"));
    (items[2].text(), items[3].text())
}

#[test]
fn keyspace_and_keyevent_channels() {
    let server = Server::start(&[]);
    let (mut sub, mut c) = watch_keyspace(&server, "KEA");
    c.q("SET k 1 EX 100");
    assert_eq!(
        next_event(&mut sub),
        ("__keyspace@0__:k".into(), "set".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:set".into(), "k".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyspace@0__:k".into(), "expire".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:expire".into(), "k".into())
    );
    c.q("SELECT 3");
    c.q("DECRBY n 2");
    assert_eq!(
        next_event(&mut sub),
        ("__keyspace@3__:n".into(), "incrby".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@3__:incrby".into(), "n".into())
    );
}

#[test]
fn event_classes_filter() {
    let server = Server::start(&[]);
    // Only keyevent channels, only generic and hash events.
    let (mut sub, mut c) = watch_keyspace(&server, "Egh");
    c.q("SET s 1");
    c.q("HSET h f v");
    c.q("HDEL h f");
    c.q("DEL s");
    let got: Vec<(String, String)> = (0..4).map(|_| next_event(&mut sub)).collect();
    let want = [
        ("__keyevent@0__:hset", "h"),
        ("__keyevent@0__:hdel", "h"),
        ("__keyevent@0__:del", "h"),
        ("__keyevent@0__:del", "s"),
    ];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
}

#[test]
fn generic_events() {
    let server = Server::start(&[]);
    let (mut sub, mut c) = watch_keyspace(&server, "Kg");
    let mut expect = |c: &mut Client, cmd: &str, events: &[(&str, &str)]| {
        c.q(cmd);
        for (key, event) in events {
            assert_eq!(
                next_event(&mut sub),
                (format!("__keyspace@{key}"), event.to_string()),
                "{cmd}"
            );
        }
    };
    c.q("SET a 1");
    expect(
        &mut c,
        "RENAME a b",
        &[("0__:a", "rename_from"), ("0__:b", "rename_to")],
    );
    expect(&mut c, "COPY b c DB 2", &[("2__:c", "copy_to")]);
    expect(
        &mut c,
        "MOVE b 1",
        &[("0__:b", "move_from"), ("1__:b", "move_to")],
    );
    c.q("SET d 1");
    expect(&mut c, "EXPIRE d 100", &[("0__:d", "expire")]);
    expect(&mut c, "PERSIST d", &[("0__:d", "persist")]);
    expect(&mut c, "PEXPIRE d 0", &[("0__:d", "del")]);
    c.q("SET e 1");
    expect(&mut c, "GETDEL e", &[("0__:e", "del")]);
    c.q("SET f 1");
    expect(&mut c, "UNLINK f nope", &[("0__:f", "del")]);
}

#[test]
fn expired_keys_are_announced() {
    let server = Server::start(&[]);
    let (mut sub, mut c) = watch_keyspace(&server, "Ex");
    c.q("SET lazy 1 PX 1");
    std::thread::sleep(std::time::Duration::from_millis(20));
    // The lookup reclaims the key: `expired` arrives (the write events are not enabled).
    assert_eq!(c.q("GET lazy"), V::Nil);
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:expired".into(), "lazy".into())
    );
    // Active expiry finds the key without any lookup.
    c.q("SET active 1 PX 1");
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:expired".into(), "active".into())
    );
}

#[test]
fn nothing_is_published_when_disabled() {
    let server = Server::start(&[]);
    let (mut sub, mut c) = watch_keyspace(&server, "");
    c.q("SET a 1");
    c.q("DEL a");
    assert_eq!(c.q("PUBLISH marker x"), V::Int(0));
    c.q("CONFIG SET notify-keyspace-events KA");
    c.q("SET a 1");
    assert_eq!(
        next_event(&mut sub),
        ("__keyspace@0__:a".into(), "set".into())
    );
}

#[test]
fn new_keys_are_announced() {
    let server = Server::start(&[]);
    let (mut sub, mut c) = watch_keyspace(&server, "En$g");
    c.q("SET a 1");
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:new".into(), "a".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:set".into(), "a".into())
    );
    // Overwriting is no creation; RENAME adds the target afresh.
    c.q("SET a 2");
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:set".into(), "a".into())
    );
    c.q("RENAME a b");
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:new".into(), "b".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:rename_from".into(), "a".into())
    );
    assert_eq!(
        next_event(&mut sub),
        ("__keyevent@0__:rename_to".into(), "b".into())
    );
    // Each key's `new` comes right before its own event, in program order.
    c.q("MSET x 1 y 2");
    for key in ["x", "y"] {
        assert_eq!(
            next_event(&mut sub),
            ("__keyevent@0__:new".into(), key.into())
        );
        assert_eq!(
            next_event(&mut sub),
            ("__keyevent@0__:set".into(), key.into())
        );
    }
}

#[test]
fn read_misses_are_announced() {
    let server = Server::start(&[]);
    let (mut sub, mut c) = watch_keyspace(&server, "Km");
    c.q("GET nope");
    assert_eq!(
        next_event(&mut sub),
        ("__keyspace@0__:nope".into(), "keymiss".into())
    );
    // OBJECT counts a miss but announces none; the next event is EXISTS's.
    c.q("OBJECT ENCODING nope");
    c.q("EXISTS other");
    assert_eq!(
        next_event(&mut sub),
        ("__keyspace@0__:other".into(), "keymiss".into())
    );
}
