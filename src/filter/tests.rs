//! Filter tests on crafted packets: evaluation (decoded with the real
//! decoder, tracked with the real tracker), error rendering (insta
//! snapshots) and property tests of the parser.

use super::ast::{CmpOp, Expr, Operand, Quant, SetItem, SliceRange};
use super::*;
use crate::decode::{decode, Frame, LinkType};
use crate::track::{Budget, FlowSummary, TcpMeta};
use proptest::prelude::*;

// ---------------------------------------------------------------- packets

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&dst);
    v.extend_from_slice(&src);
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len() as u16;
    let mut v = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    v[2..4].copy_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(payload);
    v
}

fn ipv6(src: [u8; 16], dst: [u8; 16], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.push(proto);
    v.push(64);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(payload);
    v
}

/// A TCP segment; `flags` as in the header (0x02 SYN, 0x12 SYN-ACK, 0x10 ACK, 0x18 PSH-ACK, 0x04 RST).
fn tcp(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    opts: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let hl = 20 + opts.len();
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ack.to_be_bytes());
    v.push(((hl / 4) as u8) << 4);
    v.push(flags);
    v.extend_from_slice(&64240u16.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(opts);
    v.extend_from_slice(payload);
    v
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

fn arp_request() -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&MAC_A);
    a.extend_from_slice(&[10, 0, 0, 1]);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&[10, 0, 0, 2]);
    eth([0xff; 6], MAC_A, 0x0806, &a)
}

fn v4tcp(src: [u8; 4], dst: [u8; 4], seg: Vec<u8>) -> Vec<u8> {
    eth(MAC_B, MAC_A, 0x0800, &ipv4(src, dst, 6, &seg))
}

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const MSS: &[u8] = &[2, 4, 0x05, 0xb4];
const TLS_HELLO: &[u8] = &[0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0];

/// The packets of SEMANTICS.md's `f_mixed` scenario, built by hand.
fn f_mixed() -> Vec<Vec<u8>> {
    let snmp = [
        0x30, 0x26, 2, 1, 1, 4, 6, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x19,
    ];
    let dns = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01";
    vec![
        v4tcp(C, S, tcp(40000, 443, 1000, 0, 0x02, MSS, &[])),
        v4tcp(S, C, tcp(443, 40000, 5000, 1001, 0x12, MSS, &[])),
        v4tcp(C, S, tcp(40000, 443, 1001, 5001, 0x10, &[], &[])),
        v4tcp(C, S, tcp(40000, 443, 1001, 5001, 0x18, &[], TLS_HELLO)),
        eth(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(C, [10, 0, 0, 3], 17, &udp(5353, 53, dns)),
        ),
        eth(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(C, [10, 0, 0, 4], 17, &udp(40001, 161, &snmp)),
        ),
        arp_request(),
        eth(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4(
                C,
                [10, 0, 0, 5],
                1,
                &[8, 0, 0, 0, 0, 1, 0, 1, b'a', b'b', b'c', b'd'],
            ),
        ),
        v4tcp(
            [10, 0, 0, 9],
            [10, 0, 0, 8],
            tcp(1234, 80, 1, 0, 0x02, &[], &[]),
        ),
        v4tcp(C, S, tcp(40002, 80, 1, 0, 0x02, &[], &[])),
    ]
}

struct Packet {
    frame: Frame,
    bytes: Vec<u8>,
    meta: Option<TcpMeta>,
    flow: Option<FlowSummary>,
    /// TLS/HTTP recognition as the engine made it, in capture order.
    app: Option<Option<protocols::AppProto>>,
}

impl Packet {
    fn view(&self, first_ts: i64, prev_ts: i64) -> PacketView<'_> {
        PacketView {
            frame: &self.frame,
            bytes: &self.bytes,
            meta: self.meta.as_ref(),
            flow: self.flow.as_ref(),
            first_ts,
            prev_ts,
            app: self.app,
            diff: None,
            tls: None,
            tls_stream: None,
        }
    }
}

/// Decode and track frames spaced 10 ms apart, as a capture would.
fn capture(frames: Vec<Vec<u8>>) -> Vec<Packet> {
    let frames = frames.into_iter().enumerate().map(|(i, bytes)| {
        let ts = 1_700_000_000_000_000_000 + i as i64 * 10_000_000;
        (ts, bytes.len() as u32, bytes)
    });
    track(LinkType::Ethernet, frames)
}

/// Decode and track (timestamp, wire length, bytes) frames, through the engine.
fn track(link: LinkType, frames: impl Iterator<Item = (i64, u32, Vec<u8>)>) -> Vec<Packet> {
    let mut engine = crate::engine::Engine::new(Budget::default());
    engine.dissect(crate::engine::AppLayer::App);
    frames
        .enumerate()
        .map(|(i, (ts, len, bytes))| {
            let frame = decode(link, i as u64 + 1, ts, len, &bytes);
            let v = engine.process(&frame, &bytes);
            let (meta, flow, app) = (v.meta.copied(), v.flow.cloned(), v.app);
            Packet {
                frame,
                bytes,
                meta,
                flow,
                app,
            }
        })
        .collect()
}

fn matching(filter: &str, cap: &[Packet]) -> Vec<u64> {
    let f = Filter::compile(filter).unwrap_or_else(|e| panic!("{filter}:\n{e}"));
    let first = cap.first().map_or(0, |p| p.frame.ts_ns);
    let mut prev = first;
    let mut out = Vec::new();
    for p in cap {
        let view = p.view(first, prev);
        if f.matches(&view) {
            out.push(p.frame.number);
        }
        prev = p.frame.ts_ns;
    }
    out
}

