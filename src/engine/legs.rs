//! A connection's set-up, leg by leg, and what went wrong with it in plain
//! words. Everything here is a pure function of per-stream state the engine
//! keeps in capture order: the tracker's [`Handshake`] (SYN, SYN-ACK, ACK,
//! first request and response byte) and the TLS dissector's [`TlsSummary`]
//! with its [`TlsTimes`]. The `hs.setup.*` and `hs.failure` fields, `-z hs`,
//! the `-q` tables and the TUI all read these functions, so they agree.
//!
//! The legs (nanoseconds; each is missing when either end was not seen):
//!
//! | leg | from | to |
//! |---|---|---|
//! | `tcp` | first SYN | the client's ACK that completes the handshake |
//! | `ch` | that ACK | the first ClientHello |
//! | `sh` | the first ClientHello | the first ServerHello that is not a HelloRetryRequest |
//! | `flight` | that ServerHello | the last record the server sent before the client's next record (its first flight: Certificate … ServerHelloDone, or CCS+Finished on resumption; in TLS 1.3 the encrypted EncryptedExtensions … Finished) |
//! | `tls` | the first ClientHello | the end of the TLS handshake: TLS 1.3 the client's Finished (its first encrypted record after the ServerHello); TLS ≤ 1.2 the later of the two Finished (each side's first handshake record after its ChangeCipherSpec) |
//! | `ttfb` | the client's first application data (TLS) or first payload byte (plain TCP) | the server's first application data / payload byte after it |
//! | `total` | first SYN | the end of `ttfb` (the first byte of the answer) |

use crate::engine::tls::{TlsFrame, TlsSummary};
use crate::track::{FlowSummary, HsState};
use std::borrow::Cow;

/// Times (ns since the epoch) and frames of the TLS events after the hellos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsTimes {
    /// Direction (0/1 as the tracker's) of the first ClientHello's sender.
    pub client_dir: Option<u8>,
    /// The server's first flight after the ServerHello: its last record so far.
    pub flight_ts: Option<i64>,
    pub flight_frame: Option<u64>,
    /// The client sent a record after the ServerHello (the server's flight is over).
    client_after_sh: bool,
    /// ChangeCipherSpec seen from the client, the server (TLS ≤ 1.2).
    ccs: [bool; 2],
    /// Each side's Finished (client, server): see the module's table.
    pub client_fin_ts: Option<i64>,
    pub server_fin_ts: Option<i64>,
    pub client_fin_frame: Option<u64>,
    pub server_fin_frame: Option<u64>,
    /// First application data from the client, and the server's first after it.
    pub client_data_ts: Option<i64>,
    pub client_data_frame: Option<u64>,
    pub server_data_ts: Option<i64>,
    pub server_data_frame: Option<u64>,
    /// The first alert: time, frame, sent by the client, (level, description) when readable.
    pub alert: Option<Alert>,
}

/// A TLS alert as the failure words report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    pub ts: i64,
    pub frame: u64,
    pub from_client: bool,
    /// (level, description); `None`: encrypted.
    pub body: Option<(u8, u8)>,
    /// Sent before the handshake was over (no application data from the client yet).
    pub in_handshake: bool,
}

impl TlsTimes {
    /// One frame's TLS records from direction `dir`, after the summary took its hellos.
    pub(crate) fn update(
        &mut self,
        s_sh_ts: Option<i64>,
        tls13: bool,
        out: &TlsFrame,
        dir: u8,
        frame: u64,
        ts: i64,
    ) {
        if out.msgs.iter().any(|m| m.ty == 1) {
            self.client_dir.get_or_insert(dir);
        }
        let Some(client) = self.client_dir else {
            return;
        };
        let from_client = dir == client;
        if let Some(&body) = out.alerts.first() {
            if self.alert.is_none() {
                self.alert = Some(Alert {
                    ts,
                    frame,
                    from_client,
                    body,
                    in_handshake: self.done_ts(tls13).is_none(),
                });
            }
        }
        if s_sh_ts.is_none() {
            return;
        }
        let side = usize::from(!from_client);
        for r in &out.records {
            if !from_client && !self.client_after_sh {
                self.flight_ts = Some(ts);
                self.flight_frame = Some(frame);
            }
            let appdata = if tls13 {
                // The first encrypted record of the client after the ServerHello is its Finished.
                if r.opaque && from_client && self.client_fin_ts.is_none() {
                    self.client_fin_ts = Some(ts);
                    self.client_fin_frame = Some(frame);
                    false
                } else {
                    r.opaque && (!from_client || self.client_fin_ts.is_some())
                }
            } else {
                match r.content_type {
                    Some(20) => {
                        self.ccs[side] = true;
                        false
                    }
                    Some(22) if self.ccs[side] => {
                        let (t, f) = if from_client {
                            (&mut self.client_fin_ts, &mut self.client_fin_frame)
                        } else {
                            (&mut self.server_fin_ts, &mut self.server_fin_frame)
                        };
                        if t.is_none() {
                            *t = Some(ts);
                            *f = Some(frame);
                        }
                        false
                    }
                    Some(23) => true,
                    _ => false,
                }
            };
            if appdata && from_client && self.client_data_ts.is_none() {
                self.client_data_ts = Some(ts);
                self.client_data_frame = Some(frame);
            } else if appdata
                && !from_client
                && self.server_data_ts.is_none()
                && self.client_data_ts.is_some_and(|c| c <= ts)
                && self.client_data_frame != Some(frame)
            {
                self.server_data_ts = Some(ts);
                self.server_data_frame = Some(frame);
            }
        }
        if from_client {
            self.client_after_sh = true;
        }
    }

