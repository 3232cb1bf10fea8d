//! Handshake outcomes over time: streams counted in the time bucket of their
//! first packet, with the initial-RTT percentiles of each bucket. The one
//! source of `-z hs,io,INTERVAL` and of the TUI's timeline view (`T`).

use super::servers::ServerTally;
use crate::track::FlowSummary;

/// Most buckets a timeline holds; streams past the last one go into it.
pub const MAX_BUCKETS: usize = 100_000;

/// Buckets from `start`, `width_ns` wide.
#[derive(Clone, Debug)]
pub struct Timeline {
    pub start: i64,
    pub width_ns: i64,
    pub buckets: Vec<ServerTally>,
    /// Streams that fell past [`MAX_BUCKETS`] and were counted in the last bucket.
    pub clamped: u64,
}

impl Timeline {
    pub fn new(start: i64, width_ns: i64) -> Timeline {
        Timeline {
            start,
            width_ns: width_ns.max(1),
            buckets: Vec::new(),
            clamped: 0,
        }
    }

    /// Count one stream in the bucket of its first packet.
    pub fn add(&mut self, f: &FlowSummary) {
        let at = (f.first_ts - self.start).max(0) / self.width_ns;
        let mut i = at as usize;
        if i >= MAX_BUCKETS {
            i = MAX_BUCKETS - 1;
            self.clamped += 1;
        }
        if self.buckets.len() <= i {
            self.buckets.resize_with(i + 1, ServerTally::default);
        }
        self.buckets[i].add(f);
    }

    /// The start of bucket `i`, relative to `start`.
    pub fn offset(&self, i: usize) -> i64 {
        i as i64 * self.width_ns
    }

    /// A bucket width that spreads `span_ns` over about `columns` buckets,
    /// rounded to 1, 2 or 5 times a power of ten (at least 1 ms).
    pub fn nice_width(span_ns: i64, columns: usize) -> i64 {
        let raw = (span_ns.max(1) as f64 / columns.max(1) as f64).max(1e6);
        let pow = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * pow)
            .find(|&w| w >= raw)
            .unwrap_or(10.0 * pow);
        step as i64
    }
}

/// The next finer or coarser nice width.
pub fn step_width(w: i64, coarser: bool) -> i64 {
    let pow = 10f64.powf((w as f64).log10().floor()) as i64;
    let m = w / pow.max(1);
    let next = match (m, coarser) {
        (1, true) => 2 * pow,
        (2, true) => 5 * pow,
        (_, true) => 10 * pow,
        (1, false) => pow / 2,
        (2, false) => pow,
        (_, false) => 2 * pow,
    };
    next.clamp(1_000_000, 86_400_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_widths() {
        assert_eq!(Timeline::nice_width(10_000_000_000, 100), 100_000_000);
        assert_eq!(Timeline::nice_width(13_000_000_000, 100), 200_000_000);
        assert_eq!(Timeline::nice_width(1_000, 100), 1_000_000, "at least 1 ms");
        assert_eq!(step_width(100_000_000, true), 200_000_000);
        assert_eq!(step_width(200_000_000, true), 500_000_000);
        assert_eq!(step_width(500_000_000, true), 1_000_000_000);
        assert_eq!(step_width(1_000_000_000, false), 500_000_000);
        assert_eq!(step_width(500_000_000, false), 200_000_000);
        assert_eq!(step_width(1_000_000, false), 1_000_000);
    }

    #[test]
    fn streams_fall_in_the_bucket_of_their_first_packet() {
        let flows = crate::engine::tests::summaries("sample-captures/many-short.pcap");
        let start = flows.iter().map(|f| f.first_ts).min().unwrap();
        let mut t = Timeline::new(start, 20_000_000);
        for f in &flows {
            t.add(f);
        }
        let total: u64 = t.buckets.iter().map(|b| b.attempts + b.mid_stream).sum();
        assert_eq!(total as usize, flows.len());
        assert!(t.buckets.len() >= 2);
    }
}
