use super::*;

fn read(path: &str) -> Vec<(Frame, Vec<u8>)> {
    crate::engine::tests::frames(path)
}

#[test]
fn chunked_deque_across_chunks() {
    let mut c: Chunked<u64> = Chunked::new();
    let n = CHUNK as u64 * 2 + 10;
    for i in 0..n {
        c.push_back(i);
    }
    assert_eq!(c.len() as u64, n);
    assert_eq!(c.get(CHUNK + 3), Some(&(CHUNK as u64 + 3)));
    let mut seen = Vec::new();
    for _ in 0..CHUNK + 5 {
        c.pop_front_with(|v| seen.push(*v));
    }
    assert_eq!(seen.len(), CHUNK + 5);
    assert_eq!(seen[CHUNK + 4], CHUNK as u64 + 4);
    assert_eq!(c.chunks.len(), 2);
    assert_eq!(c.get(0), Some(&(CHUNK as u64 + 5)));
    *c.get_mut(1).unwrap() = 7;
    assert_eq!(c.get(1), Some(&7));
    assert_eq!(c.get(c.len()), None);
    while !c.is_empty() {
        c.pop_front_with(|_| {});
    }
    c.push_back(1);
    assert_eq!(c.get(0), Some(&1));
}

#[test]
fn compact_meta_round_trips() {
    for path in [
        "tests/data/lo-http-refused.pcap",
        "sample-captures/half-open.pcap",
        "sample-captures/reset.pcap",
    ] {
        let frames = read(path);
        let mut tracker = crate::track::Tracker::new(Budget::default());
        let mut store = Store::new(LinkType::Ethernet, Budget::default(), Limits::default());
        for (f, b) in &frames {
            let want = tracker.process(f).map(|(m, _)| *m);
            let g = store.ingest(f, b, None, None, None);
            store.flush_spool();
            assert_eq!(want.is_some(), g.is_some());
            if let (Some(want), Some(g)) = (want, g) {
                assert_eq!(store.meta(g).unwrap(), want, "{path} frame {}", f.number);
                // The rebuilt frame has everything but the capture thread's hash.
                let f = Frame { flow_hash: 0, ..*f };
                assert_eq!(store.frame(g).unwrap(), f);
            }
        }
    }
}

#[test]
fn records_stay_small() {
    assert!(std::mem::size_of::<PacketRec>() <= 48);
}

#[test]
fn flow_rows_stay_small() {
    // The row; the summary stays in the engine, packed into the row once
    // the engine lets the stream go: a ten-packet HTTP connection's packs
    // into about 130 bytes.
    assert!(std::mem::size_of::<FlowEntry>() <= 64);
    let frames = read("sample-captures/http-get.pcap");
    let mut store = Store::new(LinkType::Ethernet, Budget::default(), Limits::default());
    for (f, b) in &frames {
        store.ingest(f, b, None, None, None);
    }
    let sum = store.flow(0).unwrap().sum.into_owned();
    assert!(sum.total_frames() >= 8);
    assert_eq!(store.flows[0].packed_len(), 0);
    store.flows[0].keep(&sum);
    assert_eq!(*store.flow(0).unwrap().sum, sum);
    let n = store.flows[0].packed_len();
    assert!(n <= 140, "{n} bytes");
}

/// Every packet of a capture, file-backed as the TUI loads a file:
/// `meta` (replayed from the file) equals what the full run gave, and
/// the details view sees the same previous-frame time.
fn replay_matches_full_run(path: &str, budget: Budget) -> usize {
    use crate::capture::{self, Event, ReadOptions, SourceSpec};
    let spec = SourceSpec::File(path.into());
    let opened = capture::open(&spec).unwrap();
    let link = opened.link;
    let opts = ReadOptions {
        offsets: true,
        ..Default::default()
    };
    let running = capture::spawn(opened, opts);
    let mut store = Store::new(link, budget, Limits::default());
    let mut engine = Engine::new(budget);
    engine.dissect(crate::engine::AppLayer::App);
    let mut want = Vec::new();
    while let Ok(ev) = running.events.recv() {
        match ev {
            Event::Batch(b) => {
                for (i, (f, bytes)) in b.iter().enumerate() {
                    let v = engine.process(f, bytes);
                    let expect = v.meta.copied().map(|m| (m, v.prev_ts));
                    let flow = v.flow.cloned();
                    let g = store.ingest(f, bytes, Some(b.offsets[i]), Some(Path::new(path)), None);
                    assert_eq!(expect.is_some(), g.is_some(), "{path} frame {}", f.number);
                    if let Some(flow) = flow {
                        // The row reads the summary the full run has.
                        let row = store.flow(flow.stream).unwrap();
                        assert_eq!(*row.sum, flow, "{path} frame {}", f.number);
                        assert_eq!(row.hs_state(), flow.hs.state);
                    }
                    if let (Some(e), Some(g)) = (expect, g) {
                        want.push((g, f.number, e));
                    }
                }
            }
            Event::Done(_) => break,
            _ => {}
        }
    }
    // Every row, the streams the engine let go (packed in their rows) too.
    for s in engine.summaries() {
        assert_eq!(
            *store.flow(s.stream).unwrap().sum,
            *s,
            "{path} stream {}",
            s.stream
        );
    }
    // Ask in an order that exercises the replay window (backwards, then forwards).
    for &(g, n, (m, prev_ts)) in want.iter().rev().chain(want.iter()) {
        assert_eq!(store.meta(g), Some(m), "{path} frame {n}");
        let seen = store.with_view(g, |p| p.prev_ts).unwrap();
        assert_eq!(seen, prev_ts, "{path} frame {n}: previous frame's time");
    }
    want.len()
}

