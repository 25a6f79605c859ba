//! The one command table: every command's name, arity, flags, key positions, group, summary
//! and handler. It drives dispatch, arity and flag checks, `COMMAND` introspection and
//! per-command statistics. Each group module contributes its rows as `COMMANDS`.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bitflags::bitflags;
use bytes::Bytes;

use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::stats::LatencyHistogram;

/// A command handler. Synchronous: no lock can be held across an `.await`.
pub type Handler = fn(&mut ExecCtx, &mut Args) -> Result<Reply, CmdError>;

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
        /// Kept as in Redis's table; `COMMAND INFO` hides it, as Redis does.
        const MAY_REPLICATE = 1 << 13;
        const NO_MULTI = 1 << 14;
        const ALLOW_BUSY = 1 << 15;
        /// Kept as in Redis's table; `COMMAND INFO` hides it, as Redis does.
        const SENTINEL = 1 << 16;
        /// Derived from the key specs by [`CommandSpec::reported_flags`]; rows never set it.
        const MOVABLE_KEYS = 1 << 17;
        const NO_MANDATORY_KEYS = 1 << 18;
        const NO_ASYNC_LOADING = 1 << 19;
    }
}

/// The names of the flags set in `value`, in the order of `table` (Redis's reply order).
fn names_in<F: bitflags::Flags + Copy>(value: F, table: &[(F, &'static str)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(flag, _)| value.contains(*flag))
        .map(|(_, name)| *name)
        .collect()
}

impl Flags {
    /// The flag names `COMMAND INFO` lists, in Redis's order (`may_replicate` and `sentinel`
    /// are hidden there on purpose).
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [(Flags, &str); 18] = [
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
            (Flags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
            (Flags::NO_ASYNC_LOADING, "no_async_loading"),
            (Flags::NO_MULTI, "no_multi"),
            (Flags::MOVABLE_KEYS, "movablekeys"),
            (Flags::ALLOW_BUSY, "allow_busy"),
        ];
        names_in(self, &NAMES)
    }
}

bitflags! {
    /// Key-spec flags: what a command does with a key (Redis's `CMD_KEY_*`), named as
    /// `COMMAND INFO` and `COMMAND GETKEYSANDFLAGS` report them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct KeyFlags: u16 {
        /// Read-only: reads the value but neither changes nor deletes it.
        const RO = 1;
        /// Read-write: changes the value (and may read it).
        const RW = 1 << 1;
        /// Overwrite: replaces the value without reading it.
        const OW = 1 << 2;
        /// Removes the key.
        const RM = 1 << 3;
        /// Returns, copies or otherwise exposes user data of the value.
        const ACCESS = 1 << 4;
        /// Updates data in the value (or its TTL).
        const UPDATE = 1 << 5;
        /// Only adds data, never changes or deletes existing data.
        const INSERT = 1 << 6;
        /// Deletes data (or the key) explicitly.
        const DELETE = 1 << 7;
        /// Not really a key (e.g. a channel) though it hashes like one.
        const NOT_KEY = 1 << 8;
        /// The spec may miss keys; the arguments must be parsed to find them all.
        const INCOMPLETE = 1 << 9;
        /// Some arguments change the flags (SET ... GET); see [`KeySpec::actual_flags`].
        const VARIABLE_FLAGS = 1 << 10;
    }
}

impl KeyFlags {
    /// Read-only access: most readers.
    pub const RO_ACCESS: KeyFlags = KeyFlags::RO.union(KeyFlags::ACCESS);
    /// Read-write with access and update: counters, GETSET, MOVE.
    pub const RW_ACCESS_UPDATE: KeyFlags =
        KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::UPDATE);
    pub const RW_UPDATE: KeyFlags = KeyFlags::RW.union(KeyFlags::UPDATE);
    pub const RW_INSERT: KeyFlags = KeyFlags::RW.union(KeyFlags::INSERT);
    pub const OW_UPDATE: KeyFlags = KeyFlags::OW.union(KeyFlags::UPDATE);
    pub const OW_INSERT: KeyFlags = KeyFlags::OW.union(KeyFlags::INSERT);

    /// Names in Redis's order.
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [(KeyFlags, &str); 11] = [
            (KeyFlags::RO, "RO"),
            (KeyFlags::RW, "RW"),
            (KeyFlags::OW, "OW"),
            (KeyFlags::RM, "RM"),
            (KeyFlags::ACCESS, "access"),
            (KeyFlags::UPDATE, "update"),
            (KeyFlags::INSERT, "insert"),
            (KeyFlags::DELETE, "delete"),
            (KeyFlags::NOT_KEY, "not_key"),
            (KeyFlags::INCOMPLETE, "incomplete"),
            (KeyFlags::VARIABLE_FLAGS, "variable_flags"),
        ];
        names_in(self, &NAMES)
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
            ("sorted-set", Acl::SORTEDSET),
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
        names_in(self, &Acl::NAMES)
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

/// Where a command's keys are, as Redis 7 describes them in `COMMAND INFO` key specs: where
/// the search begins ([`BeginSearch`]) and how the keys are found from there ([`FindKeys`]).
#[derive(Clone, Copy)]
pub struct KeySpec {
    /// Free text Redis attaches to some specs (`notes` in `COMMAND INFO`); empty for none.
    pub notes: &'static str,
    pub flags: KeyFlags,
    pub begin: BeginSearch,
    pub find: FindKeys,
    /// For specs with [`KeyFlags::VARIABLE_FLAGS`]: the flags the key really has for the
    /// given arguments (Redis's getkeys procedure), for `COMMAND GETKEYSANDFLAGS`.
    pub actual_flags: Option<fn(&[Bytes]) -> KeyFlags>,
}

/// Where the search for a spec's keys begins.
#[derive(Clone, Copy)]
pub enum BeginSearch {
    /// At argument `pos` (the command name is 0; a subcommand's name 1).
    Index(i32),
    /// Just after `keyword`, searched for from argument `startfrom` on (a negative
    /// `startfrom` searches backwards from that many arguments before the end).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    /// Cannot be described (SORT's STORE): the row's `getkeys` finds the keys.
    Unknown,
}

/// How a spec's keys are found from where the search began.
#[derive(Clone, Copy)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the start; negative: counted from the end of the
    /// arguments, -1 the last), every `keystep` arguments. With a negative `lastkey`,
    /// `limit` > 0 takes only 1/`limit` of the remaining arguments (XREAD's STREAMS).
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The argument `keynumidx` after the start holds the number of keys, which begin
    /// `firstkey` arguments after the start, every `keystep` (ZUNION, EVAL, LMPOP).
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    /// Cannot be described: the row's `getkeys` finds the keys.
    Unknown,
}

