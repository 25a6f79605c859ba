//! Server group: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB / FLUSHALL, SWAPDB, TIME, LASTSAVE,
//! SLOWLOG, MEMORY, LATENCY HISTOGRAM, MODULE, DEBUG — plus the auth, client-name and
//! slow-log helpers the dispatcher and the connection group use, and the metrics sampler
//! `main` starts.
//!
//! INFO's text is built in [`info`]-related functions below from `ServerState` (stats,
//! config, clients, keyspace) and the command table; nothing here touches sockets.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::args::{eq_ignore_case, parse_i64};
use super::table::{Acl, BeginSearch, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec, table};
use super::{Args, ExecCtx};
use crate::clients::{ClientFlags, ClientState};
use crate::config::{ConfigError, IntParam};
use crate::error::{CmdError, c_str};
use crate::keyspace::{Entry, Value};
use crate::protocol::Reply;
use crate::state::ServerState;
use crate::stats::{self, SlowLogEntry};

const G: &str = "server";
const LS: Flags = Flags::LOADING.union(Flags::STALE);
const ADMIN_LS: Flags = Flags::ADMIN.union(LS);
const CONFIG_FLAGS: Flags = Flags::ADMIN.union(Flags::NOSCRIPT).union(LS);
const O1: &str = "O(1)";
const BY_SUBCOMMAND: &str = "Depends on subcommand.";
const HELP_SUMMARY: &str = "Returns helpful text about the different subcommands.";

/// A container row: its work is done by `subcommands`.
const fn container(
    name: &'static str,
    summary: &'static str,
    since: &'static str,
    subcommands: &'static [CommandSpec],
) -> CommandSpec {
    CommandSpec {
        name,
        arity: -2,
        flags: Flags::empty(),
        keys: &[],
        group: G,
        summary,
        since,
        complexity: BY_SUBCOMMAND,
        acl: Acl::empty(),
        tips: &[],
        handler: None,
        subcommands,
        getkeys: None,
        exclusive: false,
    }
}

/// The `HELP` subcommand row of a container.
const fn help_row(since: &'static str, handler: super::table::Handler) -> CommandSpec {
    CommandSpec {
        summary: HELP_SUMMARY,
        since,
        complexity: O1,
        ..CommandSpec::new("help", 2, LS, G, handler)
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Returns information and statistics about the server.",
        complexity: O1,
        acl: Acl::DANGEROUS,
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        ..CommandSpec::new("info", -1, LS, G, info)
    },
    container(
        "config",
        "A container for server configuration commands.",
        "2.0.0",
        &[
            CommandSpec {
                summary: "Returns the effective values of configuration parameters.",
                since: "2.0.0",
                complexity: "O(N) when N is the number of configuration parameters provided",
                ..CommandSpec::new("get", -3, CONFIG_FLAGS, G, config_get)
            },
            CommandSpec {
                summary: "Sets configuration parameters in-flight.",
                since: "2.0.0",
                complexity: "O(N) when N is the number of configuration parameters provided",
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                ..CommandSpec::new("set", -4, CONFIG_FLAGS, G, config_set)
            },
            CommandSpec {
                summary: "Resets the server's statistics.",
                since: "2.0.0",
                complexity: O1,
                ..CommandSpec::new("resetstat", 2, CONFIG_FLAGS, G, config_resetstat)
            },
            CommandSpec {
                summary: "Persists the effective configuration to file.",
                since: "2.8.0",
                complexity: O1,
                ..CommandSpec::new("rewrite", 2, CONFIG_FLAGS, G, config_rewrite)
            },
            help_row("5.0.0", config_help),
        ],
    ),
    CommandSpec {
        summary: "Returns detailed information about all commands.",
        since: "2.8.13",
        complexity: "O(N) where N is the total number of Redis commands",
        acl: Acl::CONNECTION,
        tips: &["nondeterministic_output_order"],
        subcommands: COMMAND_SUBCOMMANDS,
        ..CommandSpec::new("command", -1, LS, G, command)
    },
    CommandSpec {
        summary: "Returns the number of keys in the database.",
        complexity: O1,
        acl: Acl::KEYSPACE,
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        ..CommandSpec::new("dbsize", 1, Flags::READONLY.union(Flags::FAST), G, dbsize)
    },
    CommandSpec {
        summary: "Remove all keys from the current database.",
        complexity: "O(N) where N is the number of keys in the selected database",
        acl: Acl::KEYSPACE.union(Acl::DANGEROUS),
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new("flushdb", -1, Flags::WRITE, G, flushdb)
    },
    CommandSpec {
        summary: "Removes all keys from all databases.",
        complexity: "O(N) where N is the total number of keys in all databases",
        acl: Acl::KEYSPACE.union(Acl::DANGEROUS),
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new("flushall", -1, Flags::WRITE, G, flushall)
    },
    CommandSpec {
        summary: "Swaps two Redis databases.",
        since: "4.0.0",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        acl: Acl::KEYSPACE.union(Acl::DANGEROUS),
        ..CommandSpec::new("swapdb", 3, Flags::WRITE.union(Flags::FAST), G, swapdb)
    },
    CommandSpec {
        summary: "Returns the server time.",
        since: "2.6.0",
        complexity: O1,
        tips: &["nondeterministic_output"],
        ..CommandSpec::new("time", 1, LS.union(Flags::FAST), G, time)
    },
    CommandSpec {
        summary: "Returns the Unix timestamp of the last successful save to disk.",
        complexity: O1,
        acl: Acl::ADMIN.union(Acl::DANGEROUS),
        tips: &["nondeterministic_output"],
        ..CommandSpec::new("lastsave", 1, LS.union(Flags::FAST), G, lastsave)
    },
    container(
        "slowlog",
        "A container for slow log commands.",
        "2.2.12",
        &[
            CommandSpec {
                summary: "Returns the slow log's entries.",
                since: "2.2.12",
                complexity: "O(N) where N is the number of entries returned",
                tips: &["request_policy:all_nodes", "nondeterministic_output"],
                ..CommandSpec::new("get", -2, ADMIN_LS, G, slowlog_get)
            },
            CommandSpec {
                summary: "Returns the number of entries in the slow log.",
                since: "2.2.12",
                complexity: O1,
                tips: &[
                    "request_policy:all_nodes",
                    "response_policy:agg_sum",
                    "nondeterministic_output",
                ],
                ..CommandSpec::new("len", 2, ADMIN_LS, G, slowlog_len)
            },
            CommandSpec {
                summary: "Clears all entries from the slow log.",
                since: "2.2.12",
                complexity: "O(N) where N is the number of entries in the slowlog",
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                ..CommandSpec::new("reset", 2, ADMIN_LS, G, slowlog_reset)
            },
            help_row("6.2.0", slowlog_help),
        ],
    ),
    container(
        "memory",
        "A container for memory diagnostics commands.",
        "4.0.0",
        &[
            CommandSpec {
                summary: "Estimates the memory usage of a key.",
                since: "4.0.0",
                complexity: "O(N) where N is the number of samples.",
                keys: &[KeySpec::key(2, KeyFlags::RO)],
                ..CommandSpec::new("usage", -3, Flags::READONLY, G, memory_usage)
            },
            CommandSpec {
                summary: "Returns details about memory usage.",
                since: "4.0.0",
                complexity: O1,
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
                ..CommandSpec::new("stats", 2, Flags::empty(), G, memory_stats)
            },
            help_row("4.0.0", memory_help),
        ],
    ),
    container(
        "latency",
        "A container for latency diagnostics commands.",
        "2.8.13",
        &[
            CommandSpec {
                summary: "Returns the cumulative distribution of latencies of a subset or all commands.",
                since: "7.0.0",
                complexity: "O(N) where N is the number of commands with latency information being retrieved.",
                tips: &[
                    "nondeterministic_output",
                    "request_policy:all_nodes",
                    "response_policy:special",
                ],
                ..CommandSpec::new("histogram", -2, CONFIG_FLAGS, G, latency_histogram)
            },
            help_row("2.8.13", latency_help),
        ],
    ),
    container(
        "module",
        "A container for module commands.",
        "4.0.0",
        &[
            CommandSpec {
                summary: "Returns all loaded modules.",
                since: "4.0.0",
                complexity: "O(N) where N is the number of loaded modules.",
                tips: &["nondeterministic_output_order"],
                ..CommandSpec::new(
                    "list",
                    2,
                    Flags::ADMIN.union(Flags::NOSCRIPT),
                    G,
                    module_list,
                )
            },
            help_row("5.0.0", module_help),
        ],
    ),
    CommandSpec {
        summary: "A container for debugging commands.",
        complexity: BY_SUBCOMMAND,
        ..CommandSpec::new(
            "debug",
            -2,
            Flags::ADMIN.union(Flags::NOSCRIPT).union(LS),
            G,
            debug,
        )
    },
];

