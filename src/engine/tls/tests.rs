use super::*;

fn frame_of(s: &mut Stream, payload: &[u8], frame: u64) -> TlsFrame {
    let mut out = TlsFrame::default();
    segment(s, 0, payload, 0, frame, &mut out);
    out
}

fn record_bytes(ct: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct];
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn client_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[9; 32]);
    b.push(0); // session id
    b.extend_from_slice(&[0, 4, 0x13, 0x01, 0x0a, 0x0a]);
    b.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    // SNI "a.b"
    ext.extend_from_slice(&[0, 0, 0, 8, 0, 6, 0, 0, 3]);
    ext.extend_from_slice(b"a.b");
    // ALPN h2
    ext.extend_from_slice(&[0, 16, 0, 5, 0, 3, 2]);
    ext.extend_from_slice(b"h2");
    // supported_versions 0x0304 0x0303
    ext.extend_from_slice(&[0, 43, 0, 5, 4, 3, 4, 3, 3]);
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    let mut m = vec![1];
    m.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(&b);
    m
}

#[test]
fn client_hello_in_one_record() {
    let mut s = Stream::new(Mode::Tls);
    let out = frame_of(&mut s, &record_bytes(22, 0x0301, &client_hello()), 1);
    assert!(out.handshake);
    assert_eq!(out.records.len(), 1);
    let m = &out.msgs[0];
    assert_eq!(m.ty, 1);
    assert_eq!(m.sni, vec!["a.b".to_string()]);
    assert_eq!(m.alpn, vec!["h2".to_string()]);
    assert_eq!(m.ciphers, vec![0x1301, 0x0a0a]);
    assert_eq!(m.supported_versions, vec![0x0304, 0x0303]);
    assert_eq!(m.ext_types, vec![0, 16, 43]);
    assert!(m.ja4.as_ref().unwrap().0.starts_with("t13d0103h2_"));
}

#[test]
fn record_split_over_three_segments_is_reported_on_the_last() {
    let mut s = Stream::new(Mode::Tls);
    let rec = record_bytes(22, 0x0301, &client_hello());
    let (a, rest) = rec.split_at(3);
    let (b, c) = rest.split_at(20);
    assert!(frame_of(&mut s, a, 1).is_empty());
    assert!(frame_of(&mut s, b, 2).is_empty());
    let out = frame_of(&mut s, c, 3);
    assert_eq!(out.msgs.len(), 1);
}

#[test]
fn message_split_over_records_and_encrypted_after_ccs() {
    let mut s = Stream::new(Mode::Tls);
    let ch = client_hello();
    let (a, b) = ch.split_at(10);
    let out = frame_of(&mut s, &record_bytes(22, 0x0303, a), 1);
    assert!(out.handshake && out.msgs.is_empty());
    let out = frame_of(&mut s, &record_bytes(22, 0x0303, b), 2);
    assert_eq!(out.msgs.len(), 1);
    // CCS, then a handshake record in a later frame: encrypted.
    let out = frame_of(&mut s, &record_bytes(20, 0x0303, &[1]), 3);
    assert_eq!(out.records[0].content_type, Some(20));
    let out = frame_of(
        &mut s,
        &record_bytes(
            22,
            0x0303,
            &[0x14, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        ),
        4,
    );
    assert!(out.handshake && out.msgs.is_empty());
}

#[test]
fn sslv2_hello_has_a_type_but_no_handshake() {
    let mut s = Stream::new(Mode::Tls);
    let out = frame_of(&mut s, &[0x80, 12, 1, 3, 1, 0, 3, 0, 0, 0, 16, 0, 0, 0], 1);
    assert!(!out.handshake);
    assert_eq!(out.msgs[0].ty, 1);
    assert_eq!(out.msgs[0].version, Some(0x0301));
    assert_eq!(out.records[0].version, 0x0002);
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 1..8), tls_start in proptest::prelude::any::<bool>()) {
        let mut s = Stream::new(Mode::Tls);
        for (i, c) in chunks.iter().enumerate() {
            let mut data = c.clone();
            if tls_start && i == 0 {
                let mut r = record_bytes(22, 0x0303, &client_hello());
                r.truncate(r.len().min(c.len() + 5));
                data = r;
            }
            let mut out = TlsFrame::default();
            segment(&mut s, i % 2, &data, if i == 5 { 100 } else { 0 }, i as u64 + 1, &mut out);
            for d in &s.dirs {
                proptest::prop_assert!(d.pending.len() <= 65_540 + 300);
                proptest::prop_assert!(d.hs.as_ref().map_or(0, |h| h.len()) <= MAX_HANDSHAKE + 300);
            }
        }
        // Each message parser on its own, too.
        for c in &chunks {
            for ty in [1u8, 2, 11] {
                let _ = hello::parse(ty, c, ty == 11, false);
            }
            let _ = hello::scan_server_hello(c);
        }
    }
}
