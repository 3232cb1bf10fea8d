//! `tls.*` fields (tshark 4.0.17 names and print formats), read from what the
//! engine's TLS dissector found in the frame ([`crate::engine::tls`]). Every
//! per-message field has one occurrence per handshake message that carries
//! it, in message order; `ssl.*` names are aliases (see [`super::by_name`]).

use super::{u, Field, FieldType, PacketView, Value, HEX4};
use crate::engine::legs::{failure, Legs};
use crate::engine::tls::HsMsg;
use std::borrow::Cow;

fn msgs<'a>(p: &PacketView<'a>) -> impl Iterator<Item = &'a HsMsg> {
    p.tls.into_iter().flat_map(|t| t.msgs.iter())
}

fn str_value(s: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(s))
}

const U24: FieldType = FieldType::UInt {
    max: 0xff_ffff,
    hex: 0,
};

pub(super) const HANDSHAKE: Field = Field {
    name: "tls.handshake",
    ty: FieldType::None,
    desc: "TLS handshake protocol: a message, a fragment or an encrypted one (tshark's Handshake Protocol item)",
    get: |p, o| {
        if p.tls.is_some_and(|t| t.handshake) {
            o.push(Value::Present)
        }
    },
};
pub(super) const TYPE: Field = Field {
    name: "tls.handshake.type",
    ty: FieldType::U8,
    desc: "Handshake message type (1 ClientHello, 2 ServerHello or HelloRetryRequest, 11 Certificate, ...), per complete message",
    get: |p, o| {
        o.extend(msgs(p).map(|m| u(m.ty)));
    },
};
pub(super) const VERSION: Field = Field {
    name: "tls.handshake.version",
    ty: HEX4,
    desc: "Client/ServerHello legacy version (TLS 1.3 says 0x0303: see supported_version)",
    get: |p, o| o.extend(msgs(p).filter_map(|m| m.version).map(|v| u(v))),
};
pub(super) const RECORD_VERSION: Field = Field {
    name: "tls.record.version",
    ty: HEX4,
    desc: "Version of every TLS record dissected in the frame",
    get: |p, o| {
        o.extend(
            p.tls
                .into_iter()
                .flat_map(|t| t.records.iter().map(|r| u(r.version))),
        )
    },
};
pub(super) const CONTENT_TYPE: Field = Field {
    name: "tls.record.content_type",
    ty: FieldType::U8,
    desc: "Record content type (20 CCS, 21 alert, 22 handshake, 23 application data)",
    get: |p, o| {
        o.extend(
            p.tls
                .into_iter()
                .flat_map(|t| t.records.iter().filter_map(|r| r.content_type.map(u))),
        )
    },
};
pub(super) const OPAQUE_TYPE: Field = Field {
    name: "tls.record.opaque_type",
    ty: FieldType::U8,
    desc: "Outer content type of a TLS 1.3 encrypted record",
    get: |p, o| {
        o.extend(
            p.tls
                .into_iter()
                .flat_map(|t| t.records.iter().filter(|r| r.opaque).map(|_| u(23u8))),
        )
    },
};
pub(super) const SNI: Field = Field {
    name: "tls.handshake.extensions_server_name",
    ty: FieldType::Str,
    desc: "Server name (SNI) of a ClientHello",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.sni.iter().map(|s| str_value(s)))),
};
pub(super) const ALPN: Field = Field {
    name: "tls.handshake.extensions_alpn_str",
    ty: FieldType::Str,
    desc: "ALPN protocols offered (ClientHello) or chosen (ServerHello)",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.alpn.iter().map(|s| str_value(s)))),
};
pub(super) const CIPHER: Field = Field {
    name: "tls.handshake.ciphersuite",
    ty: HEX4,
    desc: "Cipher suites offered (ClientHello, GREASE included) or chosen (ServerHello)",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.ciphers.iter().map(|&c| u(c)))),
};
pub(super) const SUPPORTED_VERSION: Field = Field {
    name: "tls.handshake.extensions.supported_version",
    ty: HEX4,
    desc: "supported_versions: offered (ClientHello) or chosen (ServerHello, the real TLS 1.3 version)",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.supported_versions.iter().map(|&v| u(v)))),
};
pub(super) const SESSION_ID_LENGTH: Field = Field {
    name: "tls.handshake.session_id_length",
    ty: FieldType::U8,
    desc: "Session ID length of a Client/ServerHello",
    get: |p, o| o.extend(msgs(p).filter_map(|m| m.session_id_len).map(|v| u(v))),
};
pub(super) const RANDOM: Field = Field {
    name: "tls.handshake.random",
    ty: FieldType::Bytes,
    desc: "Client/ServerHello random (32 bytes; a HelloRetryRequest has the fixed RFC 8446 value)",
    get: |p, o| {
        o.extend(
            msgs(p)
                .filter_map(|m| m.random.as_ref())
                .map(|r| Value::Bytes(Cow::Borrowed(&r[..]))),
        )
    },
};
pub(super) const EXTENSION_TYPE: Field = Field {
    name: "tls.handshake.extension.type",
    ty: FieldType::U16,
    desc: "Extension types of a Client/ServerHello, in wire order",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.ext_types.iter().map(|&t| u(t)))),
};
pub(super) const CERTIFICATE: Field = Field {
    name: "tls.handshake.certificate",
    ty: FieldType::None,
    desc: "A certificate of a (cleartext) Certificate message, one per certificate (presence only in hs-tui)",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.cert_lengths.iter().map(|_| Value::Present))),
};
pub(super) const CERTIFICATE_LENGTH: Field = Field {
    name: "tls.handshake.certificate_length",
    ty: U24,
    desc: "Length of each certificate of a Certificate message",
    get: |p, o| o.extend(msgs(p).flat_map(|m| m.cert_lengths.iter().map(|&l| u(l)))),
};
pub(super) const ALERT: Field = Field {
    name: "tls.alert_message",
    ty: FieldType::None,
    desc: "An alert record (readable or encrypted)",
    get: |p, o| {
        o.extend(
            p.tls
                .into_iter()
                .flat_map(|t| t.alerts.iter().map(|_| Value::Present)),
        )
    },
};
pub(super) const ALERT_LEVEL: Field = Field {
    name: "tls.alert_message.level",
    ty: FieldType::U8,
    desc: "Alert level (1 warning, 2 fatal) of a cleartext alert",
    get: |p, o| {
        o.extend(
            p.tls
                .into_iter()
                .flat_map(|t| t.alerts.iter().flatten().map(|a| u(a.0))),
        )
    },
};
pub(super) const ALERT_DESC: Field = Field {
    name: "tls.alert_message.desc",
    ty: FieldType::U8,
    desc: "Alert description (0 close_notify, 40 handshake_failure, ...) of a cleartext alert",
    get: |p, o| {
        o.extend(
            p.tls
                .into_iter()
                .flat_map(|t| t.alerts.iter().flatten().map(|a| u(a.1))),
        )
    },
};
pub(super) const JA4: Field = Field {
    name: "tls.handshake.ja4",
    ty: FieldType::Str,
    desc: "JA4 fingerprint of a ClientHello (FoxIO's algorithm)",
    get: |p, o| {
        o.extend(
            msgs(p)
                .filter_map(|m| m.ja4.as_ref())
                .map(|j| str_value(&j.0)),
        )
    },
};
pub(super) const JA4_R: Field = Field {
    name: "tls.handshake.ja4_r",
    ty: FieldType::Str,
    desc: "JA4 of a ClientHello, raw (sorted lists, not hashed)",
    get: |p, o| {
        o.extend(
            msgs(p)
                .filter_map(|m| m.ja4.as_ref())
                .map(|j| str_value(&j.1)),
        )
    },
};

