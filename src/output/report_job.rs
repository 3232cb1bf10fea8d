//! The per-stream half of the reports ([`Reports::add_tls`]: states, servers, set-up
//! legs, failures, reuse, alarms, `-z hs` rows) on a thread of its own. The engine's
//! thread is the one `-q` waits for; the capture thread leaves part of the other core
//! free, and the streams' tallies fit there. Streams go over in batches, in the order
//! the engine let go of them, so the tallies are the same as counted in line.

use crate::engine::tls::TlsSummary;
use crate::output::report::{Reports, Stats};
use crate::track::FlowSummary;

/// Streams sent at once: one channel message per this many.
const BATCH: usize = 1024;
/// Batches in flight at most: memory stays bounded if the tallies fall behind.
const IN_FLIGHT: usize = 4;

struct Batch {
    capture_start: Option<i64>,
    streams: Vec<(FlowSummary, Option<TlsSummary>)>,
}

pub struct StreamReportJob {
    tx: Option<crossbeam_channel::Sender<Batch>>,
    pending: Vec<(FlowSummary, Option<TlsSummary>)>,
    capture_start: Option<i64>,
    handle: Option<std::thread::JoinHandle<Reports>>,
}

impl StreamReportJob {
    pub fn spawn(stats: Stats) -> std::io::Result<StreamReportJob> {
        let (tx, rx) = crossbeam_channel::bounded::<Batch>(IN_FLIGHT);
        let handle = std::thread::Builder::new()
            .name("hs-tui reports".into())
            .spawn(move || {
                let mut reports = Reports::new(stats);
                for b in rx {
                    if let Some(t) = b.capture_start {
                        reports.set_capture_start(t);
                    }
                    for (s, tls) in &b.streams {
                        reports.add_tls(s, tls.as_ref());
                    }
                }
                reports
            })?;
        Ok(StreamReportJob {
            tx: Some(tx),
            pending: Vec::with_capacity(BATCH),
            capture_start: None,
            handle: Some(handle),
        })
    }

    /// The first packet's time (the `-z hs,io` buckets start there).
    pub fn set_capture_start(&mut self, ts: i64) {
        self.capture_start.get_or_insert(ts);
    }

    /// One stream, in its final state.
    pub fn add(&mut self, s: FlowSummary, tls: Option<TlsSummary>) {
        self.pending.push((s, tls));
        if self.pending.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let streams = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH));
        let batch = Batch {
            capture_start: self.capture_start,
            streams,
        };
        // A send fails only if the thread is gone: `finish` says so.
        if self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_err()) {
            self.tx = None;
        }
    }

    /// Every stream sent: the tallies, to be merged with [`Reports::take_streams_from`].
    pub fn finish(mut self) -> Result<Reports, String> {
        self.send();
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => Ok(r),
            _ => Err("the reports' thread stopped: the summary would be incomplete".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stream of a capture in its final state, with its TLS summary.
    fn streams(path: &str) -> Vec<(FlowSummary, Option<TlsSummary>)> {
        let mut e = crate::engine::Engine::new(crate::track::Budget::default());
        e.track_tls_lite();
        for (f, b) in crate::engine::tests::frames(path) {
            e.process(&f, &b);
        }
        let mut v = e.take_retired_with_tls();
        v.extend(
            e.summaries()
                .map(|s| (s.clone(), e.tls_summary(s.stream).cloned())),
        );
        v
    }

    /// The job's tallies print the same summary as those counted in line, on real
    /// captures (with TLS, with several servers and failures), text and JSON.
    #[test]
    fn same_summary_as_counted_in_line() {
        for path in [
            "sample-captures/many-short.pcap",
            "sample-captures/port-scan.pcap",
            "tests/conformance/tls/captures/lo-tls12-resume-id.pcap",
        ] {
            let streams = streams(path);
            assert!(!streams.is_empty(), "{path}");
            for json in [false, true] {
                let stats = Stats {
                    summary: true,
                    json,
                    ..Stats::default()
                };
                let mut inline = Reports::new(stats.clone());
                let mut job = StreamReportJob::spawn(stats.clone()).unwrap();
                for (s, t) in &streams {
                    inline.add_tls(s, t.as_ref());
                    job.add(s.clone(), t.clone());
                }
                let mut merged = Reports::new(stats);
                merged.take_streams_from(job.finish().unwrap());
                let (mut a, mut b) = (Vec::new(), Vec::new());
                inline.write(&mut a).unwrap();
                merged.write(&mut b).unwrap();
                assert!(a.len() > 100, "{path}: a summary");
                assert_eq!(
                    String::from_utf8(a).unwrap(),
                    String::from_utf8(b).unwrap(),
                    "{path}"
                );
            }
        }
    }
}
