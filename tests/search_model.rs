//! Model test: a seeded random sequence of writes (HSET with random tag / numeric / vector / text,
//! HDEL, HINCRBY, DEL, RENAME, PEXPIRE with short TTLs, EXPIRE 0, MULTI blocks) over ~200 keys,
//! mirrored in a brute-force model of the hashes. Every few steps the keyspace must equal the
//! model, and FT.SEARCH (`*`, tags, numeric ranges, exact KNN k=5 on FLAT, live hits on HNSW)
//! must equal the model's brute-force answers (text words too).
//!
//! `FERRO_SEARCH_SEED` (default fixed) and `FERRO_SEARCH_STEPS` (default 3000) replay or
//! lengthen a run; failures print the seed.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::ft::{Hashes, Hnsw, Rng, blob, check_index, create_index, snapshot};
use common::{Client, Server, V};

const DOCS: usize = 200;
const OTHERS: usize = 20;
const CHECK_EVERY: usize = 100;
/// A key whose expiry is this close is in doubt: the server may or may not have passed it by
/// the time a command reaches it, so the test waits until it surely has.
const DOUBT: Duration = Duration::from_millis(100);
/// No key may expire while a check runs: checks first wait out expiries this close, which
/// covers every TTL the test sets (at most [`MAX_TTL_MS`]).
const CHECK_HORIZON: Duration = Duration::from_secs(1);
const MAX_TTL_MS: usize = 250;

const TAGS: &[&str] = &[
    "red",
    "green",
    "blue",
    "Blue",
    "red,green",
    "yellow",
    "purple",
];
const FIELDS: &[&str] = &["t", "n", "v", "h", "s"];
const WORDS: &[&str] = &["alpha", "beta", "gamma", "delta", "omega", "kappa"];

#[derive(Clone, Debug)]
struct Key {
    fields: BTreeMap<String, Vec<u8>>,
    /// Earliest and latest instant the server's deadline can be (send / reply time + TTL).
    expiry: Option<(Instant, Instant)>,
}

/// The brute-force model of database 0.
#[derive(Default)]
struct Model {
    keys: BTreeMap<String, Key>,
}

impl Model {
    /// Drops `key` if its TTL surely passed, waiting out a doubtful one first.
    fn settle(&mut self, key: &str, horizon: Duration) {
        let Some((earliest, latest)) = self.keys.get(key).and_then(|k| k.expiry) else {
            return;
        };
        let now = Instant::now();
        if now + horizon < earliest {
            return;
        }
        let sure = latest + Duration::from_millis(3);
        if now < sure {
            std::thread::sleep(sure - now);
        }
        self.keys.remove(key);
    }

    fn hashes(&self) -> Hashes {
        self.keys
            .iter()
            .map(|(k, v)| (k.clone(), v.fields.clone()))
            .collect()
    }
}

/// One write: the arguments and how it changes the model (`apply` returns the reply the
/// server must give, checked loosely: error or not).
#[derive(Debug)]
enum Op {
    Hset(String, Vec<(String, Vec<u8>)>),
    Hdel(String, Vec<String>),
    Hincrby(String, i64),
    Del(String),
    Rename(String, String),
    Pexpire(String, u64),
    /// EXPIRE key 0: deletes at once.
    ExpireNow(String),
}

impl Op {
    fn keys(&self) -> Vec<&str> {
        match self {
            Op::Rename(a, b) => vec![a, b],
            Op::Hset(k, _)
            | Op::Hdel(k, _)
            | Op::Hincrby(k, _)
            | Op::Del(k)
            | Op::Pexpire(k, _)
            | Op::ExpireNow(k) => {
                vec![k]
            }
        }
    }

    fn args(&self) -> Vec<Vec<u8>> {
        let mut args: Vec<Vec<u8>> = Vec::new();
        let mut push = |s: &[u8]| args.push(s.to_vec());
        match self {
            Op::Hset(k, fields) => {
                push(b"HSET");
                push(k.as_bytes());
                for (f, v) in fields {
                    push(f.as_bytes());
                    push(v);
                }
            }
            Op::Hdel(k, fields) => {
                push(b"HDEL");
                push(k.as_bytes());
                fields.iter().for_each(|f| push(f.as_bytes()));
            }
            Op::Hincrby(k, by) => {
                push(b"HINCRBY");
                push(k.as_bytes());
                push(b"n");
                push(by.to_string().as_bytes());
            }
            Op::Del(k) => {
                push(b"DEL");
                push(k.as_bytes());
            }
            Op::Rename(a, b) => {
                push(b"RENAME");
                push(a.as_bytes());
                push(b.as_bytes());
            }
            Op::Pexpire(k, ms) => {
                push(b"PEXPIRE");
                push(k.as_bytes());
                push(ms.to_string().as_bytes());
            }
            Op::ExpireNow(k) => {
                push(b"EXPIRE");
                push(k.as_bytes());
                push(b"0");
            }
        }
        args
    }