impl KeySpec {
    /// The one key at `index`.
    pub const fn key(index: i32, flags: KeyFlags) -> KeySpec {
        KeySpec::range(index, 0, 1, flags)
    }

    /// Keys from `index` to `lastkey` (see [`FindKeys::Range`]), every `keystep` arguments.
    pub const fn range(index: i32, lastkey: i32, keystep: i32, flags: KeyFlags) -> KeySpec {
        KeySpec {
            notes: "",
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey,
                keystep,
                limit: 0,
            },
            actual_flags: None,
        }
    }

    /// A key count at `index + keynumidx`, keys from `index + firstkey` every `keystep`.
    pub const fn keynum(
        index: i32,
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
        flags: KeyFlags,
    ) -> KeySpec {
        KeySpec {
            find: FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            },
            ..KeySpec::key(index, flags)
        }
    }

    /// Keys after `keyword` (searched from `startfrom`), found by `find`.
    pub const fn keyword(
        keyword: &'static str,
        startfrom: i32,
        find: FindKeys,
        flags: KeyFlags,
    ) -> KeySpec {
        KeySpec {
            begin: BeginSearch::Keyword { keyword, startfrom },
            find,
            ..KeySpec::key(0, flags)
        }
    }

    /// Keys no spec can describe; the row's `getkeys` finds them.
    pub const fn unknown(flags: KeyFlags) -> KeySpec {
        KeySpec {
            begin: BeginSearch::Unknown,
            find: FindKeys::Unknown,
            ..KeySpec::key(0, flags)
        }
    }

    pub const fn notes(self, notes: &'static str) -> KeySpec {
        KeySpec { notes, ..self }
    }

    /// The plain `(index, lastkey, keystep)` of an index + range spec, the only kind the
    /// legacy key triple can express.
    fn plain_range(&self) -> Option<(i32, i32, i32)> {
        match (self.begin, self.find) {
            (
                BeginSearch::Index(index),
                FindKeys::Range {
                    lastkey, keystep, ..
                },
            ) => Some((index, lastkey, keystep)),
            _ => None,
        }
    }

    /// Positions of this spec's keys in `argv` (name at 0), as Redis's
    /// `getKeysUsingKeySpecs` finds them: `Ok(None)` when the spec does not apply (its
    /// keyword is absent), `Err(())` when the arguments do not reach its keys or it cannot
    /// be described.
    fn positions(&self, argv: &[Bytes]) -> Result<Option<Vec<usize>>, ()> {
        let argc = i32::try_from(argv.len()).map_err(|_| ())?;
        let first = match self.begin {
            BeginSearch::Index(pos) => pos,
            BeginSearch::Keyword { keyword, startfrom } => {
                let (from, to) = if startfrom > 0 {
                    (startfrom, argc - 1)
                } else {
                    (argc + startfrom, 0)
                };
                let step = if from <= to { 1 } else { -1 };
                let mut i = from;
                let mut found = None;
                while i != to && (1..argc).contains(&i) {
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i += step;
                }
                match found {
                    Some(first) => first,
                    None => return Ok(None),
                }
            }
            BeginSearch::Unknown => return Err(()),
        };
        let (first, last, step) = match self.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (first, last, keystep)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let at = usize::try_from(first + keynumidx).map_err(|_| ())?;
                let count = argv
                    .get(at)
                    .and_then(|n| super::args::parse_i64(n).ok())
                    .filter(|&n| n >= 0)
                    .ok_or(())?;
                let start = first + firstkey;
                let count = i32::try_from(count).map_err(|_| ())?;
                (start, start + count - 1, keystep)
            }
            FindKeys::Unknown => return Err(()),
        };
        if last >= argc || last < first || first >= argc {
            return Err(());
        }
        Ok(Some(
            (first..=last)
                .step_by(step.max(1) as usize)
                .map(|i| i as usize)
                .collect(),
        ))
    }
}

