//! Stream commands against the real binary: ids and ranges, trimming, consumer groups and
//! their pending entries, XINFO's counters, blocking reads woken by other clients, and
//! DUMP / RESTORE of streams.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server, V};

fn bulks(items: &[&str]) -> V {
    V::Array(items.iter().map(|s| V::bulk(s)).collect())
}

/// `[id, [field, value, ...]]`
fn entry(id: &str, fields: &[&str]) -> V {
    V::Array(vec![V::bulk(id), bulks(fields)])
}

/// The value after `name` in a flat RESP2 array or a RESP3 map.
fn field(reply: &V, name: &str) -> V {
    let items = reply.items();
    let at = items
        .chunks(2)
        .position(|p| p[0] == V::bulk(name))
        .unwrap_or_else(|| panic!("no {name} in {reply:?}"));
    items[2 * at + 1].clone()
}

fn filled(c: &mut Client, key: &str, ids: &[&str]) {
    for (n, id) in ids.iter().enumerate() {
        let value = n.to_string();
        assert_eq!(c.cmd(&["XADD", key, id, "f", &value]), V::bulk(id));
    }
}

#[test]
fn xadd_ids_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("XADD s 1-1 a 1"), V::bulk("1-1"));
    assert_eq!(c.q("XADD s 1-* a 2"), V::bulk("1-2"));
    assert_eq!(c.q("XADD s 2 a 3"), V::bulk("2-0"));
    assert_eq!(
        c.q("XADD s 2-0 a 4"),
        V::err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
    assert_eq!(
        c.q("XADD s 0-0 a 4"),
        V::err("ERR The ID specified in XADD must be greater than 0-0")
    );
    assert_eq!(
        c.q("XADD s 3-0 a"),
        V::err("ERR wrong number of arguments for 'xadd' command")
    );
    assert_eq!(
        c.q("XADD s 3-x a 1"),
        V::err("ERR Invalid stream ID specified as stream command argument")
    );
    let auto = c.q("XADD s * a 5").text();
    let (ms, seq) = auto.split_once('-').unwrap();
    assert!(ms.parse::<u64>().unwrap() > 1_600_000_000_000, "{auto}");
    assert_eq!(seq, "0");
    assert_eq!(c.q("XADD missing NOMKSTREAM * a 1"), V::Nil);
    assert_eq!(c.q("EXISTS missing"), V::Int(0));
    assert_eq!(c.q("XLEN s"), V::Int(4));
    assert_eq!(c.q("TYPE s"), V::Simple("stream".into()));
    assert_eq!(c.q("OBJECT ENCODING s"), V::bulk("stream"));
    c.q("SET str x");
    assert_eq!(
        c.q("XADD str * a 1"),
        V::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        c.q("XADD e 18446744073709551615-18446744073709551615 a 1"),
        V::bulk("18446744073709551615-18446744073709551615")
    );
    assert_eq!(
        c.q("XADD e * a 1"),
        V::err("ERR The stream has exhausted the last possible ID, unable to add more items")
    );
}

