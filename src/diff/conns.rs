//! Connections and their verdicts: which handshake packets were lost on
//! which leg and which retransmission got through, how long each side
//! waited, losses and one-way delays each way.
//!
//! Connections are numbered by their first packet, as the truth files do: a
//! packet belongs to the conversation of its addresses and ports (A's view;
//! B's when A never saw the flow), and a client SYN with another initial
//! sequence number starts a new connection.

use super::matching::{Diff, NONE, NO_OWD};
use super::{flag_letters, human, Capture, Endpoint, Side};
use crate::decode::tcp::flags as fl;
use rustc_hash::FxHashMap;

/// How the handshake ended, as the truth files name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HsResult {
    /// A SYN-ACK reached the client.
    Established,
    /// A refusal RST reached the client.
    Refused,
    /// The server answered, and no answer reached the client.
    HalfOpen,
    /// No SYN-ACK or refusal was sent (or the connection had no SYN).
    NoAnswer,
}

impl HsResult {
    pub fn name(self) -> &'static str {
        match self {
            HsResult::Established => "established",
            HsResult::Refused => "refused",
            HsResult::HalfOpen => "half-open",
            HsResult::NoAnswer => "no-answer",
        }
    }
}

/// One direction of a connection (c2s or s2c).
#[derive(Clone, Debug, Default)]
pub struct DirStats {
    pub sent: u32,
    pub lost: u32,
    pub dup: u32,
    pub reordered: u32,
    /// Seen at the receiver only (a capture drop at the sender's point).
    pub unseen: u32,
    /// Sorted one-way delays of the delivered packets (first copy), ns.
    pub owds: Vec<i64>,
    /// Lost packets: frame number at the sender's point and flags.
    pub lost_frames: Vec<(u32, u16)>,
}

impl DirStats {
    /// Nearest-rank percentile of the one-way delay.
    pub fn pct(&self, p: f64) -> Option<i64> {
        percentile(&self.owds, p)
    }
    pub fn median(&self) -> Option<i64> {
        // The upper median, as Python's statistics.median for odd counts; mean of the two otherwise.
        let n = self.owds.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(self.owds[n / 2]),
            _ => Some((self.owds[n / 2 - 1] + self.owds[n / 2]) / 2),
        }
    }
    pub fn lost_list(&self) -> String {
        if self.lost_frames.is_empty() {
            return "-".into();
        }
        let v: Vec<String> = self
            .lost_frames
            .iter()
            .map(|&(f, flags)| format!("{f}{}", flag_letters(flags)))
            .collect();
        v.join(",")
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// One connection seen by the diff.
#[derive(Clone, Debug)]
pub struct Conn {
    pub id: u32,
    pub v4: bool,
    /// As A saw them (as B saw them when A never saw the connection).
    pub client: Endpoint,
    pub server: Endpoint,
    /// As B saw them, when that differs (a NAT between the points).
    pub nat: Option<(Endpoint, Endpoint)>,
    /// The client sends from A's point: client to server is A→B.
    pub client_at_a: bool,
    pub isn: Option<u32>,
    /// First packet, in A's clock.
    pub start: i64,
    /// Rows at the sender's point (and rows seen only at the receiver), in send order.
    pub pkts: Vec<(Side, u32)>,
    pub result: HsResult,
    /// The handshake in truth.tsv's words: `SYN#1 lost c2s; SYN#2 delivered; ...`.
    pub handshake: String,
    pub syn_sent: u32,
    pub syn_lost: u32,
    pub synack_sent: u32,
    pub synack_lost: u32,
    /// The first SYN and SYN-ACK that got through (1-based), if any.
    pub syn_through: Option<u32>,
    /// Refusal RSTs lost on the way back.
    pub rst_lost: u32,
    pub synack_through: Option<u32>,
    /// The handshake ACK: None when not sent, Some(lost).
    pub hs_ack_lost: Option<bool>,
    /// At the client's point: first SYN sent to the first SYN-ACK (or refusal) received.
    pub client_wait: Option<i64>,
    /// At the server's point: first SYN-ACK sent to the first packet acknowledging it received.
    pub server_wait: Option<i64>,
    /// At the server's point: the SYN's arrival to the first SYN-ACK.
    pub server_answer: Option<i64>,
    /// Client to server, server to client.
    pub dirs: [DirStats; 2],
    /// The verdict in plain words.
    pub verdict: String,
    /// Anything lost, duplicated, reordered, missed by a capture, slow or not established.
    pub problem: bool,
}

impl Conn {
    /// `c2s` or `s2c` with the legs, e.g. `c2s (a→b)`.
    pub fn leg(&self, c2s: bool) -> &'static str {
        match (c2s, self.client_at_a) {
            (true, true) => "c2s (a→b)",
            (true, false) => "c2s (b→a)",
            (false, true) => "s2c (b→a)",
            (false, false) => "s2c (a→b)",
        }
    }
}

