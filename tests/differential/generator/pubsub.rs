//! Pub/sub and keyspace notifications. Each step subscribes one connection, acts on another
//! and reads every frame the subscriber must get, then unsubscribes, so all connections are
//! ordinary again for later steps. The generator predicts how many frames arrive (it knows
//! what it subscribed to and which keyspace events its commands raise); the runner compares
//! them byte for byte, in whatever protocol each connection speaks at the time.
//!
//! At most one pattern is subscribed at a time: when several patterns match one channel,
//! Redis delivers their `pmessage`s in its hash table's order.

use super::{Check::*, Entry, Gen, ops};
use crate::ops::{Arg, Op, argv};

const CHANNELS: &[&str] = &["ch:1", "ch:2", "news.a", "news.b"];
/// Whether a pattern matches a pool channel (the generator's own glob for its patterns).
type Matches = fn(&str) -> bool;
/// Patterns and which pool channels they match.
const PATTERNS: &[(&str, Matches)] = &[
    ("ch:*", |c| c.starts_with("ch:")),
    ("news.*", |c| c.starts_with("news.")),
    ("*.b", |c| c.ends_with(".b")),
    ("ch:?", |c| c.starts_with("ch:") && c.len() == 4),
];
const SHARD_CHANNELS: &[&str] = &["sh:1", "sh:2"];
/// `notify-keyspace-events` values. Never `x` (or `A`): active expiry of other steps' keys
/// would announce at times the two servers do not share.
const EVENT_CLASSES: &[&str] = &[
    "KEg$h", "K$", "Eg", "Kgh", "E$hn", "g$", "KE$n", "Eh", "Kgn", "Kgm", "E$m",
];

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        ops(6, "SUBSCRIBE / PSUBSCRIBE + PUBLISH", |g| g.channel_step()),
        ops(3, "SSUBSCRIBE + SPUBLISH", |g| g.shard_step()),
        ops(6, "keyspace notifications", |g| g.keyspace_step()),
    ]
}

