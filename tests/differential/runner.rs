//! Executes generated operations against the oracle and the server under test, compares the
//! replies and keeps what a failure report needs: the seed, the step, the last commands.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::check;
use crate::common::{Client, V};
use crate::generator::{CONFIG_RESET, CONNECTIONS, DATABASES, Gen};
use crate::ops::{Arg, Check, Op};

/// How many executed commands a failure report shows.
const HISTORY: usize = 20;
/// Container commands whose subcommand names the command in the statistics.
const CONTAINERS: &[&str] = &["CLIENT", "CONFIG", "OBJECT", "COMMAND", "SLOWLOG", "MEMORY"];
/// An iteration that needs more pages than this is reported as never finishing.
const MAX_SCAN_PAGES: usize = 10_000;

pub struct Options {
    pub seed: u64,
    pub steps: usize,
    /// Report every mismatch (resetting both servers after each) instead of stopping at the
    /// first.
    pub keep_going: bool,
    /// What the second server is called in reports.
    pub other_name: &'static str,
}

/// One reply: decoded for normalisers, raw for byte-exact comparison.
struct Reply {
    v: V,
    raw: Vec<u8>,
}

/// The same logical connection on both servers.
struct Pair {
    oracle: Client,
    other: Client,
}

impl Pair {
    fn connect(oracle_port: u16, other_port: u16) -> Pair {
        Pair {
            oracle: Client::connect(oracle_port),
            other: Client::connect(other_port),
        }
    }
}

/// Why a step failed, with both replies.
pub struct Mismatch {
    /// The command's name for statistics (`GET`, `CLIENT LIST`).
    pub name: String,
    pub step: usize,
    pub command: String,
    pub why: String,
    pub oracle: String,
    pub other: String,
    pub history: Vec<String>,
}

/// Commands sent and mismatched, per command name.
#[derive(Default, Clone, Copy)]
pub struct Count {
    pub sent: u64,
    /// How many of those the oracle answered with an error (error-path coverage).
    pub errors: u64,
    pub mismatched: u64,
}

pub struct Outcome {
    pub mismatches: Vec<Mismatch>,
    pub counts: BTreeMap<String, Count>,
}

pub struct Runner {
    oracle_port: u16,
    other_port: u16,
    conns: Vec<Pair>,
    /// Per connection, the last command `Op::Send` put on it (what an `Op::Recv` answers).
    sent: Vec<Vec<Vec<u8>>>,
    control: Pair,
    opts: Options,
    step: usize,
    history: VecDeque<String>,
    counts: BTreeMap<String, Count>,
    /// The oracle logs every command to the slow log (slowlog-log-slower-than 0).
    slowlog_on: bool,
    /// SCAN pages, whose number differs per server, are in the slow log.
    scans_logged: bool,
    /// The oracle's values of the parameters CONFIG SET changes, restored by a resync.
    initial_config: Vec<(Vec<u8>, Vec<u8>)>,
    finished: bool,
}

type Step = Result<(), Box<Mismatch>>;

impl Runner {
    pub fn new(oracle_port: u16, other_port: u16, opts: Options) -> Runner {
        Runner {
            oracle_port,
            other_port,
            conns: Vec::new(),
            sent: vec![Vec::new(); CONNECTIONS],
            control: Pair::connect(oracle_port, other_port),
            opts,
            step: 0,
            history: VecDeque::new(),
            counts: BTreeMap::new(),
            slowlog_on: false,
            scans_logged: false,
            initial_config: Vec::new(),
            finished: false,
        }
    }

    /// Runs the whole sequence.
    pub fn run(mut self) -> Outcome {
        let mut mismatches = Vec::new();
        if let Err(m) = self.setup() {
            mismatches.push(*m);
            if !self.opts.keep_going {
                return self.finish(mismatches);
            }
            self.resync();
        }
        let mut generator = Gen::new(self.opts.seed);
        while self.step < self.opts.steps {
            self.step += 1;
            for op in generator.step() {
                if let Err(m) = self.exec(op) {
                    mismatches.push(*m);
                    if !self.opts.keep_going {
                        return self.finish(mismatches);
                    }
                    self.resync();
                    break;
                }
            }
        }
        self.finish(mismatches)
    }