#[test]
fn replayed_results_equal_the_full_run_on_every_corpus_packet() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut packets = 0;
    let mut files = 0;
    for sub in [
        "sample-captures",
        "tests/data",
        "tests/conformance",
        "tests/conformance/tls/captures",
    ] {
        let Ok(rd) = std::fs::read_dir(format!("{dir}/{sub}")) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.path().display().to_string())
            .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
            .filter(|n| !["not-a-capture", "overflow"].iter().any(|w| n.contains(w)))
            .collect();
        names.sort();
        for name in names {
            if crate::capture::open(&crate::capture::SourceSpec::File(name.clone().into())).is_err()
            {
                continue;
            }
            packets += replay_matches_full_run(&name, Budget::default());
            files += 1;
        }
    }
    assert!(
        files >= 20 && packets > 1000,
        "{files} files, {packets} packets"
    );
    // A tiny stream budget retires streams mid-capture: a four-tuple seen again
    // starts a new stream, which replays on its own too.
    let tiny = Budget {
        max_streams: 2,
        idle_timeout_ns: 0,
    };
    replay_matches_full_run(&format!("{dir}/tests/data/lo-http-refused.pcap"), tiny);
}

#[test]
fn a_replay_cut_short_by_an_unflushed_spool_is_done_again_after_the_flush() {
    let frames = read("sample-captures/http-get.pcap");
    let mut tracker = crate::track::Tracker::new(Budget::default());
    let mut store = Store::new(LinkType::Ethernet, Budget::default(), Limits::default());
    let mut want = Vec::new();
    for (f, b) in &frames {
        let m = tracker.process(f).map(|(m, _)| *m);
        if let (Some(m), Some(g)) = (m, store.ingest(f, b, None, None, None)) {
            want.push((g, m));
        }
    }
    let &(g, m) = want.last().unwrap();
    // Nothing on disk yet: what the record holds, no more.
    let early = store.meta(g).unwrap();
    assert_eq!(
        (early.seq, early.ack, early.stream),
        (m.seq, m.ack, m.stream)
    );
    store.flush_spool();
    for &(g, m) in &want {
        assert_eq!(store.meta(g), Some(m));
    }
}

#[test]
fn details_see_the_tls_dissection_and_the_stream_summary() {
    let frames = read("tests/conformance/tls/captures/zeek-tls-chrome-34-google.pcap");
    let mut store = Store::new(LinkType::Ethernet, Budget::default(), Limits::default());
    for (f, b) in &frames {
        store.ingest(f, b, None, None, None);
    }
    store.flush_spool();
    let g = (store.base()..store.end())
        .find(|&g| store.get(g).unwrap().number() == 4)
        .unwrap();
    let (ty, sni) = store
        .with_view(g, |p| {
            (
                p.tls.map(|t| t.msgs[0].ty),
                p.tls_stream.and_then(|s| s.sni.clone()),
            )
        })
        .unwrap();
    assert_eq!(ty, Some(1));
    assert_eq!(sni.as_deref(), Some("google.de"));
}

#[test]
fn record_budget_drops_records_but_keeps_flows_and_bytes_come_back() {
    let frames = read("tests/data/lo-http-refused.pcap");
    let limits = Limits {
        max_packets: 10,
        spool_bytes: 1 << 20,
    };
    let mut store = Store::new(LinkType::Ethernet, Budget::default(), limits);
    for (f, b) in &frames {
        store.ingest(f, b, None, None, None);
    }
    store.flush_spool();
    assert_eq!(store.len(), 10);
    assert_eq!(store.base(), frames.len() as u64 - 10);
    assert_eq!(store.counts.evicted, frames.len() as u64 - 10);
    assert_eq!(store.flows.len(), 5);
    assert_eq!(store.flow(0).unwrap().sum.total_frames(), 12);
    assert_eq!(store.flows[0].stored, 0);
    assert_eq!(store.stream_packets(0).count(), 0);
    let kept: usize = store.flows.iter().map(|f| f.stored as usize).sum();
    let listed: usize = (0..5).map(|s| store.stream_packets(s).count()).sum();
    assert_eq!(listed, 10);
    assert_eq!(kept, 10);
    // Every kept record reads its bytes back from the spool.
    for g in store.base()..store.end() {
        let n = store.get(g).unwrap().number();
        let want = &frames.iter().find(|(f, _)| f.number == n).unwrap().1;
        assert_eq!(store.bytes(g).as_ref(), Some(want));
    }
    assert_eq!(store.counts.states.iter().sum::<u64>(), 5);
}

#[test]
fn a_full_spool_says_so_and_keeps_the_records() {
    let frames = read("tests/data/lo-http-refused.pcap");
    let limits = Limits {
        max_packets: 1000,
        spool_bytes: 24 + 300,
    };
    let mut store = Store::new(LinkType::Ethernet, Budget::default(), limits);
    for (f, b) in &frames {
        store.ingest(f, b, None, None, None);
    }
    assert_eq!(store.len(), frames.len());
    assert!(store.counts.bytes_dropped > 0);
    assert!(store.spool_stopped().unwrap().contains("spool budget"));
    assert!(store.bytes(store.end() - 1).is_none());
    // A record without bytes still has its fields (rebuilt from the record).
    assert!(store.frame(store.end() - 1).unwrap().tcp.is_some());
}