#[test]
fn ranges_counts_and_exclusive_ends() {
    let server = Server::start(&[]);
    let mut c = server.client();
    filled(&mut c, "s", &["1-0", "1-1", "2-0", "3-5"]);
    let all = c.q("XRANGE s - +");
    assert_eq!(all.items().len(), 4);
    assert_eq!(all.items()[0], entry("1-0", &["f", "0"]));
    assert_eq!(c.q("XRANGE s (1-0 2").items().len(), 2, "2 means 2-max");
    assert_eq!(
        c.q("XRANGE s 2 2"),
        V::Array(vec![entry("2-0", &["f", "2"])])
    );
    assert_eq!(
        c.q("XREVRANGE s + - COUNT 1"),
        V::Array(vec![entry("3-5", &["f", "3"])])
    );
    assert_eq!(
        c.q("XRANGE s - + COUNT 0"),
        V::Nil,
        "COUNT 0 is a null array"
    );
    assert_eq!(c.q("XRANGE nokey - +"), V::Array(vec![]));
    assert_eq!(
        c.q("XRANGE s (18446744073709551615-18446744073709551615 +"),
        V::err("ERR invalid start ID for the interval")
    );
    assert_eq!(
        c.q("XRANGE s - (0-0"),
        V::err("ERR invalid end ID for the interval")
    );
    assert_eq!(
        c.q("XRANGE s (- +"),
        V::err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(c.q("XRANGE s - + LIMIT 1"), V::err("ERR syntax error"));
}

#[test]
fn trimming_and_deleting() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("CONFIG SET stream-node-max-entries 3");
    filled(
        &mut c,
        "s",
        &["1-0", "2-0", "3-0", "4-0", "5-0", "6-0", "7-0"],
    );
    // Approximate trimming removes whole nodes of three entries only.
    assert_eq!(c.q("XTRIM s MAXLEN ~ 5"), V::Int(0));
    assert_eq!(c.q("XTRIM s MAXLEN ~ 4"), V::Int(3));
    assert_eq!(c.q("XTRIM s MAXLEN = 2"), V::Int(2));
    assert_eq!(c.q("XRANGE s - +").items()[0], entry("6-0", &["f", "5"]));
    assert_eq!(
        c.q("XTRIM s MAXLEN 1 LIMIT 1"),
        V::err("ERR syntax error, LIMIT cannot be used without the special ~ option")
    );
    assert_eq!(
        c.q("XTRIM s"),
        V::err("ERR wrong number of arguments for 'xtrim' command")
    );
    assert_eq!(
        c.q("XADD s LIMIT 1 9-0 f v"),
        V::err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    );
    assert_eq!(c.q("XADD s MINID 7 8-0 f x"), V::bulk("8-0"));
    assert_eq!(c.q("XLEN s"), V::Int(2));
    assert_eq!(c.q("XDEL s 7-0 7-0 9-0"), V::Int(1));
    assert_eq!(
        c.q("XDEL s bad"),
        V::err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(c.q("XDEL nokey bad"), V::Int(0));
    let info = c.q("XINFO STREAM s");
    assert_eq!(field(&info, "length"), V::Int(1));
    assert_eq!(field(&info, "max-deleted-entry-id"), V::bulk("7-0"));
    assert_eq!(field(&info, "recorded-first-entry-id"), V::bulk("8-0"));
    assert_eq!(field(&info, "entries-added"), V::Int(8));
    assert_eq!(c.q("XDEL s 8-0"), V::Int(1));
    assert_eq!(c.q("EXISTS s"), V::Int(1), "an empty stream stays");
    assert_eq!(
        c.q("XSETID s 5-0"),
        V::err("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
    );
    assert_eq!(c.q("XSETID s 100-0 ENTRIESADDED 50"), V::ok());
    assert_eq!(
        field(&c.q("XINFO STREAM s"), "last-generated-id"),
        V::bulk("100-0")
    );
    assert_eq!(c.q("XSETID nokey 1-0"), V::err("ERR no such key"));
}

#[test]
fn xread_shapes_in_both_protocols() {
    let server = Server::start(&[]);
    let mut c = server.client();
    filled(&mut c, "a", &["1-0", "2-0"]);
    filled(&mut c, "b", &["5-0"]);
    let reply = c.q("XREAD COUNT 1 STREAMS a b 0 $");
    assert_eq!(
        reply,
        V::Array(vec![V::Array(vec![
            V::bulk("a"),
            V::Array(vec![entry("1-0", &["f", "0"])])
        ])])
    );
    assert_eq!(c.q("XREAD STREAMS a 2-0"), V::Nil);
    assert_eq!(
        c.q("XREAD STREAMS a b 0"),
        V::err(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
        )
    );
    assert_eq!(
        c.q("XREAD STREAMS a >"),
        V::err(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
        )
    );
    // Redis 7.4: `+` reads the last entry.
    assert_eq!(
        c.q("XREAD STREAMS a +"),
        V::Array(vec![V::Array(vec![
            V::bulk("a"),
            V::Array(vec![entry("2-0", &["f", "1"])])
        ])])
    );
    c.resp3();
    let reply = c.q("XREAD STREAMS a b 1-0 0");
    let V::Map(pairs) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].0, V::bulk("a"));
    assert_eq!(pairs[1].1, V::Array(vec![entry("5-0", &["f", "0"])]));
}