    /// Applies the op to the model; `sent` / `replied` bound when the server ran it. Returns
    /// whether the server must answer with an error.
    fn apply(&self, m: &mut Model, sent: Instant, replied: Instant) -> bool {
        match self {
            Op::Hset(k, fields) => {
                let key = m.keys.entry(k.clone()).or_insert(Key {
                    fields: BTreeMap::new(),
                    expiry: None,
                });
                key.fields.extend(fields.iter().cloned());
                false
            }
            Op::Hdel(k, fields) => {
                if let Some(key) = m.keys.get_mut(k) {
                    fields.iter().for_each(|f| {
                        key.fields.remove(f);
                    });
                    if key.fields.is_empty() {
                        m.keys.remove(k);
                    }
                }
                false
            }
            Op::Hincrby(k, by) => {
                let key = m.keys.entry(k.clone()).or_insert(Key {
                    fields: BTreeMap::new(),
                    expiry: None,
                });
                let current = match key.fields.get("n") {
                    None => Some(0),
                    Some(v) => std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok()),
                };
                match current {
                    Some(n) => {
                        key.fields
                            .insert("n".into(), (n + by).to_string().into_bytes());
                        false
                    }
                    None => {
                        if key.fields.is_empty() {
                            m.keys.remove(k);
                        }
                        true
                    }
                }
            }
            Op::Del(k) | Op::ExpireNow(k) => {
                m.keys.remove(k);
                false
            }
            Op::Rename(a, b) => match m.keys.remove(a) {
                Some(key) => {
                    m.keys.insert(b.clone(), key);
                    false
                }
                None => true,
            },
            Op::Pexpire(k, ms) => {
                if let Some(key) = m.keys.get_mut(k) {
                    let ttl = Duration::from_millis(*ms);
                    key.expiry = Some((sent + ttl, replied + ttl));
                }
                false
            }
        }
    }
}

fn random_key(rng: &mut Rng) -> String {
    if rng.chance(0.9) {
        format!("doc:{}", rng.below(DOCS))
    } else {
        format!("other:{}", rng.below(OTHERS))
    }
}

