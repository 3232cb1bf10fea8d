//! Zeek's conn.log (`-z conn,zeek`, `-z conn,zeek-json`), for TCP.
//!
//! Zeek draws connection boundaries differently from tshark's streams, so
//! this keeps its own table keyed by the address/port pair, with Zeek's
//! session timers driven by packet time (`tcp_attempt_delay`,
//! `tcp_close_delay`, `tcp_session_timer`, the inactivity timeouts): a
//! connection ends some seconds after a close, a RST or an unanswered SYN,
//! and the next packet on the same key starts a new one; a new SYN on a
//! closed connection does too (`IsReuse`). Rows are written when Zeek would
//! write them: when the connection is removed, or at the end of the input.
//! The per-connection TCP logic is in [`tcp`]; content gaps in [`reasm`].
//!
//! Memory is bounded: at most `max_conns` connections are held (they expire
//! as in Zeek; an unanswered SYN after 5 s). A connection that would exceed
//! the budget first retires the least recently seen one, which is logged
//! early as it stands (counted in [`ConnLog::evicted`]); a later packet on
//! its key starts a new connection. Finished rows are spilled to a
//! temporary file beyond a few MB.

pub mod reasm;
pub mod tcp;

use crate::decode::Frame;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;
use tcp::{Effects, EpState, Seg, TcpConn};

type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

const SEC: i64 = 1_000_000_000;
/// Formatted rows kept in memory before they go to a temporary file.
const SPILL_AT: usize = 4 << 20;
/// Zeek's defaults (init-bare.zeek).
const TCP_SYN_TIMEOUT: i64 = 5 * SEC;
const TCP_SESSION_TIMER: i64 = 6 * SEC;
const TCP_CONNECTION_LINGER: i64 = 5 * SEC;
const TCP_ATTEMPT_DELAY: i64 = 5 * SEC;
const TCP_CLOSE_DELAY: i64 = 5 * SEC;
const TCP_INACTIVITY_TIMEOUT: i64 = 300 * SEC;
/// A new TCP session starts with UDP's inactivity timeout until its handshake ends.
const UDP_INACTIVITY_TIMEOUT: i64 = 60 * SEC;

/// TCP ports of Zeek's `likely_server_ports` with its default scripts loaded
/// (each analyzer's registered ports):
/// a connection first seen without a SYN (or with a SYN-ACK) from one of
/// these is flipped so that the port is the responder's.
const LIKELY_SERVER_PORTS: &[u16] = &[
    21,    // ftp
    22,    // ssh
    25,    // smtp
    53,    // dns
    80,    // http
    81,    // http
    88,    // krb
    110,   // pop3
    135,   // dce_rpc
    139,   // smb
    143,   // imap
    389,   // ldap
    443,   // ssl
    445,   // smb
    502,   // modbus
    563,   // ssl
    585,   // ssl
    587,   // smtp
    614,   // ssl
    631,   // http
    636,   // ssl
    989,   // ssl
    990,   // ssl
    992,   // ssl
    993,   // ssl
    995,   // ssl
    1080,  // http, socks
    1434,  // mysql
    1883,  // mqtt
    2811,  // ftp
    3128,  // http
    3268,  // ldap
    3306,  // mysql
    3389,  // rdp
    5222,  // xmpp
    5223,  // ssl
    5269,  // xmpp
    5432,  // postgresql
    6379,  // redis
    6666,  // irc
    6667,  // irc
    6668,  // irc
    6669,  // irc
    8000,  // http
    8080,  // http
    8888,  // http
    20000, // dnp3
];

fn likely_server_port(p: u16) -> bool {
    LIKELY_SERVER_PORTS.binary_search(&p).is_ok()
}

/// Which form of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeekFormat {
    Tsv,
    Json,
}

/// The address/port pair, lower endpoint first (side 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    a: (IpAddr, u16),
    b: (IpAddr, u16),
}