/// One keyspace event: whether it is a keyspace-class (`g`), string (`$`) or hash (`h`)
/// event, and its name.
type Event = (char, &'static str);

/// What the keyspace step's keys hold, to predict the events of each command.
#[derive(Default, Clone)]
struct Model {
    s: bool,
    t: bool,
    h: bool,
    n: bool,
    n_ttl: bool,
}

impl Model {
    fn exists(&self, key: &[u8]) -> bool {
        match key {
            b"ps:s" => self.s,
            b"ps:t" => self.t,
            b"ps:h" => self.h,
            b"ps:n" => self.n,
            _ => false,
        }
    }
}

impl Gen {
    /// Two different connections: the subscriber and the one that acts.
    fn pubsub_pair(&mut self) -> (usize, usize) {
        let sub = self.conn();
        let mut other = self.conn();
        while other == sub {
            other = self.conn();
        }
        (sub, other)
    }

    /// A command on `conn` compared exactly.
    fn on(conn: usize, argv: Vec<Arg>) -> Op {
        Op::Cmd {
            conn,
            argv,
            check: Exact,
        }
    }

    /// `argv` sent on `conn`, then `frames` replies read there.
    fn send_recv(ops: &mut Vec<Op>, conn: usize, argv: Vec<Arg>, frames: usize) {
        ops.push(Op::Send { conn, argv });
        ops.extend((0..frames).map(|_| Op::Recv { conn, check: Exact }));
    }

    /// Introspection first: the step's own command, which the generator may mangle, must
    /// not change what the subscriber receives.
    fn introspection(&mut self, conn: usize) -> Op {
        let argv = match self.rng.range(0, 5) {
            0 => argv!["PUBSUB", "NUMPAT"],
            1 => argv!["PUBSUB", "NUMSUB", self.pick(CHANNELS)],
            2 => argv!["PUBSUB", "SHARDNUMSUB", self.pick(SHARD_CHANNELS)],
            3 => argv!["PUBSUB", "HELP"],
            4 => argv![
                "PUBSUB",
                self.pick(&["BOGUS", "CHANNELS", "SHARDCHANNELS"]),
                "a",
                "b"
            ],
            _ => argv!["PUBSUB", "NUMSUB"],
        };
        Gen::on(conn, argv)
    }

    /// What a subscriber may run meanwhile: in RESP2 subscribed mode PING answers in the
    /// pub/sub shape and other commands are refused; in RESP3 they run.
    fn while_subscribed(&mut self, conn: usize) -> Op {
        let argv = match self.rng.range(0, 3) {
            0 => argv!["PING"],
            1 => argv!["PING", "hi"],
            2 => argv!["GET", "ch:1"],
            _ => argv!["PUBSUB", "NUMPAT"],
        };
        Gen::on(conn, argv)
    }

    fn channel_step(&mut self) -> Vec<Op> {
        let (sub, publisher) = self.pubsub_pair();
        let mut ops = vec![self.introspection(publisher)];
        let mut channels: Vec<&str> = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let c = self.pick(CHANNELS);
            if !channels.contains(&c) {
                channels.push(c);
            }
        }
        let mut subscribe = argv!["SUBSCRIBE"];
        subscribe.extend(channels.iter().map(|c| Arg::from(*c)));
        Gen::send_recv(&mut ops, sub, subscribe, channels.len());
        let pattern = self
            .chance(60)
            .then(|| PATTERNS[self.rng.range(0, PATTERNS.len() as i64 - 1) as usize]);
        if let Some((p, _)) = pattern {
            Gen::send_recv(&mut ops, sub, argv!["PSUBSCRIBE", p], 1);
        }
        if self.chance(40) {
            ops.push(self.while_subscribed(sub));
        }
        ops.push(Gen::on(
            publisher,
            argv!["PUBSUB", "NUMSUB", "ch:1", "ch:2", "news.a", "news.b"],
        ));
        ops.push(Gen::on(publisher, argv!["PUBSUB", "NUMPAT"]));
        ops.push(Op::Cmd {
            conn: publisher,
            argv: argv![
                "PUBSUB",
                "CHANNELS",
                self.pick(&["*", "ch:*", "news.?", "zz"])
            ],
            check: Unordered,
        });
        for _ in 0..self.rng.range(1, 3) {
            let channel = self.pick(CHANNELS);
            let message = self.value();
            ops.push(Gen::on(publisher, argv!["PUBLISH", channel, message]));
            let frames = usize::from(channels.contains(&channel))
                + usize::from(pattern.is_some_and(|(_, matches)| matches(channel)));
            ops.extend((0..frames).map(|_| Op::Recv {
                conn: sub,
                check: Exact,
            }));
        }
        // Leave by name (with a channel never joined now and then): UNSUBSCRIBE without
        // names goes through Redis's hash table order.
        let mut unsubscribe = argv!["UNSUBSCRIBE"];
        unsubscribe.extend(channels.iter().map(|c| Arg::from(*c)));
        let mut frames = channels.len();
        if self.chance(20) {
            unsubscribe.push("never".into());
            frames += 1;
        }
        Gen::send_recv(&mut ops, sub, unsubscribe, frames);
        if pattern.is_some() || self.chance(20) {
            // With nothing left this is one frame with a nil pattern.
            Gen::send_recv(&mut ops, sub, argv!["PUNSUBSCRIBE"], 1);
        }
        ops
    }

    fn shard_step(&mut self) -> Vec<Op> {
        let (sub, publisher) = self.pubsub_pair();
        let mut ops = vec![self.introspection(publisher)];
        let channel = self.pick(SHARD_CHANNELS);
        Gen::send_recv(&mut ops, sub, argv!["SSUBSCRIBE", channel], 1);
        if self.chance(40) {
            ops.push(self.while_subscribed(sub));
        }
        ops.push(Gen::on(
            publisher,
            argv!["PUBSUB", "SHARDNUMSUB", "sh:1", "sh:2"],
        ));
        ops.push(Gen::on(publisher, argv!["PUBSUB", "SHARDCHANNELS"]));
        for _ in 0..self.rng.range(1, 2) {
            let target = self.pick(SHARD_CHANNELS);
            let message = self.value();
            ops.push(Gen::on(publisher, argv!["SPUBLISH", target, message]));
            if target == channel {
                ops.push(Op::Recv {
                    conn: sub,
                    check: Exact,
                });
            }
        }
        // By name, or all of them (one channel, so the order is fixed).
        let leave = if self.chance(50) {
            argv!["SUNSUBSCRIBE", channel]
        } else {
            argv!["SUNSUBSCRIBE"]
        };
        Gen::send_recv(&mut ops, sub, leave, 1);
        ops
    }

    fn keyspace_step(&mut self) -> Vec<Op> {
        let (sub, actor) = self.pubsub_pair();
        let mut ops = vec![self.introspection(actor)];
        let classes = self.pick(EVENT_CLASSES);
        ops.push(Gen::on(
            actor,
            argv!["CONFIG", "SET", "notify-keyspace-events", classes],
        ));
        Gen::send_recv(&mut ops, sub, argv!["PSUBSCRIBE", "__key*__:*"], 1);
        // Frames per event of each class: one per enabled channel kind (K, E).
        let per_event = usize::from(classes.contains('K')) + usize::from(classes.contains('E'));
        let frames = |events: &[Event]| -> usize {
            events
                .iter()
                .filter(|(class, _)| classes.contains(*class))
                .count()
                * per_event
        };
        let mut model = Model::default();
        for _ in 0..self.rng.range(2, 6) {
            let (argv, events) = self.keyspace_action(&mut model);
            ops.push(Gen::on(actor, argv));
            let n = frames(&events);
            ops.extend((0..n).map(|_| Op::Recv {
                conn: sub,
                check: Exact,
            }));
        }
        // Clean up: the keys never outlive the step.
        let mut events = Vec::new();
        for exists in [model.s, model.t, model.h, model.n] {
            if exists {
                events.push(('g', "del"));
            }
        }
        ops.push(Gen::on(actor, argv!["DEL", "ps:s", "ps:t", "ps:h", "ps:n"]));
        let n = frames(&events);
        ops.extend((0..n).map(|_| Op::Recv {
            conn: sub,
            check: Exact,
        }));
        Gen::send_recv(&mut ops, sub, argv!["PUNSUBSCRIBE", "__key*__:*"], 1);
        ops.push(Gen::on(
            actor,
            argv!["CONFIG", "SET", "notify-keyspace-events", ""],
        ));
        ops
    }

    /// One write on the step's keys and the events Redis raises for it.
    fn keyspace_action(&mut self, m: &mut Model) -> (Vec<Arg>, Vec<Event>) {
        let before = m.clone();
        let (argv, events) = self.keyspace_write(m);
        // A write that adds its key announces `new` before its own event; a RENAME that
        // succeeds adds its target afresh even over an existing key.
        let adds = match (argv.first(), argv.get(1)) {
            (Some(Arg::Lit(name)), _) if name == b"RENAME" => before.s,
            (_, Some(Arg::Lit(key))) => !before.exists(key) && m.exists(key),
            _ => false,
        };
        let mut all = Vec::new();
        if adds {
            all.push(('n', "new"));
        }
        all.extend(events);
        (argv, all)
    }

    /// One write on the step's keys and its events other than `new`.
    fn keyspace_write(&mut self, m: &mut Model) -> (Vec<Arg>, Vec<Event>) {
        match self.rng.range(0, 11) {
            0 => {
                m.s = true;
                if self.chance(30) {
                    (
                        argv!["SET", "ps:s", self.value(), "EX", "1000"],
                        vec![('$', "set"), ('g', "expire")],
                    )
                } else {
                    (argv!["SET", "ps:s", self.value()], vec![('$', "set")])
                }
            }
            1 => {
                m.s = true;
                (argv!["APPEND", "ps:s", "x"], vec![('$', "append")])
            }
            2 => {
                m.n = true;
                (argv!["INCRBY", "ps:n", "2"], vec![('$', "incrby")])
            }
            3 => {
                m.h = true;
                (
                    argv!["HSET", "ps:h", "f", self.value()],
                    vec![('h', "hset")],
                )
            }
            4 => {
                m.h = true;
                (argv!["HINCRBY", "ps:h", "n", "1"], vec![('h', "hincrby")])
            }
            5 => {
                // The hash only ever holds f and n: it is emptied and deleted.
                let events = if m.h {
                    vec![('h', "hdel"), ('g', "del")]
                } else {
                    vec![]
                };
                m.h = false;
                (argv!["HDEL", "ps:h", "f", "n"], events)
            }
            6 => {
                let events = if m.n { vec![('g', "expire")] } else { vec![] };
                m.n_ttl |= m.n;
                (argv!["EXPIRE", "ps:n", "1000"], events)
            }
            7 => {
                let events = if m.n && m.n_ttl {
                    vec![('g', "persist")]
                } else {
                    vec![]
                };
                m.n_ttl = false;
                (argv!["PERSIST", "ps:n"], events)
            }
            8 => {
                let events = if m.s {
                    vec![('g', "rename_from"), ('g', "rename_to")]
                } else {
                    vec![]
                };
                if m.s {
                    m.s = false;
                    m.t = true;
                }
                (argv!["RENAME", "ps:s", "ps:t"], events)
            }
            9 => {
                // A read lookup: a missing key is announced as `keymiss`.
                let events = if m.t {
                    vec![('g', "del")]
                } else {
                    vec![('m', "keymiss")]
                };
                m.t = false;
                (argv!["GETDEL", "ps:t"], events)
            }
            10 => {
                m.s = true;
                (
                    argv!["SETRANGE", "ps:s", "1", "ab"],
                    vec![('$', "setrange")],
                )
            }
            _ => {
                let mut events = Vec::new();
                for exists in [m.s, m.h] {
                    if exists {
                        events.push(('g', "del"));
                    }
                }
                m.s = false;
                m.h = false;
                (argv!["DEL", "ps:s", "ps:h"], events)
            }
        }
    }
}