#[test]
fn consumer_groups_deliver_ack_and_claim() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("XGROUP CREATE s g 0"),
        V::err(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
        )
    );
    assert_eq!(c.q("XGROUP CREATE s g 0 MKSTREAM"), V::ok());
    assert_eq!(
        c.q("XGROUP CREATE s g $"),
        V::err("BUSYGROUP Consumer Group name already exists")
    );
    filled(&mut c, "s", &["1-0", "2-0", "3-0"]);
    let read = c.q("XREADGROUP GROUP g alice COUNT 2 STREAMS s >");
    assert_eq!(read.items()[0].items()[1].items().len(), 2);
    assert_eq!(
        c.q("XREADGROUP GROUP g bob STREAMS s >").items()[0].items()[1]
            .items()
            .len(),
        1
    );
    assert_eq!(c.q("XREADGROUP GROUP g bob STREAMS s >"), V::Nil);
    // History: the consumer's own pending entries.
    assert_eq!(
        c.q("XREADGROUP GROUP g alice STREAMS s 0"),
        V::Array(vec![V::Array(vec![
            V::bulk("s"),
            V::Array(vec![entry("1-0", &["f", "0"]), entry("2-0", &["f", "1"])])
        ])])
    );
    assert_eq!(
        c.q("XPENDING s g"),
        V::Array(vec![
            V::Int(3),
            V::bulk("1-0"),
            V::bulk("3-0"),
            V::Array(vec![bulks(&["alice", "2"]), bulks(&["bob", "1"])])
        ])
    );
    let rows = c.q("XPENDING s g - + 10 alice").items();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].items()[3],
        V::Int(2),
        "delivered twice (history read)"
    );
    assert_eq!(c.q("XACK s g 1-0 1-0 9-0"), V::Int(1));
    assert_eq!(c.q("XCLAIM s g bob 0 2-0 JUSTID"), bulks(&["2-0"]));
    assert_eq!(c.q("XPENDING s g - + 10 alice"), V::Array(vec![]));
    // A deleted pending entry: XAUTOCLAIM drops it and reports it.
    assert_eq!(c.q("XDEL s 3-0"), V::Int(1));
    assert_eq!(
        c.q("XAUTOCLAIM s g carol 0 0"),
        V::Array(vec![
            V::bulk("0-0"),
            V::Array(vec![entry("2-0", &["f", "1"])]),
            bulks(&["3-0"])
        ])
    );
    assert_eq!(
        c.q("XCLAIM s nog bob 0 2-0"),
        V::err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(
        c.q("XREADGROUP GROUP nog c STREAMS s >"),
        V::err("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option")
    );
    assert_eq!(c.q("XGROUP CREATECONSUMER s g dave"), V::Int(1));
    assert_eq!(c.q("XGROUP DELCONSUMER s g carol"), V::Int(1));
    let groups = c.q("XINFO GROUPS s");
    let g = &groups.items()[0];
    assert_eq!(field(g, "consumers"), V::Int(3));
    assert_eq!(field(g, "pending"), V::Int(0));
    assert_eq!(field(g, "last-delivered-id"), V::bulk("3-0"));
    assert_eq!(field(g, "entries-read"), V::Int(3));
    assert_eq!(field(g, "lag"), V::Int(0));
    assert_eq!(c.q("XGROUP SETID s g 0 ENTRIESREAD 0"), V::ok());
    assert_eq!(
        field(&c.q("XINFO GROUPS s").items()[0], "lag"),
        V::Nil,
        "a tombstone lies ahead"
    );
    assert_eq!(c.q("XGROUP DESTROY s g"), V::Int(1));
    assert_eq!(c.q("XINFO GROUPS s"), V::Array(vec![]));
}

#[test]
fn xinfo_stream_full_and_resp3_maps() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    filled(&mut c, "s", &["1-0", "2-0"]);
    c.q("XGROUP CREATE s g 0");
    c.q("XREADGROUP GROUP g alice STREAMS s >");
    let info = c.q("XINFO STREAM s");
    assert!(matches!(info, V::Map(_)), "{info:?}");
    assert_eq!(field(&info, "first-entry"), entry("1-0", &["f", "0"]));
    assert_eq!(field(&info, "groups"), V::Int(1));
    let full = c.q("XINFO STREAM s FULL COUNT 1");
    assert_eq!(field(&full, "entries").items().len(), 1);
    let group = field(&full, "groups").items()[0].clone();
    assert_eq!(field(&group, "pel-count"), V::Int(2));
    assert_eq!(field(&group, "pending").items().len(), 1);
    let consumer = field(&group, "consumers").items()[0].clone();
    assert_eq!(field(&consumer, "name"), V::bulk("alice"));
    assert_eq!(
        c.q("XINFO STREAM s FULL COUNT"),
        V::err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    );
    assert_eq!(c.q("XINFO STREAM nokey"), V::err("ERR no such key"));
    assert_eq!(
        c.q("XINFO CONSUMERS s nog"),
        V::err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
}

/// Reads one reply within `limit`, or `None`.
fn reply_within(c: &mut Client, limit: Duration) -> Option<V> {
    c.stream.set_read_timeout(Some(limit)).unwrap();
    let reply = c.try_read();
    c.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    reply
}

