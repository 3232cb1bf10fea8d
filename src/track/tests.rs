//! Tracker tests built from crafted segments: a template segment per
//! direction, and only the fields a test is about written out.

use super::*;
use crate::decode::tcp::{flags::*, TcpHeader, TcpOptions};
use crate::decode::{proto, Frame, IpHeader, LinkType};
use std::net::Ipv4Addr;

const CLIENT: (u8, u16) = (1, 40000);
const SERVER: (u8, u16) = (2, 80);
const MS: i64 = 1_000_000;

struct Seg {
    from: (u8, u16),
    to: (u8, u16),
    seq: u32,
    ack: u32,
    flags: u16,
    len: u32,
    ts_ms: i64,
    window: u16,
    wscale: Option<u8>,
}

fn c2s(seq: u32, ack: u32, flags: u16, len: u32, ts_ms: i64) -> Seg {
    Seg {
        from: CLIENT,
        to: SERVER,
        seq,
        ack,
        flags,
        len,
        ts_ms,
        window: 1000,
        wscale: None,
    }
}
fn s2c(seq: u32, ack: u32, flags: u16, len: u32, ts_ms: i64) -> Seg {
    Seg {
        from: SERVER,
        to: CLIENT,
        ..c2s(seq, ack, flags, len, ts_ms)
    }
}

fn frame(n: u64, s: &Seg) -> Frame {
    let ip = |h: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 0, h));
    let iph = IpHeader {
        hdr_len: 20,
        len_field: 40 + s.len,
        ..IpHeader::bare(ip(s.from.0), ip(s.to.0), 6)
    };
    let tcp = TcpHeader {
        src_port: s.from.1,
        dst_port: s.to.1,
        has_fixed: true,
        seq: s.seq,
        ack: s.ack,
        hdr_len: 20,
        flags: s.flags,
        window: s.window,
        checksum: Some(0),
        urgent: 0,
        options: TcpOptions {
            wscale: s.wscale,
            ..TcpOptions::default()
        },
        seg_len: Some(s.len),
        quoted: false,
    };
    // A realistic epoch: Wireshark treats a zero timestamp as "not set".
    let mut f = crate::decode::decode(
        LinkType::Other(-1),
        n,
        (1_700_000_000_000 + s.ts_ms) * MS,
        54 + s.len,
        &[],
    );
    f.problem = None;
    f.protos = proto::IP | proto::TCP;
    f.ip = Some(iph);
    f.tcp = Some(tcp);
    f
}

fn run(t: &mut Tracker, segs: &[Seg]) -> Vec<TcpMeta> {
    segs.iter()
        .enumerate()
        .map(|(i, s)| *t.process(&frame(i as u64 + 1, s)).expect("tcp").0)
        .collect()
}

fn handshake(isn_c: u32, isn_s: u32, t0: i64) -> Vec<Seg> {
    vec![
        c2s(isn_c, 0, SYN, 0, t0),
        s2c(isn_s, isn_c + 1, SYN | ACK, 0, t0 + 10),
        c2s(isn_c + 1, isn_s + 1, ACK, 0, t0 + 20),
    ]
}

#[test]
fn three_way_handshake_numbers() {
    let mut t = Tracker::default();
    let m = run(&mut t, &handshake(1000, 5000, 0));
    assert_eq!(
        m.iter().map(|m| (m.seq, m.ack)).collect::<Vec<_>>(),
        [(0, 0), (0, 1), (1, 1)]
    );
    assert_eq!(
        m.iter().map(|m| m.completeness).collect::<Vec<_>>(),
        [0, 1, 3]
    );
    assert_eq!(
        m.iter().map(|m| m.phase).collect::<Vec<_>>(),
        [Phase::Syn, Phase::SynAck, Phase::HandshakeAck]
    );
    // iRTT first shows on the handshake ACK (one pass), measured from the SYN.
    assert_eq!(
        m.iter().map(|m| m.irtt_ns).collect::<Vec<_>>(),
        [None, None, Some(20 * MS)]
    );
    assert_eq!(m[1].analysis.acks_frame, Some(1));
    assert_eq!(m[2].hs_state, HsState::Established);
}