/// A row with its times: `(side, index, time at its own point, time in A's clock)`.
struct Ev {
    side: Side,
    i: u32,
    tc: i64,
}

fn cap<'c>(a: &'c Capture, b: &'c Capture, s: Side) -> &'c Capture {
    match s {
        Side::A => a,
        Side::B => b,
    }
}

/// Group the rows into connections and judge each one.
pub fn build(a: &Capture, b: &Capture, d: &mut Diff) {
    let theta = d.clock.offset_ns;
    let map_ba = std::mem::take(&mut d.map_ba);
    // The conversation of a packet in A's terms (B's when A never saw the flow).
    let akey = |side: Side, p: &super::Pkt| -> super::FlowKey {
        match side {
            Side::A => a.flow_of(p),
            Side::B => match map_ba.get(p.flow as usize).copied() {
                Some(fa) if fa != NONE => a.flows[fa as usize],
                _ => b.flow_of(p),
            },
        }
    };
    let mut evs: Vec<Ev> = Vec::new();
    for (side, c, rows) in [(Side::A, a, &d.a), (Side::B, b, &d.b)] {
        for (i, (p, r)) in c.pkts.iter().zip(rows.iter()).enumerate() {
            if r.sender || r.peer == NONE {
                let tc = match side {
                    Side::A => p.ts,
                    Side::B => p.ts.saturating_sub(theta),
                };
                evs.push(Ev {
                    side,
                    i: i as u32,
                    tc,
                });
            }
        }
    }
    evs.sort_by_key(|e| (e.tc, e.side, e.i));
    let mut conns: Vec<Conn> = Vec::new();
    let mut current: FxHashMap<(Endpoint, Endpoint), u32> = FxHashMap::default();
    for e in &evs {
        let c = cap(a, b, e.side);
        let p = &c.pkts[e.i as usize];
        let row = d.rows(e.side)[e.i as usize];
        let k = akey(e.side, p);
        let tup = if k.src <= k.dst {
            (k.src, k.dst)
        } else {
            (k.dst, k.src)
        };
        let pure_syn = p.flags & (fl::SYN | fl::ACK | fl::RST) == fl::SYN;
        let ci = match current.get(&tup).copied() {
            Some(ci)
                if !(pure_syn
                    && conns[ci as usize].client == k.src
                    && conns[ci as usize].isn.is_some_and(|x| x != p.seq)) =>
            {
                let cn = &mut conns[ci as usize];
                if pure_syn && cn.isn.is_none() {
                    cn.isn = Some(p.seq);
                    cn.client = k.src;
                    cn.server = k.dst;
                    cn.client_at_a = row.dir_ab;
                }
                ci
            }
            _ => {
                // A new connection: the SYN's sender is the client; without a SYN,
                // the SYN-ACK's receiver, else the endpoint at A's point.
                let client_is_src = if pure_syn {
                    true
                } else if p.flags & (fl::SYN | fl::ACK) == fl::SYN | fl::ACK {
                    false
                } else {
                    row.dir_ab
                };
                let (client, server) = if client_is_src {
                    (k.src, k.dst)
                } else {
                    (k.dst, k.src)
                };
                let ci = conns.len() as u32;
                conns.push(Conn {
                    id: ci,
                    v4: p.v4,
                    client,
                    server,
                    nat: None,
                    client_at_a: if client_is_src {
                        row.dir_ab
                    } else {
                        !row.dir_ab
                    },
                    isn: pure_syn.then_some(p.seq),
                    start: e.tc,
                    pkts: Vec::new(),
                    result: HsResult::NoAnswer,
                    handshake: String::new(),
                    syn_sent: 0,
                    syn_lost: 0,
                    synack_sent: 0,
                    synack_lost: 0,
                    syn_through: None,
                    rst_lost: 0,
                    synack_through: None,
                    hs_ack_lost: None,
                    client_wait: None,
                    server_wait: None,
                    server_answer: None,
                    dirs: Default::default(),
                    verdict: String::new(),
                    problem: false,
                });
                current.insert(tup, ci);
                ci
            }
        };
        conns[ci as usize].pkts.push((e.side, e.i));
        set_conn(d, e.side, e.i, ci);
    }
    // B's view of each connection, when a NAT rewrote it.
    for cn in &mut conns {
        for &(side, i) in cn.pkts.iter().take(4) {
            let r = d.rows(side)[i as usize];
            let (bside_pkt, is_b) = match side {
                Side::B => (Some(&b.pkts[i as usize]), true),
                Side::A if r.peer != NONE => (b.pkts.get(r.peer as usize), true),
                Side::A => (None, false),
            };
            if let (Some(pb), true) = (bside_pkt, is_b) {
                let kb = b.flow_of(pb);
                let ka = akey(Side::B, pb);
                if ka != kb {
                    let (c, s) = if ka.src == cn.client {
                        (kb.src, kb.dst)
                    } else {
                        (kb.dst, kb.src)
                    };
                    cn.nat = Some((c, s));
                }
                break;
            }
        }
    }
    d.map_ba = map_ba;
    for cn in &conns {
        mark_reordered(a, b, d, cn);
    }
    for cn in &mut conns {
        judge(a, b, d, cn);
    }
    d.conns = conns;
}