static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Returns a count of commands.",
        since: "2.8.13",
        complexity: O1,
        acl: Acl::CONNECTION,
        ..CommandSpec::new("count", 2, LS, G, command_count)
    },
    CommandSpec {
        summary: "Returns documentary information about one, multiple or all commands.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of commands to look up",
        acl: Acl::CONNECTION,
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::new("docs", -2, LS, G, command_docs)
    },
    CommandSpec {
        summary: "Extracts the key names from an arbitrary command.",
        since: "2.8.13",
        complexity: "O(N) where N is the number of arguments to the command",
        acl: Acl::CONNECTION,
        ..CommandSpec::new("getkeys", -4, LS, G, command_getkeys)
    },
    CommandSpec {
        summary: "Extracts the key names and access flags for an arbitrary command.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of arguments to the command",
        acl: Acl::CONNECTION,
        ..CommandSpec::new("getkeysandflags", -4, LS, G, command_getkeysandflags)
    },
    CommandSpec {
        acl: Acl::CONNECTION,
        ..help_row("5.0.0", command_help)
    },
    CommandSpec {
        summary: "Returns information about one, multiple or all commands.",
        since: "2.8.13",
        complexity: "O(N) where N is the number of commands to look up",
        acl: Acl::CONNECTION,
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::new("info", -2, LS, G, command_info)
    },
    CommandSpec {
        summary: "Returns a list of command names.",
        since: "7.0.0",
        complexity: "O(N) where N is the total number of Redis commands",
        acl: Acl::CONNECTION,
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::new("list", -2, LS, G, command_list)
    },
];

/// A `HELP` reply in Redis's shape: a header line, the given lines, then `HELP`.
pub(super) fn help_reply(command: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Simple(format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ))];
    out.extend(lines.iter().map(|l| Reply::simple(l)));
    out.push(Reply::simple("HELP"));
    out.push(Reply::simple("    Prints this help."));
    Reply::Array(out)
}

// ---------------------------------------------------------------------------------------------
// Helpers the dispatcher and the connection group use.

/// Adds a command to the slow log when it ran longer than `slowlog-log-slower-than`.
pub fn record_slow(state: &ServerState, client: &ClientState, argv: &[Bytes], micros: u64) {
    // Checked for every command: the name is resolved once.
    static SLOWER_THAN: IntParam = IntParam::new("slowlog-log-slower-than");
    let threshold = SLOWER_THAN.get(&state.config);
    if threshold < 0 || (micros as i64) < threshold {
        return;
    }
    // Redis keeps at most 32 arguments and 128 bytes per argument.
    let mut kept: Vec<Bytes> = argv
        .iter()
        .take(32)
        .map(|a| {
            if a.len() > 128 {
                let mut s = a[..128].to_vec();
                s.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                Bytes::from(s)
            } else {
                a.clone()
            }
        })
        .collect();
    if argv.len() > 32 {
        kept.truncate(31);
        kept.push(Bytes::from(format!(
            "... ({} more arguments)",
            argv.len() - 31
        )));
    }
    let entry = SlowLogEntry {
        id: 0,
        timestamp: crate::keyspace::unix_ms() / 1000,
        micros,
        argv: kept,
        peer: client.handle.addr.to_string(),
        client_name: client.handle.info.lock().name.clone(),
    };
    let max_len = state.config.get_int("slowlog-max-len").max(0) as usize;
    state.stats.slowlog.lock().push(entry, max_len);
}

/// Starts the thread that samples the instantaneous metrics (ops/sec, network kbps) and the
/// memory peak every [`stats::SAMPLE_PERIOD`], as Redis's cron does.
pub fn start_sampler(state: Arc<ServerState>) {
    let spawned = std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            while !state.shutting_down.load(Ordering::Relaxed) {
                std::thread::sleep(stats::SAMPLE_PERIOD);
                state.stats.sample();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the metrics sampler: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// INFO

/// Sections in the order INFO prints them; `default` marks those of a plain `INFO`.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// `INFO [section ...]`. The search module's own sections come last, as Redis appends those
/// of modules: for `everything` and `modules`, or for a name that is not one of Redis's
/// sections (`search` for all of them, `search_memory` for one). A plain `INFO`, `default`
/// and `all` leave them out; `module_list` is the `# Modules` list alone.
fn info(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let mut wanted: HashSet<&str> = HashSet::new();
    let mut every_module = false;
    let mut other_names = Vec::new();
    let requested = args.rest();
    let defaults = SECTIONS.iter().filter(|(_, d)| *d).map(|(n, _)| *n);
    if requested.is_empty() {
        wanted.extend(defaults.clone());
    }
    for arg in &requested {
        let arg = arg.to_ascii_lowercase();
        match arg.as_slice() {
            b"all" => wanted.extend(SECTIONS.iter().map(|(n, _)| *n)),
            b"everything" => {
                wanted.extend(SECTIONS.iter().map(|(n, _)| *n));
                every_module = true;
            }
            b"default" => wanted.extend(defaults.clone()),
            b"module_list" => {
                wanted.insert("modules");
            }
            name => match SECTIONS.iter().find(|(n, _)| n.as_bytes() == name) {
                Some((n, _)) => {
                    wanted.insert(n);
                    every_module |= *n == "modules";
                }
                None => other_names.push(String::from_utf8_lossy(name).into_owned()),
            },
        }
    }
    let mut out = Info::default();
    for (name, _) in SECTIONS {
        if wanted.contains(name) {
            out.section(name);
            write_section(ctx, name, &mut out);
        }
    }
    if every_module || !other_names.is_empty() {
        write_module_sections(ctx, every_module, &other_names, &mut out);
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out.text)))
}

/// The search module's sections `names` asks for (all of them if `all`), with the module's
/// name before each section and field name, as Redis's module INFO API writes them.
fn write_module_sections(ctx: &ExecCtx, all: bool, names: &[String], out: &mut Info) {
    let module = super::search::MODULE_NAME;
    let asks_module = names.iter().any(|n| n == module);
    for section in super::search::info::sections(ctx.state) {
        let title = format!("{module}_{}", section.name);
        // Requested names were lower-cased, as section names are.
        if !(all || asks_module || names.contains(&title)) {
            continue;
        }
        out.header(&title);
        for (field, value) in section.fields {
            out.field(&format!("{module}_{field}"), value);
        }
    }
}

