//! Latency statistics shared by the benchmarks: percentiles and throughput of timed samples.

use std::time::Duration;

/// p50, p99 and operations per second of one benchmark row.
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub per_sec: f64,
}

/// The statistics of `samples`, taken one after another in `total`.
pub fn stats(mut samples: Vec<Duration>, total: Duration) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        per_sec: samples.len() as f64 / total.as_secs_f64(),
    }
}
