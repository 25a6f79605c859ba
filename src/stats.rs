//! Server-wide statistics INFO reports: counters (stats, errorstats), instantaneous metrics
//! sampled like Redis's, memory readings from the allocator, CPU time, process identity
//! (run id, start time), the slow log and per-command latency histograms (latencystats).
//! Depends on nothing else in the crate.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use hdrhistogram::Histogram;
use parking_lot::Mutex;

/// Redis stops tracking new error codes past this many distinct ones.
const MAX_ERROR_CODES: usize = 128;

/// Counters updated by the connection layer and the dispatcher.
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub total_error_replies: AtomicU64,
    /// Successful write commands not yet in a snapshot (`rdb_changes_since_last_save`; a
    /// save subtracts what it covered). Redis counts changed keys; this counts write commands.
    pub dirty: AtomicU64,
    /// Error replies by error code (`ERR`, `WRONGTYPE`, ...).
    pub errors: Mutex<BTreeMap<String, u64>>,
    pub slowlog: Mutex<SlowLog>,
    /// Highest `used_memory` seen, for `used_memory_peak`.
    pub used_memory_peak: AtomicU64,
    metrics: Mutex<Metrics>,
    /// Bytes allocated when the server state was created (`used_memory_startup`).
    pub startup_allocated: u64,
    /// 40 hex characters identifying this run (`run_id`).
    pub run_id: String,
    /// The replication id a master reports (`master_replid`).
    pub replid: String,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            total_connections_received: AtomicU64::new(0),
            total_commands_processed: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            total_error_replies: AtomicU64::new(0),
            dirty: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            slowlog: Mutex::new(SlowLog::default()),
            used_memory_peak: AtomicU64::new(0),
            metrics: Mutex::new(Metrics::new(Instant::now())),
            startup_allocated: memory().allocated,
            run_id: random_hex_id(),
            replid: random_hex_id(),
        }
    }
}

impl Stats {
    pub fn count_error(&self, code: &str) {
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock();
        if let Some(count) = errors.get_mut(code) {
            *count += 1;
        } else if errors.len() < MAX_ERROR_CODES {
            errors.insert(code.to_string(), 1);
        }
    }

    /// CONFIG RESETSTAT: the counters INFO stats and errorstats show. The peak memory is
    /// reset to the current use.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.total_error_replies,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
        self.used_memory_peak
            .store(memory().allocated, Ordering::Relaxed);
        *self.metrics.lock() = Metrics::new(Instant::now());
    }

    /// Takes one sample of the instantaneous metrics and refreshes the memory peak. Called
    /// every [`SAMPLE_PERIOD`], as Redis's cron does.
    pub fn sample(&self) {
        let now = Instant::now();
        let mut m = self.metrics.lock();
        m.ops
            .track(now, self.total_commands_processed.load(Ordering::Relaxed));
        m.net_input
            .track(now, self.net_input_bytes.load(Ordering::Relaxed));
        m.net_output
            .track(now, self.net_output_bytes.load(Ordering::Relaxed));
        drop(m);
        self.used_memory_peak
            .fetch_max(memory().allocated, Ordering::Relaxed);
    }

    /// Commands per second over the last [`SAMPLES`] samples.
    pub fn instantaneous_ops_per_sec(&self) -> u64 {
        self.metrics.lock().ops.average()
    }

    /// Network input and output in KiB per second over the last samples.
    pub fn instantaneous_kbps(&self) -> (f64, f64) {
        let m = self.metrics.lock();
        (
            m.net_input.average() as f64 / 1024.0,
            m.net_output.average() as f64 / 1024.0,
        )
    }
}

/// How often [`Stats::sample`] should run.
pub const SAMPLE_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);
/// Samples averaged by the instantaneous metrics (Redis's `STATS_METRIC_SAMPLES`).
pub const SAMPLES: usize = 16;

/// A rate sampled periodically: per-second values of the last [`SAMPLES`] periods.
struct Metric {
    last_time: Instant,
    last_value: u64,
    samples: [u64; SAMPLES],
    next: usize,
}

impl Metric {
    fn new(now: Instant) -> Metric {
        Metric {
            last_time: now,
            last_value: 0,
            samples: [0; SAMPLES],
            next: 0,
        }
    }

    fn track(&mut self, now: Instant, value: u64) {
        let ms = now.duration_since(self.last_time).as_millis() as u64;
        let delta = value.saturating_sub(self.last_value);
        self.samples[self.next] = (delta * 1000).checked_div(ms).unwrap_or(0);
        self.next = (self.next + 1) % SAMPLES;
        self.last_time = now;
        self.last_value = value;
    }

    fn average(&self) -> u64 {
        self.samples.iter().sum::<u64>() / SAMPLES as u64
    }
}

struct Metrics {
    ops: Metric,
    net_input: Metric,
    net_output: Metric,
}