/// INFO text under construction: `# Section` headers separated by blank lines, then
/// `field:value` lines, all ending in CRLF.
#[derive(Default)]
struct Info {
    text: String,
}

impl Info {
    /// A Redis section: its name capitalised (`# Memory`, `# CPU`).
    fn section(&mut self, name: &str) {
        let mut title = name.to_string();
        match name {
            "cpu" => title = "CPU".into(),
            _ => title[..1].make_ascii_uppercase(),
        }
        self.header(&title);
    }

    /// A `# title` line, after a blank line unless it is the first.
    fn header(&mut self, title: &str) {
        if !self.text.is_empty() {
            self.text.push_str("\r\n");
        }
        let _ = write!(self.text, "# {title}\r\n");
    }

    fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.text, "{name}:{value}\r\n");
    }
}

fn write_section(ctx: &ExecCtx, name: &str, out: &mut Info) {
    match name {
        "server" => info_server(ctx, out),
        "clients" => info_clients(ctx, out),
        "memory" => info_memory(ctx, out),
        "persistence" => info_persistence(ctx, out),
        "stats" => info_stats(ctx, out),
        "replication" => info_replication(ctx, out),
        "cpu" => info_cpu(out),
        "commandstats" => info_commandstats(out),
        "errorstats" => info_errorstats(ctx, out),
        "latencystats" => info_latencystats(ctx, out),
        "cluster" => out.field("cluster_enabled", 0),
        "keyspace" => info_keyspace(ctx, out),
        // The built-in search module is the only one.
        "modules" => out.field("module", super::search::module_info_line()),
        _ => {}
    }
}

fn info_server(ctx: &ExecCtx, out: &mut Info) {
    let state = ctx.state;
    let config = &state.config;
    let uptime = state.started.elapsed().as_secs();
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let port = ctx.client.handle.laddr.port();
    out.field("redis_version", crate::REDIS_VERSION);
    out.field("ferrostack_version", env!("CARGO_PKG_VERSION"));
    out.field("redis_git_sha1", "00000000");
    out.field("redis_git_dirty", 0);
    out.field("redis_build_id", "0");
    out.field("redis_mode", "standalone");
    out.field("os", stats::os_name());
    out.field("arch_bits", usize::BITS);
    out.field("monotonic_clock", "POSIX clock_gettime");
    out.field(
        "multiplexing_api",
        if cfg!(target_os = "linux") {
            "epoll"
        } else {
            "kqueue"
        },
    );
    out.field("atomicvar_api", "c11-builtin");
    out.field("gcc_version", "0.0.0");
    out.field("process_id", std::process::id());
    out.field("process_supervised", "no");
    out.field("run_id", &state.stats.run_id);
    out.field("tcp_port", port);
    out.field("server_time_usec", now_us);
    out.field("uptime_in_seconds", uptime);
    out.field("uptime_in_days", uptime / 86400);
    out.field("hz", config.get_int("hz"));
    out.field("configured_hz", config.get_int("hz"));
    out.field("lru_clock", (now_us / 1_000_000) & ((1 << 24) - 1));
    let exe = std::env::current_exe().map_or(String::new(), |p| p.to_string_lossy().into_owned());
    out.field("executable", exe);
    let file = config
        .file()
        .map_or(String::new(), |p| p.to_string_lossy().into_owned());
    out.field("config_file", file);
    out.field("io_threads_active", 0);
    let binds = config.get("bind");
    let binds: Vec<String> = binds
        .split_whitespace()
        .map(|b| format!("bind={b}"))
        .collect();
    out.field(
        "listener0",
        format!("name=tcp,{},port={port}", binds.join(",")),
    );
}

fn info_clients(ctx: &ExecCtx, out: &mut Info) {
    let clients = ctx.state.clients.all();
    let max_input = clients
        .iter()
        .map(|c| c.info.lock().qbuf)
        .max()
        .unwrap_or(0);
    out.field("connected_clients", clients.len());
    out.field("cluster_connections", 0);
    out.field("maxclients", ctx.state.config.get_int("maxclients"));
    out.field("client_recent_max_input_buffer", max_input);
    out.field("client_recent_max_output_buffer", 0);
    // Only CLIENT PAUSE blocks clients so far.
    let blocked = clients
        .iter()
        .filter(|c| c.has_flag(ClientFlags::BLOCKED))
        .count();
    out.field("blocked_clients", blocked);
    // Client tracking does not exist yet.
    out.field("tracking_clients", 0);
    let subscribed = clients
        .iter()
        .filter(|c| c.has_flag(ClientFlags::PUBSUB))
        .count();
    out.field("pubsub_clients", subscribed);
    let (watching_clients, watched_keys) = ctx.state.watches.counts();
    out.field("watching_clients", watching_clients);
    let waits = ctx.state.blocking.counts();
    out.field("clients_in_timeout_table", waits.with_timeout);
    out.field("total_watched_keys", watched_keys);
    out.field("total_blocking_keys", waits.keys);
    out.field("total_blocking_keys_on_nokey", waits.keys_on_nokey);
}

/// Bytes as Redis's `bytesToHuman` prints them: `512B`, `1.50K`, `2.00M` ...
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2}{}", UNITS[unit])
}

/// `a / b` with two decimals, 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "0.00".into()
    } else {
        format!("{:.2}", a as f64 / b as f64)
    }
}

fn info_memory(ctx: &ExecCtx, out: &mut Info) {
    let config = &ctx.state.config;
    let mem = stats::memory();
    let peak = ctx
        .state
        .stats
        .used_memory_peak
        .fetch_max(mem.allocated, Ordering::Relaxed)
        .max(mem.allocated);
    let system = stats::total_system_memory();
    let maxmemory = config.get_int("maxmemory").max(0) as u64;
    let diff = |a: u64, b: u64| a as i64 - b as i64;
    out.field("used_memory", mem.allocated);
    out.field("used_memory_human", human_bytes(mem.allocated));
    out.field("used_memory_rss", mem.rss);
    out.field("used_memory_rss_human", human_bytes(mem.rss));
    out.field("used_memory_peak", peak);
    out.field("used_memory_peak_human", human_bytes(peak));
    out.field(
        "used_memory_peak_perc",
        format!("{:.2}%", mem.allocated as f64 * 100.0 / peak.max(1) as f64),
    );
    out.field("used_memory_startup", ctx.state.stats.startup_allocated);
    out.field("allocator_allocated", mem.allocated);
    out.field("allocator_active", mem.active);
    out.field("allocator_resident", mem.resident);
    out.field("total_system_memory", system);
    out.field("total_system_memory_human", human_bytes(system));
    out.field("maxmemory", maxmemory);
    out.field("maxmemory_human", human_bytes(maxmemory));
    out.field("maxmemory_policy", config.get("maxmemory-policy"));
    out.field("allocator_frag_ratio", ratio(mem.active, mem.allocated));
    out.field("allocator_frag_bytes", diff(mem.active, mem.allocated));
    out.field("allocator_rss_ratio", ratio(mem.resident, mem.active));
    out.field("allocator_rss_bytes", diff(mem.resident, mem.active));
    out.field("rss_overhead_ratio", ratio(mem.rss, mem.resident));
    out.field("rss_overhead_bytes", diff(mem.rss, mem.resident));
    out.field("mem_fragmentation_ratio", ratio(mem.rss, mem.allocated));
    out.field("mem_fragmentation_bytes", diff(mem.rss, mem.allocated));
    // No replication, cluster bus or AOF: their buffers are empty.
    for field in [
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
        "mem_cluster_links",
        "mem_aof_buffer",
    ] {
        out.field(field, 0);
    }
    out.field("mem_allocator", stats::allocator_name());
    out.field("active_defrag_running", 0);
    out.field("lazyfree_pending_objects", 0);
    out.field("lazyfreed_objects", 0);
}

