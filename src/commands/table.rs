//! The one command table: every command's name, arity, flags, key positions, group, summary
//! and handler. It drives dispatch, arity and flag checks, `COMMAND` introspection and
//! per-command statistics. Each group module contributes its rows as `COMMANDS`.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bitflags::bitflags;
use bytes::Bytes;

use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;

/// A command handler. Synchronous: no lock can be held across an `.await`.
pub type Handler = fn(&mut ExecCtx, &mut Args) -> Result<Reply, CmdError>;

/// Finds the key positions of a command whose keys move (ZUNION, EVAL, ...).
pub type KeyFinder = fn(&[Bytes]) -> Vec<usize>;

bitflags! {
    /// Command flags, named as `COMMAND INFO` reports them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Flags: u32 {
        const WRITE = 1;
        const READONLY = 1 << 1;
        const DENYOOM = 1 << 2;
        const ADMIN = 1 << 3;
        const PUBSUB = 1 << 4;
        const NOSCRIPT = 1 << 5;
        const BLOCKING = 1 << 6;
        const LOADING = 1 << 7;
        const STALE = 1 << 8;
        const SKIP_MONITOR = 1 << 9;
        const SKIP_SLOWLOG = 1 << 10;
        const FAST = 1 << 11;
        const NO_AUTH = 1 << 12;
        const MAY_REPLICATE = 1 << 13;
        const NO_MULTI = 1 << 14;
        const ALLOW_BUSY = 1 << 15;
        const SENTINEL = 1 << 16;
    }
}

impl Flags {
    /// The flag names `COMMAND INFO` lists, in Redis's order.
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [(Flags, &str); 17] = [
            (Flags::WRITE, "write"),
            (Flags::READONLY, "readonly"),
            (Flags::DENYOOM, "denyoom"),
            (Flags::ADMIN, "admin"),
            (Flags::PUBSUB, "pubsub"),
            (Flags::NOSCRIPT, "noscript"),
            (Flags::BLOCKING, "blocking"),
            (Flags::LOADING, "loading"),
            (Flags::STALE, "stale"),
            (Flags::SKIP_MONITOR, "skip_monitor"),
            (Flags::SKIP_SLOWLOG, "skip_slowlog"),
            (Flags::FAST, "fast"),
            (Flags::NO_AUTH, "no_auth"),
            (Flags::MAY_REPLICATE, "may_replicate"),
            (Flags::NO_MULTI, "no_multi"),
            (Flags::ALLOW_BUSY, "allow_busy"),
            (Flags::SENTINEL, "sentinel"),
        ];
        NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

bitflags! {
    /// ACL categories, in the order Redis lists them (`@keyspace @read ... @scripting`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Acl: u32 {
        const KEYSPACE = 1;
        const READ = 1 << 1;
        const WRITE = 1 << 2;
        const SET = 1 << 3;
        const SORTEDSET = 1 << 4;
        const LIST = 1 << 5;
        const HASH = 1 << 6;
        const STRING = 1 << 7;
        const BITMAP = 1 << 8;
        const HYPERLOGLOG = 1 << 9;
        const GEO = 1 << 10;
        const STREAM = 1 << 11;
        const PUBSUB = 1 << 12;
        const ADMIN = 1 << 13;
        const FAST = 1 << 14;
        const SLOW = 1 << 15;
        const BLOCKING = 1 << 16;
        const DANGEROUS = 1 << 17;
        const CONNECTION = 1 << 18;
        const TRANSACTION = 1 << 19;
        const SCRIPTING = 1 << 20;
    }
}