/// The fast forms (`Node::specialize`) must select exactly what the generic forms select.
#[test]
fn fast_forms_agree_with_generic_evaluation() {
    let mut cap = capture(f_mixed());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    // From the conformance corpus, so that every expression below selects some packets
    // and not others: VLAN, Linux cooked, keep-alives, lost segments, port 22, equal ports.
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    files.extend(
        [
            "zeek-http-vlan-0.pcap",
            "lo-any-sll.pcap",
            "lo-keepalive.pcap",
            "zeek-tcp-reassembly.pcap",
            "zeek-tcp-payload-synack.pcap",
            "tcpdump-ssh.pcap",
        ]
        .map(|f| corpus.join(f)),
    );
    for file in files {
        let mut pc = pcap::Capture::from_file(&file).unwrap();
        let link = LinkType::from_linktype(pc.get_datalink().0);
        let mut frames = Vec::new();
        while let Ok(pkt) = pc.next_packet() {
            frames.push((
                frames.len() as i64 * 1000,
                pkt.header.len,
                pkt.data.to_vec(),
            ));
        }
        cap.extend(track(link, frames.into_iter()));
    }
    let exprs = [
        "tcp",
        "!tcp",
        "ip and not ipv6",
        "udp or arp or icmp or icmpv6",
        "eth and not vlan and not sll and not null",
        "ip.addr == 127.0.0.1",
        "ip.addr != 127.0.0.1",
        "ip.addr ~= 127.0.0.1",
        "ip.src == 127.0.0.0/8",
        "ip.dst == 10.0.0.0/24 or ip.src == 192.168.0.0/16",
        "ip.addr === 127.0.0.1",
        "ip.src > 127.0.0.1",
        "ip.dst <= 127.0.0.1",
        "tcp.port == 80",
        "tcp.port != 80",
        "tcp.port in {80, 443, 8000..8100}",
        "tcp.port in {1..1024}",
        "not tcp.port in {22}",
        "tcp.srcport >= 1024 and tcp.dstport < 1024",
        "tcp.len > 0",
        "tcp.len >= 0",
        "tcp.len == 0",
        "tcp.seq == 1",
        "tcp.ack == 1",
        "tcp.ack != 1",
        "tcp.nxtseq > 1",
        "tcp.stream in {0, 1, 2}",
        "tcp.stream == 3",
        "frame.len > 60",
        "frame.number <= 5",
        "tcp.completeness == 31",
        "tcp.flags == 0x12",
        "tcp.flags & 0x02",
        "tcp.flags.syn == 1 and tcp.flags.ack == 0",
        "tcp.flags.reset || tcp.flags.fin",
        "tcp.flags.reset == 1",
        "tcp.flags.push != 0",
        "tcp.analysis",
        "tcp.analysis.flags",
        "tcp.analysis.flags && !tcp.analysis.window_update",
        "tcp.analysis.retransmission or tcp.analysis.duplicate_ack",
        "tcp.analysis.zero_window or tcp.analysis.keep_alive or tcp.analysis.out_of_order",
        "tcp.analysis.reused_ports or tcp.analysis.lost_segment",
        "tcp and ip.addr == 127.0.0.1 and tcp.port in {80, 443, 18080} and not tcp.analysis.retransmission and tcp.len >= 0",
        "tcp.len > 0 and tcp contains \"GET\"",
        "tcp.srcport == tcp.dstport",
        "tcp.port in {80, tcp.srcport}",
    ];
    // Expressions that select every packet or none of this corpus, and why that is right.
    const ALWAYS_OR_NEVER: &[&str] = &[];
    let mut trivial = Vec::new();
    for e in exprs {
        let fast = Filter::compile(e).unwrap_or_else(|err| panic!("{e}: {err}"));
        let generic = Filter::compile_with(e, false).unwrap();
        let (mut n_fast, mut hits) = (0, 0);
        let first = cap[0].frame.ts_ns;
        for p in &cap {
            let view = p.view(first, first);
            let got = fast.matches(&view);
            assert_eq!(
                got,
                generic.matches(&view),
                "{e} on frame {}",
                p.frame.number
            );
            hits += got as usize;
            n_fast += 1;
        }
        assert!(n_fast > 100, "{e}");
        // An expression that selects every packet or none would let the fast and the
        // generic forms agree while both are wrong.
        if !ALWAYS_OR_NEVER.contains(&e) && (hits == 0 || hits == n_fast) {
            trivial.push(format!("{e}: {hits} of {n_fast}"));
        }
    }
    assert!(
        trivial.is_empty(),
        "expressions selecting all packets or none:\n{}",
        trivial.join("\n")
    );
    // The common filters really are fast: no value vectors at all.
    for e in ["tcp and ip.addr == 10.0.0.1 and tcp.port in {80, 443} and not tcp.analysis.retransmission and tcp.len >= 0", "tcp.flags.syn == 1 and tcp.flags.ack == 0"] {
        assert!(!Filter::compile(e).unwrap().needs_pool, "{e}");
    }
    assert!(Filter::compile("tcp contains \"x\"").unwrap().needs_pool);
}