#[test]
fn blocking_reads_wake_on_new_entries() {
    let server = Server::start(&[]);
    let mut reader = server.client();
    let mut writer = server.client();
    filled(&mut writer, "s", &["1-0"]);
    // `$`: only entries added after blocking.
    reader.q("CLIENT ID");
    reader.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(reply_within(&mut reader, Duration::from_millis(50)), None);
    writer.q("XADD s 2-0 f x");
    assert_eq!(
        reader.read(),
        V::Array(vec![V::Array(vec![
            V::bulk("s"),
            V::Array(vec![entry("2-0", &["f", "x"])])
        ])])
    );
    // Timeout: a null array after about the time asked.
    let start = Instant::now();
    assert_eq!(reader.q("XREAD BLOCK 100 STREAMS s $"), V::Nil);
    assert!(start.elapsed() >= Duration::from_millis(90));
    // XREADGROUP `>` waits for undelivered entries.
    writer.q("XGROUP CREATE s g $");
    reader.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    std::thread::sleep(Duration::from_millis(100));
    writer.q("XADD s 3-0 f y");
    assert_eq!(
        reader.read(),
        V::Array(vec![V::Array(vec![
            V::bulk("s"),
            V::Array(vec![entry("3-0", &["f", "y"])])
        ])])
    );
    assert_eq!(writer.q("XPENDING s g").items()[0], V::Int(1));
    // The stream deleted, or its group destroyed, while a group reader waits.
    reader.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    std::thread::sleep(Duration::from_millis(100));
    writer.q("XGROUP DESTROY s g");
    assert_eq!(
        reader.read(),
        V::err("NOGROUP the consumer group this client was blocked on no longer exists")
    );
    writer.q("XGROUP CREATE s g $");
    reader.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    std::thread::sleep(Duration::from_millis(100));
    writer.q("DEL s");
    assert_eq!(
        reader.read(),
        V::err("UNBLOCKED the stream key no longer exists")
    );
}

#[test]
fn dump_and_restore_keep_entries_ids_and_groups() {
    let server = Server::start(&[]);
    let mut c = server.client();
    filled(&mut c, "s", &["1-0", "2-0", "3-0"]);
    c.q("XDEL s 2-0");
    c.q("XGROUP CREATE s g 0");
    c.q("XREADGROUP GROUP g alice COUNT 1 STREAMS s >");
    let V::Bulk(payload) = c.q("DUMP s") else {
        panic!("no payload")
    };
    assert_eq!(payload[0], 19, "RDB_TYPE_STREAM_LISTPACKS_2");
    assert_eq!(c.cmd(&[b"RESTORE".as_ref(), b"t", b"0", &payload]), V::ok());
    assert_eq!(c.q("XRANGE t - +"), c.q("XRANGE s - +"));
    let info = c.q("XINFO STREAM t");
    assert_eq!(field(&info, "max-deleted-entry-id"), V::bulk("2-0"));
    assert_eq!(field(&info, "entries-added"), V::Int(3));
    assert_eq!(c.q("XPENDING t g"), c.q("XPENDING s g"));
    let mut bad = payload.clone();
    bad[3] ^= 0x55;
    assert_eq!(
        c.cmd(&[b"RESTORE".as_ref(), b"u", b"0", &bad]),
        V::err("ERR DUMP payload version or checksum are wrong")
    );
}

#[test]
fn keyspace_notifications_name_stream_events_as_redis() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut sub = server.client();
    c.q("CONFIG SET notify-keyspace-events Et");
    sub.q("PSUBSCRIBE __keyevent@0__:*");
    for line in [
        "XADD s 1-0 f v",
        "XADD s MAXLEN 0 2-0 f v",
        "XDEL s 9-0",
        "XADD s 3-0 f v",
        "XDEL s 3-0",
        "XGROUP CREATE s g 0",
        "XGROUP CREATECONSUMER s g c",
        "XADD s 4-0 f v",
        "XREADGROUP GROUP g d STREAMS s >",
        "XGROUP DELCONSUMER s g c",
        "XGROUP SETID s g 0",
        "XSETID s 10-0",
        "XGROUP DESTROY s g",
    ] {
        assert!(!c.q(line).is_error(), "{line}");
    }
    let expected = [
        "xadd",
        "xadd",
        "xtrim",
        "xadd",
        "xdel",
        "xgroup-create",
        "xgroup-createconsumer",
        "xadd",
        "xgroup-createconsumer",
        "xgroup-delconsumer",
        "xgroup-setid",
        "xsetid",
        "xgroup-destroy",
    ];
    for event in expected {
        let message = sub.read().items();
        assert_eq!(message[2], V::bulk(&format!("__keyevent@0__:{event}")));
        assert_eq!(message[3], V::bulk("s"));
    }
}
