//! ferrostack: a Redis-compatible server (RESP2 / RESP3 on port 6379) with RediSearch's
//! vector, full-text and aggregation commands (FT.*).
//!
//! # Layout
//! Dependencies point one way: `main -> server -> commands -> {state, clients, stats, search,
//! persistence} -> keyspace`, and nothing below imports what is above it.
//!
//! - [`protocol`]: RESP request decoding (multibulk and inline, Redis's size limits and
//!   protocol errors) and reply encoding for RESP2 or RESP3. Knows nothing of keys.
//! - [`server`]: listeners, connections, timers, shutdown. Networking only.
//! - [`commands`]: the command table and one module of handlers per Redis group. Handlers are
//!   synchronous functions of `(ExecCtx, Args)`.
//! - [`state`], [`clients`], [`stats`], [`config`]: what handlers share — the keyspace,
//!   configuration, connected clients, counters, latency histograms and slow log.
//! - [`keyspace`]: databases of mutex-guarded shards, values (with the encoding and access
//!   record Redis would keep for them), expiry, change events, and the DUMP / RESTORE payload
//!   codec (`keyspace::rdb`).
//! - [`pubsub`]: channel, pattern and shard-channel subscriptions and keyspace notifications;
//!   each subscriber gets an unbounded feed its connection writes out. Never touches keys.
//! - [`blocking`]: clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK ...), woken in FIFO
//!   order by re-running their command when a key they wait on is written.
//! - [`scripting`]: the Lua 5.1 engine behind EVAL (the `redis` API, reply conversions, the
//!   bundled libraries, SCRIPT KILL); its commands run through `commands::execute_nested`.
//! - [`persistence`]: what outlives the process. The RDB snapshot (`dir/dbfilename`) in
//!   Redis 7.0's file format and the `save` rules; the append-only file (Redis 7's manifest,
//!   base and incremental files, `appendfsync`, rewrites). What a command appends is decided
//!   in `commands::propagate`; what goes into a snapshot (keys, function libraries, search
//!   index definitions), loading either file and rewriting the AOF need the whole server and
//!   live in `commands::snapshot` and `commands::aof`. HNSW graphs are saved beside both
//!   (`persistence::graph_file`) and adopted after a load (`commands::graphs`).
//! - [`hll`]: Redis's HyperLogLog string layout and estimator.
//! - [`search`]: the search engine behind FT.*: index definitions and their FT.CREATE parser,
//!   the registry of indexes (a keyspace observer that keeps every index in step with database
//!   0), per-index document tables, numeric / tag / geo / text (tantivy) / vector field
//!   indexes (FLAT and our own HNSW with a background graph builder), the query language and
//!   its executor, RediSearch's scorers, FT.AGGREGATE's pipeline and cursors, the expression
//!   language of FILTER / APPLY, spell-check dictionaries and synonyms. It sees keys as bytes
//!   and documents as hash values; FT.* argument parsing, the background scan of FT.CREATE and
//!   reply building live in `commands::search`. Suggestion dictionaries (FT.SUG*) are key
//!   values: `keyspace::suggest`.
//! - [`error`] (one error enum per layer: `CmdError`, `ProtocolError`; every reply text),
//!   [`glob`] (Redis's pattern matching) and [`progress`] (when long jobs log their
//!   progress) depend on nothing.
//!
//! # Request lifecycle
//! A connection reads into a buffer, decodes every complete request in it, executes each
//! through `commands::execute` (table lookup, arity, auth, MULTI queueing, handler), serves
//! the clients blocked on keys the command wrote, encodes all replies (and pub/sub messages)
//! into one buffer and writes it once. A command CLIENT PAUSE holds back, or a blocking
//! command with nothing to serve, waits in the connection task, holding no lock.
//!
//! # Lock order
//! Shards are locked in ascending `(db, shard)` order by [`keyspace::Keyspace`]'s `lock*`
//! methods, the only way to reach data. No lock is held across an `.await`: handlers are
//! synchronous (clippy's `await_holding_lock` and `unwrap_used` are denied in Cargo.toml).
//! Change events are delivered while the shard locks are held, so observers see one key's
//! changes in order and must never call back into the keyspace. The pub/sub registry's
//! lock is a leaf: observers take it under shard locks, and nothing is locked while it is
//! held. So is a keyspace capture's (BGSAVE's point-in-time copy): the first locker of a
//! shard the capture still waits for copies it under the shard's lock before using it.
//!
//! Search follows the same order: keyspace shards, then the index registry, then one index.
//! Index changes happen inside change events (shard locks held), so a write acknowledged to a
//! client is visible to the next FT.SEARCH of any client; FT.SEARCH computes its hits under
//! the index's read lock, releases it, then loads the returned fields key by key. HNSW graph
//! inserts and rebuilds run on a background thread per index, outside every lock readers need;
//! a save holds that thread (between two inserts) while it reads the graph, and adopting a
//! saved graph takes the index's lock, then the vector field's.
//!
//! Every command runs holding `ServerState::exec_gate` for reading; EXEC and scripts hold it
//! for writing, which makes them atomic against every other client. The gate is taken
//! before any shard lock; the blocked-clients registry before the gate (serving a blocked
//! client runs its command).

pub mod blocking;
pub mod clients;
pub mod commands;
pub mod config;
pub mod error;
pub mod glob;
pub mod hll;
pub mod keyspace;
pub mod persistence;
pub mod progress;
pub mod protocol;
pub mod pubsub;
pub mod scripting;
pub mod search;
pub mod server;
pub mod state;
pub mod stats;

/// The Redis version the server reports; the compatibility target.
pub const REDIS_VERSION: &str = "7.4.2";
