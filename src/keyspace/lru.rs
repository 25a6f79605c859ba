//! Redis's per-value access record (`robj.lru`, 24 bits), as pure functions of its bits and
//! the time.
//!
//! Under an LRU or non-evicting `maxmemory-policy` it holds the LRU clock — Unix seconds
//! modulo 2^24 — of the last access (OBJECT IDLETIME). Under an LFU policy it holds the minute
//! of the last decay (Unix minutes modulo 2^16, high 16 bits) and a logarithmic access counter
//! (low 8 bits; OBJECT FREQ). The bits are read by the policy in force, so after a policy
//! change a value not accessed since reads as nonsense — which Redis's error texts warn about
//! ("data will take some time to adjust"), and which is reproduced here.

/// Largest LRU clock value; the clock wraps about every 194 days.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// A new value's LFU counter, so that it is not evicted before it had a chance to be used.
const LFU_INIT: u32 = 5;

/// The LRU clock at `now_ms` (Unix milliseconds).
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & u64::from(LRU_CLOCK_MAX)) as u32
}

/// Seconds since the access recorded as `lru`, allowing for one wrap of the clock.
pub fn idle_secs(lru: u32, now_ms: u64) -> u64 {
    let clock = lru_clock(now_ms);
    let ticks = if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    };
    u64::from(ticks)
}

/// The record of an access `idle_secs` ago (RESTORE ... IDLETIME), with Redis's arithmetic:
/// one wrap is undone, and the result is cut to the field's 24 bits.
pub fn with_idle(idle_secs: u64, now_ms: u64) -> u32 {
    let idle = i64::try_from(idle_secs).unwrap_or(i64::MAX);
    let mut at = i64::from(lru_clock(now_ms)).wrapping_sub(idle);
    if at < 0 {
        at = at.wrapping_add(i64::from(LRU_CLOCK_MAX));
    }
    (at & i64::from(LRU_CLOCK_MAX)) as u32
}

/// The LFU minute clock at `now_ms`.
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// A new value's LFU record.
pub fn lfu_new(now_ms: u64) -> u32 {
    lfu_with_counter(LFU_INIT as u8, now_ms)
}

/// An LFU record holding `counter` (RESTORE ... FREQ).
pub fn lfu_with_counter(counter: u8, now_ms: u64) -> u32 {
    (lfu_minutes(now_ms) << 8) | u32::from(counter)
}

/// The counter of the LFU record `lru` at `now_ms`: one less per `decay_minutes` elapsed
/// since its last decay (no decay when 0).
pub fn lfu_counter(lru: u32, now_ms: u64, decay_minutes: u32) -> u8 {
    let counter = lru & 0xFF;
    let last = lru >> 8;
    let now = lfu_minutes(now_ms);
    // Redis's own wrap-around arithmetic.
    let elapsed = if now >= last {
        now - last
    } else {
        65535 - last + now
    };
    let periods = elapsed.checked_div(decay_minutes).unwrap_or(0);
    counter.saturating_sub(periods) as u8
}

/// The LFU record after an access: decay, then add one with probability
/// `1 / ((counter - 5) * log_factor + 1)`, so the counter grows logarithmically (saturating
/// at 255). `chance` is uniform in `0.0..1.0`.
pub fn lfu_accessed(
    lru: u32,
    now_ms: u64,
    log_factor: u32,
    decay_minutes: u32,
    chance: f64,
) -> u32 {
    let mut counter = lfu_counter(lru, now_ms, decay_minutes);
    if counter < u8::MAX {
        let base = f64::from(u32::from(counter).saturating_sub(LFU_INIT));
        if chance < 1.0 / (base * f64::from(log_factor) + 1.0) {
            counter += 1;
        }
    }
    lfu_with_counter(counter, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;

    #[test]
    fn idle_time_and_its_wrap() {
        let now = 1_700_000_000_000;
        assert_eq!(idle_secs(lru_clock(now), now), 0);
        assert_eq!(idle_secs(lru_clock(now - 90_000), now), 90);
        assert_eq!(idle_secs(with_idle(1000, now), now), 1000);
        // A clock that wrapped since the access.
        assert_eq!(idle_secs(LRU_CLOCK_MAX - 5, 10_000), 15);
        // Longer than the clock's period: Redis adds one period back (its clock's maximum,
        // one short of the period) and keeps 24 bits.
        let long = u64::from(LRU_CLOCK_MAX) + 100;
        assert_eq!(with_idle(long, now), with_idle(100, now));
    }

    #[test]
    fn frequency_grows_logarithmically_and_decays() {
        let now = 100 * MINUTE;
        let new = lfu_new(now);
        assert_eq!(lfu_counter(new, now, 1), 5);
        let once = lfu_accessed(new, now, 10, 1, 0.99);
        assert_eq!(
            lfu_counter(once, now, 1),
            6,
            "at the initial value every access counts"
        );
        assert_eq!(lfu_counter(lfu_accessed(once, now, 10, 1, 0.5), now, 1), 6);
        let twice = lfu_accessed(once, now, 10, 1, 0.05);
        assert_eq!(lfu_counter(twice, now, 1), 7, "then with probability 1/11");
        assert_eq!(
            lfu_counter(twice, now + 3 * MINUTE, 1),
            4,
            "one less per period"
        );
        assert_eq!(lfu_counter(twice, now + 3 * MINUTE, 2), 6);
        assert_eq!(
            lfu_counter(twice, now + 3 * MINUTE, 0),
            7,
            "no decay when 0"
        );
        assert_eq!(lfu_counter(twice, now + 100 * MINUTE, 1), 0);
        let wrapped = lfu_new(65530 * MINUTE);
        assert_eq!(lfu_counter(wrapped, 65536 * MINUTE + 4 * MINUTE, 1), 0);
        let top = lfu_with_counter(255, now);
        assert_eq!(lfu_counter(lfu_accessed(top, now, 0, 0, 0.0), now, 0), 255);
    }
}
