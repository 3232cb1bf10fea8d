//! TLS on the ladder: the messages a packet carries (on its arrow) and the
//! set-up legs where each ends (in the remarks), from the engine's TLS
//! dissection and [`crate::engine::legs`].

use crate::engine::legs::{alert_name, failure, Legs};
use crate::engine::tls::{TlsFrame, TlsSummary};
use crate::track::FlowSummary;
use crate::tui::fmt;

/// Handshake message names (RFC 8446 §4, RFC 5246 §7.4).
fn msg_name(ty: u8, hrr: bool) -> &'static str {
    match ty {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 if hrr => "HelloRetryRequest",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        22 => "CertificateStatus",
        _ => "Handshake",
    }
}

/// The TLS a packet carries, shortly: `ClientHello`, `ServerHello, Certificate,
/// ServerHelloDone`, `CCS, Encrypted Handshake`, `App Data ×2`, `Alert handshake_failure`.
pub fn messages(t: &TlsFrame) -> String {
    let mut parts: Vec<String> = t
        .msgs
        .iter()
        .map(|m| msg_name(m.ty, m.hrr).to_string())
        .collect();
    let count =
        |f: &dyn Fn(&crate::engine::tls::Record) -> bool| t.records.iter().filter(|r| f(r)).count();
    if count(&|r| r.content_type == Some(20)) > 0 {
        parts.push("CCS".into());
    }
    if t.handshake && t.msgs.is_empty() {
        parts.push("Encrypted Handshake".into());
    }
    for a in &t.alerts {
        parts.push(match a {
            Some((_, d)) => format!("Alert {}", alert_name(*d)),
            None => "Alert (encrypted)".into(),
        });
    }
    let data = count(&|r| r.content_type == Some(23) || r.opaque);
    match data {
        0 => {}
        1 => parts.push("App Data".into()),
        n => parts.push(format!("App Data ×{n}")),
    }
    parts.join(", ")
}

/// The legs that end at frame `number`.
pub fn remarks(f: &FlowSummary, t: &TlsSummary, number: u64) -> Vec<String> {
    let l = Legs::of(f, Some(t));
    let x = &t.times;
    let d = |v: Option<i64>| v.map(fmt::duration).unwrap_or_else(|| "?".into());
    let mut out = Vec::new();
    if t.ch_frame == Some(number) {
        out.push(format!("ClientHello +{} after ACK", d(l.ch)));
    }
    if t.sh_frame == Some(number) {
        out.push(format!("ServerHello +{} after ClientHello", d(l.sh)));
    }
    if x.flight_frame == Some(number) && t.sh_frame != Some(number) {
        out.push(format!("server flight +{}", d(l.flight)));
    }
    let tls13 = t.version == Some(0x0304);
    let done = x.done_ts(tls13);
    let done_frame = if tls13 || x.client_fin_ts >= x.server_fin_ts {
        x.client_fin_frame
    } else {
        x.server_fin_frame
    };
    if done.is_some() && done_frame == Some(number) {
        out.push(format!("✔ TLS done +{} after ClientHello", d(l.tls)));
    }
    if x.client_data_frame == Some(number) {
        out.push("first request data".into());
    }
    if x.server_data_frame == Some(number) {
        out.push(format!(
            "first response byte: TTFB {} · total {}",
            d(l.ttfb),
            d(l.total)
        ));
    }
    if x.alert.is_some_and(|a| a.frame == number) {
        if let Some(w) = failure(f, Some(t), true) {
            out.push(format!("✘ {w}"));
        }
    }
    out
}

/// The title's set-up summary: the legs known, and a failure.
pub fn title_legs(f: &FlowSummary, t: Option<&TlsSummary>) -> String {
    let l = Legs::of(f, t);
    let mut s = String::new();
    for (name, v) in [("TLS", l.tls), ("TTFB", l.ttfb), ("set-up total", l.total)] {
        if let Some(v) = v {
            s.push_str(&format!(" · {name} {}", fmt::duration(v)));
        }
    }
    if let Some(w) = failure(f, t, true) {
        s.push_str(&format!(" · ✘ {w}"));
    }
    s
}
