//! Hand-annotated frames for every link type, one test per truncation point,
//! and property tests feeding arbitrary and mutated bytes to the decoder.

use super::*;
use proptest::prelude::*;

/// IPv4 (20) + TCP SYN (20, no options): 10.0.0.1:40000 -> 10.0.0.2:80, seq 1000.
fn ipv4_syn() -> Vec<u8> {
    let mut v = vec![
        0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
        0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0,
        0, // TCP
    ];
    v.truncate(40);
    v
}

/// IPv6 (40) + the same TCP header.
fn ipv6_syn() -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
    v.extend_from_slice(&[0u8; 15]);
    v.push(1); // ::1
    v.extend_from_slice(&[0u8; 15]);
    v.push(2); // ::2
    v.extend_from_slice(&ipv4_syn()[20..]);
    v
}

fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn dec(link: LinkType, b: &[u8]) -> Frame {
    decode(link, 1, 0, b.len() as u32, b)
}

fn assert_syn(f: &Frame) {
    let t = f.tcp.expect("tcp");
    assert_eq!(
        (t.src_port, t.dst_port, t.seq, t.flags),
        (40000, 80, 1000, tcp::flags::SYN)
    );
    assert_eq!(t.seg_len, Some(0));
    assert_eq!(f.problem, None, "{f:?}");
}

