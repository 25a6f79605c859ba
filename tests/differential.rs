//! Differential test: the same seeded random command sequence goes to Debian's real
//! `redis-server` (the oracle) and to ferrostack, and every reply is compared — byte for byte,
//! or through a normaliser where two correct servers may differ (see differential/check.rs).
//! The commands and their comparison rules are listed in differential/generator.rs.
//!
//! Environment:
//! - `FERRO_DIFF_SEED=<n>`: the seed (default 20240601); a failure prints the one to reuse.
//! - `FERRO_DIFF_STEPS=<n>`: generated steps (default 10000).
//! - `FERRO_DIFF_KEEP_GOING=1`: report every mismatch with a per-command table instead of
//!   stopping at the first; both servers are reset after each mismatch.
//!
//! Run: `cargo test --test differential -- --nocapture`.

#[path = "differential/check.rs"]
mod check;
mod common;
#[path = "differential/generator.rs"]
mod generator;
#[path = "differential/ops.rs"]
mod ops;
#[path = "differential/oracle.rs"]
mod oracle;
#[path = "differential/runner.rs"]
mod runner;

use common::Server;
use oracle::RealRedis;
use runner::{Options, Outcome, Runner};

const DEFAULT_SEED: u64 = 20240601;
const DEFAULT_STEPS: usize = 10_000;
/// Steps of the harness self-check (oracle against a second real Redis).
const SELF_CHECK_STEPS: usize = 3_000;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a non-negative integer, got {value:?}")),
        Err(_) => default,
    }
}

fn options(steps: usize, other_name: &'static str) -> Options {
    Options {
        seed: env_number("FERRO_DIFF_SEED", DEFAULT_SEED),
        steps: env_number("FERRO_DIFF_STEPS", steps as u64) as usize,
        keep_going: std::env::var("FERRO_DIFF_KEEP_GOING").is_ok_and(|v| v != "0" && !v.is_empty()),
        other_name,
    }
}

/// Prints what was covered and fails with the mismatch report(s).
fn conclude(opts: &Options, outcome: Outcome) {
    println!(
        "differential: seed {} steps {} against redis-server {}",
        opts.seed,
        opts.steps,
        RealRedis::version()
    );
    let rows = generator::rows();
    let total: u32 = rows.iter().map(|(_, w)| w).sum();
    println!("generator rows (name, share of steps):");
    for (name, weight) in &rows {
        println!(
            "  {name:<40} {:>5.1}%",
            f64::from(*weight) * 100.0 / f64::from(total)
        );
    }
    println!(
        "{:<32} {:>8} {:>14} {:>10}",
        "command sent", "count", "oracle errors", "mismatched"
    );
    for (name, count) in &outcome.counts {
        println!(
            "{name:<32} {:>8} {:>14} {:>10}",
            count.sent, count.errors, count.mismatched
        );
    }
    if outcome.mismatches.is_empty() {
        return;
    }
    // One report per command name: in keep-going mode later ones are mostly the same bug.
    let mut seen = std::collections::BTreeSet::new();
    let reports: Vec<String> = outcome
        .mismatches
        .iter()
        .filter(|m| seen.insert(m.name.clone()))
        .map(|m| Runner::report(opts, m))
        .collect();
    panic!(
        "{}\n{} mismatch(es) in {} command(s): {seen:?}\n(the table above counts them per command; \
         FERRO_DIFF_KEEP_GOING=1 reports the first of each command)",
        reports.join("\n"),
        outcome.mismatches.len(),
        seen.len()
    );
}

#[test]
fn ferrostack_replies_like_real_redis() {
    let redis = RealRedis::start();
    let ferro = Server::start(&[]);
    let opts = options(DEFAULT_STEPS, "ferrostack");
    let outcome = Runner::new(redis.port, ferro.port, options(DEFAULT_STEPS, "ferrostack")).run();
    conclude(&opts, outcome);
}

/// Whether setup's own commands (HELLO 3) land in the slow log depends on how long they take
/// under the servers' starting threshold (10 ms), so setup turns the slow log off before
/// sending anything else. Servers that log every command stand for the slowest timing: the
/// slow log must still be empty when the first step runs, or a later SLOWLOG LEN / GET
/// compares entries only one server happened to log.
#[test]
fn setup_leaves_the_slow_log_empty_whatever_the_starting_threshold() {
    let log_all = ["--slowlog-log-slower-than", "0"];
    let redis = RealRedis::start_with(&log_all);
    let ferro = Server::start(&log_all);
    let opts = || Options {
        seed: DEFAULT_SEED,
        steps: 0,
        keep_going: false,
        other_name: "ferrostack",
    };
    let outcome = Runner::new(redis.port, ferro.port, opts()).run();
    conclude(&opts(), outcome);
    for (name, port) in [("redis", redis.port), ("ferrostack", ferro.port)] {
        let len = common::Client::connect(port).cmd(&["SLOWLOG", "LEN"]);
        assert_eq!(len, common::V::Int(0), "{name}'s slow log after setup");
    }
}

/// The harness itself: two real Redis servers must never differ, so every normaliser absorbs
/// all legitimate nondeterminism (random picks, hash order, times, ids, SCAN paging).
#[test]
fn harness_sees_no_difference_between_two_real_redis() {
    let a = RealRedis::start();
    let b = RealRedis::start();
    let opts = options(SELF_CHECK_STEPS, "second redis");
    let outcome = Runner::new(a.port, b.port, options(SELF_CHECK_STEPS, "second redis")).run();
    conclude(&opts, outcome);
}