/// A command's own key finder: the keys' positions in `argv` with their flags, `None` when
/// the arguments are invalid.
pub type GetKeys = fn(&[Bytes]) -> Option<Vec<(usize, KeyFlags)>>;

/// One row of the table.
pub struct CommandSpec {
    /// Lower-case name (`get`, `client`, `ft.search`; subcommands: `setname`).
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments including the name; -N means at least N.
    pub arity: i32,
    pub flags: Flags,
    /// Key specs, in Redis's order; the legacy (first, last, step) triple and the
    /// `movablekeys` flag are derived from them.
    pub keys: &'static [KeySpec],
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
    /// `None` for a container whose work is done by its subcommands.
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    /// Finds the keys where the key specs cannot (SORT's STORE, EVAL with no keys): Redis's
    /// getkeys procedure. `None` when the arguments are invalid.
    pub getkeys: Option<GetKeys>,
    /// Runs with every other client held off (EXEC, EVAL, FCALL): see
    /// `ServerState::exec_gate`. Not a Redis flag; COMMAND INFO does not show it.
    pub exclusive: bool,
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
            keys: &[],
            group,
            summary: "",
            since: "1.0.0",
            complexity: "",
            acl: Acl::for_group(group),
            tips: &[],
            handler: Some(handler),
            subcommands: &[],
            getkeys: None,
            exclusive: false,
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

