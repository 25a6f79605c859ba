//! Server-group commands against the real binary: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB /
//! FLUSHALL, SWAPDB, TIME, LASTSAVE, SLOWLOG, MEMORY, LATENCY, MODULE, DEBUG. Expected replies
//! and error texts were taken from redis-server 7.0.15.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Client, Server, V};

fn bulk(s: &str) -> V {
    V::bulk(s)
}

fn simple(s: &str) -> V {
    V::Simple(s.into())
}

fn arr(items: Vec<V>) -> V {
    V::Array(items)
}

/// INFO's `field:value` lines as a map.
fn info(c: &mut Client, args: &str) -> HashMap<String, String> {
    let reply = c.q(&format!("INFO {args}"));
    reply
        .text()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// INFO's `# Section` headers, in order.
fn info_sections(c: &mut Client, args: &str) -> Vec<String> {
    c.q(&format!("INFO {args}"))
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("# ").map(String::from))
        .collect()
}

fn num(map: &HashMap<String, String>, field: &str) -> i64 {
    map.get(field)
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .parse()
        .unwrap_or_else(|_| panic!("{field} is not an integer: {}", map[field]))
}

#[test]
fn info_sections_and_fields() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        info_sections(&mut c, ""),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert_eq!(info_sections(&mut c, "default"), info_sections(&mut c, ""));
    let all = info_sections(&mut c, "all");
    assert!(all.contains(&"Commandstats".to_string()), "{all:?}");
    // `everything` is `all` plus the module's sections, as Redis prints them last.
    let everything = info_sections(&mut c, "everything");
    assert_eq!(everything[..all.len()], all);
    assert_eq!(everything[all.len()], "search_version");
    // Several sections at once, in Redis's order whatever the order asked, case-insensitive.
    assert_eq!(
        info_sections(&mut c, "KEYSPACE server"),
        ["Server", "Keyspace"]
    );
    assert_eq!(c.q("INFO nosuch"), bulk(""));

    let i = info(&mut c, "");
    assert_eq!(i["redis_version"], "7.4.2");
    assert_eq!(i["redis_mode"], "standalone");
    assert_eq!(i["role"], "master");
    assert_eq!(num(&i, "tcp_port"), server.port as i64);
    assert_eq!(num(&i, "process_id"), server.pid() as i64);
    assert_eq!(i["run_id"].len(), 40);
    assert_eq!(i["master_replid"].len(), 40);
    assert!(num(&i, "connected_clients") >= 1);
    assert_eq!(num(&i, "maxclients"), 10000);
    assert!(num(&i, "used_memory") > 0);
    assert!(num(&i, "used_memory_rss") > 0);
    assert!(num(&i, "used_memory_peak") >= num(&i, "used_memory"));
    assert!(i["used_memory_human"].ends_with(['B', 'K', 'M', 'G']));
    assert!(i["mem_allocator"].starts_with("jemalloc-"));
    assert_eq!(i["maxmemory_policy"], "noeviction");
    assert_eq!(num(&i, "loading"), 0);
    assert_eq!(num(&i, "rdb_bgsave_in_progress"), 0);
    assert_eq!(i["rdb_last_bgsave_status"], "ok");
    assert_eq!(num(&i, "aof_enabled"), 0);
    assert_eq!(num(&i, "cluster_enabled"), 0);
    assert!(i["used_cpu_user"].parse::<f64>().is_ok());
    for field in [
        "uptime_in_seconds",
        "hz",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "total_error_replies",
        "blocked_clients",
        "connected_slaves",
        "rdb_changes_since_last_save",
        "rdb_last_save_time",
    ] {
        num(&i, field);
    }
    assert_eq!(
        num(&i, "rdb_last_save_time"),
        c.q("LASTSAVE").text().parse().unwrap()
    );

    // RESP3: a verbatim string of format txt.
    c.resp3();
    assert!(
        matches!(c.q("INFO server"), V::Verbatim(t) if t.starts_with("# Server\r\n")),
        "INFO must be a verbatim string in RESP3"
    );
}