fn info_persistence(ctx: &ExecCtx, out: &mut Info) {
    let stats = &ctx.state.stats;
    let snap = ctx.state.snapshots.info();
    // The dataset is loaded before the server listens, and saves clone it instead of
    // forking: nothing is ever loading, and there is no copy-on-write to report.
    out.field("loading", 0);
    out.field("async_loading", 0);
    out.field("current_cow_peak", 0);
    out.field("current_cow_size", 0);
    out.field("current_cow_size_age", 0);
    out.field("current_fork_perc", "0.00");
    out.field("current_save_keys_processed", 0);
    out.field("current_save_keys_total", 0);
    out.field(
        "rdb_changes_since_last_save",
        stats.dirty.load(Ordering::Relaxed),
    );
    out.field("rdb_bgsave_in_progress", u8::from(snap.bgsave_in_progress));
    out.field("rdb_last_save_time", snap.last_save);
    out.field(
        "rdb_last_bgsave_status",
        if snap.last_bgsave_ok { "ok" } else { "err" },
    );
    out.field("rdb_last_bgsave_time_sec", snap.last_bgsave_secs);
    out.field("rdb_current_bgsave_time_sec", snap.current_bgsave_secs);
    out.field("rdb_saves", snap.saves);
    out.field("rdb_last_cow_size", 0);
    out.field("rdb_last_load_keys_expired", snap.last_load_expired);
    out.field("rdb_last_load_keys_loaded", snap.last_load_loaded);
    for (name, value) in ctx.state.aof.info_fields() {
        out.field(name, value);
    }
}

fn info_stats(ctx: &ExecCtx, out: &mut Info) {
    let stats = &ctx.state.stats;
    let ks = &ctx.state.keyspace.stats;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let (kbps_in, kbps_out) = stats.instantaneous_kbps();
    out.field(
        "total_connections_received",
        load(&stats.total_connections_received),
    );
    out.field(
        "total_commands_processed",
        load(&stats.total_commands_processed),
    );
    out.field(
        "instantaneous_ops_per_sec",
        stats.instantaneous_ops_per_sec(),
    );
    out.field("total_net_input_bytes", load(&stats.net_input_bytes));
    out.field("total_net_output_bytes", load(&stats.net_output_bytes));
    out.field("total_net_repl_input_bytes", 0);
    out.field("total_net_repl_output_bytes", 0);
    out.field("instantaneous_input_kbps", format!("{kbps_in:.2}"));
    out.field("instantaneous_output_kbps", format!("{kbps_out:.2}"));
    out.field("instantaneous_input_repl_kbps", "0.00");
    out.field("instantaneous_output_repl_kbps", "0.00");
    out.field("rejected_connections", load(&stats.rejected_connections));
    out.field("sync_full", 0);
    out.field("sync_partial_ok", 0);
    out.field("sync_partial_err", 0);
    out.field("expired_keys", load(&ks.expired_keys));
    // Nothing is evicted until eviction exists.
    out.field("evicted_keys", 0);
    out.field("evicted_clients", 0);
    out.field("total_eviction_exceeded_time", 0);
    out.field("current_eviction_exceeded_time", 0);
    out.field("keyspace_hits", load(&ks.hits));
    out.field("keyspace_misses", load(&ks.misses));
    // Pub/sub, forks, MIGRATE, defragmentation and client tracking do not exist yet.
    let (channels, patterns, shard_channels) = ctx.state.pubsub.counts();
    out.field("pubsub_channels", channels);
    out.field("pubsub_patterns", patterns);
    out.field("pubsubshard_channels", shard_channels);
    for field in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ] {
        out.field(field, 0);
    }
    out.field("total_error_replies", load(&stats.total_error_replies));
    out.field("dump_payload_sanitizations", 0);
    out.field("io_threaded_reads_processed", 0);
    out.field("io_threaded_writes_processed", 0);
}

fn info_replication(ctx: &ExecCtx, out: &mut Info) {
    out.field("role", "master");
    out.field("connected_slaves", 0);
    out.field("master_failover_state", "no-failover");
    out.field("master_replid", &ctx.state.stats.replid);
    out.field("master_replid2", "0".repeat(40));
    out.field("master_repl_offset", 0);
    out.field("second_repl_offset", -1);
    out.field("repl_backlog_active", 0);
    out.field(
        "repl_backlog_size",
        ctx.state.config.get_int("repl-backlog-size"),
    );
    out.field("repl_backlog_first_byte_offset", 0);
    out.field("repl_backlog_histlen", 0);
}

fn info_cpu(out: &mut Info) {
    let ((sys, user), (sys_children, user_children)) = stats::cpu_times();
    out.field("used_cpu_sys", format!("{sys:.6}"));
    out.field("used_cpu_user", format!("{user:.6}"));
    out.field("used_cpu_sys_children", format!("{sys_children:.6}"));
    out.field("used_cpu_user_children", format!("{user_children:.6}"));
}

fn info_commandstats(out: &mut Info) {
    for (name, s) in table().all_stats() {
        let calls = s.calls.load(Ordering::Relaxed);
        let usec = s.usec.load(Ordering::Relaxed);
        let rejected = s.rejected_calls.load(Ordering::Relaxed);
        let failed = s.failed_calls.load(Ordering::Relaxed);
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f64 / calls as f64
        };
        out.field(
            &format!("cmdstat_{name}"),
            format!(
                "calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}"
            ),
        );
    }
}

/// `latency_percentiles_usec_<command>:p50=1.003,p99=...` for every command called since
/// the last reset, at the `latency-tracking-info-percentiles`; nothing while
/// `latency-tracking` is off.
fn info_latencystats(ctx: &ExecCtx, out: &mut Info) {
    if ctx.state.config.get_int("latency-tracking") != 1 {
        return;
    }
    let percentiles: Vec<f64> = ctx
        .state
        .config
        .get("latency-tracking-info-percentiles")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for (name, s) in table().all_stats() {
        let Some(values) = s.latency.percentiles(&percentiles) else {
            continue;
        };
        let line: Vec<String> = percentiles
            .iter()
            .zip(values)
            .map(|(p, nanos)| format!("p{}={:.3}", percentile_label(*p), nanos as f64 / 1000.0))
            .collect();
        out.field(&format!("latency_percentiles_usec_{name}"), line.join(","));
    }
}