    /// The keys in `argv` (name at 0) with what the command does to each, in key-spec
    /// order, as `COMMAND GETKEYS` / `GETKEYSANDFLAGS` report them; `None` when the
    /// arguments do not reach a spec's keys. Where the specs cannot tell, the row's
    /// `getkeys` decides, as Redis falls back to a command's getkeys procedure.
    pub fn keys_with_flags(&self, argv: &[Bytes]) -> Option<Vec<(usize, KeyFlags)>> {
        let mut keys = Vec::new();
        for spec in self.keys {
            let flags = match spec.actual_flags {
                Some(actual) => actual(argv),
                None => spec.flags,
            };
            match spec.positions(argv) {
                Ok(found) => keys.extend(found.into_iter().flatten().map(|i| (i, flags))),
                Err(()) => return self.getkeys.and_then(|getkeys| getkeys(argv)),
            }
        }
        Some(keys)
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

    /// The legacy (first, last, step) triple `COMMAND INFO` reports and whether the keys
    /// are movable, derived from the key specs by Redis's rule: one spec is taken as it is;
    /// several are merged into one step-1 range while they are step-1 ranges that follow
    /// each other, and any spec that cannot be merged makes the keys movable.
    fn legacy_range(&self) -> ((i32, i32, i32), bool) {
        let absolute = |index: i32, lastkey: i32| {
            if lastkey < 0 {
                lastkey
            } else {
                index + lastkey
            }
        };
        match self.keys {
            [] => return ((0, 0, 0), false),
            [only] if only.plain_range().is_some() => {
                let (index, lastkey, keystep) = only.plain_range().unwrap_or_default();
                let movable = only.flags.contains(KeyFlags::INCOMPLETE);
                return ((index, absolute(index, lastkey), keystep), movable);
            }
            _ => {}
        }
        let (mut first, mut last, mut movable) = (None::<i32>, None::<i32>, false);
        for spec in self.keys {
            let Some((index, lastkey, keystep)) = spec.plain_range() else {
                movable = true;
                continue;
            };
            let follows = last.is_none_or(|l| l >= 0 && l == index - 1);
            if keystep != 1 || !follows {
                movable = true;
                continue;
            }
            movable |= spec.flags.contains(KeyFlags::INCOMPLETE);
            first = Some(first.map_or(index, |f| f.min(index)));
            let abs_last = absolute(index, lastkey);
            // Redis compares these unsigned: a negative (from the end) last key wins.
            last = Some(last.map_or(abs_last, |l| (l as u32).max(abs_last as u32) as i32));
        }
        match (first, last) {
            (Some(first), Some(last)) => ((first, last, 1), movable),
            _ => ((0, 0, 0), true),
        }
    }

    /// The (first, last, step) triple `COMMAND INFO` reports.
    pub fn key_triple(&self) -> (i32, i32, i32) {
        self.legacy_range().0
    }

    /// The command's flags as `COMMAND INFO` reports them: the row's plus `movablekeys`.
    pub fn reported_flags(&self) -> Flags {
        if self.legacy_range().1 {
            self.flags | Flags::MOVABLE_KEYS
        } else {
            self.flags
        }
    }
}

/// Per-command counters for INFO commandstats, and the latency histogram of INFO
/// latencystats and LATENCY HISTOGRAM.
#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    pub latency: LatencyHistogram,
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
        self.latency.reset();
    }
}

/// A top-level command of the table with its counters and its subcommands' counters.
pub struct Command {
    pub spec: &'static CommandSpec,
    pub stats: CommandStats,
    /// `name|sub` and counters of each subcommand, in the order of `spec.subcommands`.
    subs: Box<[(String, CommandStats)]>,
}

impl Command {
    /// The subcommand named `name` (ignoring ASCII case), with its counters.
    pub fn subcommand(&self, name: &[u8]) -> Option<(&'static CommandSpec, &CommandStats)> {
        let i = self
            .spec
            .subcommands
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))?;
        Some((&self.spec.subcommands[i], &self.subs[i].1))
    }
}

/// The table: every top-level command by lower-case name. The dispatcher's one lookup finds
/// the command's row and its counters together, without building a `name|sub` string.
pub struct Table {
    // foldhash, not SipHash, and bytes, not str: this is looked up for every request.
    by_name: foldhash::HashMap<&'static [u8], Command>,
}