#[test]
fn ethernet_ipv4() {
    let f = dec(LinkType::Ethernet, &ether(0x0800, &ipv4_syn()));
    assert_syn(&f);
    assert!(f.has(proto::ETH) && f.has(proto::IP) && f.has(proto::TCP));
    assert_eq!(f.ip.unwrap().src, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(f.eth_src, Some([2, 0, 0, 0, 0, 1]));
}

#[test]
fn ethernet_ipv6() {
    let f = dec(LinkType::Ethernet, &ether(0x86dd, &ipv6_syn()));
    assert_syn(&f);
    assert!(f.has(proto::IPV6));
    assert_eq!(f.ip.unwrap().dst, "::2".parse::<IpAddr>().unwrap());
}

#[test]
fn vlan_and_qinq() {
    let mut tagged = vec![0x00, 0x64, 0x08, 0x00]; // VLAN 100, then IPv4
    tagged.extend_from_slice(&ipv4_syn());
    let f = dec(LinkType::Ethernet, &ether(0x8100, &tagged));
    assert_syn(&f);
    assert_eq!((f.vlan_count, f.vlan_tci[0] & 0xfff), (1, 100));
    let mut qinq = vec![0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00]; // 802.1ad 10, 802.1Q 20
    qinq.extend_from_slice(&ipv4_syn());
    let f = dec(LinkType::Ethernet, &ether(0x88a8, &qinq));
    assert_syn(&f);
    assert_eq!(
        f.vlan_tci[..f.vlan_count as usize]
            .iter()
            .map(|t| t & 0xfff)
            .collect::<Vec<_>>(),
        [10, 20]
    );
}

/// Each encapsulation Wireshark and Zeek decode by default reaches the TCP
/// header, and `frame.protocols` names the layers as tshark 4.0.17 does.
#[test]
fn encapsulations_reach_tcp() {
    let ip = ipv4_syn();
    let mac = [2u8, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 4];
    let cat = |parts: &[&[u8]]| parts.concat();
    let pppoe = cat(&[
        &[0x11, 0, 0, 1],
        &(ip.len() as u16 + 2).to_be_bytes(),
        &[0, 0x21],
        &ip,
    ]);
    let cases: Vec<(&str, u16, Vec<u8>)> = vec![
        (
            "eth:ethertype:mpls:ip:tcp",
            0x8847,
            cat(&[&[0, 1, 1, 64], &ip]),
        ),
        (
            "eth:ethertype:mpls:ip:tcp",
            0x8847,
            cat(&[&[0, 1, 0, 64, 0, 2, 1, 64], &ip]),
        ),
        (
            "eth:ethertype:vlan:ethertype:mpls:ip:tcp",
            0x8100,
            cat(&[&[0, 5, 0x88, 0x47, 0, 1, 1, 64], &ip]),
        ),
        ("eth:ethertype:pppoes:ppp:ip:tcp", 0x8864, pppoe.clone()),
        (
            "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:pppoes:ppp:ip:tcp",
            0x88a8,
            cat(&[&[0, 5, 0x81, 0, 0, 6, 0x88, 0x64], &pppoe]),
        ),
        (
            "eth:ethertype:ieee8021ah:ethertype:ip:tcp",
            0x88e7,
            cat(&[&[0, 0, 1, 0], &mac, &[8, 0], &ip]),
        ),
        (
            "eth:ethertype:ieee8021ad:ethertype:ip:tcp",
            0x88a8,
            cat(&[&[0, 5, 0x88, 0xe7, 0, 0, 1, 0], &mac, &[8, 0], &ip]),
        ),
        (
            "eth:ethertype:vntag:ethertype:ip:tcp",
            0x8926,
            cat(&[&[0, 1, 0, 2, 8, 0], &ip]),
        ),
        (
            "eth:cfp:eth:ethertype:ip:tcp",
            0x8903,
            cat(&[&[0, 0], &mac, &[8, 0], &ip]),
        ),
        (
            "eth:ethertype:mpls:pwethheuristic:pwethcw:eth:ethertype:ip:tcp",
            0x8847,
            cat(&[&[0, 1, 1, 64, 0, 0, 0, 0], &mac, &[8, 0], &ip]),
        ),
    ];
    for (want, et, payload) in cases {
        let f = dec(LinkType::Ethernet, &ether(et, &payload));
        assert_syn(&f);
        assert_eq!(crate::fields::info::protocols(&f), want);
    }
}

#[test]
fn encapsulation_truncation_points() {
    for (et, payload, reason) in [
        (0x8847u16, vec![0, 1, 0, 64], "MPLS label truncated"),
        (0x8864, vec![0x11, 0, 0, 1, 0, 2], "PPPoE header truncated"),
        (0x88e7, vec![0, 0, 1, 0, 2, 0], "802.1ah header truncated"),
        (0x8926, vec![0, 1, 0], "VN-Tag truncated"),
        (0x8903, vec![0, 0, 2], "FabricPath header truncated"),
    ] {
        let f = dec(LinkType::Ethernet, &ether(et, &payload));
        assert_eq!((f.tcp, f.problem), (None, Some(reason)));
    }
}

#[test]
fn linux_cooked_v1_and_v2() {
    let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ipv4_syn());
    let f = dec(LinkType::LinuxSll, &sll);
    assert_syn(&f);
    assert!(f.has(proto::SLL));
    let mut sll2 = vec![
        0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    sll2.extend_from_slice(&ipv6_syn());
    let f = dec(LinkType::LinuxSll2, &sll2);
    assert_syn(&f);
    assert!(f.has(proto::SLL) && f.has(proto::IPV6));
}

#[test]
fn bsd_loopback_either_byte_order() {
    for family in [[2, 0, 0, 0], [0, 0, 0, 2], [30, 0, 0, 0], [24, 0, 0, 0]] {
        let mut b = family.to_vec();
        b.extend(if family.contains(&2) {
            ipv4_syn()
        } else {
            ipv6_syn()
        });
        let f = dec(LinkType::Null, &b);
        assert_syn(&f);
    }
    let mut b = vec![0, 0, 0, 2];
    b.extend_from_slice(&ipv4_syn());
    assert_syn(&dec(LinkType::Loop, &b));
    let f = dec(LinkType::Null, &[99, 0, 0, 0, 1, 2, 3]);
    assert_eq!(f.problem, Some("unknown loopback address family"));
}

#[test]
fn raw_ip_link_types() {
    assert_syn(&dec(LinkType::Raw, &ipv4_syn()));
    assert_syn(&dec(LinkType::Raw, &ipv6_syn()));
    assert_syn(&dec(LinkType::Ipv4, &ipv4_syn()));
    assert_syn(&dec(LinkType::Ipv6, &ipv6_syn()));
    assert_eq!(LinkType::from_linktype(12), LinkType::Raw);
    assert_eq!(LinkType::from_linktype(276), LinkType::LinuxSll2);
}

#[test]
fn every_truncation_point_is_kept_and_explained() {
    let full = ether(0x0800, &ipv4_syn());
    for cut in 0..full.len() {
        let f = decode(LinkType::Ethernet, 1, 0, full.len() as u32, &full[..cut]);
        match cut {
            0..=13 => assert_eq!(f.problem, Some("Ethernet header truncated"), "cut {cut}"),
            14..=33 => assert!(f.ip.is_none() && f.problem.is_some(), "cut {cut}: {f:?}"),
            34..=37 => assert!(f.tcp.is_none() && f.problem.is_some(), "cut {cut}: {f:?}"),
            38..=49 => {
                // Ports but not the fixed header: Wireshark gives no stream.
                let t = f.tcp.unwrap();
                assert!(!t.has_fixed, "cut {cut}");
                assert_eq!(f.problem, Some(TcpProblem::Short.reason()));
            }
            _ => {
                // The fixed part is there; the length comes from the IP header, not the capture.
                let t = f.tcp.unwrap();
                assert!(t.has_fixed && t.seg_len == Some(0), "cut {cut}");
                assert!(f.truncated, "cut {cut}");
            }
        }
    }
}

#[test]
fn tcp_length_comes_from_ip_header_not_padding() {
    // A pure ACK padded to 60 bytes by Ethernet: tcp.len stays 0.
    let mut b = ether(0x0800, &ipv4_syn());
    b.resize(60, 0);
    let f = dec(LinkType::Ethernet, &b);
    assert_eq!(f.tcp.unwrap().seg_len, Some(0));
    assert!(!f.truncated);
}

#[test]
fn ip_length_is_capped_by_the_wire_length() {
    // IP claims 1500 bytes; the frame on the wire is shorter (zeek-tcp-reassembly frame 7).
    let mut ip = ipv4_syn();
    ip[2..4].copy_from_slice(&1500u16.to_be_bytes());
    let b = ether(0x0800, &ip);
    let f = decode(LinkType::Ethernet, 1, 0, 1000, &b);
    assert_eq!(f.tcp.unwrap().seg_len, Some(1000 - 14 - 20 - 20));
}

#[test]
fn icmp_error_quoting_tcp() {
    let inner = ipv4_syn();
    let mut icmp = vec![3, 1, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&inner);
    let total = 20 + icmp.len();
    let mut outer = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        2,
        0,
        0,
        64,
        1,
        0,
        0,
        192,
        168,
        1,
        1,
        10,
        0,
        0,
        1,
    ];
    outer.extend_from_slice(&icmp);
    let f = dec(LinkType::Ethernet, &ether(0x0800, &outer));
    let t = f.tcp.unwrap();
    assert!(t.quoted && t.seg_len.is_none());
    assert_eq!(f.icmp.unwrap().icmp_type, 3);
    assert_eq!(
        f.tcp_ip().unwrap().src,
        "10.0.0.1".parse::<IpAddr>().unwrap()
    );
    assert_eq!(f.ip.unwrap().src, "192.168.1.1".parse::<IpAddr>().unwrap());
}

