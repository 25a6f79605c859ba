//! FT indexes stay consistent with the keyspace on every write path: one test per path. Each
//! test writes through the path and then compares FT.SEARCH (`*`, tags, numeric ranges, KNN on
//! a FLAT and an HNSW field) and FT.INFO `num_docs` with a brute-force evaluation of the hashes
//! actually in database 0 (`common::ft::check_index`), plus explicit expectations of the path.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::ft::{
    Hnsw, Rng, blob, check_index, create_index, eventually, info_num, knn, parse_search, put,
    search_ids, snapshot, wait_indexed,
};
use common::{Client, Server, V};

/// The backfill tests measure other clients' latency: they run alone (write lock) while the
/// other tests of this file share the read lock.
static TIMING: RwLock<()> = RwLock::new(());

/// A test's server, holding the shared side of [`TIMING`].
struct Running {
    server: Server,
    _shared: RwLockReadGuard<'static, ()>,
}

impl std::ops::Deref for Running {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

/// A server with index `idx` over prefix `doc:`, and a connection to it (database 0).
fn setup() -> (Running, Client) {
    let shared = TIMING.read().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.client();
    assert_eq!(create_index(&mut c, "idx", &["doc:"]), V::ok());
    let running = Running {
        server,
        _shared: shared,
    };
    (running, c)
}

/// Index `idx` must answer exactly what database 0's hashes imply (`c` must be in db 0).
fn verify(c: &mut Client) {
    verify_index(c, "idx", &["doc:"]);
}

fn verify_index(c: &mut Client, index: &str, prefixes: &[&str]) {
    let hashes = snapshot(c);
    if let Err(e) = check_index(c, index, prefixes, &hashes, Hnsw::Exact) {
        panic!("index out of step with the keyspace: {e}");
    }
}

/// Like [`verify`], for changes the server may apply shortly after the command (active
/// expiry, SWAPDB re-scan).
fn verify_eventually(c: &mut Client, timeout: Duration) {
    let result = eventually(timeout, || {
        let hashes = snapshot(c);
        check_index(c, "idx", &["doc:"], &hashes, Hnsw::Exact)
    });
    if let Err(e) = result {
        panic!("index out of step with the keyspace after {timeout:?}: {e}");
    }
}

/// Polls (FT.SEARCH only, no key reads) until each query answers its expected ids.
fn wait_for_ids(c: &mut Client, expected: &[(&str, &[&str])], what: &str) {
    let result = eventually(Duration::from_secs(6), || {
        for (query, want) in expected {
            let got = search_ids(c, "idx", query)?;
            if got != set(want) {
                return Err(format!("`{query}` answers {got:?}"));
            }
        }
        Ok(())
    });
    result.unwrap_or_else(|e| panic!("{what}: {e}"));
}

fn ids(c: &mut Client, query: &str) -> BTreeSet<String> {
    search_ids(c, "idx", query).unwrap_or_else(|e| panic!("{e}"))
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// Three documents: doc:1 red 1 (0,0) "alpha beta", doc:2 blue 2 (1,0) "beta kappa",
/// doc:3 red 3 (5,5) "delta".
fn three_docs(c: &mut Client) {
    put(c, "doc:1", "red", 1.0, [0.0, 0.0]);
    put(c, "doc:2", "blue", 2.0, [1.0, 0.0]);
    put(c, "doc:3", "red", 3.0, [5.0, 5.0]);
    for (key, text) in [
        ("doc:1", "alpha beta"),
        ("doc:2", "beta kappa"),
        ("doc:3", "delta"),
    ] {
        assert_eq!(c.cmd(&["HSET", key, "s", text]), V::Int(1));
    }
    verify(c);
    assert_eq!(ids(c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
}

fn int(c: &mut Client, line: &str) -> i64 {
    match c.q(line) {
        V::Int(n) => n,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn hset_new_and_update_of_tag_numeric_and_vector() {
    let (_s, mut c) = setup();
    verify(&mut c);
    three_docs(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:1", "doc:3"]));

    assert_eq!(int(&mut c, "HSET doc:1 t blue"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:3"]));
    assert_eq!(ids(&mut c, "@t:{blue}"), set(&["doc:1", "doc:2"]));

    assert_eq!(int(&mut c, "HSET doc:2 n 10"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[5 +inf]"), set(&["doc:2"]));

    let b = blob(&[0.5, 0.0]);
    c.cmd(&[b"HSET".as_ref(), b"doc:3", b"v", &b, b"h", &b]);
    verify(&mut c);
    let near = knn(&mut c, "idx", "*", "v", [0.5, 0.0], 1).unwrap();
    assert_eq!(near, vec![("doc:3".to_string(), 0.0)]);

    assert_eq!(ids(&mut c, "beta"), set(&["doc:1", "doc:2"]));
    assert_eq!(int(&mut c, "HSET doc:2 s gamma"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@s:gamma"), set(&["doc:2"]));
    assert_eq!(ids(&mut c, "beta"), set(&["doc:1"]));

    // A field outside the schema changes nothing indexed, but re-indexes the document.
    assert_eq!(int(&mut c, "HSET doc:1 other x"), 1);
    verify(&mut c);
}

#[test]
fn hsetnx_creates_and_extends_documents() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "HSETNX doc:4 t green"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{green}"), set(&["doc:4"]));
    assert_eq!(int(&mut c, "HSETNX doc:4 t red"), 0);
    verify(&mut c);
    assert_eq!(int(&mut c, "HSETNX doc:4 n 7"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[7 7]"), set(&["doc:4"]));
}

#[test]
fn hmset_creates_and_updates() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    let b = blob(&[2.0, 2.0]);
    let reply = c.cmd(&[
        b"HMSET".as_ref(),
        b"doc:5",
        b"t",
        b"Purple",
        b"n",
        b"-4.5",
        b"v",
        &b,
        b"h",
        &b,
    ]);
    assert_eq!(reply, V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{purple}"), set(&["doc:5"]));
    assert_eq!(c.q("HMSET doc:5 t red n 100"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:1", "doc:3", "doc:5"]));
    assert_eq!(ids(&mut c, "@n:[100 100]"), set(&["doc:5"]));
}

#[test]
fn hincrby_and_hincrbyfloat_move_numeric_values() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "HINCRBY doc:1 n 5"), 6);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[6 6]"), set(&["doc:1"]));
    assert_eq!(c.q("HINCRBYFLOAT doc:1 n 0.5"), V::bulk("6.5"));
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[6.5 6.5]"), set(&["doc:1"]));
    assert_eq!(ids(&mut c, "@n:[6 6]"), set(&[]));
    // Creating a new key and a new field.
    assert_eq!(int(&mut c, "HINCRBY doc:9 n 3"), 3);
    assert_eq!(c.q("HINCRBYFLOAT doc:2 m 1.5"), V::bulk("1.5"));
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[3 3]"), set(&["doc:3", "doc:9"]));
}

#[test]
fn hdel_of_one_field_and_down_to_empty() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "HDEL doc:1 t"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:3"]));
    assert!(ids(&mut c, "*").contains("doc:1"));
    assert_eq!(int(&mut c, "HDEL doc:1 v"), 1);
    verify(&mut c);
    let hits = knn(&mut c, "idx", "*", "v", [0.0, 0.0], 5).unwrap();
    assert!(hits.iter().all(|(id, _)| id != "doc:1"), "{hits:?}");
    assert_eq!(int(&mut c, "HDEL doc:1 n h s nosuch"), 3);
    assert_eq!(int(&mut c, "EXISTS doc:1"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
}

#[test]
fn del_removes_documents() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "DEL doc:1 doc:3 doc:nosuch"), 2);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2"]));
    // The name can be reused.
    put(&mut c, "doc:1", "green", 9.0, [9.0, 9.0]);
    verify(&mut c);
}

#[test]
fn unlink_removes_documents() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "UNLINK doc:2 doc:3"), 2);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1"]));
}

#[test]
fn expire_lazily_when_read() {
    let (_s, mut c) = setup();
    assert_eq!(c.q("DEBUG SET-ACTIVE-EXPIRE 0"), V::ok());
    three_docs(&mut c);
    assert_eq!(int(&mut c, "PEXPIRE doc:1 100"), 1);
    assert_eq!(int(&mut c, "EXPIRE doc:2 100"), 1);
    verify(&mut c);
    sleep(Duration::from_millis(250));
    // Reading the key finds it expired and deletes it.
    assert_eq!(int(&mut c, "EXISTS doc:1"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
}

#[test]
fn expired_keys_leave_results_before_they_are_reclaimed() {
    let (_s, mut c) = setup();
    // No expiry cycle and no key reads: only the query time can hide the documents.
    assert_eq!(c.q("DEBUG SET-ACTIVE-EXPIRE 0"), V::ok());
    three_docs(&mut c);
    assert_eq!(int(&mut c, "PEXPIRE doc:1 100"), 1);
    // A TTL set before the write that indexes the key is carried over by HSET.
    assert_eq!(int(&mut c, "PEXPIRE doc:3 100"), 1);
    assert_eq!(int(&mut c, "HSET doc:3 n 4"), 0);
    // A TTL removed again keeps the document.
    assert_eq!(int(&mut c, "PEXPIRE doc:2 100"), 1);
    assert_eq!(int(&mut c, "PERSIST doc:2"), 1);
    sleep(Duration::from_millis(250));
    assert_eq!(ids(&mut c, "*"), set(&["doc:2"]));
    assert_eq!(ids(&mut c, "@t:{red}"), set(&[]));
    assert_eq!(ids(&mut c, "@n:[-inf +inf]"), set(&["doc:2"]));
    assert_eq!(ids(&mut c, "-@t:{blue}"), set(&[]));
    assert_eq!(ids(&mut c, "beta"), set(&["doc:2"]));
    for field in ["v", "h"] {
        let hits = knn(&mut c, "idx", "*", field, [0.0, 0.0], 3).unwrap();
        assert_eq!(hits, [("doc:2".to_string(), 1.0)], "KNN on {field}");
    }
    // Nothing was reclaimed behind the query's back.
    assert_eq!(info_num(&mut c, "idx", "num_docs").unwrap(), 3.0);
    assert_eq!(c.q("DEBUG SET-ACTIVE-EXPIRE 1"), V::ok());
    verify_eventually(&mut c, Duration::from_secs(6));
}

#[test]
fn expire_actively_without_reads() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "EXPIRE doc:1 1"), 1);
    assert_eq!(int(&mut c, "PEXPIRE doc:3 200"), 1);
    // A TTL removed before it fires keeps the document.
    assert_eq!(int(&mut c, "PEXPIRE doc:2 100"), 1);
    assert_eq!(int(&mut c, "PERSIST doc:2"), 1);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
    // Only FT.SEARCH runs meanwhile: the expiry cycle alone must reach the index.
    wait_for_ids(
        &mut c,
        &[("*", &["doc:2"])],
        "actively expired keys not removed",
    );
    verify(&mut c);
}

#[test]
fn pexpireat_in_the_past_deletes_at_once() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "PEXPIREAT doc:1 1"), 1);
    assert_eq!(int(&mut c, "EXPIRE doc:2 -5"), 1);
    assert_eq!(ids(&mut c, "*"), set(&["doc:3"]));
    verify(&mut c);
}

#[test]
fn hash_field_ttl_removes_the_indexed_field() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(
        c.q("HPEXPIRE doc:1 150 FIELDS 1 t"),
        V::Array(vec![V::Int(1)])
    );
    assert_eq!(
        c.q("HEXPIRE doc:2 1 FIELDS 5 t n v h s"),
        V::Array(vec![V::Int(1); 5])
    );
    // Without reads of the keys, the field expiry must reach the index.
    wait_for_ids(
        &mut c,
        &[("@t:{red}", &["doc:3"]), ("*", &["doc:1", "doc:3"])],
        "expired hash fields still indexed",
    );
    verify(&mut c);
}

#[test]
fn rename_into_out_of_and_within_the_prefix() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(c.q("RENAME doc:1 other:1"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
    assert_eq!(c.q("RENAME other:1 doc:7"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:3", "doc:7"]));
    // Over an existing document: doc:3 takes doc:2's content.
    assert_eq!(c.q("RENAME doc:2 doc:3"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{blue}"), set(&["doc:3"]));
    assert_eq!(c.q("RENAME doc:3 doc:3"), V::ok());
    verify(&mut c);
    // A string renamed over a document removes it.
    assert_eq!(c.q("SET other:s x"), V::ok());
    assert_eq!(c.q("RENAME other:s doc:7"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:3"]));
}

#[test]
fn renamenx_only_to_free_names() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "RENAMENX doc:1 doc:2"), 0);
    verify(&mut c);
    assert_eq!(int(&mut c, "RENAMENX doc:1 doc:8"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3", "doc:8"]));
    assert_eq!(int(&mut c, "RENAMENX doc:8 away:8"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
}

#[test]
fn move_to_db1_and_back() {
    let (s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "MOVE doc:1 1"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
    let mut c1 = s.client();
    assert_eq!(c1.q("SELECT 1"), V::ok());
    assert_eq!(int(&mut c1, "HSET doc:1 t moved"), 0);
    verify(&mut c);
    assert_eq!(int(&mut c1, "MOVE doc:1 0"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{moved}"), set(&["doc:1"]));
    // A MOVE that fails because the name exists in db 1 changes nothing.
    assert_eq!(int(&mut c1, "HSET doc:2 t other"), 1);
    assert_eq!(int(&mut c, "MOVE doc:2 1"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
}

#[test]
fn copy_into_the_prefix_and_over_documents() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    put(&mut c, "other:1", "outside", 50.0, [7.0, 7.0]);
    verify(&mut c);
    assert_eq!(int(&mut c, "COPY other:1 doc:5"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{outside}"), set(&["doc:5"]));
    assert_eq!(int(&mut c, "COPY doc:1 doc:6"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[1 1]"), set(&["doc:1", "doc:6"]));
    assert_eq!(int(&mut c, "COPY doc:2 doc:1"), 0);
    assert_eq!(int(&mut c, "COPY doc:2 doc:1 REPLACE"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{blue}"), set(&["doc:1", "doc:2"]));
    // Into another database: not indexed.
    assert_eq!(int(&mut c, "COPY doc:3 doc:9 DB 1"), 1);
    verify(&mut c);
    assert!(!ids(&mut c, "*").contains("doc:9"));
    // A string copied over a document removes it.
    assert_eq!(c.q("SET str x"), V::ok());
    assert_eq!(int(&mut c, "COPY str doc:6 REPLACE"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3", "doc:5"]));
}

#[test]
fn type_change_over_a_hash_removes_the_document() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    put(&mut c, "doc:4", "green", 4.0, [4.0, 4.0]);
    assert_eq!(c.q("SET doc:1 plain"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3", "doc:4"]));
    // Store-style commands that overwrite their destination whatever its type.
    assert_eq!(int(&mut c, "RPUSH src 3 1 2"), 3);
    assert_eq!(int(&mut c, "SORT src STORE doc:2"), 3);
    assert_eq!(int(&mut c, "SADD s1 a b"), 2);
    assert_eq!(int(&mut c, "SUNIONSTORE doc:3 s1"), 2);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:4"]));
    assert!(c.q("SET doc:4 x GET").is_error());
    verify(&mut c);
    // And back to a hash: indexed again.
    assert_eq!(int(&mut c, "DEL doc:1"), 1);
    put(&mut c, "doc:1", "red", 1.0, [0.0, 0.0]);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:4"]));
}

#[test]
fn restore_of_a_dumped_hash() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    let payload = c.q("DUMP doc:1");
    let V::Bulk(payload) = payload else {
        panic!("DUMP: {payload:?}")
    };
    assert_eq!(int(&mut c, "DEL doc:1"), 1);
    verify(&mut c);
    let restore = |c: &mut Client, key: &str, extra: &[&str]| {
        let mut args: Vec<Vec<u8>> = vec![b"RESTORE".to_vec(), key.into(), b"0".to_vec()];
        args.push(payload.clone());
        args.extend(extra.iter().map(|a| a.as_bytes().to_vec()));
        c.cmd(&args)
    };
    assert_eq!(restore(&mut c, "doc:1", &[]), V::ok());
    verify(&mut c);
    assert_eq!(restore(&mut c, "doc:8", &[]), V::ok());
    assert_eq!(restore(&mut c, "doc:2", &["REPLACE"]), V::ok());
    verify(&mut c);
    assert_eq!(
        ids(&mut c, "@t:{red}"),
        set(&["doc:1", "doc:2", "doc:3", "doc:8"])
    );
    assert!(restore(&mut c, "doc:3", &[]).is_error());
    verify(&mut c);
}

/// After FLUSHDB / FLUSHALL of database 0 the index is gone, as in RediSearch: FT.SEARCH
/// answers `No such index idx`, FT._LIST is empty, and the name can be created again.
fn assert_index_dropped(c: &mut Client) {
    assert_eq!(c.q("FT.SEARCH idx *"), V::Error("No such index idx".into()));
    assert_eq!(c.q("FT._LIST"), V::Array(vec![]));
    assert_eq!(create_index(c, "idx", &["doc:"]), V::ok());
    put(c, "doc:4", "red", 4.0, [1.0, 1.0]);
    verify(c);
    assert_eq!(ids(c, "*"), set(&["doc:4"]));
}

#[test]
fn flushdb_drops_the_index_and_flushdb_of_db1_does_not() {
    let (s, mut c) = setup();
    three_docs(&mut c);
    let mut c1 = s.client();
    assert_eq!(c1.q("SELECT 1"), V::ok());
    assert_eq!(int(&mut c1, "HSET doc:1 t red"), 1);
    assert_eq!(c1.q("FLUSHDB"), V::ok());
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
    assert_eq!(c.q("FLUSHDB"), V::ok());
    assert_index_dropped(&mut c);
    assert_eq!(c.q("FLUSHDB ASYNC"), V::ok());
    assert_index_dropped(&mut c);
}

#[test]
fn flushall_drops_the_index() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(c.q("FT.ALIASADD a idx"), V::ok());
    assert_eq!(c.q("FLUSHALL"), V::ok());
    assert_eq!(c.q("FT.SEARCH a *"), V::Error("No such index a".into()));
    assert_index_dropped(&mut c);
}

#[test]
fn swapdb_reflects_the_new_db0_contents() {
    let (s, mut c) = setup();
    three_docs(&mut c);
    let mut c1 = s.client();
    assert_eq!(c1.q("SELECT 1"), V::ok());
    put(&mut c1, "doc:2", "green", 20.0, [2.0, 2.0]);
    put(&mut c1, "doc:4", "green", 40.0, [4.0, 0.0]);
    assert_eq!(c1.q("SET doc:5 notahash"), V::ok());

    assert_eq!(c.q("SWAPDB 0 1"), V::ok());
    verify_eventually(&mut c, Duration::from_secs(10));
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:4"]));
    assert_eq!(ids(&mut c, "@t:{green}"), set(&["doc:2", "doc:4"]));
    // Writes after the swap land in the index; writes to db 1 (the old db 0) do not.
    put(&mut c, "doc:6", "red", 6.0, [6.0, 6.0]);
    assert_eq!(int(&mut c1, "DEL doc:1"), 1);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:4", "doc:6"]));

    // A swap not involving db 0 changes nothing; swapping back restores the first contents.
    assert_eq!(c.q("SWAPDB 1 2"), V::ok());
    verify(&mut c);
    assert_eq!(c.q("SWAPDB 2 0"), V::ok());
    verify_eventually(&mut c, Duration::from_secs(10));
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
}

#[test]
fn multi_exec_applies_every_queued_write() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    put(&mut c, "doc:4", "green", 4.0, [4.0, 4.0]);
    assert_eq!(c.q("MULTI"), V::ok());
    let b = blob(&[-1.0, -1.0]);
    for args in [
        vec![
            b"HSET".to_vec(),
            b"doc:1".to_vec(),
            b"t".to_vec(),
            b"yellow".to_vec(),
        ],
        vec![
            b"HSET".to_vec(),
            b"doc:9".to_vec(),
            b"v".to_vec(),
            b.clone(),
        ],
        vec![b"HDEL".to_vec(), b"doc:2".to_vec(), b"t".to_vec()],
        vec![b"DEL".to_vec(), b"doc:3".to_vec()],
        vec![b"RENAME".to_vec(), b"doc:4".to_vec(), b"doc:5".to_vec()],
        vec![
            b"HSET".to_vec(),
            b"doc:6".to_vec(),
            b"t".to_vec(),
            b"gone".to_vec(),
        ],
        vec![b"DEL".to_vec(), b"doc:6".to_vec()],
    ] {
        assert_eq!(c.cmd(&args), V::Simple("QUEUED".into()));
    }
    let exec = c.q("EXEC");
    assert!(matches!(&exec, V::Array(r) if r.len() == 7), "{exec:?}");
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:5", "doc:9"]));
    assert_eq!(ids(&mut c, "@t:{yellow}"), set(&["doc:1"]));

    // SELECT inside the transaction: only the db 0 write reaches the index.
    assert_eq!(c.q("MULTI"), V::ok());
    for line in [
        "SELECT 1",
        "HSET doc:20 t indb1",
        "SELECT 0",
        "HSET doc:21 t indb0",
    ] {
        assert_eq!(c.q(line), V::Simple("QUEUED".into()));
    }
    assert!(matches!(c.q("EXEC"), V::Array(r) if r.len() == 4));
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{indb1}"), set(&[]));
    assert_eq!(ids(&mut c, "@t:{indb0}"), set(&["doc:21"]));

    // DISCARD applies nothing.
    assert_eq!(c.q("MULTI"), V::ok());
    assert_eq!(c.q("DEL doc:1"), V::Simple("QUEUED".into()));
    assert_eq!(c.q("DISCARD"), V::ok());
    verify(&mut c);
    assert!(ids(&mut c, "*").contains("doc:1"));
}

#[test]
fn eval_writes_through_redis_call() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    let script = "redis.call('HSET', KEYS[1], 't', ARGV[1], 'n', ARGV[2], 'v', ARGV[3], \
                  'h', ARGV[3]); redis.call('DEL', KEYS[2]); return 1";
    let b = blob(&[8.0, 8.0]);
    let reply = c.cmd(&[
        b"EVAL".as_ref(),
        script.as_bytes(),
        b"2",
        b"doc:7",
        b"doc:2",
        b"lua",
        b"77",
        &b,
    ]);
    assert_eq!(reply, V::Int(1));
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:3", "doc:7"]));
    assert_eq!(ids(&mut c, "@t:{lua}"), set(&["doc:7"]));
    // SELECT inside a script: writes to db 1 stay out of the index.
    let select = "redis.call('SELECT', 1); redis.call('HSET', KEYS[1], 't', 'luadb1'); \
                  redis.call('SELECT', 0); redis.call('HSET', KEYS[2], 't', 'luadb0')";
    assert_eq!(c.cmd(&["EVAL", select, "2", "doc:20", "doc:21"]), V::Nil);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{luadb1}"), set(&[]));
    assert_eq!(ids(&mut c, "@t:{luadb0}"), set(&["doc:21"]));
    // A script that fails after a write keeps the write.
    let failing = "redis.call('HSET', KEYS[1], 't', 'half'); redis.call('INCR', KEYS[1])";
    assert!(c.cmd(&["EVAL", failing, "1", "doc:1"]).is_error());
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{half}"), set(&["doc:1"]));
}

#[test]
fn getdel_like_commands_on_documents_change_nothing() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    // String commands that read-and-delete refuse hashes.
    for line in [
        "GETDEL doc:1",
        "GETEX doc:1 PX 10",
        "GETSET doc:2 x",
        "APPEND doc:3 x",
    ] {
        assert!(c.q(line).is_error(), "{line} should be WRONGTYPE");
    }
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
    // On a string under the prefix they work, and the index ignores them.
    assert_eq!(c.q("SET doc:s v"), V::ok());
    assert_eq!(c.q("GETDEL doc:s"), V::bulk("v"));
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
}

#[test]
fn keys_outside_the_prefix_are_ignored() {
    let (_s, mut c) = setup();
    put(&mut c, "other:1", "red", 1.0, [0.0, 0.0]);
    put(&mut c, "doc", "red", 1.0, [0.0, 0.0]);
    put(&mut c, "Doc:1", "red", 1.0, [0.0, 0.0]);
    put(&mut c, "xdoc:1", "red", 1.0, [0.0, 0.0]);
    put(&mut c, "doc:1", "red", 1.0, [0.0, 0.0]);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1"]));
    assert_eq!(int(&mut c, "DEL other:1 doc"), 2);
    verify(&mut c);
}

#[test]
fn overlapping_prefixes_feed_both_indexes() {
    let (_s, mut c) = setup();
    assert_eq!(create_index(&mut c, "idx2", &["doc:a", "other:"]), V::ok());
    put(&mut c, "doc:a1", "red", 1.0, [0.0, 0.0]);
    put(&mut c, "doc:a2", "red", 2.0, [1.0, 0.0]);
    put(&mut c, "doc:b1", "blue", 3.0, [2.0, 0.0]);
    put(&mut c, "other:1", "blue", 4.0, [3.0, 0.0]);
    let both = |c: &mut Client| {
        verify_index(c, "idx", &["doc:"]);
        verify_index(c, "idx2", &["doc:a", "other:"]);
    };
    both(&mut c);
    assert_eq!(
        search_ids(&mut c, "idx2", "*").unwrap(),
        set(&["doc:a1", "doc:a2", "other:1"])
    );
    assert_eq!(int(&mut c, "DEL doc:a1"), 1);
    both(&mut c);
    assert_eq!(c.q("RENAME doc:a2 other:2"), V::ok());
    both(&mut c);
    assert_eq!(c.q("RENAME doc:b1 doc:a3"), V::ok());
    both(&mut c);
    assert_eq!(int(&mut c, "HSET doc:a3 t green"), 0);
    both(&mut c);
    assert_eq!(
        search_ids(&mut c, "idx2", "@t:{green}").unwrap(),
        set(&["doc:a3"])
    );
    assert_eq!(ids(&mut c, "@t:{green}"), set(&["doc:a3"]));
}

#[test]
fn non_hash_keys_under_the_prefix_are_ignored() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    for line in [
        "SET doc:s x",
        "RPUSH doc:l a",
        "SADD doc:set a",
        "ZADD doc:z 1 a",
        "XADD doc:x * f v",
        "PFADD doc:hll a",
    ] {
        assert!(!c.q(line).is_error(), "{line}");
    }
    assert!(c.q("HSET doc:s t red").is_error());
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
    assert_eq!(
        info_num(&mut c, "idx", "hash_indexing_failures").unwrap(),
        0.0
    );
    assert_eq!(
        int(&mut c, "DEL doc:s doc:l doc:set doc:z doc:x doc:hll"),
        6
    );
    verify(&mut c);
}

#[test]
fn wrong_size_vector_blob_drops_the_document_until_fixed() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    let failures = |c: &mut Client| info_num(c, "idx", "hash_indexing_failures").unwrap();
    assert_eq!(failures(&mut c), 0.0);
    // A new document with a 7-byte blob: the write succeeds, the document is not indexed.
    let reply = c.cmd(&[b"HSET".as_ref(), b"doc:4", b"t", b"red", b"v", &[1u8; 7]]);
    assert_eq!(reply, V::Int(2));
    verify(&mut c);
    assert!(!ids(&mut c, "*").contains("doc:4"));
    assert_eq!(failures(&mut c), 1.0);
    // An indexed document updated with a 12-byte blob leaves every query, tags included.
    let reply = c.cmd(&[b"HSET".as_ref(), b"doc:1", b"h", &[0u8; 12]]);
    assert_eq!(reply, V::Int(0));
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:3"]));
    assert_eq!(failures(&mut c), 2.0);
    // Fixing the blobs indexes both again.
    let b = blob(&[0.25, 0.25]);
    c.cmd(&[b"HSET".as_ref(), b"doc:4", b"v", &b]);
    c.cmd(&[b"HSET".as_ref(), b"doc:1", b"h", &b]);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:1", "doc:3", "doc:4"]));
    assert!(failures(&mut c) >= 2.0, "failures are a running count");
}

#[test]
fn unparsable_numeric_drops_the_document_until_fixed() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    assert_eq!(int(&mut c, "HSET doc:1 n abc"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:2", "doc:3"]));
    assert_eq!(ids(&mut c, "@t:{red}"), set(&["doc:3"]));
    assert_eq!(
        info_num(&mut c, "idx", "hash_indexing_failures").unwrap(),
        1.0
    );
    assert_eq!(int(&mut c, "HSET doc:5 t red n 12abc"), 2);
    verify(&mut c);
    assert_eq!(int(&mut c, "HSET doc:1 n 12"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "@n:[12 12]"), set(&["doc:1"]));
}

#[test]
fn create_over_20000_keys_backfills_in_the_background() {
    backfill(20_000, "FLAT");
}

/// HNSW inserts are far slower (more so in a debug build), so fewer keys: the point is that
/// graph building during the scan does not stall other clients either.
#[test]
fn create_over_hnsw_keys_backfills_without_stalling_others() {
    backfill(1_000, "HNSW");
}

/// Pipelined HSETs of `doc:0` .. `doc:{n-1}`: tag `ten` for every tenth else `rest`, numeric
/// i, and the vector (i, i mod 7) in each of `vector_fields`.
fn load_docs(c: &mut Client, n: usize, vector_fields: &[&str]) {
    for start in (0..n).step_by(1000) {
        let end = n.min(start + 1000);
        for i in start..end {
            let b = blob(&[i as f32, (i % 7) as f32]);
            let tag = if i % 10 == 0 { "ten" } else { "rest" };
            let mut args = vec![
                b"HSET".to_vec(),
                format!("doc:{i}").into_bytes(),
                b"t".to_vec(),
                tag.as_bytes().to_vec(),
                b"n".to_vec(),
                i.to_string().into_bytes(),
            ];
            for f in vector_fields {
                args.push(f.as_bytes().to_vec());
                args.push(b.clone());
            }
            c.send(&args);
        }
        for _ in start..end {
            assert!(matches!(c.read(), V::Int(_)));
        }
    }
}

/// FT.CREATE over `n` existing hashes with a vector field of `algorithm`: FT.INFO shows the
/// scan in progress (`indexing` 1, `percent_indexed` < 1) then done (0, 1); a second client's
/// PINGs stay fast meanwhile; afterwards every document is searchable.
fn backfill(n: usize, algorithm: &str) {
    let _alone = TIMING.write().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(&[]);
    let mut c = server.client();
    load_docs(&mut c, n, &["v"]);
    assert_eq!(c.q("HSET other:1 t ten"), V::Int(1));

    // A second client measures PING round trips for the whole backfill.
    let stop = Arc::new(AtomicBool::new(false));
    let pinger = {
        let stop = stop.clone();
        let mut p = server.client();
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            let mut count = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                assert_eq!(p.q("PING"), V::Simple("PONG".into()));
                worst = worst.max(start.elapsed());
                count += 1;
                sleep(Duration::from_millis(1));
            }
            (worst, count)
        })
    };
    sleep(Duration::from_millis(50));

    // FT.CREATE and the first FT.INFO go out together, so FT.INFO runs right after creation.
    let mut create: Vec<u8> = Vec::new();
    let schema = format!(
        "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA t TAG n NUMERIC \
         v VECTOR {algorithm} 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2"
    );
    create.extend(common::encode_command(
        &schema.split_whitespace().collect::<Vec<_>>(),
    ));
    create.extend(common::encode_command(&["FT.INFO", "idx"]));
    c.send_raw(&create);
    assert_eq!(c.read(), V::ok());
    let started = Instant::now();
    let mut first_info = Some(c.read());
    let mut saw_partial = false;
    let mut snapshots = Vec::new();
    loop {
        let info = match first_info.take() {
            Some(reply) => reply,
            None => c.q("FT.INFO idx"),
        };
        let get = |name: &str| -> f64 {
            let items = info.items();
            let at = items
                .iter()
                .position(|v| matches!(v, V::Bulk(_) | V::Simple(_)) && v.text() == name)
                .unwrap_or_else(|| panic!("FT.INFO has no {name}: {info:?}"));
            items[at + 1].text().parse().unwrap()
        };
        let (indexing, percent) = (get("indexing"), get("percent_indexed"));
        snapshots.push((indexing, percent));
        if indexing == 1.0 && percent < 1.0 {
            saw_partial = true;
            assert!(percent >= 0.0, "percent_indexed {percent}");
        }
        if indexing == 0.0 {
            assert_eq!(percent, 1.0, "done but percent_indexed {percent}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "backfill of {n} keys still running after 120 s"
        );
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (worst_ping, pings) = pinger.join().unwrap();
    assert!(
        saw_partial,
        "never saw indexing 1 with percent_indexed < 1 (FT.INFO samples: {:?})",
        &snapshots[..snapshots.len().min(5)]
    );
    assert!(
        worst_ping < Duration::from_millis(200),
        "a PING took {worst_ping:?} during the backfill ({pings} pings, backfill {took:?})"
    );
    eprintln!("{algorithm} backfill of {n} keys: {took:?}; {pings} pings, worst {worst_ping:?}");
    assert_eq!(info_num(&mut c, "idx", "num_docs").unwrap(), n as f64);
    assert_eq!(search_ids(&mut c, "idx", "@t:{ten}").unwrap().len(), n / 10);
    let near = knn(&mut c, "idx", "*", "v", [100.0, 2.0], 1).unwrap();
    assert_eq!(near, vec![("doc:100".to_string(), 0.0)]);
}

#[test]
fn dropindex_keeps_keys_and_dd_deletes_them() {
    let (_s, mut c) = setup();
    assert_eq!(create_index(&mut c, "idx2", &["doc:a"]), V::ok());
    three_docs(&mut c);
    put(&mut c, "doc:a1", "red", 1.0, [0.0, 0.0]);
    put(&mut c, "other:1", "red", 1.0, [0.0, 0.0]);
    assert_eq!(c.q("FT.DROPINDEX idx"), V::ok());
    assert_eq!(int(&mut c, "DBSIZE"), 5);
    assert!(c.q("FT.SEARCH idx *").is_error());
    verify_index(&mut c, "idx2", &["doc:a"]);

    // Re-created over the same keys, then dropped with DD: its documents go, others stay.
    assert_eq!(create_index(&mut c, "idx", &["doc:"]), V::ok());
    wait_indexed(&mut c, "idx");
    verify(&mut c);
    assert_eq!(c.q("FT.DROPINDEX idx DD"), V::ok());
    assert_eq!(int(&mut c, "DBSIZE"), 1);
    assert_eq!(int(&mut c, "EXISTS other:1"), 1);
    // The keys DD deleted left the other index too.
    verify_index(&mut c, "idx2", &["doc:a"]);
    assert!(search_ids(&mut c, "idx2", "*").unwrap().is_empty());
}

#[test]
fn create_in_db1_is_refused() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SELECT 1"), V::ok());
    let reply = create_index(&mut c, "idx", &["doc:"]);
    assert_eq!(reply, V::err("Cannot create index on db != 0"));
    assert_eq!(c.q("SELECT 0"), V::ok());
    assert!(c.q("FT.INFO idx").is_error());
}

#[test]
fn writes_in_db1_never_reach_indexes() {
    let (s, mut c) = setup();
    three_docs(&mut c);
    let mut c1 = s.client();
    assert_eq!(c1.q("SELECT 1"), V::ok());
    // Same names as db 0's documents, and new ones.
    put(&mut c1, "doc:1", "db1", 100.0, [9.0, 9.0]);
    put(&mut c1, "doc:7", "db1", 700.0, [9.0, 9.0]);
    verify(&mut c);
    assert_eq!(int(&mut c1, "HDEL doc:1 t"), 1);
    assert_eq!(int(&mut c1, "DEL doc:1"), 1);
    assert_eq!(c1.q("RENAME doc:7 doc:2"), V::ok());
    assert_eq!(int(&mut c1, "PEXPIRE doc:2 10"), 1);
    assert_eq!(c1.q("MULTI"), V::ok());
    assert_eq!(c1.q("HSET doc:3 t db1"), V::Simple("QUEUED".into()));
    assert_eq!(c1.q("DEL doc:3"), V::Simple("QUEUED".into()));
    assert!(matches!(c1.q("EXEC"), V::Array(_)));
    let script = "redis.call('HSET', KEYS[1], 't', 'db1'); return redis.call('DEL', KEYS[1])";
    assert_eq!(c1.cmd(&["EVAL", script, "1", "doc:3"]), V::Int(1));
    sleep(Duration::from_millis(200));
    assert_eq!(int(&mut c1, "EXISTS doc:2"), 0);
    verify(&mut c);
    assert_eq!(ids(&mut c, "*"), set(&["doc:1", "doc:2", "doc:3"]));
    assert_eq!(ids(&mut c, "@t:{db1}"), set(&[]));
}

/// Writes racing the background scan: FT.CREATE over 2,000 documents while another client
/// updates, deletes, renames and creates documents until the scan is done. Whatever the
/// interleaving, the finished index must equal the keyspace.
#[test]
fn writes_during_the_backfill_end_consistent() {
    let server = Server::start(&[]);
    let mut c = server.client();
    load_docs(&mut c, 2000, &["v", "h"]);
    assert_eq!(create_index(&mut c, "idx", &["doc:"]), V::ok());
    let mut rng = Rng::new(42);
    let mut writes = 0;
    loop {
        let scanning = info_num(&mut c, "idx", "indexing").unwrap() == 1.0;
        for _ in 0..20 {
            let key = format!("doc:{}", rng.below(2200));
            let line = match rng.below(5) {
                0 => format!("DEL {key}"),
                1 => format!("RENAME {key} doc:{}", rng.below(2200)),
                2 => format!("HSET {key} n {}", rng.below(100)),
                3 => format!("HDEL {key} t"),
                _ => format!("HSET {key} t changed s alpha"),
            };
            c.q(&line);
            writes += 1;
        }
        if !scanning {
            break;
        }
    }
    eprintln!("{writes} writes raced the backfill");
    verify(&mut c);
}

/// Several clients write the same few keys at once (single commands and MULTI blocks) while
/// another searches; afterwards the index must equal the keyspace.
#[test]
fn concurrent_writers_leave_the_index_equal_to_the_keyspace() {
    let (s, mut c) = setup();
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let mut c = s.client();
            std::thread::spawn(move || {
                let mut rng = Rng::new(w);
                for _ in 0..300 {
                    let key = format!("doc:{}", rng.below(40));
                    let b = blob(&[rng.below(9) as f32, rng.below(9) as f32]);
                    let multi = rng.chance(0.1);
                    if multi {
                        assert_eq!(c.q("MULTI"), V::ok());
                    }
                    let reply = match rng.below(6) {
                        0 => c.q(&format!("DEL {key}")),
                        1 => c.q(&format!("RENAME {key} doc:{}", rng.below(40))),
                        2 => c.q(&format!("HDEL {key} t v")),
                        3 => c.q(&format!("HINCRBY {key} n 1")),
                        _ => c.cmd(&[
                            b"HSET".as_ref(),
                            key.as_bytes(),
                            b"t",
                            rng.pick(&["red", "blue"]).as_bytes(),
                            b"v",
                            &b,
                            b"h",
                            &b,
                            b"s",
                            rng.pick(&["alpha", "beta gamma"]).as_bytes(),
                        ]),
                    };
                    if multi {
                        assert_eq!(reply, V::Simple("QUEUED".into()));
                        assert!(matches!(c.q("EXEC"), V::Array(_)));
                    }
                }
            })
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let mut r = s.client();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // Keys may vanish between the index lookup and loading (nil fields).
                for field in ["v", "h"] {
                    let query = format!("(@t:{{red}})=>[KNN 5 @{field} $q AS d]");
                    let reply = r.cmd(&[
                        b"FT.SEARCH".as_ref(),
                        b"idx",
                        query.as_bytes(),
                        b"PARAMS",
                        b"2",
                        b"q",
                        &blob(&[4.0, 4.0]),
                        b"SORTBY",
                        b"d",
                        b"DIALECT",
                        b"2",
                    ]);
                    parse_search(&reply, true)
                        .unwrap_or_else(|e| panic!("search during writes: {e}"));
                }
                search_ids(&mut r, "idx", "*").unwrap_or_else(|e| panic!("{e}"));
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    let hashes = snapshot(&mut c);
    check_index(&mut c, "idx", &["doc:"], &hashes, Hnsw::LiveHitsOnly)
        .unwrap_or_else(|e| panic!("index out of step after concurrent writes: {e}"));
}

/// FT.CREATE ... FILTER: only hashes for which the expression holds belong to the index, and a
/// write that changes the outcome moves the document in or out (backfill applies it too).
#[test]
fn filter_expression_selects_documents() {
    let (_s, mut c) = setup();
    three_docs(&mut c);
    let create = "FT.CREATE big ON HASH PREFIX 1 doc: FILTER @n>2 SCHEMA t TAG n NUMERIC";
    assert_eq!(c.q(create), V::ok());
    wait_indexed(&mut c, "big");
    let big = |c: &mut Client| search_ids(c, "big", "*").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(big(&mut c), set(&["doc:3"]));
    assert_eq!(int(&mut c, "HSET doc:1 n 10"), 0);
    assert_eq!(big(&mut c), set(&["doc:1", "doc:3"]));
    assert_eq!(int(&mut c, "HSET doc:3 n 0"), 0);
    assert_eq!(big(&mut c), set(&["doc:1"]));
    assert_eq!(int(&mut c, "HSET doc:9 t x n 5"), 2);
    assert_eq!(big(&mut c), set(&["doc:1", "doc:9"]));
    assert_eq!(int(&mut c, "DEL doc:1"), 1);
    assert_eq!(big(&mut c), set(&["doc:9"]));
    // The unfiltered index is unaffected.
    verify(&mut c);
}
