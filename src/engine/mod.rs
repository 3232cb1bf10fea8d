//! The one per-packet path every view reads: a decoded frame in, a
//! [`PacketView`] out (frame number and times, the stream and its relative
//! numbers, phase and `tcp.analysis.*` findings, and the application
//! protocol when asked for). Batch output, the reports, the TUI's loader and
//! its filter and save jobs all drive an `Engine`, so they cannot disagree.
//!
//! Application-protocol recognition (TLS records and HTTP messages followed
//! across segments) is state of the engine, computed once per packet in
//! capture order. That keeps a compiled display filter a pure function of
//! the view: the order in which packets are evaluated never changes an answer.

pub mod legs;
pub mod servers;
pub mod timeline;
pub mod tls;

use crate::decode::Frame;
use crate::fields::PacketView;
use crate::filter::protocols::AppState;
use crate::track::{Budget, FlowSummary, Tracker};

/// What the engine has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineCounts {
    /// Every frame given to [`Engine::process`].
    pub frames: u64,
    /// Frames the decoder found a problem in.
    pub malformed: u64,
    /// Frames the tracker followed (TCP).
    pub tcp: u64,
    /// Timestamp of the first frame and the latest one.
    pub first_ts: Option<i64>,
    pub last_ts: i64,
}

/// How much of the application layer the engine dissects, least first; each level
/// does all that the ones before it do. Set once, before the first packet
/// ([`Engine::dissect`]); off by default, since it costs a hash lookup per segment
/// with payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppLayer {
    #[default]
    None,
    /// TLS handshakes of the streams whose first payload starts TLS
    /// ([`tls::TlsState::new_lite`]): the reports' set-up legs.
    TlsLite,
    /// TLS handshakes wherever tshark dissects TLS (`tls.*` fields, the per-stream
    /// TLS summary), without recognising other protocols: the export's TLS columns.
    Tls,
    /// TLS and HTTP followed across segments, `tls`/`http` recognised (a filter or a
    /// printed field needs them).
    App,
}

impl AppLayer {
    /// This level if `on`, else none.
    pub fn when(self, on: bool) -> AppLayer {
        if on {
            self
        } else {
            AppLayer::None
        }
    }
}

/// Tracker, application-protocol state and capture clock, in one place.
pub struct Engine {
    tracker: Tracker,
    layer: AppLayer,
    /// Present when someone needs `tls`/`http` recognition.
    app: Option<AppState>,
    /// TLS dissection (`tls.*` fields), on with `app`.
    tls: Option<tls::TlsState>,
    /// A SOCKS tunnel started TLS: the next stream index is used up (see `Tracker::skip_index`).
    skip_index: bool,
    prev_ts: Option<i64>,
    counts: EngineCounts,
}

impl Engine {
    pub fn new(budget: Budget) -> Engine {
        Engine {
            tracker: Tracker::new(budget),
            layer: AppLayer::None,
            app: None,
            tls: None,
            skip_index: false,
            prev_ts: None,
            counts: EngineCounts::default(),
        }
    }

    /// Room for `n` streams up front, so the stream table never moves (the TUI, for a file).
    pub fn reserve_streams(&mut self, n: usize) {
        self.tracker.reserve_streams(n);
    }

    /// Wireshark's `tcp.analyze_sequence_numbers`.
    pub fn set_analysis(&mut self, on: bool) {
        self.tracker.set_analysis(on);
    }

    /// Dissect the application layer at least to `layer` ([`AppLayer`]): each part
    /// of a run asks for what it needs, and the most asked for is done. Before the
    /// first packet.
    pub fn dissect(&mut self, layer: AppLayer) {
        if layer <= self.layer {
            return;
        }
        self.layer = layer;
        match layer {
            AppLayer::None => {}
            AppLayer::TlsLite => self.tls = Some(tls::TlsState::new_lite()),
            AppLayer::Tls => self.tls = Some(tls::TlsState::new()),
            AppLayer::App => {
                self.app = Some(AppState::new());
                self.tls = Some(tls::TlsState::new());
            }
        }
    }

    pub fn counts(&self) -> &EngineCounts {
        &self.counts
    }