#[test]
fn retransmitted_syn_moves_the_rtt_start_and_is_counted() {
    let mut t = Tracker::default();
    let segs = vec![
        c2s(1000, 0, SYN, 0, 0),
        c2s(1000, 0, SYN, 0, 1000),
        c2s(1000, 0, SYN, 0, 3000),
        s2c(5000, 1001, SYN | ACK, 0, 3010),
        c2s(1001, 5001, ACK, 0, 3020),
    ];
    let m = run(&mut t, &segs);
    assert!(m.iter().all(|m| m.stream == 0));
    assert_ne!(m[1].analysis.flags & analysis::flag::RETRANSMISSION, 0);
    assert_eq!(m[2].analysis.rto_ns, Some(3000 * MS));
    assert_eq!(m[4].irtt_ns, Some(20 * MS));
    let f = t.finish();
    assert_eq!(f[0].hs.syn_retransmissions(), 2);
}

#[test]
fn new_isn_on_a_known_tuple_is_a_new_stream() {
    let mut t = Tracker::default();
    let mut segs = handshake(1000, 5000, 0);
    segs.push(c2s(1001, 5001, FIN | ACK, 0, 30));
    segs.push(s2c(5001, 1002, FIN | ACK, 0, 40));
    segs.extend(handshake(90_000, 7000, 2000));
    let m = run(&mut t, &segs);
    assert_eq!(
        m.iter().map(|m| m.stream).collect::<Vec<_>>(),
        [0, 0, 0, 0, 0, 1, 1, 1]
    );
    assert_ne!(m[5].analysis.flags & analysis::flag::REUSED_PORTS, 0);
    assert_eq!(m[5].completeness, 1);
    let retired = t.take_retired();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].hs.state, HsState::Closed);
}

#[test]
fn refused_connection() {
    let mut t = Tracker::default();
    let m = run(
        &mut t,
        &[c2s(1000, 0, SYN, 0, 0), s2c(0, 1001, RST | ACK, 0, 1)],
    );
    assert_eq!((m[1].seq, m[1].ack), (1, 1));
    assert_eq!(m[1].hs_state, HsState::Refused);
    assert_eq!(t.finish()[0].completeness, 37);
}

#[test]
fn wraparound_keeps_relative_numbers_small() {
    let mut t = Tracker::default();
    let isn = 0xFFFF_FF00;
    let mut segs = handshake(isn, 5000, 0);
    segs.push(c2s(isn.wrapping_add(1), 5001, ACK | PSH, 1000, 30));
    segs.push(c2s(isn.wrapping_add(1001), 5001, ACK | PSH, 1000, 31));
    segs.push(s2c(5001, isn.wrapping_add(2001), ACK, 0, 40));
    let m = run(&mut t, &segs);
    assert_eq!((m[4].seq, m[4].nxtseq), (1001, Some(2001)));
    assert_eq!(m[5].ack, 2001);
    assert_eq!(m[4].analysis.flags, 0);
}

#[test]
fn midstream_starts_at_one_and_never_gets_handshake_bits() {
    let mut t = Tracker::default();
    let m = run(
        &mut t,
        &[c2s(777, 999, ACK, 10, 0), s2c(999, 787, ACK, 0, 1)],
    );
    assert_eq!((m[0].seq, m[0].ack), (1, 1));
    assert_eq!(m[1].ack, 11);
    assert_eq!(m[0].scalefactor, Some(-1));
    assert_eq!(t.finish()[0].hs.state, HsState::MidStream);
}

#[test]
fn window_scaling_applies_after_the_handshake() {
    let mut t = Tracker::default();
    let mut segs = handshake(1000, 5000, 0);
    segs[0].wscale = Some(7);
    segs[1].wscale = Some(10);
    let m = run(&mut t, &segs);
    assert_eq!(m[0].scalefactor, None);
    assert_eq!((m[2].window, m[2].scalefactor), (1000 << 7, Some(128)));
}

