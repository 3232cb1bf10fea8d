//! A synthetic capture for measurements: flows of three kinds (refused,
//! half-open with SYN retransmissions, and a short request/response closed
//! with FINs), 1 in 20 refused and 1 in 20 half-open, started 100 µs apart
//! with RTTs of 20-117 ms, so several thousand are in flight at once.
//! About 9.25 packets per flow: 108,200 flows make 1,000,850 packets.

use etherparse::PacketBuilder;

const MAC_C: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_S: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// One flow's packets: (from client, flags, seq, ack, payload length).
fn script(kind: usize) -> Vec<(bool, &'static str, u32, u32, usize)> {
    match kind {
        // Refused.
        0 => vec![(true, "S", 0, 0, 0), (false, "RA", 0, 1, 0)],
        // Half-open: the SYN and its retransmissions.
        1 => vec![
            (true, "S", 0, 0, 0),
            (true, "S", 0, 0, 0),
            (true, "S", 0, 0, 0),
        ],
        // A short request/response with a FIN close.
        _ => vec![
            (true, "S", 0, 0, 0),
            (false, "SA", 0, 1, 0),
            (true, "A", 1, 1, 0),
            (true, "PA", 1, 1, 80),
            (false, "A", 1, 81, 0),
            (false, "PA", 1, 81, 200),
            (true, "A", 81, 201, 0),
            (false, "FA", 201, 81, 0),
            (true, "FA", 81, 202, 0),
            (false, "A", 202, 82, 0),
        ],
    }
}

fn frame(
    i: u32,
    from_client: bool,
    flags: &str,
    seq: u32,
    ack: u32,
    len: usize,
    out: &mut Vec<u8>,
) {
    let client = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let cport = 20_000 + (i % 40_000) as u16;
    let server = [192, 168, 0, 1];
    let (isn_c, isn_s) = (
        i.wrapping_mul(2_654_435_761),
        i.wrapping_mul(40_503) ^ 0x5555_5555,
    );
    let (src, dst, sp, dp, s, a) = if from_client {
        (
            client,
            server,
            cport,
            443,
            isn_c.wrapping_add(seq),
            isn_s.wrapping_add(ack),
        )
    } else {
        (
            server,
            client,
            443,
            cport,
            isn_s.wrapping_add(seq),
            isn_c.wrapping_add(ack),
        )
    };
    let (m1, m2) = if from_client {
        (MAC_C, MAC_S)
    } else {
        (MAC_S, MAC_C)
    };
    let mut b = PacketBuilder::ethernet2(m1, m2)
        .ipv4(src, dst, 64)
        .tcp(sp, dp, s, 65_000);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'A' => b.ack(a),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    out.clear();
    b.write(out, &vec![b'x'; len]).unwrap();
}

/// Write the synthetic capture: flows start 100 µs apart, ten at a time in flight.
pub fn write_capture(path: &std::path::Path, flows: u32) -> u64 {
    let dead = pcap::Capture::dead_with_precision(pcap::Linktype::ETHERNET, pcap::Precision::Nano)
        .unwrap();
    let mut save = dead.savefile(path).unwrap();
    let mut buf = Vec::new();
    let mut n = 0u64;
    let base_ts: i64 = 1_700_000_000_000_000_000;
    // Interleave: packet k of flow i goes out at i*100µs + k*30µs (+ i-dependent RTT).
    let mut events: Vec<(i64, u32, usize)> = Vec::new();
    for i in 0..flows {
        let kind = match i % 20 {
            0 => 0,
            1 => 1,
            _ => 2,
        };
        let rtt = 20_000 + (i as i64 % 97) * 1_000;
        for k in 0..script(kind).len() {
            let gap = if kind == 1 {
                1_000_000_000 * k as i64
            } else {
                rtt * k as i64
            };
            events.push((i as i64 * 100_000 + gap, i, k));
        }
    }
    events.sort_unstable();
    for (ts, i, k) in events {
        let kind = match i % 20 {
            0 => 0,
            1 => 1,
            _ => 2,
        };
        let (fc, fl, s, a, len) = script(kind)[k];
        frame(i, fc, fl, s, a, len, &mut buf);
        let t = base_ts + ts;
        let header = pcap::PacketHeader {
            ts: libc::timeval {
                tv_sec: t / 1_000_000_000,
                tv_usec: t % 1_000_000_000,
            },
            caplen: buf.len() as u32,
            len: buf.len() as u32,
        };
        save.write(&pcap::Packet::new(&header, &buf));
        n += 1;
    }
    save.flush().unwrap();
    n
}