impl Key {
    /// The key and the side the sender is on.
    fn of(src: (IpAddr, u16), dst: (IpAddr, u16)) -> (Key, usize) {
        if src <= dst {
            (Key { a: src, b: dst }, 0)
        } else {
            (Key { a: dst, b: src }, 1)
        }
    }
    fn side(&self, s: usize) -> (IpAddr, u16) {
        if s == 0 {
            self.a
        } else {
            self.b
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Attempt,
    Expire,
    Delete,
    Inactivity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: i64,
    order: u64,
    slot: u32,
    gen: u32,
    kind: TimerKind,
    /// Analyzer timers: the connection's `timer_epoch` when added (Zeek's
    /// `CancelTimers` bumps it). Inactivity: its `inact_epoch`.
    epoch: u32,
}

struct Conn {
    key: Key,
    start: i64,
    /// Zeek's last time (it stops at the close).
    last: i64,
    /// The last packet's time (for the budget's least-recently-seen order).
    seen: i64,
    tcp: TcpConn,
    /// By side of the key.
    pkts: [u64; 2],
    ip_bytes: [u64; 2],
    inactivity: i64,
    timer_epoch: u32,
    inact_epoch: u32,
    uid: u64,
}

struct Slot {
    gen: u32,
    conn: Option<Conn>,
}

/// One finished conn.log row.
#[derive(Clone, Debug)]
pub struct ConnRow {
    pub ts: i64,
    pub uid: String,
    pub orig: (IpAddr, u16),
    pub resp: (IpAddr, u16),
    /// Nanoseconds; `None` when zero (Zeek then leaves duration and bytes unset).
    pub duration: Option<i64>,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub conn_state: &'static str,
    pub missed_bytes: u64,
    pub history: String,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
}

/// The conn.log table.
pub struct ConnLog {
    format: ZeekFormat,
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: FoldMap<Key, u32>,
    timers: BinaryHeap<Reverse<Timer>>,
    order: u64,
    /// Finished rows, formatted; beyond `SPILL_AT` bytes they go to a
    /// temporary file, so a flood of short connections stays bounded in memory.
    out: Vec<u8>,
    spill: Option<std::fs::File>,
    spill_failed: bool,
    rows: u64,
    max_conns: usize,
    /// Drop packets with a bad IPv4 or TCP checksum, as Zeek does without `-C`.
    verify_checksums: bool,
    /// Connections logged early to make room (`max_conns`).
    pub evicted: u64,
    /// Creation order with the last-seen time when queued (second-chance LRU).
    lru: std::collections::VecDeque<(u32, u32, i64)>,
    uids: u64,
}

impl ConnLog {
    pub fn new(format: ZeekFormat, max_conns: usize, verify_checksums: bool) -> ConnLog {
        ConnLog {
            format,
            slots: Vec::new(),
            free: Vec::new(),
            index: FoldMap::default(),
            timers: BinaryHeap::new(),
            order: 0,
            out: Vec::new(),
            spill: None,
            spill_failed: false,
            rows: 0,
            max_conns: max_conns.max(1),
            verify_checksums,
            evicted: 0,
            lru: std::collections::VecDeque::new(),
            uids: 0,
        }
    }

    pub fn format(&self) -> ZeekFormat {
        self.format
    }

    /// Every frame, in capture order (timers run on packet time, whatever the protocol).
    pub fn packet(&mut self, f: &Frame, bytes: &[u8]) {
        self.advance(f.ts_ns);
        let (Some(t), Some(ip)) = (f.tcp.as_ref(), f.ip.as_ref()) else {
            return;
        };
        if t.quoted || !t.has_fixed {
            return;
        }
        let reassembled = f.has(crate::decode::proto::REASSEMBLED);
        // Zeek needs 20 TCP bytes captured to find the connection (BuildConnTuple); a
        // header it cannot read then (bad data offset, options cut by the snaplen or
        // beyond the IP length) leaves the connection without the packet.
        let tcp_cap = bytes
            .len()
            .saturating_sub(ip.offset as usize + ip.hdr_len as usize);
        if !reassembled && tcp_cap < 20 {
            return;
        }
        let readable = t.hdr_len >= 20 && (reassembled || t.hdr_len as usize <= tcp_cap);
        let len = match t.seg_len {
            Some(l) if readable => Some(l),
            _ => None,
        };
        let len_or_0 = len.unwrap_or(0);
        use crate::decode::checksum::{ipv4_verify, tcp_verify, BAD};
        // Zeek drops a packet whose IPv4 header checksum is wrong before any session sees it.
        if self.verify_checksums && !ip.is_v6() && ipv4_verify(f, bytes) == BAD {
            return;
        }
        let seg = Seg {
            seq: t.seq,
            ack: t.ack,
            flags: t.flags,
            window: t.window,
            len: len_or_0,
            // A reassembled datagram was captured whole (its bytes are not in this frame).
            caplen: if reassembled { len_or_0 } else { f.payload_cap },
            bad_checksum: self.verify_checksums && tcp_verify(f, bytes) == BAD,
        };
        let ip_len = if f.has(crate::decode::proto::REASSEMBLED) {
            // Zeek counts the reassembled datagram.
            ip.hdr_len as u64 + t.hdr_len as u64 + len_or_0 as u64
        } else if ip.is_v6() {
            ip.len_field as u64 + 40
        } else {
            ip.len_field as u64
        };
        let src = (ip.src, t.src_port);
        let dst = (ip.dst, t.dst_port);
        let (key, side) = Key::of(src, dst);
        let ts = f.ts_ns;

        let mut slot = self.index.get(&key).copied();
        if let Some(s) = slot {
            // IsReuse reads a bogus header no further.
            let reuse = t.hdr_len >= 20 && self.conn(s).is_some_and(|c| c.tcp.is_reuse(&seg));
            if reuse {
                self.remove(s);
                slot = None;
            }
        }
        let s = match slot {
            Some(s) => s,
            None => {
                if self.index.len() >= self.max_conns {
                    self.evict_one();
                }
                self.create(key, side, &seg, ts)
            }
        };
        let Some(c) = self.slots[s as usize].conn.as_mut() else {
            return;
        };
        c.seen = ts;
        if len.is_none() {
            return;
        }
        let is_orig_at_start = side == c.tcp.orig;
        let (fx, counted) = c.tcp.process(side, &seg, ts, &mut c.last);
        if counted {
            // Zeek counts into the role the packet had when it arrived.
            let count_side = if is_orig_at_start {
                c.tcp.orig
            } else {
                1 - c.tcp.orig
            };
            c.pkts[count_side] += 1;
            c.ip_bytes[count_side] += ip_len;
        }
        self.apply(s, fx, ts);
    }

    fn conn(&self, s: u32) -> Option<&Conn> {
        self.slots.get(s as usize).and_then(|x| x.conn.as_ref())
    }

    fn create(&mut self, key: Key, side: usize, seg: &Seg, ts: i64) -> u32 {
        // WantConnection: a first packet without a SYN, or a SYN-ACK, may flip roles.
        let syn = seg.flags & crate::decode::tcp::flags::SYN != 0;
        let ack = seg.flags & crate::decode::tcp::flags::ACK != 0;
        let (sp, dp) = (key.side(side).1, key.side(1 - side).1);
        let mut flip = false;
        if (!syn || ack) && likely_server_port(sp) {
            flip = if likely_server_port(dp) {
                !syn && sp < dp
            } else {
                true
            };
        }
        let mut tcp = TcpConn::new(side);
        if flip {
            tcp.flip();
        }
        self.uids += 1;
        let conn = Conn {
            key,
            start: ts,
            last: ts,
            seen: ts,
            tcp,
            pkts: [0; 2],
            ip_bytes: [0; 2],
            inactivity: UDP_INACTIVITY_TIMEOUT,
            timer_epoch: 0,
            inact_epoch: 0,
            uid: self.uids,
        };
        let s = match self.free.pop() {
            Some(s) => {
                let slot = &mut self.slots[s as usize];
                slot.gen = slot.gen.wrapping_add(1);
                slot.conn = Some(conn);
                s
            }
            None => {
                self.slots.push(Slot {
                    gen: 0,
                    conn: Some(conn),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key, s);
        let gen = self.slots[s as usize].gen;
        self.lru.push_back((s, gen, ts));
        if self.lru.len() > 2 * self.index.len() + 1024 {
            let slots = &self.slots;
            self.lru.retain(|&(s, g, _)| {
                slots
                    .get(s as usize)
                    .is_some_and(|x| x.gen == g && x.conn.is_some())
            });
        }
        self.add_timer(s, TimerKind::Expire, ts + TCP_SYN_TIMEOUT);
        self.add_timer(s, TimerKind::Inactivity, ts + UDP_INACTIVITY_TIMEOUT);
        s
    }

    /// Retire the least recently seen connection (second chance: one seen
    /// since it was queued goes to the back).
    fn evict_one(&mut self) {
        while let Some((s, g, stamp)) = self.lru.pop_front() {
            let Some(c) = self
                .slots
                .get(s as usize)
                .filter(|x| x.gen == g)
                .and_then(|x| x.conn.as_ref())
            else {
                continue;
            };
            if c.seen > stamp {
                let seen = c.seen;
                self.lru.push_back((s, g, seen));
                continue;
            }
            self.evicted += 1;
            self.remove(s);
            return;
        }
    }

    fn add_timer(&mut self, s: u32, kind: TimerKind, at: i64) {
        let slot = &self.slots[s as usize];
        let Some(c) = slot.conn.as_ref() else {
            return;
        };
        let epoch = if kind == TimerKind::Inactivity {
            c.inact_epoch
        } else {
            c.timer_epoch
        };
        self.order += 1;
        self.timers.push(Reverse(Timer {
            at,
            order: self.order,
            slot: s,
            gen: slot.gen,
            kind,
            epoch,
        }));
    }

    fn apply(&mut self, s: u32, fx: Effects, ts: i64) {
        let Some(c) = self.slots[s as usize].conn.as_mut() else {
            return;
        };
        let last = c.last;
        if fx.long_inactivity && c.inactivity != TCP_INACTIVITY_TIMEOUT {
            c.inactivity = TCP_INACTIVITY_TIMEOUT;
            c.inact_epoch = c.inact_epoch.wrapping_add(1);
            self.add_timer(s, TimerKind::Inactivity, last + TCP_INACTIVITY_TIMEOUT);
        }
        if fx.attempt_timer {
            self.add_timer(s, TimerKind::Attempt, ts + TCP_ATTEMPT_DELAY);
        }
        if fx.cancel_timers {
            if let Some(c) = self.slots[s as usize].conn.as_mut() {
                c.timer_epoch = c.timer_epoch.wrapping_add(1);
            }
        }
        if fx.delete_timer {
            self.add_timer(s, TimerKind::Delete, last + TCP_CLOSE_DELAY);
        }
        if fx.expire_timer {
            self.add_timer(s, TimerKind::Expire, last + TCP_SESSION_TIMER);
        }
    }

    /// Run every timer due at or before `now` (Zeek expires timers before the packet).
    fn advance(&mut self, now: i64) {
        while let Some(Reverse(t)) = self.timers.peek().copied() {
            if t.at > now {
                break;
            }
            self.timers.pop();
            self.fire(t);
        }
    }

    fn fire(&mut self, t: Timer) {
        let s = t.slot;
        let Some(slot) = self.slots.get(s as usize) else {
            return;
        };
        if slot.gen != t.gen {
            return;
        }
        let Some(c) = slot.conn.as_ref() else {
            return;
        };
        let live = match t.kind {
            TimerKind::Inactivity => t.epoch == c.inact_epoch,
            _ => t.epoch == c.timer_epoch,
        };
        if !live {
            return;
        }
        let (o, r) = (c.tcp.orig_ep(), c.tcp.resp_ep());
        match t.kind {
            TimerKind::Attempt => {
                if c.tcp.is_active
                    && matches!(o.state, EpState::SynSent | EpState::SynAckSent)
                    && r.state == EpState::Inactive
                {
                    self.remove(s);
                }
            }
            TimerKind::Expire => {
                if !c.tcp.is_active {
                    return;
                }
                if c.last + TCP_CONNECTION_LINGER < t.at {
                    if o.did_close || r.did_close {
                        let reset = o.state == EpState::Reset || r.state == EpState::Reset;
                        let inactive = o.state == EpState::Inactive || r.state == EpState::Inactive;
                        if (o.did_close && r.did_close) || reset || inactive {
                            self.remove(s);
                            return;
                        }
                    }
                    if r.state == EpState::Inactive && o.state == EpState::Inactive {
                        self.remove(s);
                        return;
                    }
                }
                self.add_timer(s, TimerKind::Expire, t.at + TCP_SESSION_TIMER);
            }
            TimerKind::Delete => self.remove(s),
            TimerKind::Inactivity => {
                if c.last + c.inactivity <= t.at {
                    self.remove(s);
                } else {
                    let at = c.last + c.inactivity;
                    self.add_timer(s, TimerKind::Inactivity, at);
                }
            }
        }
    }

    /// Log the connection and forget it.
    fn remove(&mut self, s: u32) {
        let Some(c) = self.slots[s as usize].conn.take() else {
            return;
        };
        self.index.remove(&c.key);
        self.free.push(s);
        let r = row(&c);
        match self.format {
            ZeekFormat::Tsv => tsv_row(&r, &mut self.out),
            ZeekFormat::Json => json_row(&r, &mut self.out),
        }
        self.rows += 1;
        if self.out.len() >= SPILL_AT && !self.spill_failed {
            self.spill_rows();
        }
        self.compact_timers();
    }

    fn spill_rows(&mut self) {
        if self.spill.is_none() {
            match tempfile::tempfile() {
                Ok(f) => self.spill = Some(f),
                Err(_) => {
                    // No temporary file: keep the rows in memory.
                    self.spill_failed = true;
                    return;
                }
            }
        }
        if let Some(f) = self.spill.as_mut() {
            if f.write_all(&self.out).is_ok() {
                self.out.clear();
            } else {
                self.spill_failed = true;
            }
        }
    }

    /// Drop timers of connections that are gone or were cancelled, once they
    /// outnumber the live connections several times (they would otherwise
    /// wait in the heap until their time, up to the 5-minute inactivity timeout).
    fn compact_timers(&mut self) {
        if self.timers.len() < 4 * self.index.len() + 4096 {
            return;
        }
        let slots = &self.slots;
        let live = |t: &Timer| {
            slots.get(t.slot as usize).is_some_and(|sl| {
                sl.gen == t.gen
                    && sl.conn.as_ref().is_some_and(|c| match t.kind {
                        TimerKind::Inactivity => t.epoch == c.inact_epoch,
                        _ => t.epoch == c.timer_epoch,
                    })
            })
        };
        let kept: Vec<Reverse<Timer>> = std::mem::take(&mut self.timers)
            .into_vec()
            .into_iter()
            .filter(|Reverse(t)| live(t))
            .collect();
        self.timers = BinaryHeap::from(kept);
    }

    /// End of input: every connection still held is logged (oldest first).
    pub fn finish(&mut self) {
        let mut held: Vec<u32> = self.index.values().copied().collect();
        held.sort_by_key(|&s| self.conn(s).map(|c| (c.start, c.uid)));
        for s in held {
            self.remove(s);
        }
        self.timers.clear();
    }

    /// Rows logged so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Finish and write the log in its format.
    pub fn write(&mut self, w: &mut dyn Write) -> io::Result<()> {
        self.finish();
        if self.format == ZeekFormat::Tsv {
            w.write_all(tsv_header().as_bytes())?;
        }
        if let Some(mut f) = self.spill.take() {
            use std::io::{Seek, SeekFrom};
            f.seek(SeekFrom::Start(0))?;
            io::copy(&mut f, w)?;
        }
        w.write_all(&self.out)?;
        self.out.clear();
        if self.format == ZeekFormat::Tsv {
            writeln!(w, "#close\t{}", zeek_time_now())?;
        }
        Ok(())
    }
}

fn row(c: &Conn) -> ConnRow {
    let o = c.tcp.orig;
    let r = 1 - o;
    let dur = c.last - c.start;
    ConnRow {
        ts: c.start,
        uid: uid(c),
        orig: c.key.side(o),
        resp: c.key.side(r),
        duration: (dur > 0).then_some(dur),
        orig_bytes: c.tcp.size(o),
        resp_bytes: c.tcp.size(r),
        conn_state: c.tcp.conn_state(),
        missed_bytes: c.tcp.missed_bytes(),
        history: c.tcp.history().to_string(),
        orig_pkts: c.pkts[o],
        orig_ip_bytes: c.ip_bytes[o],
        resp_pkts: c.pkts[r],
        resp_ip_bytes: c.ip_bytes[r],
    }
}

/// A Zeek-looking uid ("C" and base62 of 96 bits), deterministic per run:
/// Zeek's are random, so only their form can match.
fn uid(c: &Conn) -> String {
    let mut x = (c.uid as u128) << 64 | (c.start as u64 as u128);
    let mut h: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
    for _ in 0..3 {
        x ^= x >> 31;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9_94d0_49bb_1331_11eb);
        h ^= x;
    }
    let mut v = h & ((1u128 << 96) - 1);
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(18);
    while v > 0 {
        out.push(DIGITS[(v % 62) as usize]);
        v /= 62;
    }
    out.push(b'C');
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Zeek's `Site::private_address_space` (local when no `Site::local_nets` is set).
fn is_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            o[0] == 0
                || o[0] == 10
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 127
                || (o[0] == 169 && o[1] == 254)
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 192 && o[1] == 0 && o[2] == 2)
                || (o[0] == 192 && o[1] == 88 && o[2] == 99)
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
                || o[0] >= 240
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            v.is_unspecified()
                || v.is_loopback()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1)
        }
    }
}

const FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("ip_proto", "count"),
];

fn zeek_time_now() -> String {
    chrono::Local::now().format("%Y-%m-%d-%H-%M-%S").to_string()
}

fn secs(ns: i64) -> String {
    // Zeek prints times and intervals with 6 decimals.
    let neg = ns < 0;
    let us = (ns.unsigned_abs() + 500) / 1000;
    format!(
        "{}{}.{:06}",
        if neg { "-" } else { "" },
        us / 1_000_000,
        us % 1_000_000
    )
}

fn tf(b: bool) -> &'static str {
    if b {
        "T"
    } else {
        "F"
    }
}

/// Zeek's TSV header, up to `#types`.
fn tsv_header() -> String {
    let mut s = String::new();
    s.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n");
    let _ = writeln!(s, "#open\t{}", zeek_time_now());
    s.push_str("#fields");
    for (n, _) in FIELDS {
        s.push('\t');
        s.push_str(n);
    }
    s.push_str("\n#types");
    for (_, t) in FIELDS {
        s.push('\t');
        s.push_str(t);
    }
    s.push('\n');
    s
}

/// One TSV line, as Zeek's ASCII writer prints it.
fn tsv_row(r: &ConnRow, out: &mut Vec<u8>) {
    let (dur, ob, rb) = match r.duration {
        Some(d) => (secs(d), r.orig_bytes.to_string(), r.resp_bytes.to_string()),
        None => ("-".into(), "-".into(), "-".into()),
    };
    let hist = if r.history.is_empty() {
        "-"
    } else {
        r.history.as_str()
    };
    let _ = writeln!(
        out,
        "{}\t{}\t{}\t{}\t{}\t{}\ttcp\t-\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t-\t6",
        secs(r.ts),
        r.uid,
        r.orig.0,
        r.orig.1,
        r.resp.0,
        r.resp.1,
        dur,
        ob,
        rb,
        r.conn_state,
        tf(is_local(r.orig.0)),
        tf(is_local(r.resp.0)),
        r.missed_bytes,
        hist,
        r.orig_pkts,
        r.orig_ip_bytes,
        r.resp_pkts,
        r.resp_ip_bytes,
    );
}

