//! One complete handshake message, parsed into the fields tshark 4.0.17
//! shows for it (`ssl_dissect_hnd_cli_hello`, `ssl_dissect_hnd_srv_hello`,
//! `ssl_dissect_hnd_cert` of packet-tls-utils.c). Every read is bounds
//! checked: a truncated or malformed message keeps the fields read before
//! the damage, like tshark's tree does, and never panics.

/// The HelloRetryRequest random (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest".
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Handshake types tshark 4.0 names (`ssl_31_handshake_type`); any other is
/// "Encrypted Handshake Message" or skipped.
pub fn known_type(t: u8) -> bool {
    matches!(
        t,
        0..=6 | 8 | 11..=16 | 20..=25 | 67 | 254
    )
}

/// What one handshake message contributes to a frame's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HsMsg {
    /// `tls.handshake.type`.
    pub ty: u8,
    /// A ServerHello carrying the HelloRetryRequest random.
    pub hrr: bool,
    /// `tls.handshake.version` (Client/ServerHello).
    pub version: Option<u16>,
    pub random: Option<[u8; 32]>,
    pub session_id_len: Option<u8>,
    /// `tls.handshake.ciphersuite`: the ClientHello's list or the ServerHello's choice.
    pub ciphers: Vec<u16>,
    /// `tls.handshake.extension.type`, in wire order.
    pub ext_types: Vec<u16>,
    pub sni: Vec<String>,
    pub alpn: Vec<String>,
    /// `tls.handshake.extensions.supported_version`.
    pub supported_versions: Vec<u16>,
    /// Signature algorithms of extension 13, in wire order (for JA4).
    pub sig_algs: Vec<u16>,
    /// The raw first ALPN protocol (for JA4).
    pub alpn_first: Option<Vec<u8>>,
    /// `tls.handshake.certificate_length`, per certificate.
    pub cert_lengths: Vec<u32>,
    /// `tls.handshake.ja4` and `tls.handshake.ja4_r` (ClientHello).
    pub ja4: Option<(String, String)>,
}

