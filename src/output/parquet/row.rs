//! The packet table's fast columns, read in one pass per packet. The tracking thread
//! copies what they need out of the packet into one [`PacketRow`] (an address, a flags
//! word, an enum, no text); the writer thread builds each Arrow column from a batch of
//! rows, formatting names, addresses and flags there. Reading each column through its
//! own getter, one call per cell, cost the tracking thread more than the tracking itself.
//! A test checks every column against the registry's getter on every sample capture.

use super::cells::{Formats, BLOCK_ROWS};
use super::{Builder, Kind};
use crate::fields::PacketView;
use crate::track::analysis::flag;
use crate::track::handshake::{HsState, Phase};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A duration or time in nanoseconds, `NONE` when absent: half the size of an
/// `Option<i64>`, and rows are copied by the million.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Ns(i64);

impl Ns {
    const NONE: Ns = Ns(i64::MIN);
    #[inline]
    fn of(x: Option<i64>) -> Ns {
        x.map_or(Ns::NONE, Ns)
    }
    #[inline]
    fn get(self) -> Option<i64> {
        (self != Ns::NONE).then_some(self.0)
    }
}

/// `hs.history` as the flow holds it: short, fixed-size, so copied without allocating.
#[derive(Clone, Copy)]
struct History {
    bytes: [u8; 24],
    len: u8,
}

impl History {
    fn of(f: &crate::track::FlowSummary) -> History {
        let (bytes, len) = f.zeek.history_raw();
        History {
            bytes,
            len: len.min(24) as u8,
        }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

/// One packet's fast cells.
#[derive(Clone, Copy)]
pub(super) struct PacketRow {
    number: u64,
    ts_ns: i64,
    wire_len: u32,
    ports: Option<(u16, u16)>,
    stream: Option<u32>,
    tcp_len: Option<u32>,
    seq: Option<u32>,
    ack: Option<u32>,
    window: Option<u32>,
    flags: Option<u16>,
    /// `tcp.analysis.*` bits (0 without tracking).
    analysis: u32,
    irtt: Ns,
    ack_rtt: Ns,
    syn_synack: Ns,
    synack_ack: Ns,
    syn_rst: Ns,
    syn_data: Ns,
    /// The first IPv4 and the first IPv6 header's addresses (source, destination).
    v4: Option<(Ipv4Addr, Ipv4Addr)>,
    v6: Option<(Ipv6Addr, Ipv6Addr)>,
    phase: Option<Phase>,
    from_client: Option<bool>,
    hs_state: Option<HsState>,
    conn_state: Option<&'static str>,
    history: Option<History>,
}

impl PacketRow {
    /// The cells of packet `v`, each as its registry field reads it.
    #[inline]
    pub(super) fn of(v: &PacketView<'_>) -> PacketRow {
        let meta = v.meta;
        // A header whose length field is bogus shows no flags, ack or window (tshark).
        let tcp = v.tcpf().filter(|t| !t.bogus_hdr_len());
        let flow = v.flow;
        let mut v4 = None;
        let mut v6 = None;
        for ip in v.ips() {
            match (ip.src, ip.dst) {
                (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) if v4.is_none() => {
                    v4 = Some((s, d))
                }
                (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) if v6.is_none() => {
                    v6 = Some((s, d))
                }
                _ => {}
            }
        }
        PacketRow {
            number: v.frame.number,
            ts_ns: v.frame.ts_ns,
            wire_len: v.frame.wire_len,
            ports: v.frame.tcp.as_ref().map(|t| (t.src_port, t.dst_port)),
            stream: meta.map(|m| m.stream),
            tcp_len: v.analyzed().and_then(|m| m.len),
            seq: meta.map(|m| m.seq),
            ack: meta.filter(|_| tcp.is_some()).map(|m| m.ack),
            window: meta.filter(|_| tcp.is_some()).map(|m| m.window),
            flags: tcp.map(|t| t.flags),
            analysis: meta.map_or(0, |m| m.analysis.flags),
            irtt: Ns::of(meta.and_then(|m| m.irtt_ns)),
            ack_rtt: Ns::of(meta.and_then(|m| m.analysis.ack_rtt_ns)),
            syn_synack: Ns::of(flow.and_then(|f| f.hs.syn_to_synack())),
            synack_ack: Ns::of(flow.and_then(|f| f.hs.synack_to_ack())),
            syn_rst: Ns::of(flow.and_then(|f| f.hs.syn_to_rst())),
            syn_data: Ns::of(flow.and_then(|f| f.hs.syn_to_data())),
            v4,
            v6,
            phase: v.analyzed().map(|m| m.phase),
            from_client: meta.and_then(|m| m.from_client),
            hs_state: meta.map(|m| m.hs_state),
            conn_state: flow.map(|f| f.zeek.conn_state()),
            history: flow.map(History::of),
        }
    }
}

/// A column read from [`PacketRow`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RowCol {
    Number,
    Time,
    Len,
    Ip {
        v6: bool,
        dst: bool,
    },
    SrcPort,
    DstPort,
    Stream,
    TcpLen,
    Seq,
    Ack,
    Flags,
    FlagsStr,
    Window,
    InitialRtt,
    AckRtt,
    /// A `tcp.analysis.*` flag.
    Analysis(u32),
    SynSynack,
    SynackAck,
    SynRst,
    SynData,
    Phase,
    Role,
    State,
    ConnState,
    History,
}

impl RowCol {
    /// The row column of packet-table field `name`, if it has one.
    pub(super) fn of(name: &str) -> Option<RowCol> {
        Some(match name {
            "frame.number" => RowCol::Number,
            "frame.time_epoch" => RowCol::Time,
            "frame.len" => RowCol::Len,
            "ip.src" => RowCol::Ip {
                v6: false,
                dst: false,
            },
            "ip.dst" => RowCol::Ip {
                v6: false,
                dst: true,
            },
            "ipv6.src" => RowCol::Ip {
                v6: true,
                dst: false,
            },
            "ipv6.dst" => RowCol::Ip {
                v6: true,
                dst: true,
            },
            "tcp.srcport" => RowCol::SrcPort,
            "tcp.dstport" => RowCol::DstPort,
            "tcp.stream" => RowCol::Stream,
            "tcp.len" => RowCol::TcpLen,
            "tcp.seq" => RowCol::Seq,
            "tcp.ack" => RowCol::Ack,
            "tcp.flags" => RowCol::Flags,
            "tcp.flags.str" => RowCol::FlagsStr,
            "tcp.window_size" => RowCol::Window,
            "tcp.analysis.initial_rtt" => RowCol::InitialRtt,
            "tcp.analysis.ack_rtt" => RowCol::AckRtt,
            "tcp.analysis.retransmission" => RowCol::Analysis(flag::ANY_RETRANSMISSION),
            "tcp.analysis.duplicate_ack" => RowCol::Analysis(flag::DUPLICATE_ACK),
            "tcp.analysis.lost_segment" => RowCol::Analysis(flag::LOST_SEGMENT),
            "tcp.analysis.zero_window" => RowCol::Analysis(flag::ZERO_WINDOW),
            "hs.rtt.syn_synack" => RowCol::SynSynack,
            "hs.rtt.synack_ack" => RowCol::SynackAck,
            "hs.rtt.syn_rst" => RowCol::SynRst,
            "hs.rtt.syn_data" => RowCol::SynData,
            "hs.phase" => RowCol::Phase,
            "hs.role" => RowCol::Role,
            "hs.state" => RowCol::State,
            "hs.conn_state" => RowCol::ConnState,
            "hs.history" => RowCol::History,
            _ => return None,
        })
    }

