//! The pacing of progress lines in the server log for long jobs (an index's initial scan,
//! loading a snapshot): a job that ends within [`QUIET`] logs nothing, a longer one a line
//! every [`EVERY`], and one that logged progress a closing line with its totals. Callers
//! word and log the lines; this only decides when, and with what figures. Depends on
//! nothing, so any layer can use it.

use std::fmt;
use std::time::{Duration, Instant};

/// A job logs nothing until it has run this long ...
pub const QUIET: Duration = Duration::from_secs(2);
/// ... then a line this often.
pub const EVERY: Duration = Duration::from_secs(5);

/// One job's progress reporter: [`Progress::tick`] as work gets done, [`Progress::finish`]
/// at the end.
pub struct Progress {
    /// What the job counts (`keys`, `docs`), for the lines.
    unit: &'static str,
    started: Instant,
    every: Duration,
    /// How long after `started` the next line is due.
    next: Duration,
    reported: bool,
}

/// The figures of one progress line: `1200000 docs (45.2%), 240000 docs/s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub done: u64,
    /// Share of the job done, 0 to 1.
    pub fraction: f64,
    /// Units per second since the start.
    pub rate: f64,
    unit: &'static str,
}

/// The closing line's figures: `2650000 docs in 11.02 seconds (240473 docs/s)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub done: u64,
    pub elapsed: Duration,
    unit: &'static str,
}

/// Units per second over `elapsed` (0 for no time at all).
fn rate(done: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { done as f64 / secs } else { 0.0 }
}

impl Progress {
    /// A job counting `unit`s starts now, paced by [`QUIET`] and [`EVERY`].
    pub fn start(unit: &'static str) -> Progress {
        Progress::paced(unit, Instant::now(), QUIET, EVERY)
    }

    /// A job that started at `started`, quiet for `quiet`, then reporting every `every`.
    pub fn paced(
        unit: &'static str,
        started: Instant,
        quiet: Duration,
        every: Duration,
    ) -> Progress {
        Progress {
            unit,
            started,
            every,
            next: quiet,
            reported: false,
        }
    }

    /// `done` units so far, `fraction` of the job: the line to log, if one is due.
    pub fn tick(&mut self, done: u64, fraction: f64) -> Option<Report> {
        self.tick_at(Instant::now(), done, fraction)
    }

    /// [`Progress::tick`] at time `now`.
    pub fn tick_at(&mut self, now: Instant, done: u64, fraction: f64) -> Option<Report> {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed < self.next {
            return None;
        }
        // Paced from this line, so a job that stalled in between does not burst.
        self.next = elapsed + self.every;
        self.reported = true;
        Some(Report {
            done,
            fraction: fraction.clamp(0.0, 1.0),
            rate: rate(done, elapsed),
            unit: self.unit,
        })
    }

    /// The job is over with `done` units: the closing line, if it logged progress.
    pub fn finish(&self, done: u64) -> Option<Summary> {
        self.finish_at(Instant::now(), done)
    }

    /// [`Progress::finish`] at time `now`.
    pub fn finish_at(&self, now: Instant, done: u64) -> Option<Summary> {
        self.reported.then(|| Summary {
            done,
            elapsed: now.saturating_duration_since(self.started),
            unit: self.unit,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = self.unit;
        write!(
            f,
            "{} {unit} ({:.1}%), {:.0} {unit}/s",
            self.done,
            self.fraction * 100.0,
            self.rate
        )
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = self.unit;
        write!(
            f,
            "{} {unit} in {:.2} seconds ({:.0} {unit}/s)",
            self.done,
            self.elapsed.as_secs_f64(),
            rate(self.done, self.elapsed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn quiet_at_first_then_paced() {
        let t0 = Instant::now();
        let mut p = Progress::paced("docs", t0, secs(2.0), secs(5.0));
        // Ticks before the quiet period is over log nothing.
        for s in [0.0, 0.5, 1.99] {
            assert_eq!(p.tick_at(t0 + secs(s), 10, 0.1), None, "{s}");
        }
        let first = p.tick_at(t0 + secs(2.0), 400, 0.25).expect("first line");
        assert_eq!((first.done, first.fraction, first.rate), (400, 0.25, 200.0));
        assert_eq!(first.to_string(), "400 docs (25.0%), 200 docs/s");
        // The next is due 5 s after the first.
        assert_eq!(p.tick_at(t0 + secs(6.9), 500, 0.3), None);
        assert!(p.tick_at(t0 + secs(7.0), 700, 0.5).is_some());
        // A long stall gives one line, then the pace resumes from it.
        assert!(p.tick_at(t0 + secs(30.0), 900, 0.7).is_some());
        assert_eq!(p.tick_at(t0 + secs(31.0), 950, 0.8), None);
        assert!(p.tick_at(t0 + secs(35.0), 990, 0.9).is_some());
        let summary = p.finish_at(t0 + secs(40.0), 1000).expect("closing line");
        assert_eq!(
            summary.to_string(),
            "1000 docs in 40.00 seconds (25 docs/s)"
        );
    }

    #[test]
    fn a_quick_job_stays_silent() {
        let t0 = Instant::now();
        let mut p = Progress::paced("keys", t0, secs(2.0), secs(5.0));
        assert_eq!(p.tick_at(t0 + secs(1.0), 5, 0.5), None);
        assert_eq!(p.finish_at(t0 + secs(1.5), 10), None);
    }

    #[test]
    fn figures_stay_in_range() {
        let t0 = Instant::now();
        let mut p = Progress::paced("keys", t0, Duration::ZERO, secs(1.0));
        // No time elapsed: no rate rather than a division by zero; the share is capped.
        let report = p.tick_at(t0, 3, 1.5).expect("line");
        assert_eq!((report.fraction, report.rate), (1.0, 0.0));
        // A clock reading before the start counts as the start.
        let early = t0.checked_sub(secs(1.0)).unwrap_or(t0);
        assert!(p.finish_at(early, 3).is_some());
    }
}
