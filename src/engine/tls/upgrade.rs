//! Conversations that turn into TLS part-way, as tshark's application
//! dissectors hand them over (`ssl_starttls_ack` / `ssl_starttls_post_write`,
//! or a tunnel handing its payload to the target port's dissector):
//!
//! | port | dissector | request (client) | answer (server) | TLS from |
//! | --- | --- | --- | --- | --- |
//! | 25, 587 | SMTP | `STARTTLS` | `220` | the next segment |
//! | 143 | IMAP | `tag STARTTLS` | `tag OK` | the next segment |
//! | 110 | POP | `STLS` | `+OK` | the next segment |
//! | 21 | FTP | `AUTH TLS` / `AUTH SSL` | `234` | the next segment |
//! | 5222, 5269 | XMPP | `<starttls` | `<proceed` | the next segment |
//! | 389, 3268 | LDAP | extended request with the StartTLS OID | any answer | the next segment |
//! | 3306 | MySQL | SSL request (login packet of 32 bytes with CLIENT_SSL) | — | the next segment |
//! | 5432 | PostgreSQL | SSLRequest | `S` | the next segment |
//! | 1080 | SOCKS 4/5 | CONNECT to a port | success | the target port's rules |
//! | HTTP ports | HTTP | `CONNECT host:port` | `2xx` | the target port's rules |
//!
//! IRC (6667) has no STARTTLS in tshark 4.0 and HTTP on 80 never hands a
//! plain conversation to TLS: those stay non-TLS.

/// What an application conversation does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watch {
    Smtp {
        asked: bool,
    },
    Imap {
        asked: bool,
    },
    Pop {
        asked: bool,
    },
    Ftp {
        asked: bool,
    },
    Xmpp {
        asked: bool,
    },
    Ldap {
        asked: bool,
    },
    Mysql,
    Pgsql {
        asked: bool,
    },
    /// SOCKS: the target port once the client asked to connect.
    Socks {
        target: Option<u16>,
    },
    /// HTTP: the target port of a CONNECT request.
    Http {
        target: Option<u16>,
    },
    /// Nothing more to look for.
    Done,
}

/// The outcome of one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Stay,
    /// TLS from the next segment on.
    Tls,
    /// A tunnel: later segments go to the dissector of this port (or a heuristic).
    Tunnel(u16),
}

/// The watcher for a conversation whose server port is `port` (`http`: HTTP owns it).
pub fn watch_for(port: u16, http: bool) -> Option<Watch> {
    Some(match port {
        25 | 587 => Watch::Smtp { asked: false },
        143 => Watch::Imap { asked: false },
        110 => Watch::Pop { asked: false },
        21 => Watch::Ftp { asked: false },
        5222 | 5269 => Watch::Xmpp { asked: false },
        389 | 3268 => Watch::Ldap { asked: false },
        3306 => Watch::Mysql,
        5432 => Watch::Pgsql { asked: false },
        1080 => Watch::Socks { target: None },
        _ if http => Watch::Http { target: None },
        _ => return None,
    })
}

fn starts_ci(b: &[u8], word: &[u8]) -> bool {
    b.len() >= word.len() && b[..word.len()].eq_ignore_ascii_case(word)
}