/// A percentile as Redis names it: `%f` without trailing zeros (`50`, `99.9`).
fn percentile_label(p: f64) -> String {
    let text = format!("{p:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn info_errorstats(ctx: &ExecCtx, out: &mut Info) {
    for (code, count) in ctx.state.stats.errors.lock().iter() {
        out.field(&format!("errorstat_{code}"), format!("count={count}"));
    }
}

fn info_keyspace(ctx: &ExecCtx, out: &mut Info) {
    let ks = ctx.ks();
    for (db, (keys, expires)) in ks.db_sizes().into_iter().enumerate() {
        if keys == 0 {
            continue;
        }
        let avg_ttl = if expires > 0 { average_ttl(ks, db) } else { 0 };
        out.field(
            &format!("db{db}"),
            format!("keys={keys},expires={expires},avg_ttl={avg_ttl}"),
        );
    }
}

/// Keys one step of the TTL estimate looks at, and how many steps it may take.
const TTL_SCAN_STEP: usize = 128;
const TTL_SCAN_STEPS: usize = 8;
/// Keys with a TTL that make the estimate good enough to stop early.
const TTL_SAMPLES: u64 = 32;

/// An estimate of the average remaining TTL (ms) of the keys with one in `db`, like Redis's
/// sampled `avg_ttl`: a bounded scan from a random shard, so INFO stays cheap on big
/// databases.
fn average_ttl(ks: &crate::keyspace::Keyspace, db: usize) -> u64 {
    use rand::RngExt;
    let mut cursor = rand::rng().random_range(0..ks.shard_count()) as u64;
    let mut guard = ks.lock_db(db);
    let now = guard.now_ms();
    let (mut sum, mut n) = (0u64, 0u64);
    for _ in 0..TTL_SCAN_STEPS {
        cursor = guard.walk(cursor, TTL_SCAN_STEP, |_, entry| {
            if let Some(at) = entry.expire_at {
                sum += at.saturating_sub(now);
                n += 1;
            }
        });
        if cursor == 0 || n >= TTL_SAMPLES {
            break;
        }
    }
    sum.checked_div(n).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// CONFIG

/// `CONFIG GET parameter [parameter ...]`. As in Redis, an argument without glob characters
/// is looked up directly and answered under the spelling it was asked with (`HZ`), a glob
/// lists every name or alias it matches, and a parameter is listed once, whatever its case.
fn config_get(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let config = &ctx.state.config;
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    for pattern in args.rest() {
        if !pattern.iter().any(|b| b"[*?".contains(b)) {
            let Ok(name) = std::str::from_utf8(&pattern) else {
                continue;
            };
            if crate::config::Config::is_known(name) && seen.insert(name.to_ascii_lowercase()) {
                pairs.push((
                    Reply::Bulk(pattern.clone()),
                    Reply::bulk_str(config.get(name)),
                ));
            }
            continue;
        }
        for (name, value) in config.matching(&String::from_utf8_lossy(&pattern)) {
            if seen.insert(name.to_string()) {
                pairs.push((Reply::bulk_str(name), Reply::bulk_str(value)));
            }
        }
    }
    Ok(Reply::Map(pairs))
}

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing.
fn config_set(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let rest = args.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    let pairs: Vec<(String, String)> = rest
        .chunks(2)
        .map(|pair| (text(&pair[0]), text(&pair[1])))
        .collect();
    let allow_protected = match ctx.state.config.get("enable-protected-configs").as_str() {
        "yes" => true,
        "local" => ctx.client.handle.addr.ip().is_loopback(),
        _ => false,
    };
    // The errors echo the parameter name as it was sent.
    match ctx.state.config.set_many(&pairs, allow_protected) {
        Ok(()) => {
            ctx.state.apply_config();
            super::aof::appendonly_changed(ctx.state);
            Ok(Reply::ok())
        }
        Err((i, ConfigError::UnknownDirective)) => Err(CmdError::err_echo(&[
            b"Unknown option or number of arguments for CONFIG SET - '",
            c_str(&rest[2 * i], usize::MAX),
            b"'",
        ])),
        Err((i, e)) => Err(CmdError::err_echo(&[
            b"CONFIG SET failed (possibly related to argument '",
            c_str(&rest[2 * i], usize::MAX),
            format!("') - {e}").as_bytes(),
        ])),
    }
}

/// `CONFIG RESETSTAT`: INFO stats, commandstats, errorstats and keyspace hits / misses.
fn config_resetstat(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.stats.reset();
    ctx.state.keyspace.stats.reset();
    for (_, s) in table().all_stats() {
        s.reset();
    }
    Ok(Reply::ok())
}

fn config_rewrite(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.config.rewrite().map_err(CmdError::err)?;
    Ok(Reply::ok())
}

fn config_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    ))
}

// ---------------------------------------------------------------------------------------------
// COMMAND

/// `COMMAND`: every command's information.
fn command(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Array(
        table()
            .commands()
            .into_iter()
            .map(|spec| command_info_reply(spec, None))
            .collect(),
    ))
}

fn command_count(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Integer(table().len() as i64))
}

/// A command or subcommand by its full name (`get`, `config|get`), case-insensitively.
fn lookup_full(name: &[u8]) -> Option<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    let mut parts = name.splitn(2, |&b| b == b'|');
    let spec = table().lookup(parts.next()?)?;
    match parts.next() {
        None => Some((spec, None)),
        Some(sub) => Some((spec, Some(spec.subcommand(sub)?))),
    }
}

/// The full name Redis shows: `get`, or `config|get` for a subcommand.
fn full_name(spec: &CommandSpec, parent: Option<&CommandSpec>) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, spec.name),
        None => spec.name.to_string(),
    }
}

fn simple_set<'a>(items: impl IntoIterator<Item = &'a str>) -> Reply {
    Reply::Set(items.into_iter().map(Reply::simple).collect())
}

fn int_map(pairs: &[(&str, i64)]) -> Reply {
    Reply::Map(
        pairs
            .iter()
            .map(|(k, v)| (Reply::bulk_str(k), Reply::Integer(*v)))
            .collect(),
    )
}

/// The key specs COMMAND INFO shows: `notes` when there are some, the flags, where the
/// search for the keys begins and how they are found from there.
fn key_specs(spec: &CommandSpec) -> Reply {
    let search = |kind: &str, spec: Reply| {
        Reply::Map(vec![
            (Reply::bulk_str("type"), Reply::bulk_str(kind)),
            (Reply::bulk_str("spec"), spec),
        ])
    };
    let one = |ks: &KeySpec| {
        let mut fields = Vec::with_capacity(4);
        if !ks.notes.is_empty() {
            fields.push((Reply::bulk_str("notes"), Reply::bulk_str(ks.notes)));
        }
        let unknown = || search("unknown", Reply::Map(Vec::new()));
        let begin = match ks.begin {
            BeginSearch::Index(pos) => search("index", int_map(&[("index", i64::from(pos))])),
            BeginSearch::Keyword { keyword, startfrom } => search(
                "keyword",
                Reply::Map(vec![
                    (Reply::bulk_str("keyword"), Reply::bulk_str(keyword)),
                    (
                        Reply::bulk_str("startfrom"),
                        Reply::Integer(i64::from(startfrom)),
                    ),
                ]),
            ),
            BeginSearch::Unknown => unknown(),
        };
        let find = match ks.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => search(
                "range",
                int_map(&[
                    ("lastkey", i64::from(lastkey)),
                    ("keystep", i64::from(keystep)),
                    ("limit", i64::from(limit)),
                ]),
            ),
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => search(
                "keynum",
                int_map(&[
                    ("keynumidx", i64::from(keynumidx)),
                    ("firstkey", i64::from(firstkey)),
                    ("keystep", i64::from(keystep)),
                ]),
            ),
            FindKeys::Unknown => unknown(),
        };
        fields.extend([
            (Reply::bulk_str("flags"), simple_set(ks.flags.names())),
            (Reply::bulk_str("begin_search"), begin),
            (Reply::bulk_str("find_keys"), find),
        ]);
        Reply::Map(fields)
    };
    Reply::Set(spec.keys.iter().map(one).collect())
}