impl Metrics {
    fn new(now: Instant) -> Metrics {
        Metrics {
            ops: Metric::new(now),
            net_input: Metric::new(now),
            net_output: Metric::new(now),
        }
    }
}

/// What the allocator and the kernel say about the process's memory, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Bytes handed out by the allocator (`used_memory`, `allocator_allocated`).
    pub allocated: u64,
    /// Bytes in pages the allocator has in use (`allocator_active`).
    pub active: u64,
    /// Bytes of physical memory the allocator holds (`allocator_resident`).
    pub resident: u64,
    /// The process's resident set size (`used_memory_rss`).
    pub rss: u64,
}

/// Reads the allocator's statistics (refreshing its cached counters first) and the RSS.
/// When jemalloc is not the global allocator (unit tests), its counters cover only what it
/// allocated itself.
pub fn memory() -> Memory {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    let read = |r: tikv_jemalloc_ctl::Result<usize>| r.map_or(0, |v| v as u64);
    Memory {
        allocated: read(stats::allocated::read()),
        active: read(stats::active::read()),
        resident: read(stats::resident::read()),
        rss: rss_bytes(),
    }
}

/// The allocator's name and version as INFO's `mem_allocator` shows it (`jemalloc-5.3.0`).
pub fn allocator_name() -> String {
    let version = tikv_jemalloc_ctl::version::read().unwrap_or("unknown");
    let short = version.split('-').next().unwrap_or(version);
    format!("jemalloc-{short}")
}

/// Resident set size from `/proc/self/statm` (0 where it does not exist).
fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}

/// Physical memory of the machine (`total_system_memory`).
pub fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    pages.max(0) as u64 * page.max(0) as u64
}

/// CPU time used, in seconds: (system, user) of the process and of its children.
pub fn cpu_times() -> ((f64, f64), (f64, f64)) {
    fn usage(who: libc::c_int) -> (f64, f64) {
        let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `ru` points to writable memory of the right size; getrusage fills it.
        let ok = unsafe { libc::getrusage(who, ru.as_mut_ptr()) } == 0;
        if !ok {
            return (0.0, 0.0);
        }
        // SAFETY: zero-initialised and filled by a successful getrusage.
        let ru = unsafe { ru.assume_init() };
        let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        (secs(ru.ru_stime), secs(ru.ru_utime))
    }
    (usage(libc::RUSAGE_SELF), usage(libc::RUSAGE_CHILDREN))
}

/// `uname` as INFO's `os` field shows it: `Linux 6.1.0 x86_64`.
pub fn os_name() -> String {
    let mut un = std::mem::MaybeUninit::<libc::utsname>::zeroed();
    // SAFETY: `un` points to writable memory of the right size; uname fills it.
    if unsafe { libc::uname(un.as_mut_ptr()) } != 0 {
        return std::env::consts::OS.to_string();
    }
    // SAFETY: zero-initialised and filled by a successful uname.
    let un = unsafe { un.assume_init() };
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&un.sysname),
        field(&un.release),
        field(&un.machine)
    )
}

/// 40 random hex characters, like Redis's run and replication ids.
fn random_hex_id() -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// One slow-log entry.
#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub timestamp: u64,
    pub micros: u64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub client_name: String,
}

/// The slow log: newest entries first, bounded by `slowlog-max-len`.
#[derive(Default)]
pub struct SlowLog {
    pub next_id: u64,
    pub entries: VecDeque<SlowLogEntry>,
}

impl SlowLog {
    pub fn push(&mut self, mut entry: SlowLogEntry, max_len: usize) {
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }
}

/// The latencies a histogram holds, in nanoseconds, as in Redis: 1 ns to 1 s (longer
/// commands count as 1 s), with two significant digits.
const LATENCY_MIN_NS: u64 = 1;
const LATENCY_MAX_NS: u64 = 1_000_000_000;
const LATENCY_SIGNIFICANT_DIGITS: u8 = 2;
/// LATENCY HISTOGRAM's buckets: the first ends at 1024 ns, each next one twice as far.
const LATENCY_FIRST_BUCKET_NS: u64 = 1024;

/// One command's latency distribution, for INFO latencystats and LATENCY HISTOGRAM. Like
/// Redis's, it is created by the command's first recorded call, so a command never called
/// since the last CONFIG RESETSTAT costs no memory and has no line. Recording takes an
/// uncontended-in-practice lock for a few nanoseconds; different commands never share one.
#[derive(Default)]
pub struct LatencyHistogram {
    inner: Mutex<Option<Box<Histogram<u64>>>>,
}

impl LatencyHistogram {
    /// Records one call that took `nanos`.
    pub fn record(&self, nanos: u64) {
        let mut inner = self.inner.lock();
        if inner.is_none() {
            match Histogram::new_with_bounds(
                LATENCY_MIN_NS,
                LATENCY_MAX_NS,
                LATENCY_SIGNIFICANT_DIGITS,
            ) {
                Ok(h) => *inner = Some(Box::new(h)),
                Err(_) => return,
            }
        }
        if let Some(h) = inner.as_mut() {
            h.saturating_record(nanos.clamp(LATENCY_MIN_NS, LATENCY_MAX_NS));
        }
    }