/// Expected frame numbers are tshark 4.0.17's answers on the `f_mixed` scenario.
#[test]
fn semantics_on_f_mixed() {
    let cap = capture(f_mixed());
    let cases: &[(&str, &[u64])] = &[
        ("", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("tcp", &[1, 2, 3, 4, 9, 10]),
        ("!tcp", &[5, 6, 7, 8]),
        ("not not tcp", &[1, 2, 3, 4, 9, 10]),
        (
            "ip.addr == 10.0.0.1 and not udp and not arp and not snmp and not icmp and not ssl",
            &[1, 2, 3, 10],
        ),
        ("ip.addr != 10.0.0.2", &[5, 6, 8, 9]),
        ("not ip.addr == 10.0.0.2", &[5, 6, 7, 8, 9]),
        ("ip.addr !== 10.0.0.2", &[1, 2, 3, 4, 5, 6, 8, 9, 10]),
        ("ip.addr ~= 10.0.0.2", &[1, 2, 3, 4, 5, 6, 8, 9, 10]),
        ("all ip.addr != 10.0.0.1", &[9]),
        ("tcp.flags.syn", &[1, 2, 3, 4, 9, 10]),
        ("tcp.flags.syn == 1", &[1, 2, 9, 10]),
        ("tcp.flags.syn == 5", &[1, 2, 9, 10]),
        ("tcp.flags.syn == TRUE", &[1, 2, 9, 10]),
        ("tcp.flags.syn == False", &[3, 4]),
        ("tcp.flags.syn > 0", &[1, 2, 9, 10]),
        ("tcp.port not in {80,443}", &[5, 6, 7, 8]),
        ("tcp.port in {80..90, 443}", &[1, 2, 3, 4, 9, 10]),
        ("tcp.port in {81..442}", &[]),
        ("frame.number in {1..3, 7}", &[1, 2, 3, 7]),
        (
            "ip.addr in {10.0.0.0/30, 10.0.0.9}",
            &[1, 2, 3, 4, 5, 6, 8, 9, 10],
        ),
        (
            "ip.addr in {10.0.0.1 .. 10.0.0.5}",
            &[1, 2, 3, 4, 5, 6, 8, 10],
        ),
        ("tcp.port == 0x50", &[9, 10]),
        ("tcp.port == 0120", &[9, 10]),
        ("tcp.port == 0b1010000", &[9, 10]),
        ("tcp.port == 'P'", &[9, 10]),
        ("tcp.port eq 80", &[9, 10]),
        ("tcp.port ne 80", &[1, 2, 3, 4]),
        ("tcp.port === 80", &[]),
        ("all tcp.port == 80", &[]),
        ("any tcp.port > 80", &[1, 2, 3, 4, 9, 10]),
        ("tcp.srcport != -1", &[1, 2, 3, 4, 9, 10]),
        ("tcp.srcport == -1", &[]),
        ("tcp.srcport > -1", &[]),
        ("tcp.port == tcp.srcport", &[1, 2, 3, 4, 9, 10]),
        ("ip.src == ip.dst", &[]),
        ("tcp.flags & 0x12", &[1, 2, 3, 4, 9, 10]),
        ("tcp.flags & 0x02", &[1, 2, 9, 10]),
        ("tcp.flags & 0x12 != 0", &[1, 2, 3, 4, 9, 10]),
        ("tcp.srcport & 3", &[2, 9, 10]),
        ("tcp.port == {80}", &[9, 10]),
        ("tcp.flags & 0x12 == 0x12", &[2]),
        ("tcp.port & 1", &[1, 2, 3, 4]),
        ("ip.addr & 0.0.0.1", &[1, 2, 3, 4, 5, 6, 8, 9, 10]),
        ("tcp.payload contains 16:03", &[4]),
        ("tcp.payload contains \"\\x16\\x03\"", &[4]),
        ("tcp.payload contains 0x16", &[4]),
        ("tcp.payload[0] == 0x16", &[4]),
        ("tcp.payload[0:2] == 16:03", &[4]),
        ("tcp.payload[1-2] == 03:01", &[4]),
        ("tcp.payload[-1] == 00", &[4]),
        ("tcp.payload[8:] == 01:00", &[4]),
        ("tcp.payload ~ \"^\\x16\"", &[4]),
        ("tcp[0:2] == 9c:40", &[1, 3, 4]),
        ("tcp contains 16:03:01", &[4]),
        ("udp contains \"www\"", &[5]),
        ("ip contains \"www\"", &[5]),
        ("eth contains 0a:00:00:01", &[1, 2, 3, 4, 5, 6, 7, 8, 10]),
        ("frame contains \"abcd\"", &[8]),
        ("frame matches \"ABCD\"", &[8]),
        ("frame matches \"(?-i)ABCD\"", &[]),
        ("frame ~ r\"\\x61bcd\"", &[8]),
        ("tcp.flags.str contains \"S\"", &[1, 2, 9, 10]),
        ("tcp.flags.str ~ \"s\"", &[1, 2, 9, 10]),
        ("tcp.flags.str == \"·······A··S·\"", &[2]),
        ("tcp.flags.str matches \"^·+A\"", &[]),
        ("tcp.flags.str > \"A\"", &[1, 2, 3, 4, 9, 10]),
        ("eth.dst == ff:ff:ff:ff:ff:ff", &[7]),
        ("eth.dst == ff.ff.ff.ff.ff.ff", &[7]),
        ("eth.src[0:3] == 02:00:00", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("eth.type == 0x0806", &[7]),
        ("arp.opcode == 1", &[7]),
        ("icmp.type == 8", &[8]),
        ("udp.port == 53", &[5]),
        ("tcp.len > 0", &[4]),
        ("tcp.len", &[1, 2, 3, 4, 9, 10]),
        ("tcp.options.mss_val == 1460", &[1, 2]),
        ("frame.time_relative >= 0.05", &[6, 7, 8, 9, 10]),
        ("frame.time_delta == 0.01", &[2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("frame.time_relative == 0.040000000", &[5]),
        ("frame.time_relative > -1", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("frame.time_epoch > 1700000000.03", &[5, 6, 7, 8, 9, 10]),
        ("tcp.analysis.initial_rtt > 0.005", &[3, 4]),
        ("tcp.seq == 0 and tcp.ack == 0", &[1, 9, 10]),
        ("tcp > 1", &[1, 2, 3, 4, 9, 10]),
        ("tcp == 1", &[]),
        ("count(tcp.port) == 2", &[1, 2, 3, 4, 9, 10]),
        ("count(tcp.port) == 0", &[]),
        ("len(ip.addr) == 4", &[1, 2, 3, 4, 5, 6, 8, 9, 10]),
        ("len(tcp.port) == 2", &[1, 2, 3, 4, 9, 10]),
        ("len(tcp.payload) > 2", &[4]),
        ("upper(tcp.flags.str) contains \"S\"", &[1, 2, 9, 10]),
        ("tcp and udp or arp", &[7]),
        ("tcp or udp and arp", &[1, 2, 3, 4, 9, 10]),
        ("not tcp.port == 80 and udp", &[5, 6]),
        ("tcp.port==80||udp", &[5, 6, 9, 10]),
        ("dns", &[5]),
        ("snmp", &[6]),
        ("ssl", &[4]),
        ("tls", &[4]),
        ("arp", &[7]),
        ("icmp", &[8]),
        ("udp", &[5, 6]),
        ("http", &[]),
        ("ip", &[1, 2, 3, 4, 5, 6, 8, 9, 10]),
        ("eth", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("ipv6 or vlan or sll", &[]),
        ("hs", &[1, 2, 3, 4, 9, 10]),
        ("hs.state == \"established\"", &[3, 4]),
        ("hs.state == established", &[3, 4]),
        ("hs.state == \"syn-sent\"", &[1, 9, 10]),
        ("hs.phase == \"syn-ack\"", &[2]),
        ("hs.conn_state == \"S1\"", &[2, 3, 4]),
        ("hs.rtt > 0.015", &[3, 4]),
        ("hs.packets >= 3", &[3, 4]),
        ("hs.syn_retransmissions > 0", &[]),
        ("hs.duration > 0.015", &[3, 4]),
    ];
    let mut failures = Vec::new();
    for (f, want) in cases {
        let got = matching(f, &cap);
        if got != *want {
            failures.push(format!("{f}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn protocols_by_port_and_payload() {
    let hello_to = |port: u16, cport: u16| -> Vec<Vec<u8>> {
        vec![
            v4tcp(C, S, tcp(cport, port, 1000, 0, 0x02, &[], &[])),
            v4tcp(S, C, tcp(port, cport, 5000, 1001, 0x12, &[], &[])),
            v4tcp(C, S, tcp(cport, port, 1001, 5001, 0x10, &[], &[])),
            v4tcp(C, S, tcp(cport, port, 1001, 5001, 0x18, &[], TLS_HELLO)),
        ]
    };
    // g_tls_ports: 443 by port, 8443 by heuristic; 5000 and 25 belong to other dissectors.
    let mut frames = Vec::new();
    for (i, port) in [443, 8443, 5000, 25].into_iter().enumerate() {
        frames.extend(hello_to(port, 41000 + i as u16));
    }
    let cap = capture(frames);
    assert_eq!(matching("tls", &cap), [4, 8]);
    assert_eq!(matching("ssl", &cap), [4, 8]);

    let mut frames = Vec::new();
    let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    frames.push(v4tcp(C, S, tcp(40000, 80, 1, 1, 0x18, &[], get)));
    frames.push(v4tcp(
        S,
        C,
        tcp(
            80,
            40000,
            1,
            28,
            0x18,
            &[],
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ),
    ));
    frames.push(v4tcp(C, S, tcp(40001, 8000, 1, 1, 0x18, &[], get))); // heuristic
    frames.push(v4tcp(
        C,
        S,
        tcp(40002, 80, 1, 1, 0x18, &[], b"\x00\x01binary"),
    ));
    frames.push(v4tcp(
        C,
        S,
        tcp(40003, 22, 1, 1, 0x18, &[], b"SSH-2.0-OpenSSH_9.2\r\n"),
    ));
    frames.push(v4tcp(C, S, tcp(40003, 22, 22, 1, 0x10, &[], &[])));
    frames.push(eth(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(C, S, 17, &udp(68, 67, &[1; 240])),
    ));
    frames.push(eth(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(C, S, 17, &udp(40000, 123, &[0x23; 48])),
    ));
    let mut initial = vec![0xc3, 0, 0, 0, 1, 8];
    initial.extend_from_slice(&[0xaa; 8]);
    initial.push(0);
    initial.extend_from_slice(&[0; 40]);
    frames.push(eth(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(C, S, 17, &udp(50000, 443, &initial)),
    ));
    frames.push(eth(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(C, S, 17, &udp(50000, 443, &[0x41; 40])),
    ));
    frames.push(eth(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(C, S, 17, &udp(50000, 4433, &[0x41; 40])),
    ));
    frames.push(eth(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4(C, S, 17, &udp(162, 40000, &[0x30, 0])),
    ));
    frames.push(v4tcp(C, S, tcp(40004, 53, 1, 1, 0x18, &[], &[0, 2, 0, 0])));
    let cap = capture(frames);
    assert_eq!(matching("http", &cap), [1, 2, 3]);
    assert_eq!(matching("ssh", &cap), [5]);
    assert_eq!(matching("dhcp", &cap), [7]);
    assert_eq!(matching("bootp", &cap), [7]);
    assert_eq!(matching("ntp", &cap), [8]);
    assert_eq!(matching("quic", &cap), [9, 10]);
    assert_eq!(matching("snmp", &cap), [12]);
    assert_eq!(matching("dns", &cap), [13]);
    assert_eq!(matching("http contains \"Host\"", &cap), [1, 3]);
}

#[test]
fn ipv6_and_icmp_quotes() {
    let a: [u8; 16] = "2001:db8::1"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let b: [u8; 16] = "2001:db8::2"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let inner = ipv4(
        [10, 0, 0, 7],
        [10, 0, 0, 8],
        6,
        &tcp(40000, 80, 777, 0, 0x02, &[], &[]),
    );
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&inner);
    let frames = vec![
        eth(
            MAC_B,
            MAC_A,
            0x86dd,
            &ipv6(a, b, 6, &tcp(40000, 443, 1, 0, 0x02, &[], &[])),
        ),
        eth(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4([10, 0, 0, 1], [10, 0, 0, 7], 1, &icmp),
        ),
    ];
    let cap = capture(frames);
    assert_eq!(matching("ipv6.addr == 2001:db8::/64", &cap), [1]);
    assert_eq!(matching("ipv6.addr == 2001:db8::2", &cap), [1]);
    assert_eq!(matching("ipv6.src == ::1", &cap), Vec::<u64>::new());
    assert_eq!(matching("ipv6", &cap), [1]);
    assert_eq!(matching("tcp", &cap), [1, 2]);
    assert_eq!(matching("ip.addr == 10.0.0.7", &cap), [2]);
    assert_eq!(matching("ip.addr == 10.0.0.8 and icmp", &cap), [2]);
    assert_eq!(matching("tcp.port == 80 and not tls", &cap), [2]);
}

#[test]
fn flow_fields_select_failed_handshakes() {
    // A refused connection, then a SYN sent three times with no answer.
    let frames = vec![
        v4tcp(C, S, tcp(40000, 81, 1000, 0, 0x02, &[], &[])),
        v4tcp(S, C, tcp(81, 40000, 0, 1001, 0x14, &[], &[])),
        v4tcp(C, S, tcp(40001, 82, 7000, 0, 0x02, &[], &[])),
        v4tcp(C, S, tcp(40001, 82, 7000, 0, 0x02, &[], &[])),
        v4tcp(C, S, tcp(40001, 82, 7000, 0, 0x02, &[], &[])),
    ];
    let cap = capture(frames);
    let presets = presets::parse_file(presets::BUILTIN, "built-in").unwrap();
    let failed = presets::expand_in("failed-handshakes", &presets).unwrap();
    assert_eq!(matching(&failed, &cap), [2, 4, 5]);
    assert_eq!(
        matching(&presets::expand_in("resets", &presets).unwrap(), &cap),
        [2]
    );
    assert_eq!(
        matching(
            &presets::expand_in("handshakes-only", &presets).unwrap(),
            &cap
        ),
        [1, 3, 4, 5]
    );
    assert_eq!(
        matching(
            &presets::expand_in("retransmissions", &presets).unwrap(),
            &cap
        ),
        [4, 5]
    );
    assert_eq!(matching("hs.conn_state == \"REJ\"", &cap), [2]);
    assert_eq!(matching("hs.state == \"refused\"", &cap), [2]);
}

/// `and`/`or` chains far longer than tshark takes (16,000 terms) compile, print and
/// evaluate without recursing over their length (they overflowed the stack at 2,396).
#[test]
fn very_long_chains_compile_and_evaluate() {
    let cap = capture(f_mixed());
    let n = 20_000;
    let chain =
        |op: &str, term: &dyn Fn(usize) -> String| (0..n).map(term).collect::<Vec<_>>().join(op);
    // Every term true for TCP packets: the `and` chain selects what `tcp` selects.
    let and = chain(" and ", &|_| "tcp".to_string());
    // One term true (the last): the `or` chain selects the SYN-only packets.
    let or = chain(" or ", &|i| {
        if i == n - 1 {
            "tcp.flags == 0x002".to_string()
        } else {
            format!("tcp.port == {}", 60_000 + i % 5_000)
        }
    });
    // Pairs joined by `or`: `a and b or c and d or ...`.
    let mixed = chain(" or ", &|i| {
        if i == n - 1 {
            "tcp and tcp.flags.syn == 1".to_string()
        } else {
            format!("tcp.port == {} and udp", 1 + i % 60_000)
        }
    });
    // The `||`/`&&` spellings, with `not` in each term.
    let symbols = chain(" && ", &|_| "!udp".to_string());
    for (text, same_as) in [
        (&and, "tcp"),
        (&or, "tcp.flags == 0x002"),
        (&mixed, "tcp.flags.syn == 1"),
        (&symbols, "!udp"),
    ] {
        let want = matching(same_as, &cap);
        assert!(!want.is_empty() && want.len() < cap.len(), "{same_as}");
        assert_eq!(matching(text, &cap), want, "{same_as}");
        // The generic (not specialized) evaluation too.
        let generic = Filter::compile_with(text, false).unwrap();
        let first = cap[0].frame.ts_ns;
        let got: Vec<u64> = cap
            .iter()
            .filter(|p| generic.matches(&p.view(first, first)))
            .map(|p| p.frame.number)
            .collect();
        assert_eq!(got, want, "{same_as} (generic)");
        // Printing, re-parsing, cloning, comparing and dropping the tree.
        let ast = super::parser::parse(text).unwrap().unwrap();
        let printed = ast.to_string();
        assert_eq!(
            printed.len(),
            text.replace("&&", "and").replace('!', "not ").len()
        );
        let again = super::parser::parse(&printed).unwrap().unwrap();
        assert!(again == ast.clone());
        drop((ast, again));
    }
}

/// Nesting (parentheses, `not`) has a limit: a clean error, not a stack overflow.
#[test]
fn deep_nesting_is_a_clean_error() {
    for text in [
        format!("{}tcp{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}tcp", "not ".repeat(10_000)),
        format!("{}tcp", "!".repeat(10_000)),
        "(".repeat(100_000),
    ] {
        let e = err(&text);
        assert!(
            e.contains("nested too deeply"),
            "{}",
            &e[..e.len().min(200)]
        );
    }
    // Up to the limit, nesting that builds a tree as deep compiles and evaluates in a
    // test thread's 2 MiB stack (debug build): 117 `not`s overflowed it (found by
    // tests/fuzz_filter.rs).
    let d = super::parser::MAX_DEPTH;
    let cap = capture(f_mixed());
    let want = matching("tcp.flags.syn == 1", &cap);
    for text in [
        format!(
            "{}tcp.flags.syn == 1{}",
            "tcp and (".repeat(d - 1),
            ")".repeat(d - 1)
        ),
        format!(
            "{}tcp.flags.syn == 1{}",
            "frame.number == 0 or (".repeat(d - 1),
            ")".repeat(d - 1)
        ),
        format!("{}tcp.flags.syn == 1", "not ".repeat(d - 1 - (d - 1) % 2)),
        format!(
            "{}tcp.flags.syn == 1{}",
            "not (udp or not (".repeat((d - 1) / 4),
            "))".repeat((d - 1) / 4)
        ),
    ] {
        assert_eq!(matching(&text, &cap), want, "{}", &text[..60]);
        let generic = Filter::compile_with(&text, false).unwrap();
        let first = cap[0].frame.ts_ns;
        let n = cap
            .iter()
            .filter(|p| generic.matches(&p.view(first, first)))
            .count();
        assert_eq!(n, want.len());
    }
}

#[test]
fn filter_api() {
    let f = Filter::compile("tcp.port == 80").unwrap();
    assert_eq!(f.text(), "tcp.port == 80");
    assert!(f.ast().is_some());
    assert!(Filter::compile("").unwrap().ast().is_none());
    assert!(Filter::from_arg("@resets").is_ok());
    assert!(Filter::from_arg("@nope").is_err());
    assert!(Filter::from_arg("@host-only-tcp:HOST=10.1.2.3").is_ok());
}

// ---------------------------------------------------------------- errors

fn err(s: &str) -> String {
    Filter::compile(s).unwrap_err().to_string()
}

/// Messages and spans tshark 4.0.17 prints for the same filters.
#[test]
fn error_messages_match_tshark() {
    type Case<'a> = (&'a str, &'a str, Option<(usize, usize)>);
    let cases: &[Case] = &[
        ("tcp xor udp", "\"xor\" was unexpected in this context.", Some((4, 7))),
        ("tcp.flgs", "tcp.flgs is neither a field nor a protocol name.", Some((0, 8))),
        ("TCP", "TCP is neither a field nor a protocol name.", Some((0, 3))),
        ("ip.addr == \"abc\"", "IPv4 address cannot be converted from a string (\"abc\").", Some((11, 16))),
        ("tcp.port > 70000", "\"70000\" too big for this field, maximum 65535.", Some((11, 16))),
        ("80 == tcp.port", "Left side of \"==\" expression must be a field or function, not 80.", Some((0, 2))),
        ("tcp.flgs & 0x12", "Constant arithmetic expression on the LHS is invalid.", Some((0, 8))),
        ("ip.adr eq 1.2.3.4", "Left side of \"eq\" expression must be a field or function, not ip.adr.", Some((0, 6))),
        ("ip.adr contains 1", "Left side of contains expression must be a field or function, not ip.adr.", Some((0, 6))),
        ("ip.adr in {1}", "Only a field may be tested for membership in a set.", Some((0, 6))),
        ("tcp.port in {80 443}", "\"443\" was unexpected in this context.", Some((16, 19))),
        ("tcp and", "Unexpected end of filter expression.", None),
        ("(tcp", "Unexpected end of filter expression.", None),
        ("tcp.flags.syn == \"1\"", "\"1\" cannot be found among the possible values for tcp.flags.syn.", Some((17, 20))),
        ("ip.addr == 10.0.0.0/33", "Netmask bits in a CIDR IPv4 address should be <= 32, not 33", Some((11, 22))),
        ("ipv6.addr == ::1/129", "Prefix in a IPv6 address should be <= 128, not 129", Some((13, 20))),
        ("tcp.port = 80", "\"=\" was unexpected in this context.", Some((9, 10))),
        ("tcp.port == \"80\"", "Unsigned integer (2 bytes) cannot be converted from a string (\"80\").", Some((12, 16))),
        ("frame contains 0x1234", "\"0x1234\" is not a valid byte string.", Some((15, 21))),
        ("ip.addr == www.nonexistent.invalid", "\"www.nonexistent.invalid\" is not a valid hostname or IPv4 address.", Some((11, 34))),
        ("ipv6.addr == 1.2.3.4", "\"1.2.3.4\" is not a valid hostname or IPv6 address.", Some((13, 20))),
        ("tcp.port ~ \"a(\"", "Regex compilation error: missing closing parenthesis.", None),
        ("tcp.payload ~ \"a(\"", "Regex compilation error: missing closing parenthesis.", None),
        ("tcp.port contains 80", "tcp.port (type=Unsigned integer (2 bytes)) cannot participate in contains comparison.", Some((0, 8))),
        ("ip.addr ~ \"1\"", "ip.addr (type=IPv4 address) cannot participate in ~ comparison.", Some((0, 7))),
        ("tcp.port matches \"8\"", "tcp.port (type=Unsigned integer (2 bytes)) cannot participate in matches comparison.", Some((0, 8))),
        (
            "tcp.analysis.retransmission == 1",
            "tcp.analysis.retransmission (type=Label) cannot participate in == comparison.",
            Some((0, 27)),
        ),
        ("tcp.port == 1.5", "\"1.5\" is not a valid number.", Some((12, 15))),
        ("tcp.port == 099", "\"099\" is not a valid number.", Some((12, 15))),
        ("tcp.port == 18446744073709551616", "\"18446744073709551616\" causes an integer overflow.", Some((12, 32))),
        ("tcp.flags == 0x10000", "\"0x10000\" too big for this field, maximum 65535.", Some((13, 20))),
        ("frame.number == 5000000000", "\"5000000000\" too big for this field, maximum 4294967295.", Some((16, 26))),
        (
            "tcp.window_size_scalefactor == -3000000000",
            "\"3000000000\" too big for this field, maximum 2147483647.",
            Some((32, 42)),
        ),
        ("frame.time_relative > abc", "\"abc\" is not a valid time.", Some((22, 25))),
        ("frame.time_relative == 1e-2", "\"1e-2\" is not a valid time.", Some((23, 27))),
        ("frame.time_relative == \"1\"", "Time offset cannot be converted from a string (\"1\").", Some((23, 26))),
        ("eth.addr == 00:11:22:33:44", "\"00:11:22:33:44\" contains too few bytes to be a valid Ethernet address.", Some((12, 26))),
        (
            "eth.addr == 00:11:22:33:44:55:66",
            "\"00:11:22:33:44:55:66\" contains too many bytes to be a valid Ethernet address.",
            Some((12, 32)),
        ),
        (
            "eth.addr == \"00:11:22:33:44:55\"",
            "Ethernet or other MAC address cannot be converted from a string (\"00:11:22:33:44:55\").",
            Some((12, 31)),
        ),
        ("tcp.payload == zz", "\"zz\" is not a valid byte string.", Some((15, 17))),
        ("tcp.payload contains \"a", "The final quote was missing from a quoted string.", Some((21, 22))),
        ("tcp.payload contains \"\\q\"", "\\q is not a valid character escape sequence", Some((22, 24))),
        ("tcp.flags.str matches abc", "Matches requires a double quoted string on the right side.", Some((22, 25))),
        ("tcp.port == tcp", "tcp.port and tcp are not of compatible types.", Some((12, 15))),
        ("tcp.port[0] == 0", "\"tcp.port\" is a Unsigned integer (2 bytes) and cannot be sliced into a sequence of bytes.", Some((0, 8))),
        ("frame.time_relative & 1", "FT_RELATIVE_TIME cannot &.", Some((0, 19))),
        ("foo(tcp.port)", "Function 'foo' does not exist", Some((0, 3))),
        ("len(tcp.payload)", "You cannot test whether a function is present.", Some((0, 3))),
        ("()", "\")\" was unexpected in this context.", Some((1, 2))),
        ("tcp.port in {80,}", "\"}\" was unexpected in this context.", Some((16, 17))),
        ("frame.number in {1..3 7}", "\"7\" was unexpected in this context.", Some((22, 23))),
        ("tcp.flags.str == ·", "Non-printable ASCII characters may only appear inside double-quotes.", Some((17, 19))),
    ];
    let mut failures = Vec::new();
    for (f, msg, span) in cases {
        match Filter::compile(f) {
            Ok(_) => failures.push(format!("{f}: compiled")),
            Err(e) => {
                if e.message != *msg || e.span != *span {
                    failures.push(format!(
                        "{f}: got {:?} {:?}, want {msg:?} {span:?}",
                        e.message, e.span
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_rendering_snapshots() {
    insta::assert_snapshot!("xor", err("tcp xor udp"));
    insta::assert_snapshot!("unknown_field_suggestion", err("tcp.flgs"));
    insta::assert_snapshot!("uppercase_protocol", err("TCP"));
    insta::assert_snapshot!("lhs_not_field", err("ip.adr == 1.2.3.4"));
    insta::assert_snapshot!("string_for_address", err("ip.addr == \"abc\""));
    insta::assert_snapshot!("too_big", err("tcp.port > 70000"));
    insta::assert_snapshot!("literal_on_left", err("80 == tcp.port"));
    insta::assert_snapshot!("set_needs_commas", err("tcp.port in {80 443}"));
    insta::assert_snapshot!("unexpected_end", err("tcp.port == 80 and"));
    insta::assert_snapshot!("bool_literal", err("tcp.flags.syn == true"));
    insta::assert_snapshot!("cidr_bits", err("ip.addr == 10.0.0.0/33"));
    insta::assert_snapshot!("single_equals", err("tcp.port = 80"));
    insta::assert_snapshot!("regex_no_position", err("frame matches \"a(\""));
    insta::assert_snapshot!("unknown_protocol_suggestion", err("not tsl"));
    insta::assert_snapshot!("unterminated_string", err("frame contains \"abc"));
    insta::assert_snapshot!("non_ascii_caret", err("tcp.flags.str == \"·\" or ·"));
}

// ---------------------------------------------------------------- properties

const WORDS: &[&str] = &[
    "tcp",
    "udp",
    "ip.addr",
    "tcp.port",
    "tcp.flags",
    "tcp.flags.syn",
    "frame",
    "tcp.payload",
    "eth.addr",
    "ipv6.addr",
    "tls",
    "ssl",
    "hs.state",
    "frame.time_relative",
    "80",
    "0x12",
    "10.0.0.1",
    "10.0.0.0/8",
    "::1",
    "00:11:22:33:44:55",
    "16:03",
    "TRUE",
    "1.5",
    "-1",
    "nope",
    "a-b",
    "len",
    "count",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn operand() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        4 => word().prop_map(|w| Operand::Word(w, Span::default())),
        1 => prop::collection::vec(any::<u8>(), 0..6).prop_map(|b| Operand::Str(b, Span::default())),
        1 => any::<u8>().prop_map(|c| Operand::Char(c, Span::default())),
    ];
    let range = prop_oneof![
        (-20i64..20, 0u64..10).prop_map(|(s, l)| SliceRange::Len(s, l)),
        (-20i64..20, -20i64..20).prop_map(|(s, e)| SliceRange::End(s, e)),
        (-20i64..20).prop_map(SliceRange::ToEnd),
    ];
    let sliced = (word(), prop::collection::vec(range, 1..3)).prop_map(|(w, r)| {
        Operand::Slice(
            Box::new(Operand::Word(w, Span::default())),
            r,
            Span::default(),
        )
    });
    let call = (prop::sample::select(&["len", "count", "upper"][..]), word()).prop_map(|(f, w)| {
        Operand::Call(
            f.to_string(),
            vec![Operand::Word(w, Span::default())],
            Span::default(),
        )
    });
    let atom = prop_oneof![6 => leaf, 1 => sliced, 1 => call];
    (atom.clone(), prop::option::of(atom)).prop_map(|(a, m)| match m {
        Some(m) => Operand::BitAnd(Box::new(a), Box::new(m), Span::default()),
        None => a,
    })
}

fn test_expr() -> impl Strategy<Value = Expr> {
    let op = prop::sample::select(
        &[
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::AllEq,
            CmpOp::AnyNe,
            CmpOp::Gt,
            CmpOp::Ge,
            CmpOp::Lt,
            CmpOp::Le,
        ][..],
    );
    let quant = prop::option::of(prop::sample::select(&[Quant::Any, Quant::All][..]));
    let item = prop_oneof![
        operand().prop_map(SetItem::One),
        (operand(), operand()).prop_map(|(a, b)| SetItem::Range(a, b))
    ];
    prop_oneof![
        operand().prop_map(Expr::Test),
        (quant, op, operand(), operand()).prop_map(|(quant, op, lhs, rhs)| Expr::Compare {
            quant,
            op,
            lhs,
            rhs,
            op_span: Span::default()
        }),
        (operand(), operand()).prop_map(|(lhs, rhs)| Expr::Contains {
            lhs,
            rhs,
            op_span: Span::default()
        }),
        (operand(), prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(lhs, p)| Expr::Matches {
            lhs,
            rhs: Operand::Str(p, Span::default()),
            op_span: Span::default()
        }),
        (operand(), any::<bool>(), prop::collection::vec(item, 1..4)).prop_map(
            |(lhs, negated, items)| Expr::In {
                lhs,
                negated,
                items,
                op_span: Span::default()
            }
        ),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    test_expr().prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

const TOKENS: &[&str] = &[
    "tcp", "ip.addr", "tcp.port", "80", "10.0.0.1", "==", "!=", "===", "!==", "~=", ">", "<=",
    "eq", "and", "or", "not", "&&", "||", "!", "(", ")", "{", "}", ",", "..", "in", "contains",
    "matches", "~", "&", "any", "all", "\"x\"", "r\"\\d\"", "'a'", "[0:2]", "len(", "xor", "=",
    "-", "+", "#", "\"", "'",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(s in ".{0,80}") {
        let _ = Filter::compile(&s);
    }

    #[test]
    fn never_panics_on_filter_like_bytes(s in "[ -~·]{0,60}") {
        let _ = Filter::compile(&s);
    }

    #[test]
    fn token_soup_parses_or_fails_cleanly(toks in prop::collection::vec(prop::sample::select(TOKENS), 0..14)) {
        let text = toks.join(" ");
        if let Ok(Some(e)) = parse(&text) {
            let printed = e.to_string();
            let again = parse(&printed).unwrap_or_else(|err| panic!("{text} -> {printed}: {err}")).unwrap();
            prop_assert_eq!(again, e);
        }
        let _ = Filter::compile(&text);
    }

    #[test]
    fn printing_and_reparsing_gives_the_same_tree(e in expr()) {
        let printed = e.to_string();
        let again = parse(&printed).unwrap_or_else(|err| panic!("{printed}: {err}")).unwrap();
        prop_assert_eq!(&again, &e, "printed as {}", printed);
        prop_assert_eq!(again.to_string(), printed);
    }
}

// ---------------------------------------------------------------- reassembly-aware protocols

/// A client/server conversation: handshake, then segments with consistent sequence numbers.
struct Conv {
    cport: u16,
    sport: u16,
    cseq: u32,
    sseq: u32,
    frames: Vec<Vec<u8>>,
}

impl Conv {
    fn new(cport: u16, sport: u16) -> Conv {
        let mut c = Conv {
            cport,
            sport,
            cseq: 1000,
            sseq: 5000,
            frames: Vec::new(),
        };
        c.frames
            .push(v4tcp(C, S, tcp(cport, sport, 1000, 0, 0x02, MSS, &[])));
        c.frames
            .push(v4tcp(S, C, tcp(sport, cport, 5000, 1001, 0x12, MSS, &[])));
        c.cseq = 1001;
        c.sseq = 5001;
        c.frames.push(v4tcp(
            C,
            S,
            tcp(cport, sport, c.cseq, c.sseq, 0x10, &[], &[]),
        ));
        c
    }
    fn client(&mut self, data: &[u8]) -> &mut Conv {
        self.frames.push(v4tcp(
            C,
            S,
            tcp(
                self.cport,
                self.sport,
                self.cseq,
                self.sseq,
                0x18,
                &[],
                data,
            ),
        ));
        self.cseq += data.len() as u32;
        self
    }
    fn server(&mut self, data: &[u8]) -> &mut Conv {
        self.frames.push(v4tcp(
            S,
            C,
            tcp(
                self.sport,
                self.cport,
                self.sseq,
                self.cseq,
                0x18,
                &[],
                data,
            ),
        ));
        self.sseq += data.len() as u32;
        self
    }
    fn server_fin(&mut self) -> &mut Conv {
        self.frames.push(v4tcp(
            S,
            C,
            tcp(self.sport, self.cport, self.sseq, self.cseq, 0x11, &[], &[]),
        ));
        self.sseq += 1;
        self
    }
    /// The last client segment again (a retransmission).
    fn client_again(&mut self, data: &[u8]) -> &mut Conv {
        let seq = self.cseq - data.len() as u32;
        self.frames.push(v4tcp(
            C,
            S,
            tcp(self.cport, self.sport, seq, self.sseq, 0x18, &[], data),
        ));
        self
    }
}

fn stateless(filter: &str, cap: &[Packet]) -> Vec<u64> {
    let target = protocols::lookup(filter).unwrap();
    cap.iter()
        .filter(|p| {
            // The segment alone: no reassembly answer from the engine.
            let view = PacketView {
                app: None,
                diff: None,
                tls: None,
                tls_stream: None,
                ..p.view(0, 0)
            };
            protocols::detect(&view) == Some(target)
        })
        .map(|p| p.frame.number)
        .collect()
}

#[test]
fn tls_records_split_over_segments() {
    // g_tls_multi: a 3005-byte record in segments of 1200, 1200 and 605 bytes.
    let mut record = vec![0x17, 3, 3, 0x0b, 0xb8];
    record.extend(std::iter::repeat_n(0xab, 3000));
    let mut c = Conv::new(41000, 443);
    for chunk in record.chunks(1200) {
        c.client(chunk);
    }
    // Two records in one segment, the second split before its header ends.
    let mut two = vec![0x17, 3, 3, 0, 2, 1, 2, 0x17, 3];
    c.server(&two);
    two = vec![3, 0, 1, 9];
    c.server(&two);
    c.server(b"not a record");
    let cap = capture(c.frames.clone());
    assert_eq!(matching("tls", &cap), [4, 6, 7, 8, 9]);
    // Per segment, only segments that start with a record header count.
    assert_eq!(stateless("tls", &cap), [4, 7]);
}

#[test]
fn http_messages_complete_where_wireshark_shows_them() {
    let mut c = Conv::new(40000, 80);
    c.client(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"); // 4: complete request
    c.server(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n"); // 5: headers only
    c.server(b"0123456789"); // 6: completes the body
    c.client(b"POST /f HTTP/1.1\r\nContent-"); // 7: headers cut
    c.client(b"Length: 3\r\n\r\nab"); // 8: body cut
    c.client(b"c"); // 9: completes
    c.server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"); // 10
    c.server(b"0\r\n\r\n"); // 11: last chunk
    c.client(b"HEAD / HTTP/1.1\r\n\r\n"); // 12
    c.server(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"); // 13: no body after HEAD
    c.server(b"\x00\x01\x02 binary after a request"); // 14: continuation
    c.client_again(b"HEAD / HTTP/1.1\r\n\r\n"); // 15: a retransmission is never dissected
    c.server(b"HTTP/1.0 200 OK\r\n\r\nuntil close"); // 16: body runs to the FIN
    c.server_fin(); // 17
    let cap = capture(c.frames.clone());
    assert_eq!(matching("http", &cap), [4, 6, 9, 11, 12, 13, 14, 17]);
    assert_eq!(stateless("http", &cap), [4, 5, 7, 10, 12, 13, 16]);

    // No request seen: binary data is not HTTP, text waits for its first line.
    let mut c = Conv::new(40001, 80);
    c.server(b"\x9f\x01binary\n");
    c.server(b"ddddddddd");
    c.server(b"dddd\r\nmore");
    c.server(b"Server: header-like\r\n");
    let cap = capture(c.frames.clone());
    assert_eq!(matching("http", &cap), [7]);
}

#[test]
fn reevaluating_a_packet_gives_the_same_answer() {
    let mut record = vec![0x16, 3, 1, 0x01, 0x00];
    record.extend(std::iter::repeat_n(1, 256));
    let mut c = Conv::new(41000, 443);
    c.client(&record[..100]).client(&record[100..]);
    let cap = capture(c.frames.clone());
    let f = Filter::compile("tls").unwrap();
    let first: Vec<bool> = cap.iter().map(|p| f.matches(&p.view(0, 0))).collect();
    let again: Vec<bool> = cap
        .iter()
        .rev()
        .map(|p| f.matches(&p.view(0, 0)))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(first, [false, false, false, true, true]);
    assert_eq!(first, again);
}

#[test]
fn filter_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Filter>();
    shareable::<FilterError>();
}