    /// Hide cache misses of the batch loop: the frame `i + 4` ahead and its
    /// table slot, the stream two ahead (the capture thread wrote them on the other core).
    #[inline]
    pub fn prefetch(&self, frames: &[Frame], i: usize) {
        if let Some(a) = frames.get(i + 4) {
            crate::prefetch::value(a);
            self.tracker.prefetch_slot(a);
        }
        if let Some(a) = frames.get(i + 2) {
            self.tracker.prefetch_stream(a);
        }
    }

    /// One packet, in capture order. The view borrows the tracker's results
    /// until the next call.
    #[inline]
    pub fn process<'a>(&'a mut self, f: &'a Frame, bytes: &'a [u8]) -> PacketView<'a> {
        let c = &mut self.counts;
        c.frames += 1;
        c.malformed += f.problem.is_some() as u64;
        let first_ts = *c.first_ts.get_or_insert(f.ts_ns);
        c.last_ts = c.last_ts.max(f.ts_ns);
        let prev_ts = self.prev_ts.replace(f.ts_ns).unwrap_or(f.ts_ns);
        if std::mem::take(&mut self.skip_index) {
            self.tracker.skip_index();
        }
        let (meta, flow) = match self.tracker.process(f) {
            Some((m, fl)) => (Some(m), Some(fl)),
            None => (None, None),
        };
        self.counts.tcp += meta.is_some() as u64;
        let mut view = PacketView {
            frame: f,
            bytes,
            meta,
            flow,
            first_ts,
            prev_ts,
            app: None,
            diff: None,
            tls: None,
            tls_stream: None,
        };
        if let Some(state) = self.app.as_mut() {
            if AppState::needs(&view) {
                let mut tls_segment = false;
                if let Some(t) = self.tls.as_mut() {
                    t.observe(&view);
                    // Applied before the next packet (the view borrows the tracker).
                    self.skip_index = t.new_conversation();
                    tls_segment = t.segment_was_tls();
                }
                // A segment the TLS dissector took (after STARTTLS, in a tunnel, on a port
                // whose dissector turns TLS down) is `tls` for the bare test too.
                let mut app = state.observe_tls(&view, tls_segment);
                if tls_segment && self.tls.as_ref().is_some_and(|t| t.last().is_some()) {
                    app = Some(crate::filter::protocols::AppProto::Tls);
                }
                view.app = Some(app);
            }
        } else if let Some(t) = self.tls.as_mut() {
            // TLS dissection alone (`AppLayer::Tls`): the same dissector, without the
            // recognition of other application protocols.
            if AppState::needs(&view) {
                t.observe(&view);
                self.skip_index = t.new_conversation();
            }
        }
        if let (Some(t), Some(m)) = (self.tls.as_ref(), meta) {
            view.tls = t.last().filter(|_| AppState::needs(&view));
            view.tls_stream = t.summary(m.stream);
        }
        view
    }

    /// Streams the tracker let go of (port reuse, budget, idle timeout) since the last call.
    pub fn take_retired(&mut self) -> Vec<FlowSummary> {
        let retired = self.tracker.take_retired();
        // A retired stream's TLS state goes with it (the tracker's budget bounds both).
        if let Some(t) = self.tls.as_mut() {
            for s in &retired {
                t.forget(s.stream);
            }
        }
        retired
    }
    /// [`Engine::take_retired`], each stream with its TLS handshake summary (taken out
    /// of the TLS state, which forgets it as `take_retired` does).
    /// The TLS summary is boxed: most streams have none, and an inline one would make
    /// every element of the list twice as big (copied and paged in per retired stream).
    pub fn take_retired_with_tls(&mut self) -> Vec<(FlowSummary, Option<Box<tls::TlsSummary>>)> {
        let retired = self.tracker.take_retired();
        retired
            .into_iter()
            .map(|s| {
                let t = self
                    .tls
                    .as_mut()
                    .and_then(|t| t.take(s.stream))
                    .map(Box::new);
                (s, t)
            })
            .collect()
    }
    /// The TLS handshake summary of a stream still held (`None` without one).
    pub fn tls_summary(&self, stream: u32) -> Option<&tls::TlsSummary> {
        self.tls.as_ref().and_then(|t| t.summary(stream))
    }
    pub fn has_retired(&self) -> bool {
        self.tracker.has_retired()
    }
    /// See `Tracker::live_summary`.
    pub fn live_summary(&self, hash: u64, stream: u32) -> Option<&FlowSummary> {
        self.tracker.live_summary(hash, stream)
    }
    /// See `Tracker::keep_retired_summaries`.
    pub fn keep_retired_summaries(&mut self, on: bool) {
        self.tracker.keep_retired_summaries(on);
    }
    /// Streams the tracker let go of, by index only (see
    /// `Tracker::keep_retired_summaries`); their TLS state goes with them.
    pub fn take_retired_streams(&mut self) -> Vec<u32> {
        let retired = self.tracker.take_retired_streams();
        if let Some(t) = self.tls.as_mut() {
            for &s in &retired {
                t.forget(s);
            }
        }
        retired
    }
    /// See `Tracker::sweep_near`.
    pub fn sweep_near(&self, packets: usize) -> bool {
        self.tracker.sweep_near(packets)
    }
    /// The streams still held.
    pub fn summaries(&self) -> impl Iterator<Item = &FlowSummary> {
        self.tracker.summaries()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::capture::{self, Event, SourceSpec};

    /// Every frame of a capture file and its bytes.
    pub fn frames(path: &str) -> Vec<(Frame, Vec<u8>)> {
        let spec = SourceSpec::File(path.into());
        let running = capture::spawn(capture::open(&spec).unwrap(), Default::default());
        let mut out = Vec::new();
        while let Ok(ev) = running.events.recv() {
            match ev {
                Event::Batch(b) => out.extend(b.iter().map(|(f, d)| (f.clone(), d.to_vec()))),
                Event::Done(_) => break,
                _ => {}
            }
        }
        out
    }

    /// The final summary of every stream of a capture file.
    pub fn summaries(path: &str) -> Vec<FlowSummary> {
        let mut e = Engine::new(Budget::default());
        for (f, b) in frames(path) {
            e.process(&f, &b);
        }
        let mut v = e.take_retired();
        v.extend(e.summaries().cloned());
        v
    }

    /// The most asked for is done, whatever the order of the asks: the report's
    /// TLS-lite after a filter's `App` keeps `tls`/`http` recognition, and the other way.
    #[test]
    fn dissect_keeps_the_most_asked_for() {
        let frames = frames("sample-captures/http-get.pcap");
        let orders = [
            [AppLayer::App, AppLayer::TlsLite, AppLayer::None],
            [AppLayer::TlsLite, AppLayer::Tls, AppLayer::App],
        ];
        for asks in orders {
            let mut e = Engine::new(Budget::default());
            for a in asks {
                e.dissect(a);
            }
            let http = frames
                .iter()
                .filter(|(f, b)| {
                    e.process(f, b).app == Some(Some(crate::filter::protocols::AppProto::Http))
                })
                .count();
            assert!(http > 0, "{asks:?}");
        }
        let mut lite = Engine::new(Budget::default());
        lite.dissect(AppLayer::TlsLite);
        lite.dissect(AppLayer::None);
        assert!(frames.iter().all(|(f, b)| lite.process(f, b).app.is_none()));
    }

    #[test]
    fn app_recognition_is_computed_once_in_capture_order() {
        // The same packets through two engines: with recognition, `app` is
        // set on segments with payload, FIN or RST; without, never.
        let frames = frames("sample-captures/http-get.pcap");
        let (mut on, mut off) = (
            Engine::new(Budget::default()),
            Engine::new(Budget::default()),
        );
        on.dissect(AppLayer::App);
        let mut http = 0;
        for (f, b) in &frames {
            let a = on.process(f, b).app;
            assert_eq!(off.process(f, b).app, None);
            http += (a == Some(Some(crate::filter::protocols::AppProto::Http))) as u32;
        }
        assert!(http >= 2, "a request and a response: {http}");
        assert_eq!(on.counts().frames, frames.len() as u64);
        assert_eq!(on.counts(), off.counts());
    }
}