    /// Forgets every call (CONFIG RESETSTAT).
    pub fn reset(&self) {
        *self.inner.lock() = None;
    }

    /// The latency at each percentile (0 to 100) in nanoseconds, by HdrHistogram's rule as
    /// Redis uses it: the smallest recorded value reached by that share of the calls
    /// (rounded to the nearest call), reported as the highest value its bucket stands for
    /// (the lowest for percentile 0). `None` when nothing was recorded.
    pub fn percentiles(&self, percentiles: &[f64]) -> Option<Vec<u64>> {
        let inner = self.inner.lock();
        let h = inner.as_ref()?;
        let total = h.len();
        let at = |percentile: f64| -> u64 {
            let share = percentile.clamp(0.0, 100.0) / 100.0;
            let wanted = ((share * total as f64) + 0.5) as u64;
            let wanted = wanted.max(1);
            let mut seen = 0;
            for v in h.iter_recorded() {
                seen += v.count_since_last_iteration();
                if seen >= wanted {
                    return if percentile == 0.0 {
                        h.lowest_equivalent(v.value_iterated_to())
                    } else {
                        h.highest_equivalent(v.value_iterated_to())
                    };
                }
            }
            0
        };
        Some(percentiles.iter().map(|&p| at(p)).collect())
    }

    /// The calls and their cumulative distribution as LATENCY HISTOGRAM shows it: for
    /// buckets ending at 1024 ns, 2048 ns, 4096 ns ..., the bucket's end in microseconds
    /// (as the histogram can tell it) and the calls up to there, listing only buckets that
    /// add calls. `None` when nothing was recorded.
    pub fn cumulative(&self) -> Option<(u64, Vec<(u64, u64)>)> {
        let inner = self.inner.lock();
        let h = inner.as_ref()?;
        let total = h.len();
        let mut buckets = Vec::new();
        let (mut level, mut previous) = (LATENCY_FIRST_BUCKET_NS, 0);
        while previous < total {
            let end = h.highest_equivalent(level);
            let count = h.count_between(0, end);
            if count > previous {
                buckets.push((end / 1000, count));
            }
            previous = count;
            if level >= LATENCY_MAX_NS {
                break;
            }
            level = level.saturating_mul(2);
        }
        Some((total, buckets))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn metric_averages_the_last_samples() {
        let start = Instant::now();
        let mut m = Metric::new(start);
        // 100 ops every 100 ms for 16 samples: 1000 ops/s.
        for i in 1..=SAMPLES as u64 {
            m.track(start + Duration::from_millis(100 * i), 100 * i);
        }
        assert_eq!(m.average(), 1000);
        // Idle for 8 samples: half the window is empty.
        for i in 1..=8u64 {
            let t = start + Duration::from_millis(100 * (SAMPLES as u64 + i));
            m.track(t, 100 * SAMPLES as u64);
        }
        assert_eq!(m.average(), 500);
    }

    #[test]
    fn error_codes_are_capped() {
        let stats = Stats::default();
        for i in 0..200 {
            stats.count_error(&format!("E{i}"));
        }
        stats.count_error("E0");
        let errors = stats.errors.lock();
        assert_eq!(errors.len(), MAX_ERROR_CODES);
        assert_eq!(errors["E0"], 2);
        assert_eq!(stats.total_error_replies.load(Ordering::Relaxed), 201);
    }

    #[test]
    fn latency_histogram_percentiles_and_buckets() {
        let h = LatencyHistogram::default();
        assert_eq!(h.percentiles(&[50.0]), None);
        // 90 calls of 2 us, 10 of 300 us: buckets of two significant digits.
        for _ in 0..90 {
            h.record(2_000);
        }
        for _ in 0..10 {
            h.record(300_000);
        }
        let p = h.percentiles(&[0.0, 50.0, 99.0, 100.0]).unwrap();
        assert_eq!(p, vec![2_000, 2_007, 301_055, 301_055]);
        let (calls, buckets) = h.cumulative().unwrap();
        assert_eq!(calls, 100);
        // Bucket ends 1031 ns, 2063 ns (2 us), ..., 528383 ns (528 us).
        assert_eq!(buckets, vec![(2, 90), (528, 100)]);
        h.record(0);
        h.record(u64::MAX);
        assert_eq!(h.cumulative().unwrap().0, 102);
        h.reset();
        assert_eq!(h.cumulative(), None);
    }

    #[test]
    fn ids_and_system_readings() {
        let stats = Stats::default();
        assert_eq!(stats.run_id.len(), 40);
        assert_ne!(stats.run_id, stats.replid);
        assert!(total_system_memory() > 0);
        assert!(rss_bytes() > 0);
        assert!(allocator_name().starts_with("jemalloc-"));
        assert!(!os_name().is_empty());
    }
}
