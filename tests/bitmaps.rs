//! Bitmap commands against the real binary. Expected replies were taken from Redis 7.0.15.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, V};

fn int(n: i64) -> V {
    V::Int(n)
}

fn ints(items: &[i64]) -> V {
    V::Array(items.iter().map(|&n| V::Int(n)).collect())
}

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const TYPE_ERR: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[test]
fn setbit_getbit_grow_and_make_raw() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SETBIT b 7 1"), int(0));
    assert_eq!(c.q("SETBIT b 7 1"), int(1));
    assert_eq!(c.q("SETBIT b 100 1"), int(0));
    assert_eq!(c.q("STRLEN b"), int(13));
    assert_eq!(c.q("GETBIT b 100"), int(1));
    assert_eq!(c.q("GETBIT b 99999"), int(0));
    assert_eq!(c.q("GETBIT nokey 3"), int(0));
    assert_eq!(c.q("OBJECT ENCODING b"), V::bulk("raw"));
    // An integer string becomes a raw bitmap of its digits.
    c.q("SET x 12");
    assert_eq!(c.q("SETBIT x 1 1"), int(0));
    assert_eq!(c.q("GET x"), V::bulk("q2"));
    assert_eq!(c.q("OBJECT ENCODING x"), V::bulk("raw"));
    // The TTL survives.
    c.q("SET t a EX 100");
    c.q("SETBIT t 20 1");
    assert!(matches!(c.q("TTL t"), V::Int(n) if n > 90));
}

#[test]
fn bit_argument_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for offset in ["-1", "abc", "4294967296"] {
        assert_eq!(c.q(&format!("SETBIT b {offset} 1")), V::err(OFFSET_ERR));
    }
    assert_eq!(c.q("GETBIT b 4294967296"), V::err(OFFSET_ERR));
    for bit in ["2", "-1", "x"] {
        assert_eq!(
            c.q(&format!("SETBIT b 1 {bit}")),
            V::err("ERR bit is not an integer or out of range")
        );
    }
    // The offset limit follows proto-max-bulk-len.
    c.q("CONFIG SET proto-max-bulk-len 1mb");
    assert_eq!(c.q("SETBIT b 8388608 1"), V::err(OFFSET_ERR));
    assert_eq!(c.q("SETBIT b 8388607 1"), int(0));
    c.q("HSET h a 1");
    assert!(c.q("SETBIT h 0 1").text().starts_with("WRONGTYPE"));
    assert!(c.q("GETBIT h 0").text().starts_with("WRONGTYPE"));
}

#[test]
fn bitcount_ranges_in_bytes_and_bits() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET s foobar");
    assert_eq!(c.q("BITCOUNT s"), int(26));
    assert_eq!(c.q("BITCOUNT s 0 0"), int(4));
    assert_eq!(c.q("BITCOUNT s 1 1"), int(6));
    assert_eq!(c.q("BITCOUNT s 1 1 BIT"), int(1));
    assert_eq!(c.q("BITCOUNT s 5 30 bit"), int(17));
    assert_eq!(c.q("BITCOUNT s -3 -1 bit"), int(1));
    assert_eq!(c.q("BITCOUNT s -1 -3"), int(0));
    assert_eq!(c.q("BITCOUNT s -1 -3 bogus"), int(0));
    assert_eq!(c.q("BITCOUNT s 0"), V::err("ERR syntax error"));
    assert_eq!(c.q("BITCOUNT s 0 1 foo"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("BITCOUNT s a b"),
        V::err("ERR value is not an integer or out of range")
    );
    // Redis 7.0 looks the key up first: a missing key counts 0 whatever the arguments.
    assert_eq!(c.q("BITCOUNT nokey a b"), int(0));
}

#[test]
fn bitpos_finds_set_and_clear_bits() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.cmd(&[b"SET".as_ref(), b"f", b"\xff\xf0\x00"]);
    assert_eq!(c.q("BITPOS f 0"), int(12));
    assert_eq!(c.q("BITPOS f 1"), int(0));
    assert_eq!(c.q("BITPOS f 1 2"), int(-1));
    assert_eq!(c.q("BITPOS f 0 2 -1 bit"), int(12));
    assert_eq!(c.q("BITPOS f 0 0 11 BIT"), int(-1));
    assert_eq!(c.q("BITPOS f 0 0 12 bit"), int(12));
    assert_eq!(c.q("BITPOS f 1 3 5 bit"), int(3));
    c.cmd(&[b"SET".as_ref(), b"ff", b"\xff\xff"]);
    // No clear bit: the one past the end, unless an end was given.
    assert_eq!(c.q("BITPOS ff 0"), int(16));
    assert_eq!(c.q("BITPOS ff 0 0"), int(16));
    assert_eq!(c.q("BITPOS ff 0 0 -1"), int(-1));
    assert_eq!(c.q("BITPOS nokey 0"), int(0));
    assert_eq!(c.q("BITPOS nokey 1"), int(-1));
    assert_eq!(
        c.q("BITPOS f 2"),
        V::err("ERR The bit argument must be 1 or 0.")
    );
    assert_eq!(c.q("BITPOS f 0 1 2 3"), V::err("ERR syntax error"));
}