/// A double as Zeek's JSON writer prints it (shortest form, `.0` when integral).
fn json_double(ns: i64) -> String {
    let v = ns as f64 / 1e9;
    // Zeek's times are microseconds in a double.
    let v = (v * 1e6).round() / 1e6;
    let s = format!("{v}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        s + ".0"
    }
}

/// One line of Zeek's JSON writer: an object, unset fields left out.
fn json_row(r: &ConnRow, out: &mut Vec<u8>) {
    let mut s = String::new();
    let _ = write!(
        s,
        "{{\"ts\":{},\"uid\":\"{}\",\"id.orig_h\":\"{}\",\"id.orig_p\":{},\"id.resp_h\":\"{}\",\"id.resp_p\":{},\"proto\":\"tcp\"",
        json_double(r.ts),
        r.uid,
        r.orig.0,
        r.orig.1,
        r.resp.0,
        r.resp.1
    );
    if let Some(d) = r.duration {
        let _ = write!(
            s,
            ",\"duration\":{},\"orig_bytes\":{},\"resp_bytes\":{}",
            json_double(d),
            r.orig_bytes,
            r.resp_bytes
        );
    }
    let _ = write!(
        s,
        ",\"conn_state\":\"{}\",\"local_orig\":{},\"local_resp\":{},\"missed_bytes\":{}",
        r.conn_state,
        is_local(r.orig.0),
        is_local(r.resp.0),
        r.missed_bytes
    );
    if !r.history.is_empty() {
        let _ = write!(s, ",\"history\":\"{}\"", r.history);
    }
    let _ = writeln!(
        s,
        ",\"orig_pkts\":{},\"orig_ip_bytes\":{},\"resp_pkts\":{},\"resp_ip_bytes\":{},\"ip_proto\":6}}",
        r.orig_pkts, r.orig_ip_bytes, r.resp_pkts, r.resp_ip_bytes
    );
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw IPv4 TCP segment (checksums left zero).
    fn segment(
        src: [u8; 4],
        sp: u16,
        dst: [u8; 4],
        dp: u16,
        seq: u32,
        ack: u32,
        flags: u8,
    ) -> Vec<u8> {
        let mut v = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        v.extend_from_slice(&src);
        v.extend_from_slice(&dst);
        v.extend_from_slice(&sp.to_be_bytes());
        v.extend_from_slice(&dp.to_be_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&ack.to_be_bytes());
        v.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        v
    }

    fn feed(log: &mut ConnLog, ts: i64, bytes: &[u8]) {
        let f = crate::decode::decode(
            crate::decode::LinkType::Raw,
            1,
            ts,
            bytes.len() as u32,
            bytes,
        );
        log.packet(&f, bytes);
    }

    fn lines(log: &mut ConnLog) -> Vec<String> {
        let mut out = Vec::new();
        log.write(&mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_syn_flood_stays_within_the_budget_and_every_syn_is_logged() {
        let mut log = ConnLog::new(ZeekFormat::Json, 100, false);
        for i in 0..20_000u32 {
            let src = [10, 1, (i >> 8) as u8, i as u8];
            feed(
                &mut log,
                i as i64 * 10_000,
                &segment(src, 1000, [10, 0, 0, 1], 80, i, 0, 0x02),
            );
            assert!(log.index.len() <= 100);
            assert!(log.timers.len() <= 4 * 100 + 4096 + 3);
        }
        assert!(log.evicted > 0);
        let rows = lines(&mut log);
        assert_eq!(rows.len(), 20_000);
        assert!(rows
            .iter()
            .all(|r| r.contains("\"conn_state\":\"S0\"") && r.contains("\"history\":\"S\"")));
    }

    #[test]
    fn connections_end_on_zeeks_timers() {
        let (c, s) = ([10, 0, 0, 2], [10, 0, 0, 1]);
        let mut log = ConnLog::new(ZeekFormat::Tsv, 10, false);
        // An unanswered SYN ends 5 s later: the next packet on the key is a new connection.
        feed(&mut log, 0, &segment(c, 1000, s, 80, 1, 0, 0x02));
        feed(&mut log, 6 * SEC, &segment(c, 1000, s, 80, 2, 0, 0x10));
        // A rejected attempt ends at once for a new SYN (IsReuse after a close).
        feed(&mut log, 7 * SEC, &segment(c, 2000, s, 80, 10, 0, 0x02));
        feed(
            &mut log,
            7 * SEC + 1000,
            &segment(s, 80, c, 2000, 0, 11, 0x14),
        );
        feed(
            &mut log,
            7 * SEC + 2000,
            &segment(c, 2000, s, 80, 10, 0, 0x02),
        );
        let rows = lines(&mut log);
        let body: Vec<Vec<&str>> = rows
            .iter()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect())
            .collect();
        let summary: Vec<(&str, &str, &str)> = body.iter().map(|r| (r[3], r[11], r[15])).collect();
        assert_eq!(
            summary,
            vec![
                ("1000", "S0", "S"),
                ("2000", "REJ", "Sr"),
                ("1000", "OTH", "A"),
                ("2000", "S0", "S")
            ]
        );
    }

    #[test]
    fn likely_server_ports_are_sorted() {
        assert!(LIKELY_SERVER_PORTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn times_and_uids_look_like_zeeks() {
        assert_eq!(secs(1_550_793_000), "1.550793");
        assert_eq!(secs(920_000), "0.000920");
        assert_eq!(json_double(1_000_000_000), "1.0");
        assert_eq!(json_double(61_329_000), "0.061329");
        let c = Conn {
            key: Key::of(
                (IpAddr::from([1, 1, 1, 1]), 1),
                (IpAddr::from([2, 2, 2, 2]), 2),
            )
            .0,
            start: 5,
            last: 5,
            seen: 5,
            tcp: TcpConn::new(0),
            pkts: [0; 2],
            ip_bytes: [0; 2],
            inactivity: 0,
            timer_epoch: 0,
            inact_epoch: 0,
            uid: 1,
        };
        let u = uid(&c);
        assert!(u.starts_with('C') && (10..=18).contains(&u.len()), "{u}");
        assert!(is_local(IpAddr::from([192, 168, 1, 2])) && !is_local(IpAddr::from([8, 8, 8, 8])));
    }
}
