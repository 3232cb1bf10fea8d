//! Two-point diff (issue #12): the same TCP traffic captured at two points
//! of a path (A, usually the client side, and B, usually the server side).
//!
//! * [`load`] reads each capture once into compact records holding only what
//!   survives the path (raw seq/ack, flags, payload length, IPv4 ID, TCP
//!   timestamps, window) and its flow.
//! * [`matching`] pairs every packet of A with its copy or copies in B: first
//!   on packets whose in-flight fields are unique in both captures (these also
//!   reveal a NAT between the points and each flow's direction), then the
//!   clock offset from the one-way delays of both directions, then every group
//!   of identical packets in occurrence order.
//! * [`conns`] groups the packets into connections and gives each a verdict.
//! * [`run`] is the `hs-tui diff` command: per-packet fields, reports, TUI.
//!
//! Nothing here panics on any input: every index is checked or built by us.

pub mod conns;
pub mod load;
pub mod matching;
pub mod run;
pub mod tui;
pub mod view;

pub use conns::{Conn, DirStats, HsResult};
pub use load::{Capture, FlowKey, Pkt};
pub use matching::{ClockEstimate, Diff, Options, PktDiff};
pub use view::DiffView;

use std::fmt;
use std::net::IpAddr;

/// Which capture a packet is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn letter(self) -> &'static str {
        match self {
            Side::A => "a",
            Side::B => "b",
        }
    }
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// An address and port, printed `1.2.3.4:80` or `[::1]:80`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// TCP flags as letters, `S F R P A U E C` (truth.tsv's spelling), `-` for none.
pub fn flag_letters(flags: u16) -> String {
    use crate::decode::tcp::flags as fl;
    let mut s = String::new();
    for (bit, ch) in [
        (fl::SYN, 'S'),
        (fl::FIN, 'F'),
        (fl::RST, 'R'),
        (fl::PSH, 'P'),
        (fl::ACK, 'A'),
        (fl::URG, 'U'),
        (fl::ECE, 'E'),
        (fl::CWR, 'C'),
    ] {
        if flags & bit != 0 {
            s.push(ch);
        }
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

/// Milliseconds with three decimals, from nanoseconds.
pub fn ms(ns: i64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

/// A duration for people: `850 µs`, `20.1 ms`, `1.036 s`.
pub fn human(ns: i64) -> String {
    let a = ns.unsigned_abs() as f64;
    let sign = if ns < 0 { "-" } else { "" };
    if a < 1e6 {
        format!("{sign}{:.0} µs", a / 1e3)
    } else if a < 1e9 {
        format!("{sign}{:.1} ms", a / 1e6)
    } else {
        format!("{sign}{:.3} s", a / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_formatters() {
        assert_eq!(flag_letters(0x012), "SA");
        assert_eq!(flag_letters(0), "-");
        assert_eq!(human(850_000), "850 µs");
        assert_eq!(human(20_100_000), "20.1 ms");
        assert_eq!(human(-1_036_000_000), "-1.036 s");
        assert_eq!(ms(17_631_000), "17.631");
        let e = Endpoint {
            addr: "fd99::1".parse().expect("v6"),
            port: 80,
        };
        assert_eq!(e.to_string(), "[fd99::1]:80");
    }
}