#[test]
fn stats_count_hits_commands_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    // Nil replies are read over RESP3.
    let mut c3 = server.client();
    c3.resp3();
    assert_eq!(c.q("SET k v"), V::ok());
    let before = info(&mut c, "stats");
    assert_eq!(c.q("GET k"), bulk("v"));
    assert_eq!(c.q("GET k"), bulk("v"));
    assert_eq!(c3.q("GET missing"), V::Nil);
    let after = info(&mut c, "stats");
    assert_eq!(
        num(&after, "keyspace_hits") - num(&before, "keyspace_hits"),
        2
    );
    assert_eq!(
        num(&after, "keyspace_misses") - num(&before, "keyspace_misses"),
        1
    );
    // The three GETs and the first INFO.
    assert_eq!(
        num(&after, "total_commands_processed") - num(&before, "total_commands_processed"),
        4
    );
    assert!(num(&after, "total_net_input_bytes") > num(&before, "total_net_input_bytes"));

    let keyspace = info(&mut c, "keyspace");
    assert_eq!(keyspace["db0"], "keys=1,expires=0,avg_ttl=0");
    assert!(
        !keyspace.contains_key("db1"),
        "empty databases are not listed"
    );

    // commandstats: calls, rejected calls (arity) and failed calls.
    assert!(c.q("GET").is_error());
    assert!(c.q("NOSUCHCMD").is_error());
    assert!(c.q("CONFIG SET a b c").is_error());
    assert!(c.q("CONFIG GET").is_error());
    let stats = info(&mut c, "commandstats");
    let get = &stats["cmdstat_get"];
    assert!(get.starts_with("calls=3,usec="), "{get}");
    assert!(get.contains(",usec_per_call="), "{get}");
    assert!(get.ends_with(",rejected_calls=1,failed_calls=0"), "{get}");
    assert!(
        stats["cmdstat_config|set"].ends_with("rejected_calls=0,failed_calls=1"),
        "{stats:?}"
    );
    // Counted after they run: the INFO asking is not in it yet.
    assert!(stats["cmdstat_info"].starts_with("calls=3,"), "{stats:?}");
    assert_eq!(
        stats["cmdstat_config|get"],
        "calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"
    );
    let errors = info(&mut c, "errorstats");
    assert_eq!(errors["errorstat_ERR"], "count=4");
    assert!(num(&info(&mut c, "stats"), "total_error_replies") >= 4);

    // RESETSTAT clears stats, commandstats, errorstats and keyspace hits / misses.
    assert_eq!(c.q("CONFIG RESETSTAT"), V::ok());
    let all = info(&mut c, "all");
    assert!(!all.contains_key("cmdstat_get"), "{all:?}");
    assert!(!all.contains_key("errorstat_ERR"));
    assert_eq!(num(&all, "keyspace_hits"), 0);
    assert_eq!(num(&all, "keyspace_misses"), 0);
    assert_eq!(num(&all, "total_error_replies"), 0);
    assert_eq!(num(&all, "total_commands_processed"), 1, "RESETSTAT itself");
    assert_eq!(
        all["cmdstat_config|resetstat"].split(',').next(),
        Some("calls=1")
    );
}

#[test]
fn instantaneous_ops_are_sampled() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let deadline = Instant::now() + Duration::from_millis(1200);
    let mut sent = 0;
    while Instant::now() < deadline {
        // Pipelined bursts keep the server busy across several 100 ms samples.
        for _ in 0..50 {
            c.send(&["PING"]);
        }
        for _ in 0..50 {
            assert_eq!(c.read(), simple("PONG"));
        }
        sent += 50;
    }
    let i = info(&mut c, "stats");
    assert!(sent > 0);
    assert!(num(&i, "instantaneous_ops_per_sec") > 0, "{i:?}");
    assert!(i["instantaneous_input_kbps"].parse::<f64>().unwrap() > 0.0);
}