impl Table {
    fn build() -> Table {
        Table::from_groups(super::GROUPS)
    }

    fn from_groups(groups: &[&'static [CommandSpec]]) -> Table {
        let mut by_name = foldhash::HashMap::default();
        for group in groups {
            for spec in group.iter() {
                let subs = spec
                    .subcommands
                    .iter()
                    .map(|sub| {
                        let name = format!("{}|{}", spec.name, sub.name);
                        (name, CommandStats::default())
                    })
                    .collect();
                let command = Command {
                    spec,
                    stats: CommandStats::default(),
                    subs,
                };
                by_name.insert(spec.name.as_bytes(), command);
            }
        }
        Table { by_name }
    }

    /// Case-insensitive lookup of a top-level command with its counters.
    pub fn command(&self, name: &[u8]) -> Option<&Command> {
        if name.len() > 32 {
            return None;
        }
        let mut lower = [0u8; 32];
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.by_name.get(&lower[..name.len()])
    }

    /// Case-insensitive lookup of a top-level command.
    pub fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.command(name).map(|c| c.spec)
    }

    /// Every top-level command, sorted by name.
    pub fn commands(&self) -> Vec<&'static CommandSpec> {
        let mut all: Vec<_> = self.by_name.values().map(|c| c.spec).collect();
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
        match full_name.split_once('|') {
            Some((name, sub)) => Some(self.command(name.as_bytes())?.subcommand(sub.as_bytes())?.1),
            None => Some(&self.command(full_name.as_bytes())?.stats),
        }
    }

    /// Every command's stats, sorted by full name (`name` or `name|sub`).
    pub fn all_stats(&self) -> Vec<(&str, &CommandStats)> {
        let mut all: Vec<(&str, &CommandStats)> = Vec::new();
        for command in self.by_name.values() {
            all.push((command.spec.name, &command.stats));
            all.extend(command.subs.iter().map(|(name, s)| (name.as_str(), s)));
        }
        all.sort_by_key(|(k, _)| *k);
        all
    }
}

static TABLE: LazyLock<Table> = LazyLock::new(Table::build);