// ---- per stream (hs-tui's own, on every packet of the TCP stream once known) ----

pub(super) const HS_SNI: Field = Field {
    name: "hs.tls.sni",
    ty: FieldType::Str,
    desc: "TLS: server name of the stream's first ClientHello",
    get: |p, o| o.extend(p.tls_stream.and_then(|s| s.sni.as_deref()).map(str_value)),
};
pub(super) const HS_VERSION: Field = Field {
    name: "hs.tls.version",
    ty: HEX4,
    desc:
        "TLS: negotiated version (the ServerHello's supported_version, else its handshake version)",
    get: |p, o| o.extend(p.tls_stream.and_then(|s| s.version).map(|v| u(v))),
};
pub(super) const HS_CIPHER: Field = Field {
    name: "hs.tls.cipher",
    ty: HEX4,
    desc: "TLS: cipher suite the ServerHello chose",
    get: |p, o| o.extend(p.tls_stream.and_then(|s| s.cipher).map(|v| u(v))),
};
pub(super) const HS_ALPN: Field = Field {
    name: "hs.tls.alpn",
    ty: FieldType::Str,
    desc: "TLS: ALPN protocol the ServerHello chose (none in TLS 1.3: it is encrypted)",
    get: |p, o| o.extend(p.tls_stream.and_then(|s| s.alpn.as_deref()).map(str_value)),
};
pub(super) const HS_JA4: Field = Field {
    name: "hs.tls.ja4",
    ty: FieldType::Str,
    desc: "TLS: JA4 of the stream's first ClientHello",
    get: |p, o| o.extend(p.tls_stream.and_then(|s| s.ja4.as_deref()).map(str_value)),
};
pub(super) const HS_SETUP_TCP: Field = Field {
    name: "hs.setup.tcp",
    ty: FieldType::RelTime,
    desc: "Set-up: first SYN to the handshake's ACK",
    get: |p, o| {
        o.extend(
            p.flow
                .and_then(|f| Some(f.hs.ack_ts? - f.hs.syn_first_ts?))
                .map(Value::Time),
        )
    },
};
macro_rules! leg_field {
    ($id:ident, $name:literal, $leg:ident, $desc:literal) => {
        pub(super) const $id: Field = Field {
            name: $name,
            ty: FieldType::RelTime,
            desc: $desc,
            get: |p, o| {
                o.extend(
                    p.flow
                        .and_then(|f| Legs::of(f, p.tls_stream).$leg)
                        .map(Value::Time),
                )
            },
        };
    };
}
leg_field!(
    HS_SETUP_CH,
    "hs.setup.ch",
    ch,
    "Set-up: the handshake's ACK to the first ClientHello"
);
leg_field!(
    HS_SETUP_SH,
    "hs.setup.sh",
    sh,
    "Set-up: first ClientHello to the first ServerHello that is not a HelloRetryRequest"
);
leg_field!(
    HS_SETUP_FLIGHT,
    "hs.setup.flight",
    flight,
    "Set-up: ServerHello to the last record of the server's first flight (before the client's next record)"
);
leg_field!(
    HS_SETUP_TLS,
    "hs.setup.tls",
    tls,
    "Set-up: first ClientHello to the end of the TLS handshake (TLS 1.3: the client's Finished; earlier: the later Finished)"
);
leg_field!(
    HS_SETUP_TTFB,
    "hs.setup.ttfb",
    ttfb,
    "Time to first byte: the client's first application data (plain TCP: payload byte) to the server's first after it"
);
leg_field!(
    HS_SETUP_TOTAL,
    "hs.setup.total",
    total,
    "Set-up: first SYN to the server's first application data (payload) byte after the client's"
);
pub(super) const HS_FAILURE: Field = Field {
    name: "hs.failure",
    ty: FieldType::Str,
    desc: "What went wrong with the set-up so far, in plain words (TLS alert, reset after ClientHello, refused, ...)",
    get: |p, o| {
        o.extend(
            p.flow
                .and_then(|f| failure(f, p.tls_stream, false))
                .map(Value::Str),
        )
    },
};

/// Does printing or testing this field need the engine's TLS dissection?
pub fn needs_tls(f: &Field) -> bool {
    f.name.starts_with("tls.")
        || f.name.starts_with("hs.tls.")
        || f.name.starts_with("hs.setup.") && f.name != "hs.setup.tcp"
        || f.name == "hs.failure"
}