fn random_value(rng: &mut Rng, field: &str) -> Vec<u8> {
    match field {
        "t" => rng.pick(TAGS).as_bytes().to_vec(),
        "s" => (0..1 + rng.below(3))
            .map(|_| *rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
        "n" => {
            if rng.chance(0.02) {
                rng.pick(&["abc", "12abc"]).as_bytes().to_vec()
            } else if rng.chance(0.3) {
                (rng.below(400) as f64 / 4.0 - 50.0)
                    .to_string()
                    .into_bytes()
            } else {
                (rng.below(101) as i64 - 50).to_string().into_bytes()
            }
        }
        _ => {
            if rng.chance(0.02) {
                vec![7u8; *rng.pick(&[4usize, 7, 12])]
            } else {
                let mut coord = || rng.below(41) as f32 / 2.0 - 10.0;
                blob(&[coord(), coord()])
            }
        }
    }
}

fn random_op(rng: &mut Rng) -> Op {
    let key = random_key(rng);
    match rng.below(100) {
        0..45 => {
            let mut fields = Vec::new();
            for f in FIELDS {
                if rng.chance(0.6) {
                    fields.push((f.to_string(), random_value(rng, f)));
                }
            }
            if fields.is_empty() {
                fields.push(("t".into(), random_value(rng, "t")));
            }
            Op::Hset(key, fields)
        }
        45..57 => {
            let mut fields = vec![rng.pick(FIELDS).to_string()];
            if rng.chance(0.4) {
                fields.push(rng.pick(FIELDS).to_string());
            }
            Op::Hdel(key, fields)
        }
        57..62 => Op::Hincrby(key, rng.below(21) as i64 - 10),
        62..72 => Op::Del(key),
        72..84 => Op::Rename(key, random_key(rng)),
        84..87 => Op::ExpireNow(key),
        _ => Op::Pexpire(key, 10 + rng.below(MAX_TTL_MS - 10) as u64),
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

fn compare(c: &mut Client, m: &mut Model, seed: u64, step: usize) {
    let keys: Vec<String> = m.keys.keys().cloned().collect();
    let mut expired = Vec::new();
    for k in &keys {
        m.settle(k, CHECK_HORIZON);
        if !m.keys.contains_key(k) {
            expired.push(k.clone());
        }
    }
    // Reading an expired key deletes it (the model's view); active expiry may not have yet.
    for k in &expired {
        assert_eq!(
            c.cmd(&["EXISTS", k]),
            V::Int(0),
            "seed {seed} step {step}: {k}"
        );
    }
    let want = m.hashes();
    let got = snapshot(c);
    if got != want {
        let diff: Vec<&String> = want
            .keys()
            .chain(got.keys())
            .filter(|k| want.get(*k) != got.get(*k))
            .collect();
        let show = |h: &Hashes, k: &String| format!("{:?}", h.get(k));
        let details: Vec<String> = diff
            .iter()
            .map(|k| {
                let now = Instant::now();
                let ttl = m.keys.get(*k).and_then(|key| key.expiry).map(|(lo, hi)| {
                    (
                        lo.saturating_duration_since(now),
                        hi.saturating_duration_since(now),
                    )
                });
                format!(
                    "{k}: server {} model {} (model TTL window from now {ttl:?})",
                    show(&got, k),
                    show(&want, k)
                )
            })
            .collect();
        panic!(
            "seed {seed} step {step}: keyspace differs from the model (a keyspace or model \
             bug, not the index): {details:#?}"
        );
    }
    if let Err(e) = check_index(c, "idx", &["doc:"], &want, Hnsw::LiveHitsOnly) {
        panic!(
            "seed {seed} step {step}: index differs from the model: {e}\n\
             replay: FERRO_SEARCH_SEED={seed} FERRO_SEARCH_STEPS={step} \
             cargo test --test search_model"
        );
    }
}

#[test]
fn random_writes_keep_ft_search_equal_to_a_brute_force_model() {
    let seed = env_number("FERRO_SEARCH_SEED", 0x5EED_F00D);
    let steps = env_number("FERRO_SEARCH_STEPS", 3000) as usize;
    eprintln!("search_model: FERRO_SEARCH_SEED={seed} FERRO_SEARCH_STEPS={steps}");
    let mut rng = Rng::new(seed);
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(create_index(&mut c, "idx", &["doc:"]), V::ok());
    let mut m = Model::default();
    let started = Instant::now();

    let mut step = 0;
    while step < steps {
        let block: Vec<Op> = if rng.chance(0.05) {
            (0..2 + rng.below(3)).map(|_| random_op(&mut rng)).collect()
        } else {
            vec![random_op(&mut rng)]
        };
        for op in &block {
            for k in op.keys() {
                m.settle(k, DOUBT);
            }
        }
        let sent = Instant::now();
        let replies = if block.len() == 1 {
            vec![c.cmd(&block[0].args())]
        } else {
            assert_eq!(c.q("MULTI"), V::ok());
            for op in &block {
                assert_eq!(c.cmd(&op.args()), V::Simple("QUEUED".into()));
            }
            match c.q("EXEC") {
                V::Array(replies) => replies,
                other => panic!("seed {seed} step {step}: EXEC: {other:?}"),
            }
        };
        let replied = Instant::now();
        for (op, reply) in block.iter().zip(&replies) {
            let must_fail = op.apply(&mut m, sent, replied);
            assert_eq!(
                reply.is_error(),
                must_fail,
                "seed {seed} step {step}: {op:?} answered {reply:?}"
            );
        }
        let before = step;
        step += block.len();
        if before / CHECK_EVERY != step / CHECK_EVERY {
            compare(&mut c, &mut m, seed, step);
        }
    }
    compare(&mut c, &mut m, seed, step);
    eprintln!(
        "search_model: {steps} steps in {:?}, {} keys at the end",
        started.elapsed(),
        m.keys.len()
    );
}