/// A bounds-checked reader over a message body.
struct Rd<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Rd<'a> {
    fn new(b: &'a [u8]) -> Rd<'a> {
        Rd { b, pos: 0 }
    }
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let s = self.take(2)?;
        Some(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u24(&mut self) -> Option<u32> {
        let s = self.take(3)?;
        Some(u32::from_be_bytes([0, s[0], s[1], s[2]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    /// Up to `n` bytes (fewer when the message ends first).
    fn take_upto(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos.saturating_add(n).min(self.b.len());
        let s = &self.b[self.pos..end];
        self.pos = end;
        s
    }
    fn rest(&self) -> usize {
        self.b.len() - self.pos
    }
}

fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// Parse a complete message (`body` without its 4-byte header).
/// `tls13`: the session's version is TLS 1.3 (Certificate has a request
/// context); `draft_lt22`: a TLS 1.3 draft before -22 (ServerHello without session ID).
pub fn parse(ty: u8, body: &[u8], tls13: bool, draft_lt22: bool) -> HsMsg {
    let mut m = HsMsg {
        ty,
        ..HsMsg::default()
    };
    match ty {
        1 => {
            client_hello(&mut m, body);
            if !m.ciphers.is_empty() || m.version.is_some() {
                m.ja4 = Some(super::ja4::ja4(&m));
            }
        }
        2 => {
            server_hello(&mut m, body, draft_lt22);
        }
        11 => {
            certificate(&mut m, body, tls13);
        }
        _ => {}
    }
    m
}

fn hello_common(m: &mut HsMsg, r: &mut Rd<'_>, session_id: bool) -> Option<()> {
    m.version = Some(r.u16()?);
    let random = r.take(32)?;
    let mut a = [0u8; 32];
    a.copy_from_slice(random);
    m.random = Some(a);
    if session_id {
        let n = r.u8()?;
        m.session_id_len = Some(n);
        r.take(n as usize)?;
    }
    Some(())
}

fn client_hello(m: &mut HsMsg, b: &[u8]) -> Option<()> {
    let mut r = Rd::new(b);
    hello_common(m, &mut r, true)?;
    let n = r.u16()? as usize;
    m.ciphers.extend(u16s(r.take_upto(n)));
    let n = r.u8()? as usize;
    r.take(n)?;
    extensions(m, &mut r)
}

fn server_hello(m: &mut HsMsg, b: &[u8], draft_lt22: bool) -> Option<()> {
    let mut r = Rd::new(b);
    hello_common(m, &mut r, !draft_lt22)?;
    m.hrr = m.random == Some(HRR_RANDOM);
    m.ciphers.push(r.u16()?);
    if !draft_lt22 {
        r.u8()?; // compression method
    }
    extensions(m, &mut r)
}

fn extensions(m: &mut HsMsg, r: &mut Rd<'_>) -> Option<()> {
    if r.rest() < 2 {
        return None;
    }
    let n = r.u16()? as usize;
    let mut e = Rd::new(r.take_upto(n));
    while e.rest() >= 4 {
        let ty = e.u16()?;
        let len = e.u16()? as usize;
        m.ext_types.push(ty);
        let data = e.take_upto(len);
        extension(m, ty, data);
    }
    Some(())
}

fn extension(m: &mut HsMsg, ty: u16, data: &[u8]) -> Option<()> {
    let mut r = Rd::new(data);
    match ty {
        0 if m.ty == 1 => {
            // server_name_list: (type, name) entries.
            let n = r.u16()? as usize;
            let mut l = Rd::new(r.take_upto(n));
            while l.rest() >= 3 {
                let _kind = l.u8()?;
                let len = l.u16()? as usize;
                m.sni.push(latin(l.take(len)?));
            }
        }
        16 => {
            let n = r.u16()? as usize;
            let mut l = Rd::new(r.take_upto(n));
            while l.rest() >= 1 {
                let len = l.u8()? as usize;
                let p = l.take(len)?;
                if m.alpn_first.is_none() {
                    m.alpn_first = Some(p.to_vec());
                }
                m.alpn.push(latin(p));
            }
        }
        13 if m.ty == 1 => {
            let n = r.u16()? as usize;
            m.sig_algs.extend(u16s(r.take_upto(n)));
        }
        43 if m.ty == 1 => {
            let n = r.u8()? as usize;
            m.supported_versions.extend(u16s(r.take_upto(n)));
        }
        43 => m.supported_versions.push(r.u16()?),
        _ => {}
    }
    Some(())
}

/// An ENC_ASCII string as tshark 4.0 reads it: bytes above 0x7f become U+FFFD.
fn latin(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c < 0x80 { c as char } else { '\u{fffd}' })
        .collect()
}

fn certificate(m: &mut HsMsg, b: &[u8], tls13: bool) -> Option<()> {
    let mut r = Rd::new(b);
    if tls13 {
        let n = r.u8()? as usize;
        r.take(n)?;
    }
    let total = r.u24()? as usize;
    let mut l = Rd::new(r.take_upto(total));
    while l.rest() >= 3 {
        let len = l.u24()?;
        m.cert_lengths.push(len);
        l.take_upto(len as usize);
        if tls13 {
            let n = l.u16()? as usize;
            l.take_upto(n);
        }
    }
    Some(())
}

/// The server's version as `tls_scan_server_hello` finds it: supported_versions
/// when present, else the legacy version; and whether it is a HelloRetryRequest.
pub fn scan_server_hello(b: &[u8]) -> (u16, bool) {
    let mut r = Rd::new(b);
    let Some(v) = r.u16() else { return (0, false) };
    let Some(random) = r.take(32) else {
        return (v, false);
    };
    let hrr = random == HRR_RANDOM;
    let mut version = v;
    // Pre-draft-22 hellos have no session ID and no compression.
    let draft_lt22 = matches!(v >> 8, 0x7f) && (v & 0xff) < 22;
    let mut scan = || -> Option<u16> {
        if !draft_lt22 {
            let n = r.u8()? as usize;
            r.take(n)?;
        }
        r.u16()?;
        if !draft_lt22 {
            r.u8()?;
        }
        let n = r.u16()? as usize;
        let mut e = Rd::new(r.take_upto(n));
        while e.rest() >= 4 {
            let ty = e.u16()?;
            let len = e.u16()? as usize;
            let data = e.take_upto(len);
            if ty == 43 && data.len() == 2 {
                return Some(u16::from_be_bytes([data[0], data[1]]));
            }
        }
        None
    };
    if let Some(sv) = scan() {
        version = sv;
    }
    (version, hrr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_hellos_keep_what_was_read() {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&[0, 4, 0x13, 1, 0x13, 2]);
        let m = parse(1, &b, false, false);
        assert_eq!(m.version, Some(0x0303));
        assert_eq!(m.session_id_len, Some(0));
        assert_eq!(m.ciphers, vec![0x1301, 0x1302]);
        for cut in 0..b.len() {
            let _ = parse(1, &b[..cut], false, false);
            let _ = parse(2, &b[..cut], false, false);
            let _ = parse(11, &b[..cut], true, false);
        }
    }

    #[test]
    fn latin_escapes_non_ascii() {
        assert_eq!(latin(b"h2"), "h2");
        assert_eq!(latin(&[0xba, 0xad]), "\u{fffd}\u{fffd}");
    }
}
