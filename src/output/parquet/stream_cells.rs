//! The stream table's costly cells, read straight from the stream's summary. Through the
//! registry, the endpoints and the history were each formatted into a fresh `String`, and
//! each of the six `hs.setup.*` legs worked out all the legs again; with a quarter of a
//! million streams in a 3M-packet capture the stream rows took about 9% of the export's
//! CPU. A test checks every such cell against the registry's on every sample capture.

use super::{Builder, Col, Get};
use crate::engine::legs::Legs;
use crate::engine::tls::TlsSummary;
use crate::fields::{PacketView, Value};
use crate::track::FlowSummary;

/// A stream-table column read from the summary, not through its registry getter.
#[derive(Clone, Copy)]
pub(super) enum StreamCol {
    /// `hs.client`, `hs.server`: `addr:port` (`[addr]:port` for IPv6).
    Client,
    Server,
    History,
    /// An `hs.setup.*` leg but `tcp` (whose registry value keeps a negative time).
    Leg(fn(&Legs) -> Option<i64>),
}

impl StreamCol {
    pub(super) fn of(name: &str) -> Option<StreamCol> {
        Some(match name {
            "hs.client" => StreamCol::Client,
            "hs.server" => StreamCol::Server,
            "hs.history" => StreamCol::History,
            "hs.setup.ch" => StreamCol::Leg(|l| l.ch),
            "hs.setup.sh" => StreamCol::Leg(|l| l.sh),
            "hs.setup.flight" => StreamCol::Leg(|l| l.flight),
            "hs.setup.tls" => StreamCol::Leg(|l| l.tls),
            "hs.setup.ttfb" => StreamCol::Leg(|l| l.ttfb),
            "hs.setup.total" => StreamCol::Leg(|l| l.total),
            _ => return None,
        })
    }
}

/// The registry columns `cols` of stream `f` into `cells` (by each column's index).
pub(super) fn push_stream_cells(
    cols: &[Col],
    cells: &mut [super::cells::Cells],
    f: &FlowSummary,
    tls: Option<&TlsSummary>,
    text: &mut String,
    spare: &mut Vec<Value<'static>>,
) {
    // The values' allocation is kept from row to row (see `ParquetSink::packet`).
    let mut values: Vec<Value<'_>> = std::mem::take(spare);
    let frame = crate::decode::Frame::new(
        f.first_frame,
        f.first_ts,
        0,
        0,
        crate::decode::LinkType::Ethernet,
    );
    let view = PacketView {
        frame: &frame,
        bytes: &[],
        meta: None,
        flow: Some(f),
        first_ts: f.first_ts,
        prev_ts: f.first_ts,
        app: None,
        diff: None,
        tls: None,
        tls_stream: tls,
    };
    let mut legs = None;
    for c in cols {
        let b = cells[c.at].builder();
        match c.get {
            Get::Stream(StreamCol::Client) => f
                .client_server()
                .0
                .text(true, text, |s| b.push_str(Some(s))),
            Get::Stream(StreamCol::Server) => f
                .client_server()
                .1
                .text(true, text, |s| b.push_str(Some(s))),
            Get::Stream(StreamCol::History) => b.push_str(Some(f.zeek.history())),
            Get::Stream(StreamCol::Leg(leg)) => {
                let legs = legs.get_or_insert_with(|| Legs::of(f, tls));
                push_time(b, leg(legs));
            }
            _ => {
                c.field.values(&view, &mut values);
                b.push(values.first(), text);
            }
        }
    }
    values.clear();
    *spare = values.into_iter().map(|_| Value::Present).collect();
}

fn push_time(b: &mut Builder, ns: Option<i64>) {
    if let Builder::F64(b) = b {
        b.append_option(ns.map(|ns| ns as f64 / 1e9));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{cells::Cells, registry_cols, stream_fields, Fast, Kind};
    use super::*;

    /// Every fast stream cell equals the registry's, stream by stream, on every sample
    /// capture and the TLS ones (so the set-up legs see handshakes).
    #[test]
    fn fast_stream_cells_agree_with_the_registry() {
        let names = stream_fields();
        let (fast, schema) = registry_cols(&names, 0, Fast::Streams, &[]);
        let (slow, _) = registry_cols(&names, 0, Fast::None, &[]);
        let fast_count = fast
            .iter()
            .filter(|c| matches!(c.get, Get::Stream(_)))
            .count();
        assert_eq!(fast_count, 9, "client, server, history and six legs");
        let kinds: Vec<Kind> = schema.iter().map(|(_, k)| *k).collect();
        let (mut streams, mut with_legs) = (0, 0);
        for file in crate::output::parquet::tests::sample_files() {
            let frames = crate::engine::tests::frames(file.to_str().unwrap());
            let mut engine = crate::engine::Engine::new(Default::default());
            engine.set_analysis(true);
            engine.dissect(crate::engine::AppLayer::Tls);
            for (f, bytes) in &frames {
                engine.process(f, bytes);
            }
            let new = |cols: &[Col]| -> Vec<Cells> {
                cols.iter()
                    .zip(&kinds)
                    .map(|(c, k)| Cells::new(c.get, *k))
                    .collect()
            };
            let (mut a, mut b) = (new(&fast), new(&slow));
            let (mut text, mut values) = (String::new(), Vec::new());
            for s in engine.summaries() {
                let tls = engine.tls_summary(s.stream);
                push_stream_cells(&fast, &mut a, s, tls, &mut text, &mut values);
                push_stream_cells(&slow, &mut b, s, tls, &mut text, &mut values);
                streams += 1;
                with_legs += Legs::of(s, tls).tls.is_some() as usize;
            }
            for (i, (x, y)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
                assert_eq!(
                    x.builder().finish().to_data(),
                    y.builder().finish().to_data(),
                    "{}: column {}",
                    file.display(),
                    schema[i].0
                );
            }
        }
        assert!(streams > 1_000, "{streams} streams");
        assert!(with_legs > 10, "{with_legs} streams with a TLS leg");
    }
}
