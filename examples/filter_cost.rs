//! What a display filter costs per packet: decode and track a capture into
//! memory, then time `Filter::matches` over every packet, for each filter
//! given. `frame` (always true, one field read) is a useful baseline.
//!
//! cargo run --release --example filter_cost -- CAPTURE 'frame' 'ip.addr == 10.0.0.1 and not udp'
//!
//! The first pass is what batch mode pays (TLS/HTTP filters build their
//! reassembly state here); later passes see packets already judged. The
//! capture's packets are far apart in memory, so cache misses are included.

use hs_tui::decode::{decode, LinkType};
use hs_tui::fields::PacketView;
use hs_tui::filter::Filter;
use hs_tui::track::{Budget, Tracker};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: filter_cost CAPTURE FILTER...");
    let mut cap = pcap::Capture::from_file(&path).expect("open capture");
    let link = LinkType::from_linktype(cap.get_datalink().0);
    let mut tracker = Tracker::new(Budget::default());
    let mut pkts = Vec::new();
    let mut n = 0u64;
    while let Ok(p) = cap.next_packet() {
        n += 1;
        let ts = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec * 1000;
        let bytes = p.data.to_vec();
        let f = decode(link, n, ts, p.header.len, &bytes);
        let (m, fl) = match tracker.process(&f) {
            Some((m, fl)) => (Some(*m), Some(fl.clone())),
            None => (None, None),
        };
        pkts.push((f, bytes, m, fl));
    }
    println!("{} packets", pkts.len());
    for text in args {
        let filter = Filter::compile(&text).unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let mut hits = 0u64;
        for (f, b, m, fl) in &pkts {
            let v = PacketView {
                frame: f,
                bytes: b,
                meta: m.as_ref(),
                flow: fl.as_ref(),
                first_ts: 0,
                prev_ts: 0,
                app: None,
                diff: None,
                tls: None,
                tls_stream: None,
            };
            hits += filter.matches(&v) as u64;
        }
        let ns = t.elapsed().as_secs_f64() * 1e9 / pkts.len().max(1) as f64;
        println!("{ns:>7.1} ns/packet {hits:>9} hits  {text}");
    }
}
