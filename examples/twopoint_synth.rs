//! Make a two-point pair from one synthetic capture, for the `hs-tui diff`
//! benchmark (scripts/bench-diff):
//! `cargo run --release --example twopoint_synth -- IN.pcap A.pcap B.pcap`
//!
//! IN's timestamps are taken as send times. Client packets (source 10.x)
//! reach B 20 ms later, server packets reach A 15 ms later; 2% of each
//! direction is lost (a hash of the packet's number decides); B's clock is
//! 250 ms ahead of A's.

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, a, b] = args.as_slice() else {
        eprintln!("usage: twopoint_synth IN.pcap A.pcap B.pcap");
        std::process::exit(2);
    };
    let mut cap =
        pcap::Capture::from_file_with_precision(input, pcap::Precision::Nano).expect("open input");
    // (time at A, time at B) in ns; None where the packet is not there.
    let mut at_a: Vec<(i64, usize)> = Vec::new();
    let mut at_b: Vec<(i64, usize)> = Vec::new();
    let mut frames: Vec<Vec<u8>> = Vec::new();
    const OFFSET: i64 = 250_000_000;
    while let Ok(p) = cap.next_packet() {
        let t = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec;
        let k = frames.len();
        let from_client = p.data.get(26) == Some(&10);
        let lost = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58 == 0; // 1 in 64
        if from_client {
            at_a.push((t, k));
            if !lost {
                at_b.push((t + 20_000_000 + OFFSET, k));
            }
        } else {
            at_b.push((t + OFFSET, k));
            if !lost {
                at_a.push((t + 15_000_000, k));
            }
        }
        frames.push(p.data.to_vec());
    }
    for (path, mut evs) in [(a, at_a), (b, at_b)] {
        evs.sort_unstable();
        let dead =
            pcap::Capture::dead_with_precision(pcap::Linktype::ETHERNET, pcap::Precision::Nano)
                .expect("dead capture");
        let mut save = dead.savefile(Path::new(path)).expect("create output");
        for (t, k) in &evs {
            let data = &frames[*k];
            let header = pcap::PacketHeader {
                ts: libc::timeval {
                    tv_sec: t / 1_000_000_000,
                    tv_usec: t % 1_000_000_000,
                },
                caplen: data.len() as u32,
                len: data.len() as u32,
            };
            save.write(&pcap::Packet::new(&header, data));
        }
        save.flush().expect("flush");
        println!("{path}: {} packets", evs.len());
    }
}
