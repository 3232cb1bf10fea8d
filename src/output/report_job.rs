//! The per-stream half of the reports ([`Reports::add_tls`]: states, servers, set-up
//! legs, failures, reuse, alarms, `-z hs` rows) on threads of their own. The engine's
//! thread is the one `-q` waits for; the capture thread leaves part of the other core
//! free, and the streams' tallies fit there. Streams go over in batches, in the order
//! the engine let go of them, so the tallies are the same as counted in line.
//!
//! Two threads count the two [`StreamPart`]s of the same batches. At the end of a
//! capture the engine still holds streams (all of them, in a file under the stream
//! budget) and `-q` waits for their tallies: [`StreamReportJob::finish_with`] counts
//! them where they lie, by reference, one part on the caller's thread and one on
//! another, instead of copying each (480 bytes) into a batch.

use crate::engine::tls::TlsSummary;
use crate::output::report::{Reports, Stats, StreamPart};
use crate::track::FlowSummary;
use std::sync::Arc;

/// Streams sent at once: one channel message per this many.
const BATCH: usize = 1024;
/// Streams of the end-of-capture tail prefetched ahead of the one counted.
const AHEAD: usize = 4;
/// What `-q` says when a tallying thread stopped (a panic): it prints no summary.
const STOPPED: &str = "the reports' thread stopped: the summary would be incomplete";
/// Batches in flight at most: memory stays bounded if the tallies fall behind.
const IN_FLIGHT: usize = 4;

struct Batch {
    capture_start: Option<i64>,
    streams: Vec<(FlowSummary, Option<Box<TlsSummary>>)>,
}

/// One thread counting one [`StreamPart`].
struct Counter {
    tx: Option<crossbeam_channel::Sender<Arc<Batch>>>,
    handle: Option<std::thread::JoinHandle<Reports>>,
}

impl Counter {
    fn spawn(stats: Stats, part: StreamPart) -> std::io::Result<Counter> {
        let (tx, rx) = crossbeam_channel::bounded::<Arc<Batch>>(IN_FLIGHT);
        let handle = std::thread::Builder::new()
            .name("hs-tui reports".into())
            .spawn(move || {
                let mut reports = Reports::new_part(stats, part);
                for b in rx {
                    if let Some(t) = b.capture_start {
                        reports.set_capture_start(t);
                    }
                    for (s, tls) in &b.streams {
                        reports.add_tls(s, tls.as_deref());
                    }
                }
                reports
            })?;
        Ok(Counter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn send(&mut self, batch: Arc<Batch>) {
        // A send fails only if the thread is gone: `finish` says so.
        if self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_err()) {
            self.tx = None;
        }
    }

    fn finish(mut self) -> Option<Reports> {
        self.tx = None;
        self.handle.take()?.join().ok()
    }
}

pub struct StreamReportJob {
    counters: Vec<Counter>,
    pending: Vec<(FlowSummary, Option<Box<TlsSummary>>)>,
    capture_start: Option<i64>,
}

impl StreamReportJob {
    pub fn spawn(stats: Stats) -> std::io::Result<StreamReportJob> {
        let counters = vec![
            Counter::spawn(stats.clone(), StreamPart::Outcomes)?,
            Counter::spawn(stats, StreamPart::SetUp)?,
        ];
        Ok(StreamReportJob {
            counters,
            pending: Vec::with_capacity(BATCH),
            capture_start: None,
        })
    }

    /// The first packet's time (the `-z hs,io` buckets start there).
    pub fn set_capture_start(&mut self, ts: i64) {
        self.capture_start.get_or_insert(ts);
    }

    /// One stream, in its final state.
    pub fn add(&mut self, s: FlowSummary, tls: Option<Box<TlsSummary>>) {
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
        let batch = Arc::new(Batch {
            capture_start: self.capture_start,
            streams,
        });
        for c in &mut self.counters {
            c.send(batch.clone());
        }
    }

    /// Every stream sent: the tallies of each part, each to be taken with
    /// [`Reports::take_streams_from`].
    pub fn finish(self) -> Result<Vec<Reports>, String> {
        self.finish_with(&[])
    }

    /// [`StreamReportJob::finish`], after the streams of `tail` (those the engine
    /// still holds, in its order), counted in place on two threads.
    pub fn finish_with(
        mut self,
        tail: &[(&FlowSummary, Option<&TlsSummary>)],
    ) -> Result<Vec<Reports>, String> {
        self.send();
        let parts: Option<Vec<Reports>> = self.counters.into_iter().map(Counter::finish).collect();
        let mut parts = parts.ok_or_else(|| STOPPED.to_string())?;
        let start = self.capture_start;
        let count = |reports: &mut Reports| {
            if let Some(t) = start {
                reports.set_capture_start(t);
            }
            for (i, (s, tls)) in tail.iter().enumerate() {
                // The streams lie 832 bytes apart in the engine's slab, too far apart for
                // the hardware to guess: fetch a few ahead (the counting waits on memory).
                if let Some((next, _)) = tail.get(i + AHEAD) {
                    crate::prefetch::value(*next);
                }
                reports.add_tls(s, *tls);
            }
        };
        if tail.is_empty() {
            return Ok(parts);
        }
        std::thread::scope(|scope| {
            let (first, rest) = parts.split_first_mut().expect("two parts");
            let others: Vec<_> = rest
                .iter_mut()
                .map(|r| {
                    std::thread::Builder::new()
                        .name("hs-tui reports".into())
                        .spawn_scoped(scope, || count(r))
                })
                .collect();
            count(first);
            // A thread that cannot start, or stopped: the summary would be incomplete.
            others
                .into_iter()
                .all(|h| h.is_ok_and(|h| h.join().is_ok()))
                .then_some(())
                .ok_or_else(|| STOPPED.to_string())
        })?;
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stream of a capture in its final state, with its TLS summary.
    fn streams(path: &str) -> Vec<(FlowSummary, Option<Box<TlsSummary>>)> {
        let mut e = crate::engine::Engine::new(crate::track::Budget::default());
        e.dissect(crate::engine::AppLayer::TlsLite);
        for (f, b) in crate::engine::tests::frames(path) {
            e.process(&f, &b);
        }
        let mut v = e.take_retired_with_tls();
        v.extend(
            e.summaries()
                .map(|s| (s.clone(), e.tls_summary(s.stream).cloned().map(Box::new))),
        );
        v
    }

    /// The job's tallies, counted in two parts on two threads, print the same reports
    /// as those counted in line, on real captures (with TLS, with several servers and
    /// failures), text and JSON.
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
                // Every per-stream report: the summary, `-z hs` rows, `-z hs,io`.
                let stats = Stats {
                    summary: true,
                    json,
                    hs_flows: true,
                    hs_io: Some(1_000_000_000),
                    ..Stats::default()
                };
                let mut inline = Reports::new(stats.clone());
                let mut job = StreamReportJob::spawn(stats.clone()).unwrap();
                // The first half as the engine lets go of them, the rest at the end.
                let (sent, tail) = streams.split_at(streams.len() / 2);
                for (s, t) in &streams {
                    inline.add_tls(s, t.as_deref());
                }
                for (s, t) in sent {
                    job.add(s.clone(), t.clone());
                }
                let tail: Vec<_> = tail.iter().map(|(s, t)| (s, t.as_deref())).collect();
                let mut merged = Reports::new(stats);
                for part in job.finish_with(&tail).unwrap() {
                    merged.take_streams_from(part);
                }
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
