//! Background jobs that re-read the capture (or the live spool) from its
//! first frame through a fresh [`Engine`], exactly as batch mode does: the
//! filter job (which frames match) and the save job (`w`). Each runs on a
//! thread of its own and reports through a channel; dropping the job stops it.

use super::filter::PacketFilter;
use crate::capture::{self, Event, ReadOptions, SourceSpec};
use crate::engine::Engine;
use crate::output::pcap_file::PcapWriter;
use crate::track::Budget;
use crossbeam_channel::{unbounded, Receiver, TryRecvError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a scan reads and what it keeps.
pub struct ScanSpec {
    /// The capture file or the spool.
    pub path: PathBuf,
    /// Read at most this many frames (the frames the store has seen; `None`: the whole file).
    pub frames: Option<u64>,
    pub budget: Budget,
    /// Keep frames that pass (all when `None`).
    pub filter: Option<Arc<dyn PacketFilter>>,
    /// Keep only frames of these streams (a flow drilled into, or the flows a quick filter shows).
    pub streams: Option<Arc<StreamSet>>,
    /// Write the kept frames here (the save job); otherwise report their numbers.
    pub save: Option<PcapWriter>,
}

/// A set of stream indexes.
#[derive(Clone, Debug, Default)]
pub struct StreamSet(Vec<bool>);

impl StreamSet {
    pub fn one(stream: u32) -> StreamSet {
        let mut v = vec![false; stream as usize + 1];
        v[stream as usize] = true;
        StreamSet(v)
    }
    pub fn contains(&self, s: u32) -> bool {
        self.0.get(s as usize).copied().unwrap_or(false)
    }
}

impl FromIterator<u32> for StreamSet {
    fn from_iter<I: IntoIterator<Item = u32>>(streams: I) -> StreamSet {
        let mut v = Vec::new();
        for s in streams {
            if v.len() <= s as usize {
                v.resize(s as usize + 1, false);
            }
            v[s as usize] = true;
        }
        StreamSet(v)
    }
}

pub enum ScanMsg {
    /// Frame numbers that passed, in order, and frames read so far.
    Kept(Vec<u64>, u64),
    /// The end: frames read, frames kept, and an error if the scan or the save failed.
    Done {
        read: u64,
        kept: u64,
        error: Option<String>,
    },
}

/// A running scan.
pub struct Scan {
    pub rx: Receiver<ScanMsg>,
    stop: Arc<AtomicBool>,
}

impl Drop for Scan {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Scan {
    pub fn start(spec: ScanSpec) -> Scan {
        let (tx, rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("scan".into())
            .spawn(move || {
                let done = run(spec, &stop2, |kept, read| {
                    let _ = tx.send(ScanMsg::Kept(kept, read));
                });
                let _ = tx.send(done);
            });
        if let Err(e) = spawned {
            // No thread: report the failure through a channel of our own.
            let (tx, rx2) = unbounded();
            let _ = tx.send(ScanMsg::Done {
                read: 0,
                kept: 0,
                error: Some(format!("cannot start a background job: {e}")),
            });
            return Scan { rx: rx2, stop };
        }
        Scan { rx, stop }
    }

    /// The next message waiting, without blocking. A job that vanished
    /// without its last word (it panicked) ends with an error.
    pub fn next(&self) -> Option<ScanMsg> {
        match self.rx.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(ScanMsg::Done {
                read: 0,
                kept: 0,
                error: Some("the background job ended unexpectedly".into()),
            }),
        }
    }
}

/// The scan itself (also called directly by tests).
pub fn run(
    mut spec: ScanSpec,
    stop: &AtomicBool,
    mut report: impl FnMut(Vec<u64>, u64),
) -> ScanMsg {
    let source = SourceSpec::File(spec.path.clone());
    let opened = match capture::open(&source) {
        Ok(o) => o,
        Err(e) => {
            return ScanMsg::Done {
                read: 0,
                kept: 0,
                error: Some(e.to_string()),
            }
        }
    };
    let running = capture::spawn(
        opened,
        ReadOptions {
            max_frames: spec.frames,
            ..Default::default()
        },
    );
    let mut engine = Engine::new(spec.budget);
    engine.dissect(crate::engine::AppLayer::App.when(spec.filter.is_some()));
    let (mut read, mut kept) = (0u64, 0u64);
    let mut error = None;
    while let Ok(ev) = running.events.recv() {
        if stop.load(Ordering::Relaxed) {
            error = Some("stopped".into());
            break;
        }
        match ev {
            Event::Batch(batch) => {
                let mut numbers = Vec::new();
                for (i, (f, bytes)) in batch.iter().enumerate() {
                    engine.prefetch(&batch.frames, i);
                    let view = engine.process(f, bytes);
                    read += 1;
                    let in_streams = match (&spec.streams, view.meta) {
                        (None, _) => true,
                        (Some(set), Some(m)) => set.contains(m.stream),
                        (Some(_), None) => false,
                    };
                    if !in_streams || !spec.filter.as_ref().is_none_or(|flt| flt.matches(&view)) {
                        continue;
                    }
                    kept += 1;
                    match spec.save.as_mut() {
                        Some(w) => {
                            if let Err(e) = w.write(f.ts_ns, f.wire_len, bytes) {
                                kept -= 1;
                                error = Some(e.to_string());
                            }
                        }
                        None => numbers.push(f.number),
                    }
                }
                if error.is_some() {
                    break;
                }
                report(numbers, read);
                if engine.has_retired() {
                    engine.take_retired();
                }
            }
            Event::Stats(_) => {}
            Event::Done(e) => {
                if let Some(e) = e {
                    error = Some(e.to_string());
                }
                break;
            }
        }
    }
    if let Some(w) = spec.save.take() {
        match w.finish() {
            Ok(n) if error.is_none() => kept = n,
            Ok(_) => {}
            Err(e) => error = Some(e.to_string()),
        }
    }
    ScanMsg::Done { read, kept, error }
}