    fn finish(mut self, mismatches: Vec<Mismatch>) -> Outcome {
        self.finished = true;
        Outcome {
            mismatches,
            counts: std::mem::take(&mut self.counts),
        }
    }

    /// Turns the slow log off, opens the connections (2 and 3 in RESP3) and remembers the
    /// oracle's starting config.
    fn setup(&mut self) -> Step {
        // First of all: under the servers' starting threshold (10 ms by default) whether a
        // command is logged depends on timing, so anything sent before this (the HELLOs
        // below) could be logged by one server and not the other on a loaded machine.
        // Neither server logs this command itself: both check the threshold after it ran.
        self.side(
            None,
            &[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"-1"],
            Check::Exact,
        )?;
        self.conns = (0..CONNECTIONS)
            .map(|_| Pair::connect(self.oracle_port, self.other_port))
            .collect();
        for conn in CONNECTIONS / 2..CONNECTIONS {
            self.side(Some(conn), &[b"HELLO", b"3"], Check::Hello)?;
        }
        self.initial_config.clear();
        for name in CONFIG_RESET {
            let reply = self.quiet(&[b"CONFIG", b"GET", name.as_bytes()]);
            if let V::Array(items) = &reply
                && let Some(value) = items.get(1)
            {
                self.initial_config
                    .push((name.as_bytes().to_vec(), value.text().into_bytes()));
            }
        }
        Ok(())
    }

    /// Sends a command on the control connection of both servers (so both see the same
    /// commands and count the same statistics) and returns the oracle's reply unchecked.
    fn quiet(&mut self, argv: &[&[u8]]) -> V {
        self.control.other.cmd(argv);
        self.control.oracle.cmd(argv)
    }

    /// After a mismatch in keep-going mode: fresh connections, empty databases, the starting
    /// configuration and statistics, so the next mismatch is not an echo of this one.
    fn resync(&mut self) {
        self.control = Pair::connect(self.oracle_port, self.other_port);
        self.quiet(&[b"FLUSHALL"]);
        for (name, value) in self.initial_config.clone() {
            self.quiet(&[b"CONFIG", b"SET", &name, &value]);
        }
        self.quiet(&[b"SLOWLOG", b"RESET"]);
        self.quiet(&[b"CONFIG", b"RESETSTAT"]);
        self.slowlog_on = false;
        self.scans_logged = false;
        self.conns = (0..CONNECTIONS)
            .map(|_| Pair::connect(self.oracle_port, self.other_port))
            .collect();
        for pair in &mut self.conns[CONNECTIONS / 2..] {
            pair.oracle.q("HELLO 3");
            pair.other.q("HELLO 3");
        }
    }