    /// Whether this column can be read as `kind` (the registry's type decides the kind;
    /// a row column of another kind goes through the registry instead).
    pub(super) fn fits(self, kind: Kind) -> bool {
        use RowCol::*;
        match self {
            Number | Len | SrcPort | DstPort | Stream | TcpLen | Seq | Ack | Flags | Window => {
                matches!(kind, Kind::I32 | Kind::I64)
            }
            Time => kind == Kind::Timestamp,
            InitialRtt | AckRtt | SynSynack | SynackAck | SynRst | SynData => {
                matches!(kind, Kind::F64Secs | Kind::Timestamp)
            }
            Analysis(_) => kind == Kind::Bool,
            Ip { .. } | FlagsStr | Phase | Role | State | ConnState | History => kind == Kind::Str,
        }
    }

    /// Append column `self` of `block` to `b` (built by [`Builder::new`] for this column's
    /// kind), on the writer thread. Columns are filled block by block: a block of rows
    /// stays in the core's cache while each of its columns is read from it, where a
    /// whole batch, column after column, was read back from memory once per column.
    pub(super) fn extend(self, b: &mut Builder, block: &[PacketRow], fmt: &mut Formats) {
        match self {
            RowCol::Number => ints(b, block, |r| Some(r.number)),
            RowCol::Len => ints(b, block, |r| Some(u64::from(r.wire_len))),
            RowCol::SrcPort => ints(b, block, |r| r.ports.map(|p| u64::from(p.0))),
            RowCol::DstPort => ints(b, block, |r| r.ports.map(|p| u64::from(p.1))),
            RowCol::Stream => ints(b, block, |r| r.stream.map(u64::from)),
            RowCol::TcpLen => ints(b, block, |r| r.tcp_len.map(u64::from)),
            RowCol::Seq => ints(b, block, |r| r.seq.map(u64::from)),
            RowCol::Ack => ints(b, block, |r| r.ack.map(u64::from)),
            RowCol::Flags => ints(b, block, |r| r.flags.map(u64::from)),
            RowCol::Window => ints(b, block, |r| r.window.map(u64::from)),
            RowCol::Time => times(b, block, |r| Some(r.ts_ns)),
            RowCol::InitialRtt => times(b, block, |r| r.irtt.get()),
            RowCol::AckRtt => times(b, block, |r| r.ack_rtt.get()),
            RowCol::SynSynack => times(b, block, |r| r.syn_synack.get()),
            RowCol::SynackAck => times(b, block, |r| r.synack_ack.get()),
            RowCol::SynRst => times(b, block, |r| r.syn_rst.get()),
            RowCol::SynData => times(b, block, |r| r.syn_data.get()),
            RowCol::Analysis(bit) => {
                if let Builder::Bool(b) = b {
                    let mut set = [false; BLOCK_ROWS];
                    for chunk in block.chunks(BLOCK_ROWS) {
                        for (r, x) in chunk.iter().zip(&mut set) {
                            *x = r.analysis & bit != 0;
                        }
                        b.append_slice(&set[..chunk.len()]);
                    }
                }
            }
            RowCol::Phase => names(b, block, |r| r.phase.map(Phase::name)),
            RowCol::Role => names(b, block, |r| {
                r.from_client.map(|c| if c { "client" } else { "server" })
            }),
            RowCol::State => names(b, block, |r| r.hs_state.map(HsState::name)),
            RowCol::ConnState => names(b, block, |r| r.conn_state),
            RowCol::History => {
                if let Builder::Str(b) = b {
                    for r in block {
                        b.append_option(r.history.as_ref().map(History::as_str));
                    }
                }
            }
            RowCol::Ip { v6, dst } => {
                if let Builder::Str(b) = b {
                    for r in block {
                        match (v6, r.v4, r.v6) {
                            (false, Some((s, d)), _) => {
                                b.append_value(fmt.addr(if dst { d } else { s }))
                            }
                            (true, _, Some((s, d))) => {
                                b.append_value((if dst { d } else { s }).to_string())
                            }
                            _ => b.append_null(),
                        }
                    }
                }
            }
            RowCol::FlagsStr => {
                if let Builder::Str(b) = b {
                    for r in block {
                        match r.flags {
                            Some(f) => b.append_value(fmt.flags_str(f)),
                            None => b.append_null(),
                        }
                    }
                }
            }
        }
    }
}

// Each helper loops over a block with the column fixed (a closure per column: no branch
// per cell). A builder of another kind than the column's cannot occur: `RowCol::fits`
// chose the column for this kind.

fn ints(b: &mut Builder, block: &[PacketRow], get: impl Fn(&PacketRow) -> Option<u64>) {
    match b {
        Builder::I32(b) => fill(b, block, |r| get(r).and_then(|x| i32::try_from(x).ok())),
        Builder::I64(b) => fill(b, block, |r| get(r).and_then(|x| i64::try_from(x).ok())),
        _ => {}
    }
}

/// Nanoseconds as microseconds (a timestamp) or seconds (a duration).
fn times(b: &mut Builder, block: &[PacketRow], get: impl Fn(&PacketRow) -> Option<i64>) {
    match b {
        Builder::Ts(b) => fill(b, block, |r| get(r).map(|ns| ns.div_euclid(1000))),
        Builder::F64(b) => fill(b, block, |r| get(r).map(|ns| ns as f64 / 1e9)),
        _ => {}
    }
}

/// A block's cells into `b`: gathered into two small arrays first, then appended at once
/// (one copy and one validity run per block, where a cell at a time checked capacity and
/// validity per cell: the writers' largest cost after the Parquet encoders).
fn fill<T: arrow_array::ArrowPrimitiveType>(
    b: &mut arrow_array::builder::PrimitiveBuilder<T>,
    block: &[PacketRow],
    get: impl Fn(&PacketRow) -> Option<T::Native>,
) {
    let mut values = [T::Native::default(); BLOCK_ROWS];
    let mut valid = [false; BLOCK_ROWS];
    for chunk in block.chunks(BLOCK_ROWS) {
        for ((r, v), ok) in chunk.iter().zip(&mut values).zip(&mut valid) {
            let x = get(r);
            *ok = x.is_some();
            *v = x.unwrap_or_default();
        }
        b.append_values(&values[..chunk.len()], &valid[..chunk.len()]);
    }
}

fn names(b: &mut Builder, block: &[PacketRow], get: impl Fn(&PacketRow) -> Option<&'static str>) {
    if let Builder::Str(b) = b {
        for r in block {
            b.append_option(get(r));
        }
    }
}