/// A packet sent earlier in the same direction arrived after this one
/// (arrival times compared at the receiver's point, in its clock).
fn mark_reordered(a: &Capture, b: &Capture, d: &mut Diff, cn: &Conn) {
    let mut latest: [Option<i64>; 2] = [None, None];
    let mut marks = Vec::new();
    for &(side, i) in &cn.pkts {
        let r = d.rows(side)[i as usize];
        if !r.sender || r.peer == NONE {
            continue;
        }
        let Some(q) = cap(a, b, side.other()).pkts.get(r.peer as usize) else {
            continue;
        };
        let k = if r.dir_ab { 0 } else { 1 };
        if latest[k].is_some_and(|l| q.ts < l) {
            marks.push((side, i, r.peer));
        }
        latest[k] = Some(latest[k].map_or(q.ts, |l| l.max(q.ts)));
    }
    for (side, i, peer) in marks {
        if let Some(r) = d.rows_mut(side).get_mut(i as usize) {
            r.reordered = true;
        }
        if let Some(r) = d.rows_mut(side.other()).get_mut(peer as usize) {
            r.reordered = true;
        }
    }
}

fn set_conn(d: &mut Diff, side: Side, i: u32, ci: u32) {
    let (rows, other) = match side {
        Side::A => (&mut d.a, &mut d.b),
        Side::B => (&mut d.b, &mut d.a),
    };
    let Some(r) = rows.get_mut(i as usize) else {
        return;
    };
    r.conn = ci;
    let (peer, copies) = (r.peer, r.copies);
    if !r.sender || peer == NONE {
        return;
    }
    if copies > 1 {
        if let Some(all) = d.copies.get(&(side, i)) {
            for &j in all {
                if let Some(o) = other.get_mut(j as usize) {
                    o.conn = ci;
                }
            }
            return;
        }
    }
    if let Some(o) = other.get_mut(peer as usize) {
        o.conn = ci;
    }
}