    fn exec(&mut self, op: Op) -> Step {
        match op {
            Op::Cmd { conn, argv, check } => {
                let argv: Vec<Vec<u8>> = argv.iter().map(Arg::resolve).collect();
                self.count(&argv);
                self.cmd(conn, &argv, check)
            }
            Op::Scan {
                conn,
                argv,
                cursor_at,
            } => {
                let argv: Vec<Vec<u8>> = argv.iter().map(Arg::resolve).collect();
                self.count(&argv);
                self.scan(conn, &argv, cursor_at)
            }
            Op::DumpRestore {
                conn,
                src,
                dst,
                ttl,
                opts,
                corrupt,
            } => self.dump_restore(conn, src.resolve(), dst.resolve(), ttl, opts, corrupt),
            Op::Settle => self.settle(),
            Op::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                Ok(())
            }
            Op::Send { conn, argv } => {
                let argv: Vec<Vec<u8>> = argv.iter().map(Arg::resolve).collect();
                self.count(&argv);
                self.remember(conn, &argv, "  (reply read later)");
                let pair = &mut self.conns[conn];
                pair.oracle.send(&argv);
                pair.other.send(&argv);
                self.sent[conn] = argv;
                Ok(())
            }
            Op::Recv { conn, check } => {
                let argv = self.sent[conn].clone();
                let (r, f) = self.receive(Some(conn), &argv)?;
                self.compare(conn, &argv, check, false, r, f)
            }
        }
    }

    /// One command on both servers, compared by `check`.
    fn cmd(&mut self, conn: usize, argv: &[Vec<u8>], check: Check) -> Step {
        let listpack = match (check, argv.get(1)) {
            (Check::HashOrder, Some(key)) => {
                let (r, _) = self.side(Some(conn), &[b"OBJECT", b"ENCODING", key], Check::Exact)?;
                r.v == V::bulk("listpack")
            }
            (Check::SetMembers, Some(key)) => self.both_intset(conn, key)?,
            _ => false,
        };
        let set_before = match (check, argv.get(1)) {
            (Check::SetPick, Some(key)) => {
                let (r, _) = self.side(Some(conn), &[b"SMEMBERS", key], Check::Unordered)?;
                Some(elements_of(&r.v))
            }
            _ => None,
        };
        let name_before = if hello_with_setname(argv) {
            let (r, _) = self.side(Some(conn), &[b"CLIENT", b"GETNAME"], Check::Exact)?;
            Some(match r.v {
                V::Bulk(name) => name,
                _ => Vec::new(),
            })
        } else {
            None
        };
        self.remember(conn, argv, "");
        let (r, f) = self.roundtrip(Some(conn), argv)?;
        if r.v.is_error() {
            self.counts.entry(command_name(argv)).or_default().errors += 1;
            // Redis 7.0 applies HELLO's SETNAME as it meets it, so a later bad option leaves
            // the name set; since 7.2 (redis/redis#11659, "Custom authentication for
            // Modules", which took in #11037) HELLO checks every option before it
            // authenticates or sets the name, so a failed HELLO changes nothing, as here.
            // The name the connection had is restored on both (a no-op on ours); the error
            // replies are still compared below.
            if let Some(name) = name_before {
                self.side(Some(conn), &[b"CLIENT", b"SETNAME", &name], Check::Exact)?;
            }
        }
        self.track_slowlog_state(argv, &r.v);
        if let Some(members) = set_before {
            return self.set_pick(conn, argv, &members, r, f);
        }
        self.compare(conn, argv, check, listpack, r, f)
    }

    /// Decides whether two replies to `argv` on `conn` agree by `check` (`listpack`: the
    /// hash was a listpack on the oracle, for `HashOrder`).
    fn compare(
        &mut self,
        conn: usize,
        argv: &[Vec<u8>],
        check: Check,
        listpack: bool,
        r: Reply,
        f: Reply,
    ) -> Step {
        if r.raw == f.raw {
            return Ok(());
        }
        let verdict = if r.v.is_error() || f.v.is_error() {
            Err("replies differ".to_string())
        } else {
            match check {
                Check::Exact => Err("replies differ".to_string()),
                Check::Unordered => check::unordered(&r.v, &f.v),
                Check::HashOrder => check::hash_order(&argv[0], listpack, &r.v, &f.v),
                Check::Near(tolerance) => check::near(tolerance, &r.v, &f.v),
                Check::AnyInt => check::any_int(&r.v, &f.v),
                Check::NilOrInt => check::nil_or_int(&r.v, &f.v),
                Check::Time => check::time(&r.v, &f.v),
                Check::Hello => check::hello(&r.v, &f.v),
                Check::Info => check::info(&r.v, &f.v),
                Check::ClientList => check::client_list(&r.v, &f.v),
                Check::Help => check::help(&r.v, &f.v),
                Check::Slowlog => check::slowlog(self.scans_logged, &r.v, &f.v),
                Check::SlowlogLen if self.scans_logged => check::any_int(&r.v, &f.v),
                Check::SlowlogLen => Err("replies differ".to_string()),
                Check::CommandInfo => check::command_info(&r.v, &f.v),
                Check::ConfigGet => check::config_get(&r.v, &f.v),
                Check::CommandDocs => check::command_docs(&r.v, &f.v),
                Check::RandomKey => return self.random_key(conn, argv, r, f),
                Check::HRandField => {
                    let hash = self.hash_contents(conn, &argv[1])?;
                    check::hrandfield(argv, &hash, &r.v, &f.v)
                }
                Check::Stream => check::stream(&r.v, &f.v),
                Check::SetEncoding => check::set_encoding(&r.v, &f.v),
                // `listpack` here: both servers hold the set as an intset.
                Check::SetMembers if listpack => Err("replies differ".to_string()),
                Check::SetMembers => check::unordered(&r.v, &f.v),
                // Compared by `set_pick` before `compare` is reached.
                Check::SetPick => check::unordered(&r.v, &f.v),
                Check::ZRandMember => {
                    let zset = self.zset_contents(conn, &argv[1])?;
                    check::hrandfield(argv, &zset, &r.v, &f.v)
                }
            }
        };
        verdict.map_err(|why| self.mismatch(argv, why, &r, &f))
    }

    /// RANDOMKEY: both nil, or keys that exist on both servers.
    fn random_key(&mut self, conn: usize, argv: &[Vec<u8>], r: Reply, f: Reply) -> Step {
        let (V::Bulk(a), V::Bulk(b)) = (&r.v, &f.v) else {
            return Err(self.mismatch(argv, "not both a key or both nil".into(), &r, &f));
        };
        let (er, ef) = self.side(Some(conn), &[b"EXISTS", a, b], Check::Exact)?;
        if er.v == V::Int(2) {
            Ok(())
        } else {
            Err(self.mismatch(argv, "a picked key does not exist".into(), &er, &ef))
        }
    }

    /// Whether both servers hold `key` as an intset (whose members have a defined order).
    fn both_intset(&mut self, conn: usize, key: &[u8]) -> Result<bool, Box<Mismatch>> {
        let argv = vec![b"OBJECT".to_vec(), b"ENCODING".to_vec(), key.to_vec()];
        self.remember(conn, &argv, "   (check)");
        let (r, f) = self.roundtrip(Some(conn), &argv)?;
        Ok(r.v == V::bulk("intset") && f.v == V::bulk("intset"))
    }

    /// SPOP / SRANDMEMBER (`Check::SetPick`), `members` being the set before the command.
    /// When SPOP popped different members on the two servers, both get back everything
    /// either popped and then lose what the other server popped, so their sets match again.
    fn set_pick(
        &mut self,
        conn: usize,
        argv: &[Vec<u8>],
        members: &[V],
        r: Reply,
        f: Reply,
    ) -> Step {
        if r.raw == f.raw {
            return Ok(());
        }
        let verdict = if r.v.is_error() || f.v.is_error() {
            Err("replies differ".to_string())
        } else {
            check::set_pick(argv, members, &r.v, &f.v)
        };
        verdict.map_err(|why| self.mismatch(argv, why, &r, &f))?;
        if !argv[0].eq_ignore_ascii_case(b"SPOP") {
            return Ok(());
        }
        let popped = |v: &V| -> Vec<Vec<u8>> {
            let items = match v {
                V::Bulk(_) => vec![v.clone()],
                other => elements_of(other),
            };
            let mut bytes: Vec<Vec<u8>> = items
                .into_iter()
                .filter_map(|i| match i {
                    V::Bulk(b) => Some(b),
                    _ => None,
                })
                .collect();
            bytes.sort();
            bytes
        };
        let (oracle_popped, other_popped) = (popped(&r.v), popped(&f.v));
        if oracle_popped == other_popped {
            return Ok(());
        }
        let key = argv[1].as_slice();
        let mut sadd: Vec<&[u8]> = vec![b"SADD", key];
        sadd.extend(oracle_popped.iter().chain(&other_popped).map(Vec::as_slice));
        self.side(Some(conn), &sadd, Check::Exact)?;
        let mut srem: Vec<&[u8]> = vec![b"SREM", key];
        srem.extend(other_popped.iter().map(Vec::as_slice));
        self.side(Some(conn), &srem, Check::Exact)?;
        Ok(())
    }

    /// The oracle's members and scores of the sorted set `key` (ZRANGE WITHSCORES, in the
    /// connection's protocol, so scores have the reply's type), after checking the other
    /// server holds the same.
    fn zset_contents(&mut self, conn: usize, key: &[u8]) -> Result<Vec<(V, V)>, Box<Mismatch>> {
        let argv: [&[u8]; 5] = [b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"];
        let (r, _) = self.side(Some(conn), &argv, Check::Exact)?;
        let items = match r.v {
            V::Array(items) => items,
            _ => Vec::new(),
        };
        Ok(if items.first().is_some_and(|i| matches!(i, V::Array(_))) {
            items
                .into_iter()
                .filter_map(|pair| match pair {
                    V::Array(p) if p.len() == 2 => Some((p[0].clone(), p[1].clone())),
                    _ => None,
                })
                .collect()
        } else {
            items
                .chunks(2)
                .filter(|p| p.len() == 2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect()
        })
    }

    /// The oracle's HGETALL of `key`, after checking the other server holds the same pairs.
    fn hash_contents(&mut self, conn: usize, key: &[u8]) -> Result<Vec<(V, V)>, Box<Mismatch>> {
        let (r, _) = self.side(Some(conn), &[b"HGETALL", key], Check::HashOrder)?;
        Ok(match r.v {
            V::Map(pairs) => pairs,
            V::Array(items) => items
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect(),
            _ => Vec::new(),
        })
    }

    /// A helper query on both servers (`conn` None: the control connection), compared by
    /// `check` (Exact or an order-free rule) and recorded in the history.
    fn side(
        &mut self,
        conn: Option<usize>,
        argv: &[&[u8]],
        check: Check,
    ) -> Result<(Reply, Reply), Box<Mismatch>> {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        self.remember(conn.unwrap_or(usize::MAX), &argv, "   (check)");
        let (r, f) = self.roundtrip(conn, &argv)?;
        let verdict = if r.raw == f.raw {
            Ok(())
        } else {
            match check {
                Check::Hello if !r.v.is_error() => check::hello(&r.v, &f.v),
                Check::HashOrder if !r.v.is_error() => {
                    check::hash_order(&argv[0], false, &r.v, &f.v)
                }
                Check::Unordered if !r.v.is_error() => check::unordered(&r.v, &f.v),
                _ => Err("replies differ".to_string()),
            }
        };
        match verdict {
            Ok(()) => Ok((r, f)),
            Err(why) => Err(self.mismatch(&argv, why, &r, &f)),
        }
    }

    /// SCAN / HSCAN iterated to the end on each server; the sets must be equal.
    fn scan(&mut self, conn: usize, argv: &[Vec<u8>], cursor_at: usize) -> Step {
        self.remember(conn, argv, "   (iterated to the end)");
        let pairs =
            argv[0].eq_ignore_ascii_case(b"HSCAN") || argv[0].eq_ignore_ascii_case(b"ZSCAN");
        let pair = &mut self.conns[conn];
        let r = iterate(&mut pair.oracle, argv, cursor_at, pairs);
        let f = iterate(&mut pair.other, argv, cursor_at, pairs);
        if matches!(r, Ok(Scanned::Error(_))) {
            self.counts.entry(command_name(argv)).or_default().errors += 1;
        }
        if self.slowlog_on {
            self.scans_logged = true;
        }
        match (r, f) {
            (Ok(a), Ok(b)) if a == b => Ok(()),
            (r, f) => {
                let show = |x: Result<Scanned, String>| match x {
                    Ok(Scanned::Error(raw)) => escape(&raw, 300),
                    Ok(Scanned::Items(items)) => {
                        let shown: Vec<String> = items
                            .iter()
                            .map(|item| {
                                item.iter()
                                    .map(|b| format!("\"{}\"", escape(b, 64)))
                                    .collect::<Vec<_>>()
                                    .join("=")
                            })
                            .collect();
                        truncate(&format!("{} items: {}", items.len(), shown.join(" ")), 1500)
                    }
                    Err(e) => e,
                };
                Err(Box::new(Mismatch {
                    name: command_name(argv),
                    step: self.step,
                    command: show_argv(argv),
                    why: "different results (compared as sets after iterating to cursor 0)".into(),
                    oracle: show(r),
                    other: show(f),
                    history: self.history.iter().cloned().collect(),
                }))
            }
        }
    }

    /// DUMP on both (nil on both or a payload on both), then RESTORE with the oracle's
    /// payload on both, so both load the same bytes.
    fn dump_restore(
        &mut self,
        conn: usize,
        src: Vec<u8>,
        dst: Vec<u8>,
        ttl: Arg,
        opts: Vec<Arg>,
        corrupt: bool,
    ) -> Step {
        let dump = vec![b"DUMP".to_vec(), src];
        self.count(&dump);
        self.remember(conn, &dump, "");
        let (r, f) = self.roundtrip(Some(conn), &dump)?;
        let same_shape = matches!((&r.v, &f.v), (V::Nil, V::Nil) | (V::Bulk(_), V::Bulk(_)));
        if !same_shape && r.raw != f.raw {
            return Err(self.mismatch(&dump, "not both nil or both a payload".into(), &r, &f));
        }
        let mut payload = match r.v {
            V::Bulk(p) => p,
            _ => b"\x00not a dump payload".to_vec(),
        };
        if corrupt && let Some(last) = payload.last_mut() {
            *last ^= 0x5a;
        }
        let mut restore = vec![b"RESTORE".to_vec(), dst, ttl.resolve(), payload];
        restore.extend(opts.iter().map(Arg::resolve));
        self.count(&restore);
        self.cmd(conn, &restore, Check::Exact)
    }

    /// Full SCAN of every database used, on the control connection of each server: Redis
    /// deletes the logically expired keys it meets, so key counts become comparable.
    fn settle(&mut self) -> Step {
        for db in 0..DATABASES {
            let db = db.to_string();
            self.side(None, &[b"SELECT", db.as_bytes()], Check::Exact)?;
            let argv = [
                b"SCAN".to_vec(),
                b"0".to_vec(),
                b"COUNT".to_vec(),
                b"1000".to_vec(),
            ];
            for client in [&mut self.control.oracle, &mut self.control.other] {
                iterate(client, &argv, 1, false).map_err(|why| {
                    Box::new(Mismatch {
                        name: "(settle)".into(),
                        step: self.step,
                        command: format!("(settle) {}", show_argv(&argv)),
                        why,
                        oracle: String::new(),
                        other: String::new(),
                        history: self.history.iter().cloned().collect(),
                    })
                })?;
            }
        }
        self.remember(
            usize::MAX,
            &[b"(settle: SCAN of databases 0..3)".to_vec()],
            "",
        );
        if self.slowlog_on {
            self.scans_logged = true;
        }
        Ok(())
    }

    /// Follows CONFIG SET slowlog-log-slower-than and SLOWLOG RESET as the oracle applied
    /// them.
    fn track_slowlog_state(&mut self, argv: &[Vec<u8>], oracle_reply: &V) {
        if *oracle_reply != V::ok() || argv.len() < 2 {
            return;
        }
        let is = |i: usize, word: &str| argv[i].eq_ignore_ascii_case(word.as_bytes());
        if is(0, "CONFIG") && is(1, "SET") {
            for pair in argv[2..].chunks(2) {
                if pair.len() == 2 && pair[0].eq_ignore_ascii_case(b"slowlog-log-slower-than") {
                    self.slowlog_on = pair[1] == b"0";
                }
            }
        }
        if is(0, "SLOWLOG") && is(1, "RESET") {
            self.scans_logged = false;
        }
    }

    /// Sends `argv` to both servers before reading either reply.
    fn roundtrip(
        &mut self,
        conn: Option<usize>,
        argv: &[Vec<u8>],
    ) -> Result<(Reply, Reply), Box<Mismatch>> {
        let pair = self.pair(conn);
        pair.oracle.send(argv);
        pair.other.send(argv);
        self.receive(conn, argv)
    }

    /// Connection `conn`, or the control connection when `None`.
    fn pair(&mut self, conn: Option<usize>) -> &mut Pair {
        match conn {
            Some(i) => &mut self.conns[i],
            None => &mut self.control,
        }
    }

    /// Reads one reply from each server on `conn` (the control connection when `None`).
    fn receive(
        &mut self,
        conn: Option<usize>,
        argv: &[Vec<u8>],
    ) -> Result<(Reply, Reply), Box<Mismatch>> {
        let pair = self.pair(conn);
        let r = pair.oracle.read_raw();
        let f = pair.other.read_raw();
        match (r, f) {
            (Ok((rv, rraw)), Ok((fv, fraw))) => {
                Ok((Reply { v: rv, raw: rraw }, Reply { v: fv, raw: fraw }))
            }
            (r, f) => {
                let show = |x: Result<(V, Vec<u8>), String>| match x {
                    Ok((v, _)) => show_reply(&v),
                    Err(e) => format!("<{e}>"),
                };
                Err(Box::new(Mismatch {
                    name: command_name(argv),
                    step: self.step,
                    command: show_argv(argv),
                    why: "no reply".into(),
                    oracle: show(r),
                    other: show(f),
                    history: self.history.iter().cloned().collect(),
                }))
            }
        }
    }

    fn mismatch(&mut self, argv: &[Vec<u8>], why: String, r: &Reply, f: &Reply) -> Box<Mismatch> {
        let name = command_name(argv);
        self.counts.entry(name).or_default().mismatched += 1;
        let show = |x: &Reply| {
            format!(
                "{}\n      raw: {}",
                truncate(&show_reply(&x.v), 2000),
                escape(&x.raw, 600)
            )
        };
        Box::new(Mismatch {
            name: command_name(argv),
            step: self.step,
            command: show_argv(argv),
            why,
            oracle: show(r),
            other: show(f),
            history: self.history.iter().cloned().collect(),
        })
    }

    fn count(&mut self, argv: &[Vec<u8>]) {
        self.counts.entry(command_name(argv)).or_default().sent += 1;
    }

    fn remember(&mut self, conn: usize, argv: &[Vec<u8>], note: &str) {
        let conn = if conn == usize::MAX {
            "ctl".to_string()
        } else {
            format!("c{conn}")
        };
        self.history.push_back(format!(
            "#{:<6} {conn:>3}  {}{note}",
            self.step,
            show_argv(argv)
        ));
        if self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }

    /// How to report a mismatch: seed, step, command, both replies, recent history.
    pub fn report(opts: &Options, m: &Mismatch) -> String {
        let mut out = format!(
            "\n=== differential mismatch ===\n\
             seed: {seed}  (reproduce: FERRO_DIFF_SEED={seed} cargo test --test differential)\n\
             step: {step} of {steps}\n\
             command: {command}\n\
             why: {why}\n\
             redis (oracle): {oracle}\n\
             {name}: {other}\n\
             last {n} commands (c0,c1 start in RESP2, c2,c3 in RESP3; ctl = helper connection):\n",
            seed = opts.seed,
            step = m.step,
            steps = opts.steps,
            command = m.command,
            why = m.why,
            oracle = m.oracle,
            name = opts.other_name,
            other = m.other,
            n = m.history.len(),
        );
        for line in &m.history {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    pub fn seed(&self) -> u64 {
        self.opts.seed
    }
}

impl Drop for Runner {
    /// A panic inside the run (a bad frame, a dead socket) still prints how to reproduce it.
    fn drop(&mut self) {
        if !self.finished && std::thread::panicking() {
            eprintln!(
                "differential run panicked at step {} (seed {}; reproduce with FERRO_DIFF_SEED={}); last commands:\n  {}",
                self.step,
                self.seed(),
                self.seed(),
                self.history
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            );
        }
    }
}

/// What a full iteration returned: the first page's error, or every element (pairs for
/// HSCAN) as a set.
#[derive(PartialEq, Debug)]
enum Scanned {
    Error(Vec<u8>),
    Items(BTreeSet<Vec<Vec<u8>>>),
}

fn iterate(
    client: &mut Client,
    argv: &[Vec<u8>],
    cursor_at: usize,
    pairs: bool,
) -> Result<Scanned, String> {
    let mut argv = argv.to_vec();
    let mut items = BTreeSet::new();
    for page in 0..MAX_SCAN_PAGES {
        client.send(&argv);
        let (reply, raw) = client.read_raw()?;
        let (cursor, elements) = match reply {
            V::Error(_) if page == 0 => return Ok(Scanned::Error(raw)),
            V::Array(parts) => match parts.as_slice() {
                [V::Bulk(cursor), V::Array(elements)] => (cursor.clone(), elements.clone()),
                _ => {
                    return Err(format!(
                        "page {page}: not [cursor, [elements]]: {}",
                        escape(&raw, 300)
                    ));
                }
            },
            _ => {
                return Err(format!(
                    "page {page}: unexpected reply {}",
                    escape(&raw, 300)
                ));
            }
        };
        let bytes = |v: &V| match v {
            V::Bulk(b) => Ok(b.clone()),
            other => Err(format!(
                "page {page}: element is not a bulk string: {other:?}"
            )),
        };
        if pairs {
            if elements.len() % 2 != 0 {
                return Err(format!("page {page}: odd number of field/value elements"));
            }
            for p in elements.chunks(2) {
                items.insert(vec![bytes(&p[0])?, bytes(&p[1])?]);
            }
        } else {
            for e in &elements {
                items.insert(vec![bytes(e)?]);
            }
        }
        if cursor == b"0" {
            return Ok(Scanned::Items(items));
        }
        argv[cursor_at] = cursor;
    }
    Err(format!("no cursor 0 after {MAX_SCAN_PAGES} pages"))
}

/// Whether `argv` is a HELLO with a SETNAME option.
fn hello_with_setname(argv: &[Vec<u8>]) -> bool {
    argv[0].eq_ignore_ascii_case(b"HELLO")
        && argv
            .iter()
            .skip(2)
            .any(|a| a.eq_ignore_ascii_case(b"SETNAME"))
}

/// `CLIENT SETNAME`-style name for statistics: the command, plus the subcommand of containers.
fn command_name(argv: &[Vec<u8>]) -> String {
    let word = |i: usize| String::from_utf8_lossy(&argv[i]).to_ascii_uppercase();
    let name = word(0);
    if CONTAINERS.contains(&name.as_str()) && argv.len() > 1 {
        format!("{name} {}", word(1))
    } else {
        name
    }
}

/// A command's arguments, quoted and escaped; long arguments and long lists are cut.
fn show_argv(argv: &[Vec<u8>]) -> String {
    const SHOWN_ARGS: usize = 16;
    let mut shown: Vec<String> = argv
        .iter()
        .take(SHOWN_ARGS)
        .map(|a| {
            let shown = escape(&a[..a.len().min(64)], usize::MAX);
            if a.len() > 64 {
                format!("\"{shown}...({} bytes)\"", a.len())
            } else {
                format!("\"{shown}\"")
            }
        })
        .collect();
    if argv.len() > SHOWN_ARGS {
        shown.push(format!("...({} more arguments)", argv.len() - SHOWN_ARGS));
    }
    shown.join(" ")
}

/// Printable ASCII as is, everything else as `\xNN` (like redis-cli).
fn escape(bytes: &[u8], limit: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(limit) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > limit {
        out.push_str(&format!("...({} bytes)", bytes.len()));
    }
    out
}

fn truncate(s: &str, limit: usize) -> String {
    if s.len() <= limit {
        return s.to_string();
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...({} chars)", &s[..end], s.len())
}

/// A reply in a compact redis-cli-like notation: `"bulk"`, `+simple`, `-error`, `:1`, `nil`,
/// `[array]`, `~[set]`, `{map}`, `,double`, `#bool`, `=verbatim`, `(bignumber`, `>[push]`.
fn show_reply(v: &V) -> String {
    let list = |items: &[V]| items.iter().map(show_reply).collect::<Vec<_>>().join(", ");
    match v {
        V::Simple(s) => format!("+{}", escape(s.as_bytes(), 2000)),
        V::Error(s) => format!("-{}", escape(s.as_bytes(), 2000)),
        V::Int(n) => format!(":{n}"),
        V::Bulk(b) => format!("\"{}\"", escape(b, 200)),
        V::Nil => "nil".into(),
        V::Array(items) => format!("[{}]", list(items)),
        V::Set(items) => format!("~[{}]", list(items)),
        V::Push(items) => format!(">[{}]", list(items)),
        V::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", show_reply(k), show_reply(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        V::Double(d) => format!(",{d}"),
        V::Bool(b) => format!("#{b}"),
        V::Verbatim(s) => format!("={}", escape(s.as_bytes(), 2000)),
        V::BigNumber(s) => format!("({s}"),
    }
}

/// The elements of an array or set reply (none for anything else).
fn elements_of(v: &V) -> Vec<V> {
    match v {
        V::Array(items) | V::Set(items) => items.clone(),
        _ => Vec::new(),
    }
}
