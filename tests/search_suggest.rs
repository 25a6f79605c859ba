//! FT.SUGADD / FT.SUGGET / FT.SUGDEL / FT.SUGLEN against a real server: scores and ordering,
//! FUZZY, payloads, reply shapes in RESP2 and RESP3, RediSearch's error texts, and the
//! suggestion dictionary as a key (TYPE, WRONGTYPE, DEL, RENAME, expiry, DUMP / RESTORE).

// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server, V};

fn bulks(words: &[&str]) -> V {
    V::Array(words.iter().map(|w| V::bulk(w)).collect())
}

fn fill(c: &mut Client) {
    for (text, score) in [
        ("hello world", "1"),
        ("Help", "1"),
        ("helium", "0.5"),
        ("x", "9"),
    ] {
        assert!(matches!(
            c.cmd(&["FT.SUGADD", "sug", text, score]),
            V::Int(_)
        ));
    }
}

#[test]
fn add_len_get_del() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.SUGADD sug hello 1"), V::Int(1));
    assert_eq!(c.q("FT.SUGADD sug hello 2 INCR"), V::Int(1));
    assert_eq!(c.q("FT.SUGADD sug help 1 PAYLOAD p1"), V::Int(2));
    assert_eq!(c.q("FT.SUGLEN sug"), V::Int(2));
    assert_eq!(c.q("FT.SUGLEN nosuch"), V::Int(0));
    // hello: 3 / sqrt(1 + 2); help: 1 / sqrt(1 + 1), as %.17g.
    assert_eq!(
        c.q("FT.SUGGET sug HEL WITHSCORES WITHPAYLOADS"),
        V::Array(vec![
            V::bulk("hello"),
            V::bulk("1.7320508075688774"),
            V::Nil,
            V::bulk("help"),
            V::bulk("0.70710678118654746"),
            V::bulk("p1"),
        ])
    );
    assert_eq!(c.q("FT.SUGGET sug hel MAX 1"), bulks(&["hello"]));
    assert_eq!(c.q("FT.SUGGET sug zzz"), bulks(&[]));
    assert_eq!(c.q("FT.SUGGET nosuch hel"), bulks(&[]));
    assert_eq!(c.q("FT.SUGDEL sug help"), V::Int(1));
    assert_eq!(c.q("FT.SUGDEL sug help"), V::Int(0));
    assert_eq!(c.q("FT.SUGDEL nosuch help"), V::Int(0));
    // The last suggestion's removal deletes the key.
    assert_eq!(c.q("FT.SUGDEL sug hello"), V::Int(1));
    assert_eq!(c.q("EXISTS sug"), V::Int(0));
    // An empty string is not stored, and leaves no key.
    assert_eq!(c.cmd(&["FT.SUGADD", "sug", "", "1"]), V::Int(0));
    assert_eq!(c.q("EXISTS sug"), V::Int(0));
}

#[test]
fn ordering_max_and_fuzzy() {
    let server = Server::start(&[]);
    let mut c = server.client();
    fill(&mut c);
    // Help 1/sqrt(2), hello world 1/sqrt(9), helium 0.5/sqrt(4).
    assert_eq!(
        c.q("FT.SUGGET sug hel"),
        bulks(&["Help", "hello world", "helium"])
    );
    assert_eq!(
        c.q("FT.SUGGET sug hel MAX 2"),
        bulks(&["Help", "hello world"])
    );
    // FUZZY: some beginning of the suggestion is one edit away from the prefix.
    assert_eq!(c.q("FT.SUGGET sug hwl"), bulks(&[]));
    assert_eq!(
        c.q("FT.SUGGET sug hwl FUZZY"),
        bulks(&["Help", "hello world", "helium"])
    );
    assert_eq!(c.q("FT.SUGGET sug jelp FUZZY"), bulks(&["Help"]));
    // Without INCR a second add replaces the score.
    c.q("FT.SUGADD sug hexagon 100");
    c.q("FT.SUGADD sug hexagon 0.1");
    assert_eq!(c.q("FT.SUGGET sug he MAX 1"), bulks(&["Help"]));
    assert_eq!(c.q("FT.SUGLEN sug"), V::Int(5));
}