    /// The end of the TLS handshake (see the module's table).
    pub fn done_ts(&self, tls13: bool) -> Option<i64> {
        if tls13 {
            self.client_fin_ts
        } else {
            Some(self.client_fin_ts?.max(self.server_fin_ts?))
        }
    }
}

/// The legs of one connection's set-up, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Legs {
    pub tcp: Option<i64>,
    pub ch: Option<i64>,
    pub sh: Option<i64>,
    pub flight: Option<i64>,
    pub tls: Option<i64>,
    pub ttfb: Option<i64>,
    pub total: Option<i64>,
}

/// Names of the legs, in order, as fields (`hs.setup.NAME`) and table headings.
pub const LEG_NAMES: [&str; 7] = ["tcp", "ch", "sh", "flight", "tls", "ttfb", "total"];

impl Legs {
    pub fn of(f: &FlowSummary, t: Option<&TlsSummary>) -> Legs {
        let h = &f.hs;
        let d = |a: Option<i64>, b: Option<i64>| Some(b? - a?).filter(|&x| x >= 0);
        let mut l = Legs {
            tcp: d(h.syn_first_ts, h.ack_ts),
            ..Legs::default()
        };
        // Time to first byte: plain TCP payload unless the stream is TLS.
        let (req, resp) = match t {
            Some(t) => {
                let tls13 = t.version == Some(0x0304);
                let x = &t.times;
                l.ch = d(h.ack_ts, t.ch_ts);
                l.sh = t.ch_to_sh();
                l.flight = d(t.sh_ts, x.flight_ts);
                l.tls = d(t.ch_ts, x.done_ts(tls13));
                (x.client_data_ts, x.server_data_ts)
            }
            None => (h.req_ts(), h.resp_ts()),
        };
        l.ttfb = d(req, resp);
        l.total = d(h.syn_first_ts, resp.filter(|_| l.ttfb.is_some()));
        l
    }
    pub fn get(&self, i: usize) -> Option<i64> {
        [
            self.tcp,
            self.ch,
            self.sh,
            self.flight,
            self.tls,
            self.ttfb,
            self.total,
        ]
        .get(i)
        .copied()
        .flatten()
    }
    /// Set-up time: TCP handshake plus, for TLS, ClientHello to the end of the TLS handshake.
    pub fn setup(&self, f: &FlowSummary, t: Option<&TlsSummary>) -> Option<i64> {
        let tcp = self.tcp?;
        match t {
            Some(t) => {
                let done = t.times.done_ts(t.version == Some(0x0304)).or(t.sh_ts)?;
                Some((done - f.hs.syn_first_ts?).max(tcp))
            }
            None => Some(tcp),
        }
    }
}

/// TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2), as Wireshark names them.
pub fn alert_name(d: u8) -> &'static str {
    match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

fn who(client: bool) -> &'static str {
    if client {
        "client"
    } else {
        "server"
    }
}

/// What went wrong with a connection's set-up, in plain words (`None`: nothing).
/// `at_end`: the stream is over (retired, or the capture ended), so what was
/// never answered can be said; on a packet (`hs.failure`) an unanswered SYN or
/// ClientHello is reported only once the client gave up (FIN or RST).
///
/// Borrowed where the words are fixed: `-q` asks this of every stream.
pub fn failure(f: &FlowSummary, t: Option<&TlsSummary>, at_end: bool) -> Option<Cow<'static, str>> {
    let h = &f.hs;
    let client = h.client?;
    let server_rst = h.rst_from[1 - client as usize];
    let server_fin = h.fin_from[1 - client as usize];
    let client_gave_up = h.rst_from[client as usize] || h.fin_from[client as usize];
    let over = at_end || client_gave_up;
    match h.state {
        HsState::Refused => return Some("refused (RST to SYN)".into()),
        HsState::SynSent if over => return Some("SYN never answered".into()),
        HsState::SynReceived if over => return Some("SYN-ACK never acknowledged".into()),
        HsState::Reset if h.ack_ts.is_none() => {
            return Some(Cow::Owned(format!(
                "{} reset during the TCP handshake",
                who(!server_rst)
            )))
        }
        _ => {}
    }
    let t = t?;
    if let Some(a) = t.times.alert {
        match a.body {
            Some((level, desc)) if level == 2 || (a.in_handshake && desc != 0) => {
                return Some(Cow::Owned(format!(
                    "TLS alert {}({desc}) from {}",
                    alert_name(desc),
                    who(a.from_client)
                )));
            }
            None if a.in_handshake => {
                return Some(Cow::Owned(format!(
                    "TLS alert (encrypted) from {} during the handshake",
                    who(a.from_client)
                )))
            }
            _ => {}
        }
    }
    t.ch_ts?;
    if t.sh_ts.is_none() {
        let after = if t.hrr_frame.is_some() {
            "its HelloRetryRequest"
        } else {
            "ClientHello"
        };
        return if server_rst {
            Some(Cow::Owned(format!("server reset after {after}")))
        } else if server_fin {
            Some(Cow::Owned(format!("server closed after {after}")))
        } else if over {
            Some("ClientHello never answered".into())
        } else {
            None
        };
    }
    let done = t.times.done_ts(t.version == Some(0x0304)).is_some();
    if !done && (h.rst_from[0] || h.rst_from[1]) {
        return Some(Cow::Owned(format!(
            "{} reset during the TLS handshake",
            who(!server_rst)
        )));
    }
    None
}

#[cfg(test)]
mod tests;