/// One COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL categories,
/// tips, key specs, subcommands.
fn command_info_reply(spec: &CommandSpec, parent: Option<&CommandSpec>) -> Reply {
    let (first, last, step) = spec.key_triple();
    let categories: Vec<String> = spec
        .acl_categories()
        .names()
        .into_iter()
        .map(|c| format!("@{c}"))
        .collect();
    Reply::Array(vec![
        Reply::bulk_str(full_name(spec, parent)),
        Reply::Integer(spec.arity as i64),
        simple_set(spec.reported_flags().names()),
        Reply::Integer(first as i64),
        Reply::Integer(last as i64),
        Reply::Integer(step as i64),
        simple_set(categories.iter().map(String::as_str)),
        Reply::Set(spec.tips.iter().map(Reply::bulk_str).collect()),
        key_specs(spec),
        subcommand_infos(spec),
    ])
}

/// The subcommands of a COMMAND INFO entry: an array, except that Redis sends a command
/// without subcommands an empty RESP3 set.
fn subcommand_infos(spec: &CommandSpec) -> Reply {
    if spec.subcommands.is_empty() {
        return Reply::Set(Vec::new());
    }
    Reply::Array(
        spec.subcommands
            .iter()
            .map(|sub| command_info_reply(sub, Some(spec)))
            .collect(),
    )
}

/// `COMMAND INFO [command-name ...]`: unknown names give nil entries.
fn command_info(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let names = args.rest();
    if names.is_empty() {
        return command(ctx, args);
    }
    Ok(Reply::Array(
        names
            .iter()
            .map(|name| match lookup_full(name) {
                Some((spec, None)) => command_info_reply(spec, None),
                Some((parent, Some(sub))) => command_info_reply(sub, Some(parent)),
                None => Reply::Nil,
            })
            .collect(),
    ))
}

/// One COMMAND DOCS entry: summary, since, group, complexity, subcommands.
fn command_docs_reply(spec: &CommandSpec) -> Reply {
    let field = |k: &str, v: &str| (Reply::bulk_str(k), Reply::bulk_str(v));
    let mut doc = vec![
        field("summary", spec.summary),
        field("since", spec.since),
        field("group", spec.group),
    ];
    if !spec.complexity.is_empty() {
        doc.push(field("complexity", spec.complexity));
    }
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|sub| {
                (
                    Reply::bulk_str(full_name(sub, Some(spec))),
                    command_docs_reply(sub),
                )
            })
            .collect();
        doc.push((Reply::bulk_str("subcommands"), Reply::Map(subs)));
    }
    Reply::Map(doc)
}