#[test]
fn bitop_combines_and_deletes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET a abc");
    c.cmd(&[b"SET".as_ref(), b"b", b"\x0f"]);
    assert_eq!(c.q("BITOP AND d a b"), int(3));
    assert_eq!(c.cmd(&["GET", "d"]), V::Bulk(b"\x01\x00\x00".to_vec()));
    assert_eq!(c.q("BITOP or d a b nokey"), int(3));
    assert_eq!(c.cmd(&["GET", "d"]), V::Bulk(b"obc".to_vec()));
    assert_eq!(c.q("BITOP XOR d a b"), int(3));
    assert_eq!(c.cmd(&["GET", "d"]), V::Bulk(b"nbc".to_vec()));
    assert_eq!(c.q("BITOP NOT d b"), int(1));
    assert_eq!(c.cmd(&["GET", "d"]), V::Bulk(b"\xf0".to_vec()));
    assert_eq!(c.q("OBJECT ENCODING d"), V::bulk("raw"));
    assert_eq!(
        c.q("BITOP NOT d a b"),
        V::err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(c.q("BITOP NAND d a"), V::err("ERR syntax error"));
    // Only empty inputs: the destination is deleted.
    assert_eq!(c.q("BITOP AND d nokey other"), int(0));
    assert_eq!(c.q("EXISTS d"), int(0));
    c.q("HSET h a 1");
    assert!(c.q("BITOP AND d h").text().starts_with("WRONGTYPE"));
}

#[test]
fn bitfield_types_offsets_and_overflow() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("BITFIELD bf SET i8 0 100 INCRBY i8 0 100 GET u8 0"),
        ints(&[0, -56, 200])
    );
    assert_eq!(
        c.q("BITFIELD bf OVERFLOW SAT INCRBY i8 0 100 INCRBY i8 0 -300 OVERFLOW FAIL INCRBY i8 0 -1 GET i8 0"),
        V::Array(vec![int(44), int(-128), V::Nil, int(-128)])
    );
    assert_eq!(
        c.q("BITFIELD bf SET u63 #1 12345 GET u63 63 GET i64 63 SET i64 #2 -1 GET u16 #7"),
        ints(&[0, 12345, 24690, 0, 49380])
    );
    assert_eq!(
        c.q("BITFIELD bf INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1"),
        ints(&[1, 2, 3, 0])
    );
    assert_eq!(
        c.q("BITFIELD bf SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 -9223372036854775808"),
        ints(&[i64::MIN; 4])
    );
    // A write past the end grows the string to the last bit written.
    assert_eq!(c.q("BITFIELD new INCRBY i5 #10 3"), ints(&[3]));
    assert_eq!(c.q("STRLEN new"), int(7));
    assert_eq!(c.q("BITFIELD nokey"), V::Array(vec![]));
    assert_eq!(c.q("BITFIELD nokey GET u8 0"), ints(&[0]));
    assert_eq!(c.q("EXISTS nokey"), int(0));
    for ty in ["u64", "i65", "x8", "U8", "u0", "i"] {
        assert_eq!(c.q(&format!("BITFIELD bf GET {ty} 0")), V::err(TYPE_ERR));
    }
    for offset in ["-1", "#-1", "4294967296", "#536870912"] {
        assert_eq!(
            c.q(&format!("BITFIELD bf GET u8 {offset}")),
            V::err(OFFSET_ERR)
        );
    }
    assert_eq!(c.q("BITFIELD bf GET u8"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("BITFIELD bf OVERFLOW foo"),
        V::err("ERR Invalid OVERFLOW type specified")
    );
    // RESP3 shows a FAIL as null too.
    c.resp3();
    assert_eq!(
        c.q("BITFIELD bf OVERFLOW FAIL SET u8 0 256"),
        V::Array(vec![V::Nil])
    );
}

#[test]
fn bitfield_ro_reads_only() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("BITFIELD bf SET u8 0 200");
    assert_eq!(c.q("BITFIELD_RO bf GET u8 0 GET i4 4"), ints(&[200, -8]));
    assert_eq!(
        c.q("BITFIELD_RO bf GET u8 0 INCRBY u8 0 1"),
        V::err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    assert_eq!(c.q("BITFIELD_RO nokey GET u8 0"), ints(&[0]));
    c.q("HSET h a 1");
    assert!(
        c.q("BITFIELD_RO h GET u8 0")
            .text()
            .starts_with("WRONGTYPE")
    );
    // BITFIELD's key is read-only when every subcommand is a GET.
    assert_eq!(
        c.q("COMMAND GETKEYSANDFLAGS BITFIELD k GET u8 0"),
        V::Array(vec![V::Array(vec![
            V::bulk("k"),
            V::Array(vec![V::Simple("RO".into()), V::Simple("access".into())]),
        ])])
    );
}