#[test]
fn duplicate_acks_and_fast_retransmission() {
    let mut t = Tracker::default();
    let mut segs = handshake(1000, 5000, 0);
    segs.push(c2s(1001, 5001, ACK, 100, 30)); // 4: data 1..101
    segs.push(c2s(1101, 5001, ACK, 100, 31)); // 5: data 101..201 (will be "lost" for the server)
    segs.push(s2c(5001, 1101, ACK, 0, 40)); // 6: ack 101
    segs.push(s2c(5001, 1101, ACK, 0, 41)); // 7: dup 1
    segs.push(s2c(5001, 1101, ACK, 0, 42)); // 8: dup 2
    segs.push(c2s(1101, 5001, ACK, 100, 43)); // 9: resend within 20 ms of the dups
    let m = run(&mut t, &segs);
    assert_eq!(
        (m[6].analysis.dup_ack_num, m[6].analysis.dup_ack_frame),
        (1, 6)
    );
    assert_eq!(m[7].analysis.dup_ack_num, 2);
    assert_ne!(m[8].analysis.flags & analysis::flag::FAST_RETRANSMISSION, 0);
}

#[test]
fn budget_retires_oldest_streams_and_keeps_memory_bounded() {
    let mut t = Tracker::new(Budget {
        max_streams: 100,
        idle_timeout_ns: 0,
    });
    for i in 0..1000u32 {
        let s = Seg {
            from: (1, 1024 + i as u16),
            to: SERVER,
            seq: i,
            ack: 0,
            flags: SYN,
            len: 0,
            ts_ms: i as i64,
            window: 1000,
            wscale: None,
        };
        let (m, _) = t.process(&frame(i as u64 + 1, &s)).unwrap();
        assert_eq!(m.stream, i);
    }
    assert!(t.totals().live_streams <= 101);
    let retired = t.take_retired().len() + t.finish().len();
    assert_eq!(retired, 1000);
}

#[test]
fn idle_timeout_retires_quiet_streams() {
    let mut t = Tracker::new(Budget {
        max_streams: 1000,
        idle_timeout_ns: 10_000 * MS,
    });
    run(&mut t, &handshake(1000, 5000, 0));
    let s = Seg {
        from: (3, 5555),
        to: SERVER,
        seq: 1,
        ack: 0,
        flags: SYN,
        len: 0,
        ts_ms: 60_000,
        window: 1000,
        wscale: None,
    };
    t.process(&frame(9, &s));
    assert_eq!(t.take_retired().len(), 1);
    assert_eq!(t.totals().live_streams, 1);
}

#[test]
fn per_stream_sizes_stay_bounded() {
    // Memory per stream and per packet is what limits a capture's size: these bounds
    // (today's sizes, rounded up a little) catch a field that grows them by accident.
    use std::mem::size_of;
    let sizes = [
        ("Stream", size_of::<Stream>(), 832),
        ("FlowSummary", size_of::<FlowSummary>(), 480),
        ("FlowAnalysis", size_of::<FlowAnalysis>(), 128),
        // 136: the first request and response byte times (plain-TCP time to first byte).
        ("Handshake", size_of::<Handshake>(), 136),
        ("ZeekConn", size_of::<ZeekConn>(), 112),
        ("TcpMeta", size_of::<TcpMeta>(), 192),
        ("Frame", size_of::<crate::decode::Frame>(), 352),
    ];
    for (name, size, max) in sizes {
        assert!(size <= max, "{name} is {size} bytes, more than {max}");
    }
}

proptest::proptest! {
    /// An endpoint prints as the standard formatter prints it (`addr:port`, IPv6 in
    /// brackets), padding included, and `report::endpoint` as `addr:port`.
    #[test]
    fn endpoint_text_is_the_standard_one(bits in proptest::prelude::any::<u32>(), port in proptest::prelude::any::<u16>(), v6 in proptest::prelude::any::<u128>()) {
        let a = Ipv4Addr::from(bits);
        let e = Endpoint(std::net::IpAddr::V4(a), port);
        proptest::prop_assert_eq!(e.to_string(), format!("{a}:{port}"));
        proptest::prop_assert_eq!(format!("{e:<24}|"), format!("{:<24}|", format!("{a}:{port}")));
        proptest::prop_assert_eq!(crate::output::report::endpoint(e), format!("{a}:{port}"));
        let b = std::net::Ipv6Addr::from(v6);
        let e6 = Endpoint(std::net::IpAddr::V6(b), port);
        proptest::prop_assert_eq!(e6.to_string(), format!("[{b}]:{port}"));
        proptest::prop_assert_eq!(crate::output::report::endpoint(e6), format!("{b}:{port}"));
    }
}
