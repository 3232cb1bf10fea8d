//! JA4 TLS client fingerprints (`tls.handshake.ja4`, `tls.handshake.ja4_r`)
//! of a ClientHello over TCP, as FoxIO's reference implementation computes
//! them (BSD-3-Clause; see tests/conformance/ja4/README.md for the rules).

use super::hello::HsMsg;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        _ => "00",
    }
}

/// First 12 hex digits of SHA-256 of the text; `000000000000` for an empty list.
fn hash12(text: &str) -> String {
    if text.is_empty() {
        return "000000000000".into();
    }
    let d = Sha256::digest(text.as_bytes());
    let mut s = String::with_capacity(12);
    for b in &d[..6] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn hex_list(v: &[u16]) -> String {
    let mut s = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x:04x}");
    }
    s
}

/// The two ALPN characters: first and last of the first protocol, `00` without
/// ALPN, `99` when either is not alphanumeric ASCII (FoxIO's implementations).
fn alpn_chars(p: Option<&[u8]>) -> String {
    let Some(p) = p.filter(|p| !p.is_empty()) else {
        return "00".into();
    };
    let (a, b) = (p[0], p[p.len() - 1]);
    if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() {
        format!("{}{}", a as char, b as char)
    } else {
        "99".into()
    }
}

/// (`ja4`, `ja4_r`) of a parsed ClientHello.
pub fn ja4(m: &HsMsg) -> (String, String) {
    let version = m
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !grease(v))
        .max()
        .or(m.version)
        .unwrap_or(0);
    let sni = if m.ext_types.contains(&0) { 'd' } else { 'i' };
    let mut ciphers: Vec<u16> = m.ciphers.iter().copied().filter(|&c| !grease(c)).collect();
    let exts: Vec<u16> = m
        .ext_types
        .iter()
        .copied()
        .filter(|&e| !grease(e))
        .collect();
    let a = format!(
        "t{}{}{:02}{:02}{}",
        version_code(version),
        sni,
        ciphers.len().min(99),
        exts.len().min(99),
        alpn_chars(m.alpn_first.as_deref())
    );
    ciphers.sort_unstable();
    let mut sorted: Vec<u16> = exts.into_iter().filter(|&e| e != 0 && e != 0x10).collect();
    sorted.sort_unstable();
    let cipher_text = hex_list(&ciphers);
    let mut ext_text = hex_list(&sorted);
    if !m.sig_algs.is_empty() {
        ext_text.push('_');
        ext_text.push_str(&hex_list(&m.sig_algs));
    }
    let ja4 = format!("{a}_{}_{}", hash12(&cipher_text), hash12(&ext_text));
    let ja4_r = format!("{a}_{cipher_text}_{ext_text}");
    (ja4, ja4_r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        assert!(grease(0x0a0a) && grease(0xfafa) && !grease(0x0a1a) && !grease(0x1301));
        assert_eq!(hash12(""), "000000000000");
        assert_eq!(alpn_chars(Some(b"h2")), "h2");
        assert_eq!(alpn_chars(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_chars(Some(&[0xba, 0xad])), "99");
        assert_eq!(alpn_chars(None), "00");
        let m = HsMsg {
            ty: 1,
            version: Some(0x0301),
            ciphers: vec![0x002f, 0x0a0a],
            ext_types: vec![0],
            ..HsMsg::default()
        };
        let (j, r) = ja4(&m);
        assert!(j.starts_with("t10d010100_"), "{j}");
        assert_eq!(r, "t10d010100_002f_");
        assert!(j.ends_with("_000000000000"));
    }
}