/// The second word of a line ("tag STARTTLS", "tag OK").
fn second_word(b: &[u8]) -> &[u8] {
    let line = b.split(|&c| c == b'\r' || c == b'\n').next().unwrap_or(&[]);
    line.split(|&c| c == b' ').nth(1).unwrap_or(&[])
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// The LDAP StartTLS OID, as it appears in the BER request.
const LDAP_STARTTLS: &[u8] = b"1.3.6.1.4.1.1466.20037";

/// One segment of the conversation; `from_client` says who sent it.
pub fn step(w: Watch, from_client: bool, d: &[u8]) -> (Watch, Step) {
    use Watch::*;
    match (w, from_client) {
        (Smtp { .. }, true) => (
            Smtp {
                asked: starts_ci(d, b"STARTTLS"),
            },
            Step::Stay,
        ),
        (Smtp { asked: true }, false) if d.starts_with(b"220") => (Done, Step::Tls),
        (Imap { .. }, true) => (
            Imap {
                asked: second_word(d).eq_ignore_ascii_case(b"STARTTLS"),
            },
            Step::Stay,
        ),
        (Imap { asked: true }, false) if second_word(d).eq_ignore_ascii_case(b"OK") => {
            (Done, Step::Tls)
        }
        (Pop { .. }, true) => (
            Pop {
                asked: starts_ci(d, b"STLS"),
            },
            Step::Stay,
        ),
        (Pop { asked: true }, false) if d.starts_with(b"+OK") => (Done, Step::Tls),
        (Ftp { .. }, true) => (
            Ftp {
                asked: starts_ci(d, b"AUTH TLS") || starts_ci(d, b"AUTH SSL"),
            },
            Step::Stay,
        ),
        (Ftp { asked: true }, false) if d.starts_with(b"234") => (Done, Step::Tls),
        (Xmpp { asked }, true) => (
            Xmpp {
                asked: asked || contains(d, b"<starttls"),
            },
            Step::Stay,
        ),
        (Xmpp { asked: true }, false) if contains(d, b"<proceed") => (Done, Step::Tls),
        (Ldap { asked }, true) => (
            Ldap {
                asked: asked || contains(d, LDAP_STARTTLS),
            },
            Step::Stay,
        ),
        (Ldap { asked: true }, false) => (Done, Step::Tls),
        (Mysql, true) if mysql_ssl_request(d) => (Done, Step::Tls),
        (Pgsql { .. }, true) => (
            Pgsql {
                asked: d == [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f],
            },
            Step::Stay,
        ),
        (Pgsql { asked: true }, false) if d == b"S" => (Done, Step::Tls),
        (Pgsql { asked: true }, false) => (Pgsql { asked: false }, Step::Stay),
        (Socks { .. }, true) => match socks_request(d) {
            Some(port) => (Socks { target: Some(port) }, Step::Stay),
            None => (w, Step::Stay),
        },
        (Socks { target: Some(port) }, false) if socks_granted(d) => (Done, Step::Tunnel(port)),
        (Http { .. }, true) => (
            Http {
                target: connect_port(d),
            },
            Step::Stay,
        ),
        (Http { target: Some(port) }, false)
            if d.starts_with(b"HTTP/") && d.get(9) == Some(&b'2') =>
        {
            (Done, Step::Tunnel(port))
        }
        (w, _) => (w, Step::Stay),
    }
}

/// A MySQL SSL request: sequence 1, a 32-byte login packet with CLIENT_SSL (0x0800).
fn mysql_ssl_request(d: &[u8]) -> bool {
    d.len() == 36 && d[..4] == [32, 0, 0, 1] && d[4 + 1] & 0x08 != 0
}

/// The target port of a SOCKS 4 or 5 CONNECT request.
fn socks_request(d: &[u8]) -> Option<u16> {
    match d {
        [4, 1, p1, p2, ..] if d.len() >= 9 => Some(u16::from_be_bytes([*p1, *p2])),
        [5, 1, 0, atyp, rest @ ..] => {
            let addr = match atyp {
                1 => 4,
                4 => 16,
                3 => 1 + *rest.first()? as usize,
                _ => return None,
            };
            let p = rest.get(addr..addr + 2)?;
            (rest.len() == addr + 2).then(|| u16::from_be_bytes([p[0], p[1]]))
        }
        _ => None,
    }
}

/// A SOCKS 4 (`0 0x5a`) or 5 (`5 0`, with an address) success reply.
fn socks_granted(d: &[u8]) -> bool {
    matches!(d, [0, 0x5a, ..]) && d.len() >= 8 || matches!(d, [5, 0, 0, _, ..]) && d.len() >= 10
}

/// The port of `CONNECT host:port HTTP/1.x`.
fn connect_port(d: &[u8]) -> Option<u16> {
    let line = d.strip_prefix(b"CONNECT ")?;
    let target = line.split(|&c| c == b' ').next()?;
    let colon = target.iter().rposition(|&c| c == b':')?;
    std::str::from_utf8(&target[colon + 1..]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_starttls() {
        let w = watch_for(25, false).unwrap();
        let (w, s) = step(w, false, b"220 mail ESMTP\r\n");
        assert_eq!(s, Step::Stay);
        let (w, _) = step(w, true, b"STARTTLS\r\n");
        let (_, s) = step(w, false, b"220 2.0.0 Ready to start TLS\r\n");
        assert_eq!(s, Step::Tls);
    }

    #[test]
    fn socks5_and_connect() {
        let w = watch_for(1080, false).unwrap();
        let (w, _) = step(w, true, &[5, 1, 0]);
        let (w, _) = step(w, false, &[5, 0]);
        let (w, _) = step(w, true, &[5, 1, 0, 1, 1, 2, 3, 4, 1, 187]);
        let (_, s) = step(w, false, &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(s, Step::Tunnel(443));
        let w = watch_for(3128, true).unwrap();
        let (w, _) = step(w, true, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n");
        let (_, s) = step(w, false, b"HTTP/1.1 200 Connection established\r\n\r\n");
        assert_eq!(s, Step::Tunnel(443));
        assert_eq!(watch_for(6667, false), None);
    }
}