/// `COMMAND DOCS [command-name ...]`: unknown names are left out.
fn command_docs(_ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let names = args.rest();
    let entries: Vec<(String, &CommandSpec)> = if names.is_empty() {
        table()
            .commands()
            .into_iter()
            .map(|s| (s.name.to_string(), s))
            .collect()
    } else {
        names
            .iter()
            .filter_map(|n| lookup_full(n))
            .map(|(spec, sub)| match sub {
                Some(sub) => (full_name(sub, Some(spec)), sub),
                None => (spec.name.to_string(), spec),
            })
            .collect()
    };
    Ok(Reply::Map(
        entries
            .into_iter()
            .map(|(name, spec)| (Reply::bulk_str(name), command_docs_reply(spec)))
            .collect(),
    ))
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`: names of
/// commands and subcommands.
fn command_list(_ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    enum Filter {
        All,
        Module(Bytes),
        Category(Option<Acl>),
        Pattern(Bytes),
    }
    let filter = match args.remaining() {
        0 => Filter::All,
        3 if args.eat("FILTERBY") => {
            let kind = args.next_bytes()?;
            let value = args.next_bytes()?;
            if eq_ignore_case(&kind, "MODULE") {
                Filter::Module(value)
            } else if eq_ignore_case(&kind, "ACLCAT") {
                Filter::Category(Acl::from_category(&value))
            } else if eq_ignore_case(&kind, "PATTERN") {
                Filter::Pattern(value)
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut names = Vec::new();
    for spec in table().commands() {
        let rows = std::iter::once((spec.name.to_string(), spec)).chain(
            spec.subcommands
                .iter()
                .map(move |sub| (full_name(sub, Some(spec)), sub)),
        );
        for (name, row) in rows {
            let keep = match &filter {
                Filter::All => true,
                // The search commands are the built-in module's.
                Filter::Module(name) => {
                    eq_ignore_case(name, super::search::MODULE_NAME) && row.group == "module"
                }
                Filter::Category(cat) => cat.is_some_and(|c| row.acl_categories().contains(c)),
                Filter::Pattern(p) => crate::glob::glob_match(p, name.as_bytes(), true),
            };
            if keep {
                names.push(Reply::bulk_str(name));
            }
        }
    }
    Ok(Reply::Array(names))
}

/// The keys of the command `argv` names (subcommand included), with what it does to each,
/// for COMMAND GETKEYS / GETKEYSANDFLAGS; errors are checked in Redis's order.
fn keys_of(argv: &[Bytes]) -> Result<Vec<(usize, KeyFlags)>, CmdError> {
    let spec = table()
        .lookup(&argv[0])
        .ok_or_else(|| CmdError::err("Invalid command specified"))?;
    let runs = match spec.subcommands.is_empty() || argv.len() < 2 {
        true => spec,
        false => spec
            .subcommand(&argv[1])
            .ok_or_else(|| CmdError::err("Invalid command specified"))?,
    };
    if runs
        .keys
        .iter()
        .all(|k| k.flags.contains(KeyFlags::NOT_KEY))
    {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !runs.arity_ok(argv.len()) {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    match runs.keys_with_flags(argv) {
        Some(keys) if !keys.is_empty() || runs.flags.contains(Flags::NO_MANDATORY_KEYS) => Ok(keys),
        _ => Err(CmdError::err("Invalid arguments specified for command")),
    }
}

fn command_getkeys(_ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.rest();
    Ok(Reply::Array(
        keys_of(&argv)?
            .into_iter()
            .map(|(i, _)| Reply::Bulk(argv[i].clone()))
            .collect(),
    ))
}

fn command_getkeysandflags(_ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.rest();
    Ok(Reply::Array(
        keys_of(&argv)?
            .into_iter()
            .map(|(i, flags)| {
                Reply::Array(vec![
                    Reply::Bulk(argv[i].clone()),
                    simple_set(flags.names()),
                ])
            })
            .collect(),
    ))
}

fn command_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    ))
}

// ---------------------------------------------------------------------------------------------
// Keyspace-wide commands

fn dbsize(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let guard = ctx.ks().lock_db(ctx.db());
    Ok(Reply::Integer(guard.len() as i64))
}

/// The optional `ASYNC | SYNC` of FLUSHDB / FLUSHALL. Both flush at once: freeing happens
/// when the old maps drop.
fn flush_mode(args: &mut Args) -> Result<(), CmdError> {
    match args.remaining() {
        0 => Ok(()),
        1 if args.eat("ASYNC") || args.eat("SYNC") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// Flushing database 0 also drops the spell-check dictionaries, as RediSearch does (its
/// indexes go through the flush event; the dictionaries are no keys).
fn flushdb(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    flush_mode(args)?;
    ctx.ks().lock_db(ctx.db()).flush();
    if ctx.db() == 0 {
        ctx.state.search.dicts.clear();
    }
    Ok(Reply::ok())
}

fn flushall(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    flush_mode(args)?;
    let mut guard = ctx.ks().lock_all();
    for db in 0..ctx.ks().databases() {
        guard.select(db);
        guard.flush();
    }
    drop(guard);
    ctx.state.search.dicts.clear();
    super::snapshot::save_after_flushall(ctx.state);
    Ok(Reply::ok())
}

/// `SWAPDB index1 index2`
fn swapdb(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let first = args
        .next_i64()
        .map_err(|_| CmdError::err("invalid first DB index"))?;
    let second = args
        .next_i64()
        .map_err(|_| CmdError::err("invalid second DB index"))?;
    let dbs = ctx.ks().databases() as i64;
    if !(0..dbs).contains(&first) || !(0..dbs).contains(&second) {
        return Err(CmdError::DbIndexOutOfRange);
    }
    let mut guard = ctx.ks().lock_all();
    guard.select(first as usize);
    guard.swap_db(second as usize);
    drop(guard);
    // Indexes following database 0 were emptied by the swap: scan its new contents.
    for index in ctx.state.search.take_rescans() {
        super::search::backfill::start(ctx.state.handle(), index);
    }
    Ok(Reply::ok())
}

fn time(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Reply::Array(vec![
        Reply::bulk_str(now.as_secs().to_string()),
        Reply::bulk_str(now.subsec_micros().to_string()),
    ]))
}

/// The time of the last successful save (the start-up time before any).
fn lastsave(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Integer(ctx.state.snapshots.last_save() as i64))
}

// ---------------------------------------------------------------------------------------------
// SLOWLOG

/// `SLOWLOG GET [count]`: the newest `count` entries (10 by default, -1 for all).
fn slowlog_get(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    // SLOWLOG GET [count]: the table's arity allows more, Redis's handler does not.
    if args.remaining() > 1 {
        return Err(CmdError::subcommand_syntax("slowlog", &args.argv()[1]));
    }
    let count = match args.next() {
        None => 10,
        Some(arg) => match parse_i64(&arg) {
            Ok(n) if n >= -1 => n,
            _ => {
                return Err(CmdError::err("count should be greater than or equal to -1"));
            }
        },
    };
    let log = ctx.state.stats.slowlog.lock();
    let take = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    Ok(Reply::Array(
        log.entries
            .iter()
            .take(take)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Integer(e.id as i64),
                    Reply::Integer(e.timestamp as i64),
                    Reply::Integer(e.micros as i64),
                    Reply::Array(e.argv.iter().cloned().map(Reply::Bulk).collect()),
                    Reply::bulk_str(&e.peer),
                    Reply::bulk_str(&e.client_name),
                ])
            })
            .collect(),
    ))
}

fn slowlog_len(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Integer(
        ctx.state.stats.slowlog.lock().entries.len() as i64
    ))
}

fn slowlog_reset(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.stats.slowlog.lock().entries.clear();
    Ok(Reply::ok())
}

fn slowlog_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    ))
}

// ---------------------------------------------------------------------------------------------
// MEMORY

/// Nested elements MEMORY USAGE looks at by default.
const DEFAULT_SAMPLES: usize = 5;

/// `MEMORY USAGE key [SAMPLES count]`
fn memory_usage(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut samples = DEFAULT_SAMPLES;
    while let Some(opt) = args.next() {
        if eq_ignore_case(&opt, "SAMPLES") && !args.is_empty() {
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::Syntax);
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    Ok(match guard.peek(&key) {
        None => Reply::Nil,
        Some(entry) => Reply::Integer(entry_bytes(&key, entry, samples) as i64),
    })
}

/// An allocation of `n` bytes rounded up to the allocator's size class (jemalloc's classes
/// are spaced a quarter of a power of two apart, 8 bytes at least).
fn allocation(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    if n <= 16 {
        return n.next_multiple_of(8);
    }
    let group = n.next_power_of_two() / 8;
    n.next_multiple_of(group.max(16))
}

/// An estimate of the bytes a key holds: its slot in the shard map (key handle, entry and
/// index), the key bytes, the volatile-set slot if it has a TTL, and the value. Hashes are
/// sampled: `samples` fields are measured and the average extrapolated to all of them.
fn entry_bytes(key: &[u8], entry: &Entry, samples: usize) -> usize {
    const INDEX_SLOT: usize = std::mem::size_of::<usize>();
    let slot = std::mem::size_of::<(Bytes, Entry)>() + INDEX_SLOT;
    let volatile = if entry.expire_at.is_some() {
        std::mem::size_of::<Bytes>() + INDEX_SLOT
    } else {
        0
    };
    let value = match &entry.value {
        Value::Str(s) => allocation(s.len()),
        Value::Hash(h) => {
            let field_slot = std::mem::size_of::<(Bytes, Bytes)>() + INDEX_SLOT;
            let table = h.capacity() * field_slot;
            let measured: Vec<usize> = h
                .iter()
                .take(samples)
                .map(|(f, v)| allocation(f.len()) + allocation(v.len()))
                .collect();
            let average = measured.iter().sum::<usize>() / measured.len().max(1);
            table + average * h.len()
        }
        Value::List(l) => l.memory_usage(samples),
        Value::Set(s) => s.memory_usage(samples),
        Value::ZSet(z) => z.memory_usage(samples),
        Value::Stream(s) => s.memory_usage(samples),
        Value::Suggest(s) => s.memory_usage(),
    };
    slot + allocation(key.len()) + volatile + value
}

/// `MEMORY STATS`: the allocator's view, as a map of Redis's field names.
fn memory_stats(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let mem = stats::memory();
    let startup = ctx.state.stats.startup_allocated;
    let peak = ctx
        .state
        .stats
        .used_memory_peak
        .fetch_max(mem.allocated, Ordering::Relaxed)
        .max(mem.allocated);
    let keys: usize = ctx.ks().db_sizes().iter().map(|(k, _)| k).sum();
    let int = |k: &str, v: u64| (Reply::bulk_str(k), Reply::Integer(v as i64));
    let signed =
        |k: &str, a: u64, b: u64| (Reply::bulk_str(k), Reply::Integer(a as i64 - b as i64));
    let double = |k: &str, a: u64, b: u64| {
        let v = if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (Reply::bulk_str(k), Reply::Double(v))
    };
    Ok(Reply::Map(vec![
        int("peak.allocated", peak),
        int("total.allocated", mem.allocated),
        int("startup.allocated", startup),
        int("replication.backlog", 0),
        int("clients.slaves", 0),
        int("aof.buffer", 0),
        int("keys.count", keys as u64),
        double("peak.percentage", mem.allocated * 100, peak),
        int("allocator.allocated", mem.allocated),
        int("allocator.active", mem.active),
        int("allocator.resident", mem.resident),
        double("allocator-fragmentation.ratio", mem.active, mem.allocated),
        signed("allocator-fragmentation.bytes", mem.active, mem.allocated),
        double("allocator-rss.ratio", mem.resident, mem.active),
        signed("allocator-rss.bytes", mem.resident, mem.active),
        double("rss-overhead.ratio", mem.rss, mem.resident),
        signed("rss-overhead.bytes", mem.rss, mem.resident),
        double("fragmentation", mem.rss, mem.allocated),
        signed("fragmentation.bytes", mem.rss, mem.allocated),
    ]))
}

fn memory_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(help_reply(
        "MEMORY",
        &[
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

// ---------------------------------------------------------------------------------------------
// LATENCY (only the per-command histograms: the latency monitor's events are not kept)

/// `LATENCY HISTOGRAM [command ...]`: for each named command (a container stands for its
/// subcommands; unknown names are skipped), or every command, that has a histogram:
/// `{calls, histogram_usec: {bucket end: calls up to there}}`.
fn latency_histogram(_ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let names: Vec<String> = if args.remaining() == 0 {
        table()
            .all_stats()
            .into_iter()
            .map(|(name, _)| name.to_string())
            .collect()
    } else {
        let mut names = Vec::new();
        for arg in args.rest() {
            match lookup_full(&arg) {
                Some((spec, None)) => {
                    names.push(spec.name.to_string());
                    names.extend(
                        spec.subcommands
                            .iter()
                            .map(|sub| full_name(sub, Some(spec))),
                    );
                }
                Some((parent, Some(sub))) => names.push(full_name(sub, Some(parent))),
                None => {}
            }
        }
        names
    };
    let mut entries = Vec::new();
    for name in names {
        let Some((calls, buckets)) = table().stats(&name).and_then(|s| s.latency.cumulative())
        else {
            continue;
        };
        let histogram = buckets
            .into_iter()
            .map(|(usec, count)| (int(usec), int(count)))
            .collect();
        entries.push((
            Reply::bulk_str(name),
            Reply::Map(vec![
                (Reply::bulk_str("calls"), int(calls)),
                (Reply::bulk_str("histogram_usec"), Reply::Map(histogram)),
            ]),
        ));
    }
    Ok(Reply::Map(entries))
}

fn int(n: u64) -> Reply {
    Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn latency_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(help_reply(
        "LATENCY",
        &[
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    ))
}

// ---------------------------------------------------------------------------------------------
// MODULE, DEBUG

/// `MODULE LIST`: no module can be loaded; the built-in search module (FT.*) is listed as
/// RediSearch would be, because clients check for it.
fn module_list(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Array(vec![super::search::module_entry()]))
}

fn module_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(help_reply(
        "MODULE",
        &["LIST", "    Return a list of loaded modules."],
    ))
}

/// `DEBUG SLEEP seconds | RELOAD [MERGE] [NOFLUSH] [NOSAVE] | SET-ACTIVE-EXPIRE 0|1 | HELP`,
/// allowed by `enable-debug-command`.
fn debug(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let allowed = match ctx.state.config.get("enable-debug-command").as_str() {
        "yes" => true,
        "local" => ctx.client.handle.addr.ip().is_loopback(),
        _ => false,
    };
    if !allowed {
        return Err(CmdError::err(
            "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    let sub = args.next_bytes()?;
    let sub_is = |name: &str, argc: usize| eq_ignore_case(&sub, name) && args.remaining() == argc;
    if sub_is("HELP", 0) {
        return Ok(help_reply(
            "DEBUG",
            &[
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception and kill the server.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "    Examples:",
                "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                "      the database.",
                "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                "      existing RDB file.",
                "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                "      file to the database.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
            ],
        ));
    }
    if sub_is("SLEEP", 1) {
        // Like C's strtod: a leading number is used, anything else counts as 0.
        let text = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
        let seconds: f64 = text.trim().parse().unwrap_or(0.0);
        if seconds.is_finite() && seconds > 0.0 {
            // Deliberately blocks this connection's worker thread, as DEBUG SLEEP blocks
            // Redis; other workers keep serving.
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds.min(3600.0)));
        }
        return Ok(Reply::ok());
    }
    if eq_ignore_case(&sub, "RELOAD") {
        let (mut save, mut flush) = (true, true);
        for option in args.by_ref() {
            if eq_ignore_case(&option, "NOSAVE") {
                save = false;
            } else if eq_ignore_case(&option, "NOFLUSH") {
                flush = false;
            } else if !eq_ignore_case(&option, "MERGE") {
                return Err(CmdError::err(
                    "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                ));
            }
        }
        super::snapshot::debug_reload(&ctx.state.handle(), save, flush)?;
        return Ok(Reply::ok());
    }
    if sub_is("SET-ACTIVE-EXPIRE", 1) {
        // Like C's atoi: non-numbers count as 0.
        let on = parse_i64(&args.next_bytes()?).unwrap_or(0) != 0;
        ctx.ks().active_expire.store(on, Ordering::Relaxed);
        return Ok(Reply::ok());
    }
    Err(CmdError::subcommand_syntax("debug", &sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_ttl_estimates_remaining_time() {
        use crate::keyspace::{Keyspace, StrValue, Ttl};
        let ks = Keyspace::new(1, 4, Vec::new());
        assert_eq!(average_ttl(&ks, 0), 0);
        for i in 0..100 {
            let key = Bytes::from(format!("k{i}"));
            let mut g = ks.lock(0, &[&key]);
            let ttl = if i % 2 == 0 {
                Ttl::At(g.now_ms() + 100_000)
            } else {
                Ttl::Clear
            };
            g.insert(
                key.clone(),
                Value::Str(StrValue::text(Bytes::from_static(b"v"))),
                ttl,
            );
        }
        let avg = average_ttl(&ks, 0);
        assert!((90_000..=100_000).contains(&avg), "{avg}");
    }

    #[test]
    fn percentile_labels_like_redis() {
        assert_eq!(percentile_label(50.0), "50");
        assert_eq!(percentile_label(99.9), "99.9");
        assert_eq!(percentile_label(0.0), "0");
        assert_eq!(percentile_label(99.99), "99.99");
    }

    #[test]
    fn human_bytes_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(916392), "894.91K");
        assert_eq!(human_bytes(25276514304), "23.54G");
    }

    #[test]
    fn allocation_size_classes() {
        assert_eq!(allocation(0), 0);
        assert_eq!(allocation(3), 8);
        assert_eq!(allocation(9), 16);
        assert_eq!(allocation(17), 32);
        assert_eq!(allocation(100), 112);
        assert_eq!(allocation(4097), 5120);
    }

    #[test]
    fn key_specs_follow_key_positions() {
        let get = table().lookup(b"get").unwrap();
        let Reply::Set(specs) = key_specs(get) else {
            panic!("key specs must be a set")
        };
        assert_eq!(specs.len(), 1);
        let usage = table()
            .lookup(b"memory")
            .unwrap()
            .subcommand(b"usage")
            .unwrap();
        assert_eq!(usage.key_triple(), (2, 2, 1));
        assert_eq!(
            usage.acl_categories().names(),
            vec!["read", "slow"],
            "MEMORY USAGE is @read @slow in Redis"
        );
    }

    #[test]
    fn acl_categories_like_redis() {
        let cats = |name: &[u8]| table().lookup(name).unwrap().acl_categories().names();
        assert_eq!(cats(b"info"), vec!["slow", "dangerous"]);
        assert_eq!(cats(b"dbsize"), vec!["keyspace", "read", "fast"]);
        assert_eq!(
            cats(b"flushall"),
            vec!["keyspace", "write", "slow", "dangerous"]
        );
        assert_eq!(
            cats(b"swapdb"),
            vec!["keyspace", "write", "fast", "dangerous"]
        );
        assert_eq!(cats(b"lastsave"), vec!["admin", "fast", "dangerous"]);
        assert_eq!(cats(b"time"), vec!["fast"]);
        assert_eq!(cats(b"command"), vec!["slow", "connection"]);
        assert_eq!(cats(b"get"), vec!["read", "string", "fast"]);
        let config_get = table()
            .lookup(b"config")
            .unwrap()
            .subcommand(b"get")
            .unwrap();
        assert_eq!(
            config_get.acl_categories().names(),
            vec!["admin", "slow", "dangerous"]
        );
    }
}