/// A handshake packet with what the ordering needs.
struct HsEv {
    name: &'static str,
    c2s: bool,
    /// Sent, at the sender's point in its own clock, and in A's clock.
    sent_own: i64,
    sent_a: i64,
    /// First arrival at the receiver's point, in its own clock.
    arrived_own: Option<i64>,
    fate: &'static str,
    lost: bool,
}

/// Does `x` come before `y`? Exact when one arrived before the other was sent
/// (compared in one clock); otherwise by the estimated common clock.
fn before(x: &HsEv, y: &HsEv) -> bool {
    if x.c2s != y.c2s {
        if let Some(r) = x.arrived_own {
            if r <= y.sent_own {
                return true;
            }
        }
        if let Some(r) = y.arrived_own {
            if r <= x.sent_own {
                return false;
            }
        }
    }
    x.sent_a < y.sent_a
}

fn judge(a: &Capture, b: &Capture, d: &Diff, cn: &mut Conn) {
    let theta = d.clock.offset_ns;
    let (cs, ss) = if cn.client_at_a {
        (Side::A, Side::B)
    } else {
        (Side::B, Side::A)
    };
    let mut syns = Vec::new();
    let mut synacks = Vec::new();
    let mut rsts = Vec::new();
    // The first sender's row of each kind, and every row.
    for &(side, i) in &cn.pkts {
        let c = cap(a, b, side);
        let p = &c.pkts[i as usize];
        let r = d.rows(side)[i as usize];
        let k = match side {
            Side::A => a.flow_of(p),
            Side::B => match d.map_ba.get(p.flow as usize).copied() {
                Some(fa) if fa != NONE => a.flows[fa as usize],
                _ => b.flow_of(p),
            },
        };
        let c2s = k.src == cn.client && k.dst == cn.server;
        let ds = &mut cn.dirs[if c2s { 0 } else { 1 }];
        if r.sender {
            ds.sent += 1;
            if r.copies == 0 {
                ds.lost += 1;
                ds.lost_frames.push((p.frame, p.flags));
            }
            if r.copies > 1 {
                ds.dup += 1;
            }
            if r.reordered {
                ds.reordered += 1;
            }
            if r.owd != NO_OWD {
                ds.owds.push(r.owd);
            }
        } else {
            ds.unseen += 1;
        }
        let arrived_own = if r.sender && r.peer != NONE {
            cap(a, b, side.other())
                .pkts
                .get(r.peer as usize)
                .map(|q| q.ts)
        } else if !r.sender {
            Some(p.ts)
        } else {
            None
        };
        let ev = HsEv {
            name: "",
            c2s,
            sent_own: p.ts,
            sent_a: match side {
                Side::A => p.ts,
                Side::B => p.ts.saturating_sub(theta),
            },
            arrived_own,
            fate: if r.sender && r.copies == 0 {
                if c2s {
                    "lost c2s"
                } else {
                    "lost s2c"
                }
            } else if r.copies > 1 {
                "delivered twice"
            } else {
                "delivered"
            },
            lost: r.sender && r.copies == 0,
        };
        let f = p.flags;
        if c2s && f & (fl::SYN | fl::ACK | fl::RST) == fl::SYN {
            syns.push((ev, p.seq));
        } else if !c2s && f & (fl::SYN | fl::ACK) == fl::SYN | fl::ACK {
            synacks.push((ev, p.seq));
        } else if !c2s && f & fl::RST != 0 {
            rsts.push((ev, p.ack));
        }
    }
    for ds in &mut cn.dirs {
        ds.owds.sort_unstable();
    }
    let isn = cn.isn;
    let refusals: Vec<HsEv> = if synacks.is_empty() {
        rsts.into_iter()
            .filter(|(_, ack)| isn.is_some_and(|x| *ack == x.wrapping_add(1)))
            .map(|(e, _)| HsEv { name: "RST", ..e })
            .collect()
    } else {
        Vec::new()
    };
    let server_isn = synacks.first().map(|(_, s)| *s);
    cn.rst_lost = refusals.iter().filter(|e| e.lost).count() as u32;
    cn.syn_sent = syns.len() as u32;
    cn.syn_lost = syns.iter().filter(|(e, _)| e.lost).count() as u32;
    cn.synack_sent = synacks.len() as u32;
    cn.synack_lost = synacks.iter().filter(|(e, _)| e.lost).count() as u32;
    let mut evs: Vec<HsEv> = Vec::new();
    let syn_delivered = syns.iter().any(|(e, _)| !e.lost);
    let first_syn = syns.first().map(|(e, _)| (e.sent_own, e.arrived_own));
    let first_synack = synacks.first().map(|(e, _)| e.sent_own);
    let synack_arrival = synacks.iter().filter_map(|(e, _)| e.arrived_own).min();
    let refusal_arrival = refusals.iter().filter_map(|e| e.arrived_own).min();
    let syn_arrivals: Vec<i64> = syns.iter().filter_map(|(e, _)| e.arrived_own).collect();
    evs.extend(syns.into_iter().map(|(e, _)| HsEv { name: "SYN", ..e }));
    evs.extend(synacks.into_iter().map(|(e, _)| HsEv {
        name: "SYN-ACK",
        ..e
    }));
    evs.extend(refusals);
    // Insertion sort: `before` is exact where it can be, so it need not be a total order.
    let mut sorted: Vec<HsEv> = Vec::with_capacity(evs.len());
    for e in evs {
        let pos = sorted
            .iter()
            .position(|s| before(&e, s))
            .unwrap_or(sorted.len());
        sorted.insert(pos, e);
    }
    let mut n_syn = 0;
    let mut n_sa = 0;
    let mut n_rst = 0;
    let mut parts = Vec::new();
    for e in &sorted {
        let n = match e.name {
            "SYN" => {
                n_syn += 1;
                n_syn
            }
            "SYN-ACK" => {
                n_sa += 1;
                n_sa
            }
            _ => {
                n_rst += 1;
                n_rst
            }
        };
        if !e.lost {
            match e.name {
                "SYN" => {
                    cn.syn_through.get_or_insert(n);
                }
                "SYN-ACK" => {
                    cn.synack_through.get_or_insert(n);
                }
                _ => {}
            }
        }
        parts.push(format!("{}#{n} {}", e.name, e.fate));
    }
    // The handshake ACK and the first packet acknowledging the SYN-ACK at the server.
    let mut hs_ack: Option<(&'static str, bool)> = None;
    let mut acked_at_server: Option<i64> = None;
    if let Some(sisn) = server_isn {
        let want = sisn.wrapping_add(1);
        for &(side, i) in &cn.pkts {
            let p = &cap(a, b, side).pkts[i as usize];
            let r = d.rows(side)[i as usize];
            let c2s = (side == cs) == r.sender;
            if !c2s || p.flags & fl::SYN != 0 || p.flags & fl::ACK == 0 || p.ack != want {
                continue;
            }
            let arrival = if side == ss {
                Some(p.ts)
            } else if r.peer != NONE {
                cap(a, b, ss).pkts.get(r.peer as usize).map(|q| q.ts)
            } else {
                None
            };
            if let Some(t) = arrival {
                acked_at_server = Some(acked_at_server.map_or(t, |x| x.min(t)));
            }
            if hs_ack.is_none()
                && p.flags & (fl::SYN | fl::ACK | fl::RST | fl::FIN) == fl::ACK
                && p.len == 0
            {
                let fate = if r.sender && r.copies == 0 {
                    "lost c2s"
                } else if r.copies > 1 {
                    "delivered twice"
                } else {
                    "delivered"
                };
                hs_ack = Some((fate, r.sender && r.copies == 0));
            }
        }
    }
    if let Some((fate, lost)) = hs_ack {
        parts.push(format!("ACK {fate}"));
        cn.hs_ack_lost = Some(lost);
    }
    cn.handshake = if parts.is_empty() {
        "-".into()
    } else {
        parts.join("; ")
    };
    cn.result = if synack_arrival.is_some() {
        HsResult::Established
    } else if refusal_arrival.is_some() {
        HsResult::Refused
    } else if cn.synack_sent > 0 {
        HsResult::HalfOpen
    } else {
        HsResult::NoAnswer
    };
    // Times, each at one point in that point's clock.
    if let Some((syn_sent, _)) = first_syn {
        let answer = synack_arrival.or(refusal_arrival);
        cn.client_wait = answer.map(|t| t.saturating_sub(syn_sent));
    }
    if let (Some(sa), Some(ack)) = (first_synack, acked_at_server) {
        cn.server_wait = Some(ack.saturating_sub(sa));
    }
    if let Some(sa) = first_synack {
        cn.server_answer = syn_arrivals
            .iter()
            .copied()
            .filter(|&t| t <= sa)
            .max()
            .map(|t| sa.saturating_sub(t));
    }
    let _ = syn_delivered;
    cn.verdict = words(cn);
    let [c2s, s2c] = &cn.dirs;
    cn.problem = cn.result != HsResult::Established && cn.syn_sent > 0
        || cn.syn_lost + cn.synack_lost + cn.rst_lost > 0
        || cn.hs_ack_lost == Some(true)
        || c2s.lost + s2c.lost + c2s.dup + s2c.dup + c2s.reordered + s2c.reordered > 0
        || c2s.unseen + s2c.unseen > 0
        || slow_server(cn);
}

/// The server took long to answer a SYN that reached it: over 200 ms.
fn slow_server(cn: &Conn) -> bool {
    cn.server_answer.is_some_and(|t| t > 200_000_000)
}

/// The verdict in plain words.
fn words(cn: &Conn) -> String {
    let (up, down) = (cn.leg(true), cn.leg(false));
    let mut v: Vec<String> = Vec::new();
    let [c2s, s2c] = &cn.dirs;
    let nth = |n: u32| match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    };
    match cn.result {
        HsResult::Established => {}
        HsResult::Refused => v.push("refused: the server answered with a RST".into()),
        HsResult::HalfOpen => v.push(format!(
            "never established: the server answered {} but every SYN-ACK was lost on the way back ({down})",
            nth(cn.synack_sent)
        )),
        HsResult::NoAnswer if cn.syn_sent > 0 && cn.syn_lost == cn.syn_sent => v.push(format!(
            "never established: every SYN ({}) was lost on the way to the server ({up})",
            cn.syn_sent
        )),
        HsResult::NoAnswer if cn.syn_sent > 0 => v.push(
            "never established: the server got a SYN and never answered".to_string(),
        ),
        HsResult::NoAnswer => v.push("no handshake seen (the connection started before the captures)".into()),
    }
    // What made the handshake slow, if anything.
    let mut why: Vec<String> = Vec::new();
    if cn.syn_lost > 0 && cn.syn_lost < cn.syn_sent {
        let through = cn
            .syn_through
            .map(|k| format!("; SYN#{k} got through"))
            .unwrap_or_default();
        why.push(format!(
            "the SYN was lost {} on the way to the server ({up}){through}",
            nth(cn.syn_lost)
        ));
    }
    if cn.synack_lost > 0 && cn.result == HsResult::Established {
        let through = cn
            .synack_through
            .map(|k| format!("; SYN-ACK#{k} got through"))
            .unwrap_or_default();
        why.push(format!(
            "the SYN-ACK was lost {} on the way back ({down}){through}",
            nth(cn.synack_lost)
        ));
    }
    if cn.rst_lost > 0 && cn.result == HsResult::Refused {
        why.push(format!(
            "the refusal (RST) was lost {} on the way back ({down})",
            nth(cn.rst_lost)
        ));
    }
    if slow_server(cn) {
        if let Some(t) = cn.server_answer {
            why.push(format!(
                "the server was slow: it answered the SYN after {}",
                human(t)
            ));
        }
    }
    match cn.client_wait {
        Some(t) if t > 200_000_000 && !why.is_empty() => v.push(format!(
            "slow connect ({} at the client): {}",
            human(t),
            why.join(", and ")
        )),
        Some(t) if t > 200_000_000 => v.push(format!(
            "slow connect ({} at the client) with nothing lost: a slow path",
            human(t)
        )),
        Some(t) => {
            v.extend(why);
            v.push(format!("connect took {} at the client", human(t)));
        }
        None => v.extend(why),
    }
    if cn.hs_ack_lost == Some(true) {
        let w = cn
            .server_wait
            .map(|t| format!(" (the server waited {} for an acknowledgement)", human(t)))
            .unwrap_or_default();
        v.push(format!("the handshake ACK was lost ({up}){w}"));
    } else if let Some(w) = cn.server_wait {
        v.push(format!("the server waited {} for the ACK", human(w)));
    }
    for (ds, leg) in [(c2s, up), (s2c, down)] {
        let mut bits = Vec::new();
        if ds.lost > 0 {
            bits.push(format!("{} of {} lost", ds.lost, ds.sent));
        }
        if ds.dup > 0 {
            bits.push(format!("{} duplicated", ds.dup));
        }
        if ds.reordered > 0 {
            bits.push(format!("{} reordered", ds.reordered));
        }
        if ds.unseen > 0 {
            bits.push(format!(
                "{} seen only at the receiver (capture drops at the sender's point, not losses)",
                ds.unseen
            ));
        }
        if !bits.is_empty() {
            v.push(format!("{leg}: {}", bits.join(", ")));
        }
    }
    if v.is_empty() {
        "ok".into()
    } else {
        v.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(c2s: bool, sent_own: i64, sent_a: i64, arrived_own: Option<i64>) -> HsEv {
        HsEv {
            name: "",
            c2s,
            sent_own,
            sent_a,
            arrived_own,
            fate: "delivered",
            lost: arrived_own.is_none(),
        }
    }

    #[test]
    fn order_is_exact_where_one_arrived_before_the_other_left() {
        // A SYN that reached the server (its clock) before the SYN-ACK left comes
        // first, whatever the estimated common clock says.
        let syn = ev(true, 0, 10, Some(500));
        let synack = ev(false, 600, 5, Some(900));
        assert!(before(&syn, &synack));
        assert!(!before(&synack, &syn));
        // A SYN-ACK that reached the client before the SYN left comes first.
        let syn2 = ev(true, 1_000, 1_000, None);
        let synack2 = ev(false, 10, 2_000, Some(950));
        assert!(before(&synack2, &syn2));
        // Otherwise the estimate decides.
        let a = ev(true, 0, 100, None);
        let b = ev(false, 0, 200, None);
        assert!(before(&a, &b) && !before(&b, &a));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&v, 50.0), Some(5));
        assert_eq!(percentile(&v, 90.0), Some(9));
        assert_eq!(percentile(&v, 100.0), Some(10));
        assert_eq!(percentile(&[], 50.0), None);
        let d = DirStats {
            owds: vec![1, 3],
            lost_frames: vec![(7, fl::SYN), (9, fl::PSH | fl::ACK)],
            ..Default::default()
        };
        assert_eq!(d.median(), Some(2));
        assert_eq!(d.lost_list(), "7S,9PA");
    }
}