/// The process-wide command table.
pub fn table() -> &'static Table {
    &TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_: &mut ExecCtx, _: &mut Args) -> Result<Reply, CmdError> {
        Ok(Reply::ok())
    }

    fn with_keys(keys: &'static [KeySpec]) -> CommandSpec {
        CommandSpec {
            keys,
            ..CommandSpec::new("x", -2, Flags::WRITE, "generic", noop)
        }
    }

    fn argv(args: &str) -> Vec<Bytes> {
        args.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    /// RENAME's shape: two one-key specs that follow each other.
    const RENAME: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW), KeySpec::key(2, KeyFlags::OW)];
    /// MSET's shape: one spec over every other argument.
    const MSET: &[KeySpec] = &[KeySpec::range(1, -1, 2, KeyFlags::OW)];

    /// Positions found by Redis 7.0's `COMMAND GETKEYS` for these shapes.
    #[test]
    fn keynum_and_keyword_specs_find_keys_like_redis() {
        const LMPOP: &[KeySpec] = &[KeySpec::keynum(1, 0, 1, 1, KeyFlags::RW)];
        const XREAD: &[KeySpec] = &[KeySpec::keyword(
            "STREAMS",
            1,
            FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
            KeyFlags::RO,
        )];
        let positions = |keys, args: &str| {
            with_keys(keys)
                .keys_with_flags(&argv(args))
                .map(|found| found.into_iter().map(|(i, _)| i).collect::<Vec<_>>())
        };
        assert_eq!(positions(LMPOP, "lmpop 2 a b LEFT"), Some(vec![2, 3]));
        assert_eq!(positions(LMPOP, "lmpop 0 a LEFT"), None);
        assert_eq!(positions(LMPOP, "lmpop x a LEFT"), None);
        assert_eq!(positions(LMPOP, "lmpop 5 a LEFT"), None);
        assert_eq!(positions(XREAD, "xread STREAMS a b 0 0"), Some(vec![2, 3]));
        assert_eq!(
            positions(XREAD, "xread COUNT 2 STREAMS a b c 0 0 0"),
            Some(vec![4, 5, 6])
        );
        assert_eq!(
            positions(XREAD, "xread COUNT 2"),
            Some(vec![]),
            "no keyword, no keys"
        );
        let lmpop = with_keys(LMPOP);
        assert_eq!(lmpop.key_triple(), (0, 0, 0));
        assert!(lmpop.reported_flags().contains(Flags::MOVABLE_KEYS));
    }

    #[test]
    fn legacy_triple_merges_consecutive_specs() {
        const GAP: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW), KeySpec::key(3, KeyFlags::RW)];
        const INCOMPLETE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW.union(KeyFlags::INCOMPLETE))];
        let rename = with_keys(RENAME);
        assert_eq!(rename.key_triple(), (1, 2, 1));
        assert_eq!(rename.reported_flags(), Flags::WRITE);
        // One spec is reported as it is, step included.
        assert_eq!(with_keys(MSET).key_triple(), (1, -1, 2));
        // A gap between specs: the second is left out and the keys are movable.
        let gap = with_keys(GAP);
        assert_eq!(gap.key_triple(), (1, 1, 1));
        assert!(gap.reported_flags().contains(Flags::MOVABLE_KEYS));
        // An incomplete spec makes the keys movable too.
        assert!(
            with_keys(INCOMPLETE)
                .reported_flags()
                .contains(Flags::MOVABLE_KEYS)
        );
        assert_eq!(with_keys(&[]).key_triple(), (0, 0, 0));
    }

    #[test]
    fn keys_follow_specs_in_order() {
        const DEL: &[KeySpec] = &[KeySpec::range(1, -1, 1, KeyFlags::RM)];
        let rename = with_keys(RENAME);
        assert_eq!(
            rename.keys_with_flags(&argv("rename a b")),
            Some(vec![(1, KeyFlags::RW), (2, KeyFlags::OW)])
        );
        assert_eq!(rename.keys_with_flags(&argv("rename a")), None);
        let keys = with_keys(MSET)
            .keys_with_flags(&argv("mset a 1 b 2"))
            .unwrap();
        assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(
            with_keys(DEL)
                .keys_with_flags(&argv("del a b c"))
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn hidden_flags_are_not_reported() {
        let flags = Flags::FAST | Flags::SENTINEL | Flags::MAY_REPLICATE | Flags::ALLOW_BUSY;
        assert_eq!(flags.names(), vec!["fast", "allow_busy"]);
        assert_eq!(
            (KeyFlags::RW_ACCESS_UPDATE | KeyFlags::VARIABLE_FLAGS).names(),
            vec!["RW", "access", "update", "variable_flags"]
        );
    }

    #[test]
    fn lookups_and_counters() {
        static GROUP: &[CommandSpec] = &[
            CommandSpec::new("get", 2, Flags::READONLY, "string", noop),
            CommandSpec {
                handler: None,
                subcommands: &[
                    CommandSpec::new("info", 2, Flags::empty(), "server", noop),
                    CommandSpec::new("list", -2, Flags::empty(), "server", noop),
                ],
                ..CommandSpec::new("client", -2, Flags::empty(), "server", noop)
            },
        ];
        let table = Table::from_groups(&[GROUP]);
        assert_eq!(table.lookup(b"GeT").map(|s| s.name), Some("get"));
        assert!(table.lookup(b"nosuch").is_none());
        assert!(table.lookup(&[b'a'; 40]).is_none());
        let client = table.command(b"CLIENT").unwrap();
        let (list, stats) = client.subcommand(b"LiSt").unwrap();
        assert_eq!(list.name, "list");
        stats.calls.fetch_add(3, Ordering::Relaxed);
        let calls = |name| table.stats(name).map(|s| s.calls.load(Ordering::Relaxed));
        assert_eq!(calls("client|list"), Some(3));
        assert_eq!(calls("client"), Some(0));
        assert_eq!(calls("client|nosuch"), None);
        let names: Vec<&str> = table.all_stats().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["client", "client|info", "client|list", "get"]);
    }
}