impl Acl {
    const NAMES: [(Acl, &'static str); 21] = [
        (Acl::KEYSPACE, "keyspace"),
        (Acl::READ, "read"),
        (Acl::WRITE, "write"),
        (Acl::SET, "set"),
        (Acl::SORTEDSET, "sortedset"),
        (Acl::LIST, "list"),
        (Acl::HASH, "hash"),
        (Acl::STRING, "string"),
        (Acl::BITMAP, "bitmap"),
        (Acl::HYPERLOGLOG, "hyperloglog"),
        (Acl::GEO, "geo"),
        (Acl::STREAM, "stream"),
        (Acl::PUBSUB, "pubsub"),
        (Acl::ADMIN, "admin"),
        (Acl::FAST, "fast"),
        (Acl::SLOW, "slow"),
        (Acl::BLOCKING, "blocking"),
        (Acl::DANGEROUS, "dangerous"),
        (Acl::CONNECTION, "connection"),
        (Acl::TRANSACTION, "transaction"),
        (Acl::SCRIPTING, "scripting"),
    ];

    /// The category a Redis command group implies, as the groups' commands declare it in
    /// Redis (`generic` commands are `@keyspace`, `string` ones `@string` ...). `server`
    /// commands declare theirs one by one.
    pub const fn for_group(group: &str) -> Acl {
        const GROUPS: [(&str, Acl); 14] = [
            ("generic", Acl::KEYSPACE),
            ("string", Acl::STRING),
            ("hash", Acl::HASH),
            ("list", Acl::LIST),
            ("set", Acl::SET),
            ("sorted_set", Acl::SORTEDSET),
            ("bitmap", Acl::BITMAP),
            ("hyperloglog", Acl::HYPERLOGLOG),
            ("geo", Acl::GEO),
            ("stream", Acl::STREAM),
            ("pubsub", Acl::PUBSUB),
            ("connection", Acl::CONNECTION),
            ("transactions", Acl::TRANSACTION),
            ("scripting", Acl::SCRIPTING),
        ];
        let mut i = 0;
        while i < GROUPS.len() {
            if const_str_eq(GROUPS[i].0, group) {
                return GROUPS[i].1;
            }
            i += 1;
        }
        Acl::empty()
    }

    /// Category names without the `@`, in Redis's order.
    pub fn names(self) -> Vec<&'static str> {
        Acl::NAMES
            .iter()
            .filter(|(c, _)| self.contains(*c))
            .map(|(_, n)| *n)
            .collect()
    }

    /// The category called `name` (without `@`), case-insensitively.
    pub fn from_category(name: &[u8]) -> Option<Acl> {
        Acl::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(c, _)| *c)
    }
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Where a command's keys are.
#[derive(Clone, Copy)]
pub enum Keys {
    None,
    /// Legacy (first, last, step) triple; `last` negative counts from the end.
    Range {
        first: i32,
        last: i32,
        step: i32,
    },
    /// Keys whose positions depend on the arguments; `first, last, step` are what
    /// `COMMAND INFO` reports for them (Redis reports 0, 0, 0 or a best guess).
    Movable {
        first: i32,
        last: i32,
        step: i32,
        find: KeyFinder,
    },
}