#[test]
fn resp3_scores_are_doubles() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    assert_eq!(c.q("FT.SUGADD sug hello 4 PAYLOAD pl"), V::Int(1));
    let got = c.q("FT.SUGGET sug hello WITHSCORES WITHPAYLOADS");
    assert_eq!(
        got,
        V::Array(vec![V::bulk("hello"), V::Double("4".into()), V::bulk("pl")])
    );
}

#[test]
fn errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let cases: &[(&str, &str)] = &[
        ("FT.SUGADD sug a nan", "ERR invalid score"),
        ("FT.SUGADD sug a x", "ERR invalid score"),
        ("FT.SUGADD sug a 1 FOO", "Unknown argument `FOO`"),
        (
            "FT.SUGADD sug a 1 PAYLOAD",
            "Invalid payload: Expected an argument, but none provided",
        ),
        (
            "FT.SUGADD sug a 1 INCR INCR INCR INCR",
            "ERR wrong number of arguments for 'ft.sugadd' command",
        ),
        (
            "FT.SUGGET sug a MAX 0",
            "MAX: Value is outside acceptable bounds",
        ),
        (
            "FT.SUGGET sug a MAX x",
            "MAX: Could not convert argument to expected type",
        ),
        ("FT.SUGGET sug a BAR", "Unrecognized argument: BAR"),
        (
            "FT.SUGGET sug",
            "ERR wrong number of arguments for 'ft.sugget' command",
        ),
        (
            "FT.SUGDEL sug",
            "ERR wrong number of arguments for 'ft.sugdel' command",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(c.q(line), V::err(want), "{line}");
    }
    let long = "a".repeat(200);
    assert_eq!(
        c.cmd(&["FT.SUGGET", "sug", &long]),
        V::err("Invalid query length")
    );
    assert_eq!(c.q("EXISTS sug"), V::Int(0));
}

#[test]
fn dictionary_is_a_key() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET str v");
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for line in [
        "FT.SUGADD str a 1",
        "FT.SUGGET str a",
        "FT.SUGDEL str a",
        "FT.SUGLEN str",
    ] {
        assert_eq!(c.q(line), V::err(wrongtype), "{line}");
    }
    fill(&mut c);
    assert_eq!(c.q("TYPE sug"), V::Simple("trietype0".into()));
    assert_eq!(c.q("OBJECT ENCODING sug"), V::bulk("raw"));
    assert_eq!(c.q("GET sug"), V::err(wrongtype));
    assert_eq!(
        c.q("SCAN 0 TYPE trietype0"),
        V::Array(vec![V::bulk("0"), bulks(&["sug"])])
    );

    assert_eq!(c.q("RENAME sug sug2"), V::ok());
    assert_eq!(c.q("FT.SUGLEN sug2"), V::Int(4));
    assert_eq!(c.q("COPY sug2 sug3"), V::Int(1));
    assert_eq!(c.q("FT.SUGGET sug3 x"), bulks(&["x"]));

    // DUMP writes RediSearch's module value; RESTORE reads it back with payloads.
    c.q("FT.SUGADD sug2 x 9 PAYLOAD px");
    let dump = c.q("DUMP sug2");
    let V::Bulk(payload) = dump else {
        panic!("{dump:?}")
    };
    assert_eq!(payload[0], 7, "RDB_TYPE_MODULE_2");
    assert_eq!(
        c.cmd(&[b"RESTORE".as_ref(), b"back", b"0", &payload]),
        V::ok()
    );
    assert_eq!(c.q("FT.SUGLEN back"), V::Int(4));
    assert_eq!(
        c.q("FT.SUGGET back x WITHPAYLOADS"),
        V::Array(vec![V::bulk("x"), V::bulk("px")])
    );
    assert_eq!(
        c.q("FT.SUGGET back hel"),
        bulks(&["Help", "hello world", "helium"])
    );

    assert_eq!(c.q("DEL sug2 sug3 back"), V::Int(3));
    assert_eq!(c.q("FT.SUGLEN sug2"), V::Int(0));

    assert_eq!(c.q("FT.SUGADD tmp a 1"), V::Int(1));
    assert_eq!(c.q("PEXPIRE tmp 20"), V::Int(1));
    std::thread::sleep(std::time::Duration::from_millis(60));
    assert_eq!(c.q("FT.SUGLEN tmp"), V::Int(0));
    assert_eq!(c.q("FT.SUGGET tmp a"), bulks(&[]));
    assert_eq!(c.q("EXISTS tmp"), V::Int(0));
}