/// INFO latencystats: one line per command called since the last CONFIG RESETSTAT, at the
/// configured percentiles; LATENCY HISTOGRAM: the same commands' cumulative buckets.
#[test]
fn latency_stats_and_histogram() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let all = info_sections(&mut c, "all");
    let at = |name: &str| all.iter().position(|s| s == name).unwrap();
    assert_eq!(at("Latencystats"), at("Errorstats") + 1, "{all:?}");
    assert!(!info_sections(&mut c, "").contains(&"Latencystats".to_string()));

    c.q("CONFIG RESETSTAT");
    for _ in 0..3 {
        c.q("SET k v");
    }
    c.q("CONFIG GET hz");
    let stats = info(&mut c, "latencystats");
    let set = &stats["latency_percentiles_usec_set"];
    let parts: Vec<&str> = set.split(',').collect();
    assert_eq!(parts.len(), 3, "{set}");
    for (part, label) in parts.iter().zip(["p50=", "p99=", "p99.9="]) {
        let value = part.strip_prefix(label).unwrap_or_else(|| panic!("{set}"));
        let (_, decimals) = value.split_once('.').unwrap();
        assert_eq!(decimals.len(), 3, "{set}");
        assert!(value.parse::<f64>().unwrap() > 0.0, "{set}");
    }
    assert!(stats.contains_key("latency_percentiles_usec_config|get"));
    assert!(!stats.contains_key("latency_percentiles_usec_get"));

    c.q("CONFIG SET latency-tracking-info-percentiles 0");
    let stats = info(&mut c, "latencystats");
    assert!(stats["latency_percentiles_usec_set"].starts_with("p0="));

    // LATENCY HISTOGRAM: calls and cumulative counts per bucket (RESP3 maps).
    c.resp3();
    let V::Map(entries) = c.q("LATENCY HISTOGRAM set nosuch config") else {
        panic!("LATENCY HISTOGRAM must be a map")
    };
    let names: Vec<String> = entries.iter().map(|(k, _)| k.text()).collect();
    assert_eq!(
        names,
        ["set", "config|get", "config|set", "config|resetstat"]
    );
    let V::Map(set) = &entries[0].1 else {
        panic!("an entry must be a map")
    };
    assert_eq!(set[0], (bulk("calls"), V::Int(3)));
    let V::Map(buckets) = &set[1].1 else {
        panic!("histogram_usec must be a map")
    };
    let counts: Vec<i64> = buckets
        .iter()
        .map(|(_, v)| match v {
            V::Int(n) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    assert_eq!(counts.last(), Some(&3));

    // CONFIG RESETSTAT forgets the histograms; latency-tracking no stops recording.
    c.q("CONFIG RESETSTAT");
    c.q("CONFIG SET latency-tracking no");
    c.q("SET k v");
    assert_eq!(c.q("LATENCY HISTOGRAM set"), V::Map(vec![]));
    assert_eq!(info(&mut c, "latencystats").len(), 0);
    assert_eq!(
        c.q("LATENCY LATEST"),
        V::err("ERR unknown subcommand 'LATEST'. Try LATENCY HELP.")
    );
}

#[test]
fn used_memory_follows_the_data() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let before = num(&info(&mut c, "memory"), "used_memory");
    let big = vec![b'x'; 8 << 20];
    assert_eq!(c.cmd(&[&b"SET"[..], b"big", &big]), V::ok());
    let after = info(&mut c, "memory");
    assert!(
        num(&after, "used_memory") >= before + (8 << 20),
        "{before} -> {}",
        after["used_memory"]
    );
    assert!(num(&after, "used_memory_peak") >= num(&after, "used_memory"));
    // MEMORY USAGE: an estimate covering at least the value.
    let usage = c.q("MEMORY USAGE big");
    let V::Int(bytes) = usage else {
        panic!("MEMORY USAGE must be an integer: {usage:?}")
    };
    assert!((8 << 20..(8 << 20) + 4096).contains(&bytes), "{bytes}");
    let mut c3 = server.client();
    c3.resp3();
    assert_eq!(c3.q("MEMORY USAGE nosuch"), V::Nil);
    assert_eq!(c.q("MEMORY USAGE big SAMPLES 0"), V::Int(bytes));
    assert_eq!(
        c.q("MEMORY USAGE big SAMPLES -1"),
        V::err("ERR syntax error")
    );
    assert_eq!(c.q("MEMORY USAGE big foo"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("MEMORY USAGE big SAMPLES x"),
        V::err("ERR value is not an integer or out of range")
    );
    let stats = c.q("MEMORY STATS").items();
    let stats: HashMap<String, V> = stats
        .chunks(2)
        .map(|kv| (kv[0].text(), kv[1].clone()))
        .collect();
    assert_eq!(stats["keys.count"], V::Int(1));
    assert!(matches!(stats["total.allocated"], V::Int(n) if n >= 8 << 20));
    assert_eq!(
        c.q("MEMORY HELP").items()[0],
        simple("MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
}

#[test]
fn config_get_and_set() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("CONFIG SET maxmemory 10mb hz 20"), V::ok());
    assert_eq!(
        c.q("CONFIG GET maxmemory hz maxmemory"),
        arr(vec![
            bulk("maxmemory"),
            bulk("10485760"),
            bulk("hz"),
            bulk("20")
        ])
    );
    assert_eq!(num(&info(&mut c, "memory"), "maxmemory"), 10485760);
    assert_eq!(info(&mut c, "memory")["maxmemory_human"], "10.00M");
    // All or nothing: a bad pair leaves the good ones unapplied.
    assert_eq!(
        c.q("CONFIG SET maxmemory 1mb hz x"),
        V::err(
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        )
    );
    assert_eq!(
        c.q("CONFIG GET maxmemory"),
        arr(vec![bulk("maxmemory"), bulk("10485760")])
    );
    for (cmd, error) in [
        (
            "CONFIG SET nosuch 1",
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
        ),
        (
            "CONFIG SET maxmemory 1 maxmemory 2",
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter",
        ),
        (
            "CONFIG SET daemonize no",
            "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config",
        ),
        (
            "CONFIG SET dir /tmp",
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
        ),
        (
            "CONFIG SET appendonly maybe",
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'",
        ),
        (
            "CONFIG SET timeout -1",
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive",
        ),
        (
            "CONFIG SET maxmemory 1.5mb",
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
        ),
        (
            "CONFIG SET maxmemory-policy foo",
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
        ),
        ("CONFIG SET a b c", "ERR syntax error"),
        (
            "CONFIG SET maxmemory",
            "ERR wrong number of arguments for 'config|set' command",
        ),
        (
            "CONFIG GET",
            "ERR wrong number of arguments for 'config|get' command",
        ),
        (
            "CONFIG FOO",
            "ERR unknown subcommand 'FOO'. Try CONFIG HELP.",
        ),
        // Names are all looked up before any value is checked.
        (
            "CONFIG SET hz x nosuch 1",
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
        ),
        (
            "CONFIG SET hz 1 HZ 2",
            "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter",
        ),
    ] {
        assert_eq!(c.q(cmd), V::err(error), "{cmd}");
    }
    // Aliases and canonical forms. A parameter and its alias are not duplicates (Redis 7):
    // both are set, in order.
    assert_eq!(
        c.q("CONFIG SET hash-max-listpack-entries 7 hash-max-ziplist-entries 8"),
        V::ok()
    );
    assert_eq!(
        c.q("CONFIG GET hash-max-listpack-entries"),
        arr(vec![bulk("hash-max-listpack-entries"), bulk("8")])
    );
    assert_eq!(c.q("CONFIG SET hash-max-ziplist-entries 100"), V::ok());
    assert_eq!(
        c.q("CONFIG GET hash-max-listpack-entries"),
        arr(vec![bulk("hash-max-listpack-entries"), bulk("100")])
    );
    assert_eq!(c.q("CONFIG SET notify-keyspace-events KEA"), V::ok());
    assert_eq!(
        c.q("CONFIG GET notify-keyspace-events"),
        arr(vec![bulk("notify-keyspace-events"), bulk("AKE")])
    );
    assert_eq!(c.q("CONFIG GET nosuch"), arr(vec![]));
    // A plain name answers under the spelling asked, once whatever its case; a glob answers
    // under the parameters' own names.
    assert_eq!(
        c.q("CONFIG GET Hash-Max-Ziplist-Entries hash-max-ziplist-entries"),
        arr(vec![bulk("Hash-Max-Ziplist-Entries"), bulk("100")])
    );
    assert_eq!(c.q("CONFIG GET HZ H?"), arr(vec![bulk("HZ"), bulk("20")]));
    assert_eq!(
        c.q("CONFIG GET SLOWLOG-MAX-*"),
        arr(vec![bulk("slowlog-max-len"), bulk("128")])
    );
    let everything = c.q("CONFIG GET *").items();
    assert!(everything.len() / 2 > 140, "{}", everything.len() / 2);
    assert!(everything.contains(&bulk("slaveof")));
    assert!(c.q("CONFIG HELP").items().contains(&simple("RESETSTAT")));
    assert_eq!(
        c.q("CONFIG REWRITE"),
        V::err("ERR The server is running without a config file")
    );
    // RESP3: a map.
    c.resp3();
    assert_eq!(c.q("CONFIG GET hz"), V::Map(vec![(bulk("hz"), bulk("20"))]));
}

/// A server started with a config file, for CONFIG REWRITE and INFO config_file.
struct FileServer {
    child: std::process::Child,
    port: u16,
}

impl FileServer {
    fn start(conf: &std::path::Path) -> FileServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ferrostack"))
            .arg(conf)
            .args(["--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn ferrostack");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        FileServer { child, port }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn config_rewrite_updates_the_file() {
    let dir = std::env::temp_dir().join(format!("ferrostack-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "# my settings\nbind 127.0.0.1\nsave \"\"\nmaxmemory 1mb\nmaxmemory-policy allkeys-lru\n",
    )
    .unwrap();
    let server = FileServer::start(&conf);
    let mut c = Client::connect(server.port);
    let file = info(&mut c, "server")["config_file"].clone();
    assert_eq!(std::path::Path::new(&file), conf.canonicalize().unwrap());
    assert_eq!(
        c.q("CONFIG GET maxmemory-policy"),
        arr(vec![bulk("maxmemory-policy"), bulk("allkeys-lru")])
    );
    assert_eq!(c.q("CONFIG SET maxmemory 2mb slowlog-max-len 5"), V::ok());
    assert_eq!(c.q("CONFIG REWRITE"), V::ok());
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.starts_with("# my settings\n"), "{text}");
    assert!(text.contains("\nmaxmemory 2097152\n"), "{text}");
    assert!(text.contains("\nmaxmemory-policy allkeys-lru\n"), "{text}");
    assert!(text.contains("slowlog-max-len 5\n"), "{text}");
    drop(server);
    // The rewritten file starts a server with the same settings.
    let server = FileServer::start(&conf);
    let mut c = Client::connect(server.port);
    assert_eq!(
        c.q("CONFIG GET maxmemory slowlog-max-len"),
        arr(vec![
            bulk("maxmemory"),
            bulk("2097152"),
            bulk("slowlog-max-len"),
            bulk("5")
        ])
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `COMMAND INFO get` exactly as redis-server 7.0.15 replies (RESP2).
fn redis_get_info() -> V {
    arr(vec![
        bulk("get"),
        V::Int(2),
        arr(vec![simple("readonly"), simple("fast")]),
        V::Int(1),
        V::Int(1),
        V::Int(1),
        arr(vec![simple("@read"), simple("@string"), simple("@fast")]),
        arr(vec![]),
        arr(vec![arr(vec![
            bulk("flags"),
            arr(vec![simple("RO"), simple("access")]),
            bulk("begin_search"),
            arr(vec![
                bulk("type"),
                bulk("index"),
                bulk("spec"),
                arr(vec![bulk("index"), V::Int(1)]),
            ]),
            bulk("find_keys"),
            arr(vec![
                bulk("type"),
                bulk("range"),
                bulk("spec"),
                arr(vec![
                    bulk("lastkey"),
                    V::Int(0),
                    bulk("keystep"),
                    V::Int(1),
                    bulk("limit"),
                    V::Int(0),
                ]),
            ]),
        ])]),
        arr(vec![]),
    ])
}

/// Name, arity, flags, (first, last, step), ACL categories, tips.
type Row = (
    &'static str,
    i64,
    &'static str,
    (i64, i64, i64),
    &'static str,
    &'static str,
);

/// This group's rows as redis-server 7.0.15's COMMAND INFO shows them: name, arity, flags,
/// key triple, ACL categories, tips.
const REDIS_ROWS: &[Row] = &[
    (
        "info",
        -1,
        "loading stale",
        (0, 0, 0),
        "@slow @dangerous",
        "nondeterministic_output request_policy:all_shards response_policy:special",
    ),
    ("config", -2, "", (0, 0, 0), "@slow", ""),
    (
        "config|get",
        -3,
        "admin noscript loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "",
    ),
    ("config|help", 2, "loading stale", (0, 0, 0), "@slow", ""),
    (
        "config|resetstat",
        2,
        "admin noscript loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "",
    ),
    (
        "config|rewrite",
        2,
        "admin noscript loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "",
    ),
    (
        "config|set",
        -4,
        "admin noscript loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "request_policy:all_nodes response_policy:all_succeeded",
    ),
    (
        "command",
        -1,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "nondeterministic_output_order",
    ),
    (
        "command|count",
        2,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "",
    ),
    (
        "command|docs",
        -2,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "nondeterministic_output_order",
    ),
    (
        "command|getkeys",
        -4,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "",
    ),
    (
        "command|getkeysandflags",
        -4,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "",
    ),
    (
        "command|help",
        2,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "",
    ),
    (
        "command|info",
        -2,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "nondeterministic_output_order",
    ),
    (
        "command|list",
        -2,
        "loading stale",
        (0, 0, 0),
        "@slow @connection",
        "nondeterministic_output_order",
    ),
    (
        "dbsize",
        1,
        "readonly fast",
        (0, 0, 0),
        "@keyspace @read @fast",
        "request_policy:all_shards response_policy:agg_sum",
    ),
    (
        "flushdb",
        -1,
        "write",
        (0, 0, 0),
        "@keyspace @write @slow @dangerous",
        "request_policy:all_shards response_policy:all_succeeded",
    ),
    (
        "flushall",
        -1,
        "write",
        (0, 0, 0),
        "@keyspace @write @slow @dangerous",
        "request_policy:all_shards response_policy:all_succeeded",
    ),
    (
        "swapdb",
        3,
        "write fast",
        (0, 0, 0),
        "@keyspace @write @fast @dangerous",
        "",
    ),
    (
        "time",
        1,
        "loading stale fast",
        (0, 0, 0),
        "@fast",
        "nondeterministic_output",
    ),
    (
        "lastsave",
        1,
        "loading stale fast",
        (0, 0, 0),
        "@admin @fast @dangerous",
        "nondeterministic_output",
    ),
    ("slowlog", -2, "", (0, 0, 0), "@slow", ""),
    (
        "slowlog|get",
        -2,
        "admin loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "request_policy:all_nodes nondeterministic_output",
    ),
    ("slowlog|help", 2, "loading stale", (0, 0, 0), "@slow", ""),
    (
        "slowlog|len",
        2,
        "admin loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
    ),
    (
        "slowlog|reset",
        2,
        "admin loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "request_policy:all_nodes response_policy:all_succeeded",
    ),
    ("memory", -2, "", (0, 0, 0), "@slow", ""),
    ("memory|help", 2, "loading stale", (0, 0, 0), "@slow", ""),
    (
        "memory|stats",
        2,
        "",
        (0, 0, 0),
        "@slow",
        "nondeterministic_output request_policy:all_shards response_policy:special",
    ),
    ("memory|usage", -3, "readonly", (2, 2, 1), "@read @slow", ""),
    ("module", -2, "", (0, 0, 0), "@slow", ""),
    ("module|help", 2, "loading stale", (0, 0, 0), "@slow", ""),
    (
        "module|list",
        2,
        "admin noscript",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "nondeterministic_output_order",
    ),
    (
        "debug",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        "@admin @slow @dangerous",
        "",
    ),
];

fn words(items: &V) -> String {
    items
        .items()
        .iter()
        .map(V::text)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn command_introspection() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("COMMAND INFO get"), arr(vec![redis_get_info()]));
    for (name, arity, flags, (first, last, step), acl, tips) in REDIS_ROWS {
        let info = c.q(&format!("COMMAND INFO {name}")).items()[0].items();
        assert_eq!(info.len(), 10, "{name}");
        assert_eq!(info[0], bulk(name));
        assert_eq!(info[1], V::Int(*arity), "{name} arity");
        assert_eq!(words(&info[2]), *flags, "{name} flags");
        assert_eq!(
            (info[3].clone(), info[4].clone(), info[5].clone()),
            (V::Int(*first), V::Int(*last), V::Int(*step)),
            "{name} keys"
        );
        assert_eq!(words(&info[6]), *acl, "{name} ACL categories");
        assert_eq!(words(&info[7]), *tips, "{name} tips");
    }
    // Subcommands are nested as full entries.
    let config = c.q("COMMAND INFO config").items()[0].items();
    let subs: Vec<String> = config[9]
        .items()
        .iter()
        .map(|s| s.items()[0].text())
        .collect();
    for sub in [
        "config|get",
        "config|set",
        "config|resetstat",
        "config|rewrite",
        "config|help",
    ] {
        assert!(subs.contains(&sub.to_string()), "{subs:?}");
    }

    let all = c.q("COMMAND").items();
    let V::Int(count) = c.q("COMMAND COUNT") else {
        panic!("COMMAND COUNT must be an integer")
    };
    assert_eq!(all.len() as i64, count);
    assert!(all.contains(&redis_get_info()));

    let list = c.q("COMMAND LIST").items();
    assert!(list.contains(&bulk("get")) && list.contains(&bulk("config|get")));
    let dangerous = c.q("COMMAND LIST FILTERBY ACLCAT dangerous").items();
    assert!(dangerous.contains(&bulk("flushall")) && dangerous.contains(&bulk("config|set")));
    assert!(!dangerous.contains(&bulk("get")));
    let mut config_names = c.q("COMMAND LIST FILTERBY PATTERN config*").items();
    config_names.sort_by_key(V::text);
    assert_eq!(config_names.len(), 6, "{config_names:?}");
    assert_eq!(c.q("COMMAND LIST FILTERBY ACLCAT nosuch"), arr(vec![]));
    assert_eq!(c.q("COMMAND LIST FILTERBY MODULE x"), arr(vec![]));
    assert_eq!(
        c.q("COMMAND LIST FILTERBY foo x"),
        V::err("ERR syntax error")
    );
    assert_eq!(c.q("COMMAND LIST x"), V::err("ERR syntax error"));

    let docs = c.q("COMMAND DOCS get").items();
    assert_eq!(docs[0], bulk("get"));
    let fields = docs[1].items();
    assert_eq!(
        fields[0..6],
        [
            bulk("summary"),
            bulk("Returns the string value of a key."),
            bulk("since"),
            bulk("1.0.0"),
            bulk("group"),
            bulk("string")
        ]
    );
    let config_docs = c.q("COMMAND DOCS config").items()[1].items();
    assert!(config_docs.contains(&bulk("subcommands")));
    assert_eq!(c.q("COMMAND DOCS nosuch"), arr(vec![]));

    assert_eq!(c.q("COMMAND GETKEYS get a"), arr(vec![bulk("a")]));
    assert_eq!(c.q("COMMAND GETKEYS memory usage a"), arr(vec![bulk("a")]));
    assert_eq!(
        c.q("COMMAND GETKEYSANDFLAGS get a"),
        arr(vec![arr(vec![
            bulk("a"),
            arr(vec![simple("RO"), simple("access")])
        ])])
    );
    for (cmd, error) in [
        ("COMMAND GETKEYS nosuch a", "ERR Invalid command specified"),
        (
            "COMMAND GETKEYS get a b",
            "ERR Invalid number of arguments specified for command",
        ),
        (
            "COMMAND GETKEYS ping a",
            "ERR The command has no key arguments",
        ),
        (
            "COMMAND GETKEYS get",
            "ERR wrong number of arguments for 'command|getkeys' command",
        ),
        (
            "COMMAND COUNT x",
            "ERR wrong number of arguments for 'command|count' command",
        ),
        (
            "COMMAND FOO",
            "ERR unknown subcommand 'FOO'. Try COMMAND HELP.",
        ),
        (
            "MEMORY DOCTOR",
            "ERR unknown subcommand 'DOCTOR'. Try MEMORY HELP.",
        ),
        (
            "MODULE LOAD x",
            "ERR unknown subcommand 'LOAD'. Try MODULE HELP.",
        ),
    ] {
        assert_eq!(c.q(cmd), V::err(error), "{cmd}");
    }
    assert_eq!(c.q("COMMAND HELP").items().len(), 21);

    // RESP3: flags, categories, tips and key specs are sets, key specs maps.
    c.resp3();
    // (Key specs are a set of maps, as in Redis, which the test client cannot decode: the
    // commands looked at here have no keys.)
    let both = c.q("COMMAND INFO nosuch dbsize config").items();
    assert_eq!(both[0], V::Nil, "unknown commands give nil");
    let info = both[1].items();
    // The test client decodes sets without their order.
    let sorted = |v: &V| {
        assert!(matches!(v, V::Set(_)), "{v:?} must be a set");
        let mut w: Vec<String> = v.items().iter().map(V::text).collect();
        w.sort();
        w.join(" ")
    };
    assert_eq!(sorted(&info[2]), "fast readonly");
    assert_eq!(sorted(&info[6]), "@fast @keyspace @read");
    assert_eq!(info[8], V::Set(vec![]));
    assert_eq!(
        info[9],
        V::Set(vec![]),
        "no subcommands: an empty set, as Redis sends"
    );
    let config = both[2].items();
    assert!(matches!(&config[9], V::Array(subs) if subs.len() == 5));
    let V::Map(docs) = c.q("COMMAND DOCS get") else {
        panic!("COMMAND DOCS must be a map in RESP3")
    };
    assert_eq!(docs[0].0, bulk("get"));
}

#[test]
fn module_list_has_the_search_module() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let list = c.q("MODULE LIST").items();
    assert_eq!(list.len(), 1);
    let entry = list[0].items();
    assert_eq!(
        entry[..4],
        [bulk("name"), bulk("search"), bulk("ver"), V::Int(21020)]
    );
    assert_eq!(entry[6..], [bulk("args"), arr(vec![])]);
    assert_eq!(c.q("MODULE HELP").items()[1], simple("LIST"));
    // `INFO modules` lists the modules, then the search module's own sections.
    let sections = info_sections(&mut c, "modules");
    assert_eq!(sections[..2], ["Modules", "search_version"]);
    assert!(c.q("INFO modules").text().contains(
        "module:name=search,ver=21020,api=1,filters=0,usedby=[],using=[],options=[handle-io-errors]\r\n"
    ));
    let commands = c.q("COMMAND LIST FILTERBY MODULE search").items();
    assert!(commands.contains(&bulk("ft.search")), "{commands:?}");
    assert!(!commands.contains(&bulk("get")), "{commands:?}");
    c.resp3();
    let V::Map(entry) = &c.q("MODULE LIST").items()[0] else {
        panic!("MODULE LIST entries are maps in RESP3")
    };
    assert_eq!(entry[1], (bulk("ver"), V::Int(21020)));
}

#[test]
fn flushall_flushdb_swapdb_dbsize() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for db in 0..3 {
        assert_eq!(c.q(&format!("SELECT {db}")), V::ok());
        for i in 0..=db {
            assert_eq!(c.q(&format!("SET k{i} db{db}")), V::ok());
        }
        assert_eq!(c.q("DBSIZE"), V::Int(db + 1));
    }
    let keyspace = info(&mut c, "keyspace");
    assert_eq!(keyspace["db2"], "keys=3,expires=0,avg_ttl=0");

    // SWAPDB exchanges whole databases, seen from every connection.
    assert_eq!(c.q("SWAPDB 0 2"), V::ok());
    let mut other = server.client();
    assert_eq!(other.q("DBSIZE"), V::Int(3));
    assert_eq!(other.q("GET k0"), bulk("db2"));
    assert_eq!(c.q("DBSIZE"), V::Int(1), "db 2 now holds what db 0 held");
    assert_eq!(c.q("GET k0"), bulk("db0"));
    assert_eq!(c.q("SWAPDB 1 1"), V::ok());
    for (cmd, error) in [
        ("SWAPDB 0 x", "ERR invalid second DB index"),
        ("SWAPDB x 0", "ERR invalid first DB index"),
        ("SWAPDB 01 1", "ERR invalid first DB index"),
        ("SWAPDB 0 16", "ERR DB index is out of range"),
        ("SWAPDB -1 0", "ERR DB index is out of range"),
        (
            "SWAPDB 0",
            "ERR wrong number of arguments for 'swapdb' command",
        ),
        (
            "DBSIZE x",
            "ERR wrong number of arguments for 'dbsize' command",
        ),
        ("FLUSHALL foo", "ERR syntax error"),
        ("FLUSHDB ASYNC x", "ERR syntax error"),
    ] {
        assert_eq!(c.q(cmd), V::err(error), "{cmd}");
    }

    // FLUSHDB empties only the selected database.
    assert_eq!(c.q("FLUSHDB"), V::ok());
    assert_eq!(c.q("DBSIZE"), V::Int(0));
    assert_eq!(other.q("DBSIZE"), V::Int(3));
    // FLUSHALL empties every database.
    assert_eq!(c.q("FLUSHALL sync"), V::ok());
    for db in 0..3 {
        assert_eq!(c.q(&format!("SELECT {db}")), V::ok());
        assert_eq!(c.q("DBSIZE"), V::Int(0), "db{db}");
    }
    assert_eq!(info(&mut c, "keyspace").len(), 0);
    assert_eq!(c.q("SET a 1"), V::ok());
    assert_eq!(c.q("FLUSHALL ASYNC"), V::ok());
    assert_eq!(c.q("DBSIZE"), V::Int(0));
}

#[test]
fn time_and_lastsave() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let time = c.q("TIME").items();
    assert_eq!(time.len(), 2);
    let secs: i64 = time[0].text().parse().unwrap();
    let micros: i64 = time[1].text().parse().unwrap();
    assert!((secs - now).abs() <= 2, "{secs} vs {now}");
    assert!((0..1_000_000).contains(&micros));
    let V::Int(lastsave) = c.q("LASTSAVE") else {
        panic!("LASTSAVE must be an integer")
    };
    // Until snapshots exist, the start-up time.
    assert!(
        lastsave <= now && now - lastsave < 60,
        "{lastsave} vs {now}"
    );
    assert_eq!(
        c.q("TIME x"),
        V::err("ERR wrong number of arguments for 'time' command")
    );
}

#[test]
fn slowlog_records_slow_commands() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.client();
    assert_eq!(c.q("CONFIG SET slowlog-log-slower-than 100000"), V::ok());
    assert_eq!(c.q("SLOWLOG RESET"), V::ok());
    assert_eq!(c.q("SLOWLOG LEN"), V::Int(0));
    assert_eq!(c.q("DEBUG SLEEP 0.15"), V::ok());
    assert_eq!(c.q("DBSIZE"), V::Int(0));
    assert_eq!(c.q("SLOWLOG LEN"), V::Int(1));
    let entries = c.q("SLOWLOG GET").items();
    let entry = entries[0].items();
    assert_eq!(entry.len(), 6);
    assert!(matches!(entry[0], V::Int(_)));
    let V::Int(ts) = entry[1] else {
        panic!("timestamp")
    };
    assert!(ts > 1_600_000_000);
    assert!(
        matches!(entry[2], V::Int(us) if us >= 150_000),
        "{:?}",
        entry[2]
    );
    assert_eq!(
        entry[3],
        arr(vec![bulk("DEBUG"), bulk("SLEEP"), bulk("0.15")])
    );
    let peer = entry[4].text();
    assert!(peer.starts_with("127.0.0.1:"), "{peer}");

    // Every command is slow at threshold 0; newest first; max-len trims.
    assert_eq!(
        c.q("CONFIG SET slowlog-log-slower-than 0 slowlog-max-len 3"),
        V::ok()
    );
    for i in 0..5 {
        assert_eq!(c.q(&format!("SET k{i} v")), V::ok());
    }
    // Entries are added after the command runs: the newest is the last SET.
    let newest = c.q("SLOWLOG GET 1").items();
    assert_eq!(newest.len(), 1);
    assert_eq!(
        newest[0].items()[3],
        arr(vec![bulk("SET"), bulk("k4"), bulk("v")])
    );
    assert_eq!(c.q("SLOWLOG LEN"), V::Int(3));
    assert_eq!(c.q("SLOWLOG GET -1").items().len(), 3);
    assert_eq!(c.q("SLOWLOG GET 0"), arr(vec![]));
    for bad in ["SLOWLOG GET x", "SLOWLOG GET -2"] {
        assert_eq!(
            c.q(bad),
            V::err("ERR count should be greater than or equal to -1"),
            "{bad}"
        );
    }
    // Credentials are redacted where Redis redacts them.
    c.q("AUTH default secret");
    assert_eq!(
        c.q("SLOWLOG GET 1").items()[0].items()[3],
        arr(vec![bulk("AUTH"), bulk("(redacted)"), bulk("(redacted)")])
    );
    assert_eq!(
        c.q("SLOWLOG get 1 x"),
        V::err("ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.")
    );
    assert_eq!(c.q("SLOWLOG RESET"), V::ok());
    // SLOWLOG RESET itself is logged after the reset.
    assert_eq!(c.q("SLOWLOG LEN"), V::Int(1));
    assert!(c.q("SLOWLOG HELP").items().contains(&simple("RESET")));
}

