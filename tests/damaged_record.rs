//! A record whose captured length is larger than its original length (a damaged
//! record header): tshark decodes every captured byte and takes `tcp.len` from
//! `ip.len`; the analysis of the packets that follow depends on it.

mod common;

use common::{hs_tui, require_tool, tshark_cmd};
use std::process::Command;

/// Ethernet + IPv4 + TCP, 10.0.0.1:40000 <-> 10.0.0.2:80, `ip.len` covering the payload.
fn segment(from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_client {
        ([10, 0, 0, 1], [10, 0, 0, 2], 40000u16, 80u16)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
    };
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let ip_len = (40 + payload.len()) as u16;
    v.extend_from_slice(&[0x45, 0]);
    v.extend_from_slice(&ip_len.to_be_bytes());
    v.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ack.to_be_bytes());
    v.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    v.extend_from_slice(payload);
    v
}

/// A classic pcap; each record is (time in ms, original length or None for the
/// captured length, bytes).
fn pcap(records: &[(u32, Option<u32>, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0xa1b2c3d4u32, 0x0004_0002, 0, 0, 262144, 1] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    for (ms, len, bytes) in records {
        v.extend_from_slice(&(1_700_000_000u32 + ms / 1000).to_le_bytes());
        v.extend_from_slice(&((ms % 1000) * 1000).to_le_bytes());
        v.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        v.extend_from_slice(&len.unwrap_or(bytes.len() as u32).to_le_bytes());
        v.extend_from_slice(bytes);
    }
    v
}

const FIELDS: &[&str] = &[
    "frame.number",
    "frame.len",
    "frame.cap_len",
    "tcp.len",
    "tcp.nxtseq",
    "tcp.analysis.lost_segment",
    "tcp.analysis.ack_lost_segment",
    "tcp.analysis.acks_frame",
    "tcp.analysis.ack_rtt",
    "tcp.analysis.bytes_in_flight",
];

#[test]
fn captured_length_over_original_length_decodes_every_captured_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caplen-over-len.pcap");
    // Frame 4 carries 79 payload bytes (ip.len 119, 133 bytes captured) but its record
    // says 123 bytes were on the wire: 69 bytes of payload if the frame were cut there.
    let records = vec![
        (0, None, segment(true, 1000, 0, 0x02, &[])),
        (10, None, segment(false, 5000, 1001, 0x12, &[])),
        (20, None, segment(true, 1001, 5001, 0x10, &[])),
        (30, Some(123), segment(true, 1001, 5001, 0x18, &[b'a'; 79])),
        (40, None, segment(true, 1080, 5001, 0x18, &[b'b'; 10])),
        (55, None, segment(false, 5001, 1090, 0x10, &[])),
    ];
    std::fs::write(&path, pcap(&records)).unwrap();
    let p = path.to_str().unwrap();
    let mut args = vec!["-n", "-r", p, "-T", "fields", "-E", "header=y"];
    for f in FIELDS {
        args.extend(["-e", f]);
    }
    let ours = hs_tui(&args);
    assert_eq!(ours.code, Some(0), "{}", ours.stderr);
    let lines: Vec<&str> = ours.stdout.lines().collect();
    // tshark 4.0.17's answers: tcp.len from ip.len, no lost segment after it, frame 6
    // acknowledges frame 5 with 89 bytes in flight.
    assert_eq!(
        lines[4], "4\t123\t133\t79\t80\t\t\t\t\t79",
        "{}",
        ours.stdout
    );
    assert_eq!(lines[5], "5\t64\t64\t10\t90\t\t\t\t\t89", "{}", ours.stdout);
    assert_eq!(
        lines[6], "6\t54\t54\t0\t1\t\t\t5\t0.015000000\t",
        "{}",
        ours.stdout
    );
    // The damaged record is marked.
    let marked = hs_tui(&["-r", p, "-T", "fields", "-e", "frame.malformed"]);
    assert_eq!(
        marked.stdout.lines().nth(3),
        Some("captured length larger than original length")
    );
    assert_eq!(marked.stdout.lines().filter(|l| !l.is_empty()).count(), 1);

    if !require_tool(
        "tshark",
        "captured_length_over_original_length_decodes_every_captured_byte",
    ) {
        return;
    }
    let theirs = tshark_cmd(Command::new("tshark").args(&args).env("LC_ALL", "C"));
    assert_eq!(ours.stdout, theirs);
}

/// A pcapng interface in whole seconds (`if_tsresol` 0) with a 64-bit timestamp near
/// the top: the seconds overflowed nanoseconds and the capture thread panicked (found
/// by tests/fuzz_capture.rs). Now it is read like any frame.
#[test]
fn a_huge_pcapng_timestamp_is_read_without_panic() {
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut v = kind.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&len.to_le_bytes());
        v
    }
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&[0xff; 8]);
    // Ethernet, snaplen 0, if_tsresol = 10^0, end of options.
    let idb = [1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let frame = segment(true, 1000, 0, 0x02, &[]);
    let mut epb = Vec::new();
    for x in [
        0u32,
        0x7fff_ffff,
        0xffff_ffff,
        frame.len() as u32,
        frame.len() as u32,
    ] {
        epb.extend_from_slice(&x.to_le_bytes());
    }
    epb.extend_from_slice(&frame);
    while epb.len() % 4 != 0 {
        epb.push(0);
    }
    let mut file = block(0x0a0d_0d0a, &shb);
    file.extend(block(1, &idb));
    file.extend(block(6, &epb));
    file.extend(block(6, &epb));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-ts.pcapng");
    std::fs::write(&path, file).unwrap();
    let out = hs_tui(&[
        "-r",
        path.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "tcp.srcport",
    ]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "40000\n40000\n"),
        "{}",
        out.stderr
    );
}