#[test]
fn fragments_are_marked_not_decoded() {
    let mut ip = ipv4_syn();
    ip[6] = 0x20; // more fragments
    let f = dec(LinkType::Ethernet, &ether(0x0800, &ip));
    assert!(f.tcp.is_none());
    assert!(f.ip.unwrap().is_fragment());
    assert_eq!(f.problem, Some("IP fragment (not reassembled)"));
}

#[test]
fn udp_and_arp() {
    let mut udp = vec![
        0x45, 0, 0, 30, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    udp.extend_from_slice(&[0x14, 0xe9, 0, 53, 0, 10, 0, 0, 0xab, 0xcd]);
    let f = dec(LinkType::Ethernet, &ether(0x0800, &udp));
    assert_eq!(f.udp.unwrap().dst_port, 53);
    assert_eq!(f.payload(&ether(0x0800, &udp)), &[0xab, 0xcd]);
    let arp = [
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    ];
    let f = dec(LinkType::Ethernet, &ether(0x0806, &arp));
    let a = f.arp.unwrap();
    assert_eq!((a.opcode, a.target_ip), (1, Ipv4Addr::new(10, 0, 0, 2)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(link in 0i32..300, bytes in proptest::collection::vec(any::<u8>(), 0..200), wire in 0u32..70000) {
        let f = decode(LinkType::from_linktype(link), 1, 0, wire, &bytes);
        // Offsets stay inside the captured bytes.
        prop_assert!(f.payload(&bytes).len() <= bytes.len());
        let _ = crate::fields::info::protocols(&f);
    }

    #[test]
    fn mutated_real_frames_never_panic(pos in 0usize..74, val: u8, cut in 0usize..75, v6: bool) {
        let mut b = ether(if v6 { 0x86dd } else { 0x0800 }, &if v6 { ipv6_syn() } else { ipv4_syn() });
        let pos = pos % b.len();
        b[pos] = val;
        b.truncate(cut.min(b.len()));
        let f = decode(LinkType::Ethernet, 1, 0, 74, &b);
        // Whatever decodes also tracks and prints without panicking.
        let mut t = crate::track::Tracker::default();
        let tracked = t.process(&f);
        let view = crate::fields::PacketView {
            frame: &f, bytes: &b, meta: tracked.map(|x| x.0), flow: tracked.map(|x| x.1),
            first_ts: 0, prev_ts: 0,
            app: None,
            diff: None,
            tls: None,
            tls_stream: None,
        };
        let mut line = String::new();
        crate::output::text_line(&view, &mut line);
        let mut vals = Vec::new();
        for field in crate::fields::FIELDS {
            field.values(&view, &mut vals);
        }
    }
}

#[test]
fn ipv6_fragment_header_is_found_with_bounds_checks() {
    use super::v6_fragment_header;
    // Hop-by-hop (8 bytes, next = fragment), then the fragment header: offset 1448, MF, id 7.
    let ext = [44, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0x05, 0xa9, 0, 0, 0, 7];
    assert_eq!(v6_fragment_header(0, &ext), Some((1448, true, 7)));
    // A damaged chain that claims more than it has ends in None, never out of bounds.
    assert_eq!(v6_fragment_header(0, &[44, 200, 0, 0]), None);
    assert_eq!(v6_fragment_header(44, &[6, 0, 0]), None);
    assert_eq!(v6_fragment_header(6, &ext), None);
}
