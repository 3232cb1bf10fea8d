//! Encapsulations (MPLS, also in VLAN and over a pseudowire; PPPoE, also over
//! QinQ; 802.1ah; VN-Tag; Cisco FabricPath) and IPv4/IPv6 fragment
//! reassembly, against tshark 4.0.17's answers for the same crafted frames
//! (recorded below; `tests/data/*.pcap`). A fragmented SYN is reassembled on
//! the frame that completes it, as tshark does: earlier fragments are `data`.

mod common;

use common::hs_tui;
use std::path::Path;

const FIELDS: &[&str] = &[
    "frame.number",
    "frame.protocols",
    "tcp.stream",
    "tcp.flags",
    "tcp.len",
    "tcp.seq",
    "tcp.ack",
    "tcp.completeness",
    "tcp.analysis.flags",
];

/// tshark 4.0.17, `-T fields` with the fields above.
const TSHARK: &[(&str, &str)] = &[
    (
        "encap-tshark-decodes.pcap",
        "1\teth:ethertype:mpls:ip:tcp\t0\t0x0002\t0\t0\t0\t0\t
2\teth:ethertype:mpls:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
3\teth:ethertype:vlan:ethertype:mpls:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
4\teth:ethertype:pppoes:ppp:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
5\teth:ethertype:ieee8021ad:ethertype:vlan:ethertype:pppoes:ppp:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
6\teth:ethertype:ieee8021ad:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
7\teth:ethertype:vntag:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
8\teth:cfp:eth:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
",
    ),
    (
        "encap-more.pcap",
        "1\teth:ethertype:ieee8021ah:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t0\t
2\teth:ethertype:ieee8021ad:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
3\teth:ethertype:vlan:ethertype:vlan:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
4\teth:ethertype:mpls:pwethheuristic:pwethcw:eth:ethertype:ip:tcp\t0\t0x0002\t0\t0\t0\t1\t1
5\teth:ethertype:pppoes:ppp:ip:tcp\t\t\t\t\t\t\t
",
    ),
    (
        "ipv4-fragments.pcap",
        "1\teth:ethertype:ip:data\t\t\t\t\t\t\t
2\teth:ethertype:ip:tcp\t0\t0x0002\t40\t0\t0\t0\t
3\teth:ethertype:ip:tcp\t0\t0x0012\t0\t0\t41\t9\t
4\teth:ethertype:ip:data\t\t\t\t\t\t\t
5\teth:ethertype:ip:tcp\t0\t0x0018\t100\t41\t1\t11\t
6\teth:ethertype:ip:tcp\t0\t0x0011\t0\t141\t1\t11\t
",
    ),
    (
        "ipv6-fragments.pcap",
        "1\teth:ethertype:ipv6:ipv6.fraghdr:data\t\t\t\t\t\t\t
2\teth:ethertype:ipv6:ipv6.fraghdr:tcp\t0\t0x0002\t40\t0\t0\t0\t
3\teth:ethertype:ipv6:tcp\t0\t0x0012\t0\t0\t41\t9\t
",
    ),
];

#[test]
fn decodes_what_tshark_decodes() {
    for (file, want) in TSHARK {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(file);
        let mut args = vec![
            "-r".to_string(),
            path.display().to_string(),
            "-T".into(),
            "fields".into(),
        ];
        for f in FIELDS {
            args.extend(["-e".to_string(), f.to_string()]);
        }
        let out = hs_tui(&args);
        assert_eq!(out.code, Some(0), "{file}: {}", out.stderr);
        for (n, (got, exp)) in out.stdout.lines().zip(want.lines()).enumerate() {
            assert_eq!(got, exp, "{file} frame {}", n + 1);
        }
        assert_eq!(out.stdout.lines().count(), want.lines().count(), "{file}");
    }
}

#[test]
fn a_fragmented_syn_is_a_connection_in_conn_log() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ipv4-fragments.pcap");
    let out = hs_tui(&["-r", &path.display().to_string(), "-q", "-z", "conn,zeek"]);
    let row: Vec<&str> = out
        .stdout
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("one row")
        .split('\t')
        .collect();
    // SYN with 40 data bytes (Zeek marks data on a SYN as a retransmission: T),
    // reassembled datagrams counted whole: 80 + 140 + 40 IP bytes.
    assert_eq!(
        (row[3], row[5], row[15], row[16], row[17]),
        ("1234", "80", "SThDF", "3", "260")
    );
}