/// Redis times a command's own run only: a command that waited while another client's EXEC
/// (or script) ran is not slow, neither in the slow log nor in INFO commandstats.
#[test]
fn slowlog_does_not_time_the_wait_for_another_clients_exec() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut a = server.client();
    let mut b = server.client();
    assert_eq!(a.q("CONFIG SET slowlog-log-slower-than 100000"), V::ok());
    assert_eq!(a.q("MULTI"), V::ok());
    assert_eq!(a.q("DEBUG SLEEP 0.8"), simple("QUEUED"));
    a.send(&["EXEC"]);
    // B's GET arrives while EXEC holds the server and waits for it to finish.
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(b.q("GET k"), V::Nil);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.read(), arr(vec![V::ok()]));
    // Only the command run inside EXEC is slow (EXEC itself is never logged).
    let entries = a.q("SLOWLOG GET -1").items();
    let logged: Vec<V> = entries.iter().map(|e| e.items()[3].clone()).collect();
    assert_eq!(
        logged,
        vec![arr(vec![bulk("DEBUG"), bulk("SLEEP"), bulk("0.8")])]
    );
    let stats = a.q("INFO commandstats").text();
    let get = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_get:"))
        .unwrap_or_else(|| panic!("{stats}"));
    let usec: u64 = get
        .split(',')
        .find_map(|f| f.strip_prefix("usec="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{get}"));
    assert!(usec < 100_000, "{get}");
}

#[test]
fn debug_is_gated_and_sleeps() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let refused = c.q("DEBUG SLEEP 0");
    assert!(
        refused.text().starts_with("ERR DEBUG command not allowed."),
        "{refused:?}"
    );
    drop(c);
    drop(server);

    let server = Server::start(&["--enable-debug-command", "local"]);
    let mut c = server.client();
    let started = Instant::now();
    assert_eq!(c.q("DEBUG SLEEP 0.2"), V::ok());
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(c.q("DEBUG SET-ACTIVE-EXPIRE 0"), V::ok());
    assert_eq!(c.q("DEBUG SET-ACTIVE-EXPIRE 1"), V::ok());
    assert_eq!(
        c.q("DEBUG NO-SUCH-THING"),
        V::err(
            "ERR unknown subcommand or wrong number of arguments for 'NO-SUCH-THING'. Try DEBUG HELP."
        )
    );
    assert_eq!(
        c.q("DEBUG SLEEP"),
        V::err("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.")
    );
}
