//! Pieces every benchmark uses: its settings from the environment, percentiles, and its own
//! process's CPU time from `/proc` (Linux).

use std::time::Duration;

/// The number in the environment variable `name`, or `default` when it is unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0..=1) of `sorted`, which must not be empty: the smallest value at or above
/// that share of the samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// CPU seconds this process used so far (user + system), from `/proc/self/stat`; 0 elsewhere.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after state; 100 ticks per second.
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn percentiles_pick_the_sample_at_or_above_the_share() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(super::percentile(&ms, 0.5), Duration::from_millis(50));
        assert_eq!(super::percentile(&ms, 0.99), Duration::from_millis(99));
        assert_eq!(super::percentile(&ms, 0.0), Duration::from_millis(1));
        assert_eq!(super::percentile(&ms, 1.0), Duration::from_millis(100));
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = super::cpu_seconds();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(
            super::cpu_seconds() > before,
            "50 ms of busy work shows as CPU time"
        );
    }
}