/// One row of the table.
pub struct CommandSpec {
    /// Lower-case name (`get`, `client`, `ft.search`; subcommands: `setname`).
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments including the name; -N means at least N.
    pub arity: i32,
    pub flags: Flags,
    pub keys: Keys,
    /// Redis command group (`string`, `hash`, `generic`, `server`, `connection`, ...).
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    /// Time complexity as COMMAND DOCS reports it; empty when not documented.
    pub complexity: &'static str,
    /// ACL categories the command declares (Redis's `acl_categories`); the ones implied by
    /// flags (`@write`, `@read`, `@admin`, `@fast` / `@slow` ...) are added by
    /// [`CommandSpec::acl_categories`]. Defaults to the group's category.
    pub acl: Acl,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards` ...).
    pub tips: &'static [&'static str],
    /// Key-spec flags (`RW`, `access`, `update` ...); empty means derived from the command
    /// flags by [`CommandSpec::key_spec_flags`].
    pub key_flags: &'static [&'static str],
    /// `None` for a container whose work is done by its subcommands.
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A row with no keys, no subcommands; fields are overridden with struct update syntax.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: Flags,
        group: &'static str,
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            keys: Keys::None,
            group,
            summary: "",
            since: "1.0.0",
            complexity: "",
            acl: Acl::for_group(group),
            tips: &[],
            key_flags: &[],
            handler: Some(handler),
            subcommands: &[],
        }
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec>
    where
        Self: 'static,
    {
        self.subcommands
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Positions of the keys in `argv` (name at 0).
    pub fn key_positions(&self, argv: &[Bytes]) -> Vec<usize> {
        match self.keys {
            Keys::None => Vec::new(),
            Keys::Movable { find, .. } => find(argv),
            Keys::Range { first, last, step } => {
                let argc = argv.len() as i32;
                let last = if last < 0 { argc + last } else { last };
                let step = step.max(1);
                (first..=last.min(argc - 1))
                    .step_by(step as usize)
                    .filter(|&i| i > 0)
                    .map(|i| i as usize)
                    .collect()
            }
        }
    }

    /// Every ACL category of the command: its declared ones plus those its flags imply, by
    /// Redis's rules (`write` -> `@write`, `admin` -> `@admin @dangerous`, not `@fast` ->
    /// `@slow` ...).
    pub fn acl_categories(&self) -> Acl {
        let mut acl = self.acl;
        let implied = [
            (Flags::WRITE, Acl::WRITE),
            (Flags::ADMIN, Acl::ADMIN.union(Acl::DANGEROUS)),
            (Flags::PUBSUB, Acl::PUBSUB),
            (Flags::FAST, Acl::FAST),
            (Flags::BLOCKING, Acl::BLOCKING),
        ];
        for (flag, cats) in implied {
            if self.flags.contains(flag) {
                acl |= cats;
            }
        }
        if self.flags.contains(Flags::READONLY) && !acl.contains(Acl::SCRIPTING) {
            acl |= Acl::READ;
        }
        if !acl.contains(Acl::FAST) {
            acl |= Acl::SLOW;
        }
        acl
    }

    /// The flags of the command's key spec: the declared ones, or `RO access` for read-only
    /// commands and `RW update` for the others.
    pub fn key_spec_flags(&self) -> &'static [&'static str] {
        if !self.key_flags.is_empty() {
            self.key_flags
        } else if self.flags.contains(Flags::WRITE) {
            &["RW", "update"]
        } else {
            &["RO", "access"]
        }
    }

    /// The (first, last, step) triple `COMMAND INFO` reports.
    pub fn key_triple(&self) -> (i32, i32, i32) {
        match self.keys {
            Keys::None => (0, 0, 0),
            Keys::Range { first, last, step }
            | Keys::Movable {
                first, last, step, ..
            } => (first, last, step),
        }
    }
}

/// Per-command counters for INFO commandstats.
#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
}

impl CommandStats {
    pub fn reset(&self) {
        for c in [
            &self.calls,
            &self.usec,
            &self.rejected_calls,
            &self.failed_calls,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// The table: every top-level command by lower-case name, with stats per command and
/// subcommand (keyed `name` or `name|sub`).
pub struct Table {
    by_name: HashMap<&'static str, &'static CommandSpec>,
    stats: HashMap<String, CommandStats>,
}

impl Table {
    fn build() -> Table {
        let mut by_name = HashMap::new();
        let mut stats = HashMap::new();
        for group in super::GROUPS {
            for spec in group.iter() {
                by_name.insert(spec.name, spec);
                stats.insert(spec.name.to_string(), CommandStats::default());
                for sub in spec.subcommands {
                    stats.insert(
                        format!("{}|{}", spec.name, sub.name),
                        CommandStats::default(),
                    );
                }
            }
        }
        Table { by_name, stats }
    }

    /// Case-insensitive lookup of a top-level command.
    pub fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > 32 {
            return None;
        }
        let mut lower = [0u8; 32];
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&lower[..name.len()]).ok()?;
        self.by_name.get(lower).copied()
    }

    /// Every top-level command, sorted by name.
    pub fn commands(&self) -> Vec<&'static CommandSpec> {
        let mut all: Vec<_> = self.by_name.values().copied().collect();
        all.sort_by_key(|s| s.name);
        all
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Stats of `name` or `name|sub`.
    pub fn stats(&self, full_name: &str) -> Option<&CommandStats> {
        self.stats.get(full_name)
    }

    /// Every command's stats, sorted by full name.
    pub fn all_stats(&self) -> Vec<(&str, &CommandStats)> {
        let mut all: Vec<_> = self.stats.iter().map(|(k, v)| (k.as_str(), v)).collect();
        all.sort_by_key(|(k, _)| *k);
        all
    }
}

static TABLE: LazyLock<Table> = LazyLock::new(Table::build);

/// The process-wide command table.
pub fn table() -> &'static Table {
    &TABLE
}
