//! Pair the packets of the two captures, find a NAT between them, decide
//! each flow's direction and estimate the clock offset.
//!
//! A packet is identified by what does not change in flight: raw seq and
//! ack, flags, payload length, window, TCP timestamps, SACK blocks, the
//! first payload bytes and (IPv4) the IP ID, plus its flow. The flow is compared through a map from A's flows to B's,
//! learnt from packets whose in-flight fields occur exactly once in each
//! capture, so a NAT that rewrites addresses and ports (and keeps sequence
//! numbers) does not stop the matching.
//!
//! Clock: for a packet going A→B, `t_B - t_A = θ + owd_ab`; going B→A,
//! `t_B - t_A = θ - owd_ba`, where θ is B's clock minus A's. Every one-way
//! delay is at least the path's minimum, so θ lies between the largest B→A
//! difference and the smallest A→B one. The estimate is their midpoint: it
//! assumes the minimum delay is the same each way, and it is off by half the
//! difference of the two minimum delays, at most half the minimum round trip.

use super::{Capture, Side};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

/// No packet.
pub const NONE: u32 = u32::MAX;
/// No one-way delay (the packet was not matched).
pub const NO_OWD: i64 = i64::MIN;

/// Matching settings.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// A copy arriving later than this after its sender's packet is not that packet.
    pub max_owd_ns: i64,
    /// B's clock minus A's, when known; otherwise estimated.
    pub offset_ns: Option<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_owd_ns: 500_000_000,
            offset_ns: None,
        }
    }
}

/// What the diff says about one packet of one capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PktDiff {
    /// Sender's row: its first copy in the other capture. Receiver's row: the
    /// sender's packet. An index into the other capture's packets, or NONE.
    pub peer: u32,
    /// Sender's row: how many copies arrived (0: lost). Receiver's row: which copy this is (1 = first).
    pub copies: u16,
    /// This row is at the sender's point (A for an A→B packet).
    pub sender: bool,
    /// The packet travels from A's point to B's.
    pub dir_ab: bool,
    /// A packet sent earlier in the same direction of the connection arrived after this one.
    pub reordered: bool,
    /// One-way delay with the clock offset removed (ns), or NO_OWD.
    pub owd: i64,
    /// Connection number (see `conns`).
    pub conn: u32,
}

impl Default for PktDiff {
    fn default() -> Self {
        PktDiff {
            peer: NONE,
            copies: 0,
            sender: true,
            dir_ab: true,
            reordered: false,
            owd: NO_OWD,
            conn: NONE,
        }
    }
}

impl PktDiff {
    /// Sent, and never seen at the other point.
    pub fn lost(&self) -> bool {
        self.sender && self.copies == 0
    }
    /// Seen at the receiver only: the sender's capture missed it (a capture
    /// drop at the sender's point, or a packet made on the way).
    pub fn unseen_at_sender(&self) -> bool {
        !self.sender && self.peer == NONE
    }
    /// Arrived more than once (sender's row), or is a second or later copy (receiver's row).
    pub fn duplicate(&self) -> bool {
        self.copies > 1
    }
}

/// The clock offset and how it was found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockEstimate {
    /// B's clock minus A's (ns).
    pub offset_ns: i64,
    /// Given on the command line rather than estimated.
    pub given: bool,
    /// The captures alone put the true offset within `offset_ns ± bound_ns`
    /// (half the minimum round trip); None with only one direction seen.
    pub bound_ns: Option<i64>,
    /// Packets with unique fields matched, per direction (A→B, B→A).
    pub pairs_ab: u64,
    pub pairs_ba: u64,
    /// Smallest `t_B - t_A` going A→B and largest going B→A (ns).
    pub min_d_ab: Option<i64>,
    pub max_d_ba: Option<i64>,
}

/// A NAT seen between the points.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nat {
    /// Flows matched between the captures, and those among them whose addresses or ports differ.
    pub flows_matched: u32,
    pub flows_rewritten: u32,
    /// One rewritten flow, as A and as B saw it.
    pub example: Option<(super::FlowKey, super::FlowKey)>,
}

/// The result of matching two captures.
pub struct Diff {
    /// Per packet of A and of B (same indices as `Capture::pkts`).
    pub a: Vec<PktDiff>,
    pub b: Vec<PktDiff>,
    /// Sender's rows that arrived more than once: every copy, in order.
    pub copies: FxHashMap<(Side, u32), Vec<u32>>,
    pub clock: ClockEstimate,
    pub nat: Nat,
    /// A's flow -> B's flow and back (NONE: not seen there).
    pub map_ab: Vec<u32>,
    pub map_ba: Vec<u32>,
    pub conns: Vec<super::Conn>,
    /// Median one-way delay per direction (A→B, B→A), ns.
    pub median_owd: [Option<i64>; 2],
    /// IPv4 IDs did not survive the path (rewritten on the way): matched without them.
    pub ipid_ignored: bool,
}

impl Diff {
    pub fn rows(&self, side: Side) -> &[PktDiff] {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }
    /// Frame numbers of the same packet in the other capture (every copy, for a sender's row).
    pub fn peer_frames(&self, a: &Capture, b: &Capture, side: Side, i: u32) -> Vec<u64> {
        let other = match side {
            Side::A => b,
            Side::B => a,
        };
        let frame = |j: u32| other.pkts.get(j as usize).map(|p| p.frame as u64);
        let Some(d) = self.rows(side).get(i as usize) else {
            return Vec::new();
        };
        if d.sender && d.copies > 1 {
            if let Some(all) = self.copies.get(&(side, i)) {
                return all.iter().filter_map(|&j| frame(j)).collect();
            }
        }
        frame(d.peer).into_iter().collect()
    }
}

/// The in-flight fields of a packet (no addresses, no ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct InFlight {
    seq: u32,
    ack: u32,
    len: u32,
    tsval: u32,
    tsecr: u32,
    flags: u16,
    win: u16,
    ipid: u16,
    has_ts: bool,
    v4: bool,
    content: u32,
}

fn in_flight(p: &super::Pkt, ipid: bool) -> InFlight {
    InFlight {
        seq: p.seq,
        ack: p.ack,
        len: p.len,
        tsval: p.tsval,
        tsecr: p.tsecr,
        flags: p.flags,
        win: p.win,
        ipid: if ipid { p.ipid } else { 0 },
        has_ts: p.has_ts,
        v4: p.v4,
        content: p.content,
    }
}

/// Bit set on a group flow id of an A flow that has no B flow.
const A_ONLY: u32 = 1 << 31;

fn median(v: &mut [i64]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// Match A's packets with B's.
pub fn diff(a: &Capture, b: &Capture, opts: &Options) -> Diff {
    let d = diff_with(a, b, opts, true);
    // IPv4 packets that hardly match: something on the way rewrote the IP ID
    // (some NATs do). Match again without it, and keep what matches more.
    let matched = |d: &Diff| d.a.iter().filter(|r| r.peer != NONE).count();
    let v4 = a.pkts.iter().filter(|p| p.v4).count();
    let m = matched(&d);
    if v4 > 0 && m * 2 < a.pkts.len().min(b.pkts.len()) {
        let mut d2 = diff_with(a, b, opts, false);
        if matched(&d2) > m.saturating_mul(2) + 10 {
            d2.ipid_ignored = true;
            return d2;
        }
    }
    d
}

fn diff_with(a: &Capture, b: &Capture, opts: &Options, ipid: bool) -> Diff {
    let (map_ab, map_ba, nat) = map_flows(a, b, ipid);
    let (order, groups, unique) = group(a, b, &map_ab, ipid);
    let (dir_a, dir_b, clock) = directions(a, b, &map_ab, &map_ba, &unique, opts);
    let mut d = Diff {
        a: vec![PktDiff::default(); a.pkts.len()],
        b: vec![PktDiff::default(); b.pkts.len()],
        copies: FxHashMap::default(),
        clock,
        nat,
        map_ab,
        map_ba,
        conns: Vec::new(),
        median_owd: [None, None],
        ipid_ignored: false,
    };
    // Median delay of each direction, from the packets with unique fields.
    let theta = clock.offset_ns;
    let (mut ab, mut ba) = (Vec::new(), Vec::new());
    for &(ia, ib) in &unique {
        let (pa, pb) = (&a.pkts[ia as usize], &b.pkts[ib as usize]);
        let dt = pb.ts.saturating_sub(pa.ts);
        match dir_a[pa.flow as usize] {
            Some(true) => ab.push(dt.saturating_sub(theta)),
            Some(false) => ba.push(theta.saturating_sub(dt)),
            None => {}
        }
    }
    d.median_owd = [median(&mut ab), median(&mut ba)];
    let mut s_list = Vec::new();
    let mut r_list = Vec::new();
    for &(lo, hi) in &groups {
        let g = &order[lo as usize..hi as usize];
        // A's packets come first in a group (sorted by side, then time).
        let split = g.partition_point(|&x| (x as usize) < a.pkts.len());
        let (ga, gb) = g.split_at(split);
        let gb: Vec<u32> = gb.iter().map(|&x| x - a.pkts.len() as u32).collect();
        let dir_ab = match (ga.first(), gb.first()) {
            (Some(&i), _) if dir_a[a.pkts[i as usize].flow as usize].is_some() => {
                dir_a[a.pkts[i as usize].flow as usize].unwrap_or(true)
            }
            (_, Some(&j)) if dir_b[b.pkts[j as usize].flow as usize].is_some() => {
                dir_b[b.pkts[j as usize].flow as usize].unwrap_or(false)
            }
            (Some(&i), Some(&j)) => {
                b.pkts[j as usize].ts.saturating_sub(a.pkts[i as usize].ts) > theta
            }
            // Seen at one point only: most likely sent from there and lost.
            (Some(_), None) => true,
            _ => false,
        };
        s_list.clear();
        r_list.clear();
        // Times in A's clock.
        let ta = |i: u32| a.pkts[i as usize].ts;
        let tb = |j: u32| b.pkts[j as usize].ts.saturating_sub(theta);
        if dir_ab {
            s_list.extend(ga.iter().map(|&i| (i, ta(i))));
            r_list.extend(gb.iter().map(|&j| (j, tb(j))));
        } else {
            s_list.extend(gb.iter().map(|&j| (j, tb(j))));
            r_list.extend(ga.iter().map(|&i| (i, ta(i))));
        }
        let (s_side, r_side) = if dir_ab {
            (Side::A, Side::B)
        } else {
            (Side::B, Side::A)
        };
        let med = d.median_owd[if dir_ab { 0 } else { 1 }].unwrap_or(0);
        let pairs = assign(&s_list, &r_list, opts.max_owd_ns, med);
        // Rows start as unmatched, with the right role and direction.
        for &(i, _) in &s_list {
            let row = &mut d.rows_mut(s_side)[i as usize];
            row.sender = true;
            row.dir_ab = dir_ab;
        }
        for &(j, _) in &r_list {
            let row = &mut d.rows_mut(r_side)[j as usize];
            row.sender = false;
            row.dir_ab = dir_ab;
        }
        for (si, ri) in pairs {
            let (s, ts) = s_list[si];
            let (r, tr) = r_list[ri];
            let owd = tr.saturating_sub(ts);
            let srow = &mut d.rows_mut(s_side)[s as usize];
            srow.copies = srow.copies.saturating_add(1);
            let n = srow.copies;
            if n == 1 {
                srow.peer = r;
                srow.owd = owd;
            } else {
                let first = srow.peer;
                let e = d.copies.entry((s_side, s)).or_default();
                if e.is_empty() {
                    e.push(first);
                }
                e.push(r);
            }
            let rrow = &mut d.rows_mut(r_side)[r as usize];
            rrow.peer = s;
            rrow.copies = n;
            rrow.owd = owd;
        }
    }
    super::conns::build(a, b, &mut d);
    d
}

impl Diff {
    pub(crate) fn rows_mut(&mut self, side: Side) -> &mut [PktDiff] {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }
}

/// Pair the sender's packets of one group of identical packets with the
/// receiver's copies (both lists in time order, times in one clock).
/// Returns (sender index, receiver index) pairs.
///
/// A copy fits a packet when it arrived after it was sent (1 ms of slack)
/// and within `max_owd`. With no more copies than packets, the pairing keeps
/// the order and has the delays closest to the direction's median `med`
/// (dynamic programming; the same rule as the truth's); with more copies
/// than packets (duplication), each copy goes to the earliest fitting packet
/// that has none yet, else the latest fitting one.
fn assign(s: &[(u32, i64)], r: &[(u32, i64)], max_owd: i64, med: i64) -> Vec<(usize, usize)> {
    const TOL: i64 = 1_000_000;
    let fits = |si: usize, ri: usize| {
        let (ts, tr) = (s[si].1, r[ri].1);
        tr.saturating_sub(max_owd) <= ts && ts <= tr.saturating_add(TOL)
    };
    let (n, m) = (s.len(), r.len());
    let mut out = Vec::new();
    if n == 0 || m == 0 {
        return out;
    }
    if n == 1 && m == 1 {
        if fits(0, 0) {
            out.push((0, 0));
        }
        return out;
    }
    if m <= n && n.saturating_mul(m) <= 4_000_000 {
        // f[i][j]: best cost pairing the first j copies with the first i packets.
        const INF: i64 = i64::MAX;
        let w = m + 1;
        let mut f = vec![INF; (n + 1) * w];
        for i in 0..=n {
            f[i * w] = 0;
        }
        for i in 1..=n {
            for j in 1..=m.min(i) {
                let mut best = f[(i - 1) * w + j];
                let prev = f[(i - 1) * w + j - 1];
                if prev != INF && fits(i - 1, j - 1) {
                    let c = prev.saturating_add(
                        r[j - 1]
                            .1
                            .saturating_sub(s[i - 1].1)
                            .saturating_sub(med)
                            .saturating_abs(),
                    );
                    if c < best {
                        best = c;
                    }
                }
                f[i * w + j] = best;
            }
        }
        if f[n * w + m] != INF {
            let (mut i, mut j) = (n, m);
            while j > 0 && i > 0 {
                if f[i * w + j] == f[(i - 1) * w + j] {
                    i -= 1;
                } else {
                    out.push((i - 1, j - 1));
                    i -= 1;
                    j -= 1;
                }
            }
            out.reverse();
            return out;
        }
    }
    // Greedy, in order: the packets that fit a copy form a window that only
    // moves forward, so this is O((n + m) log n) however large the group.
    let mut used = vec![false; n];
    let mut cur = 0;
    for (ri, &(_, tr)) in r.iter().enumerate() {
        let lo = s.partition_point(|x| x.1 < tr.saturating_sub(max_owd));
        let hi = s.partition_point(|x| x.1 <= tr.saturating_add(TOL));
        if lo >= hi {
            continue;
        }
        cur = cur.max(lo);
        while cur < hi && used[cur] {
            cur += 1;
        }
        let si = if cur < hi { cur } else { hi - 1 };
        used[si] = true;
        out.push((si, ri));
    }
    out
}

/// A's flows to B's flows, learnt from packets with unique in-flight fields;
/// then each mapped flow's reverse; then same-address flows.
fn map_flows(a: &Capture, b: &Capture, ipid: bool) -> (Vec<u32>, Vec<u32>, Nat) {
    let count = |c: &Capture| {
        let mut m: FxHashMap<InFlight, (u32, u32)> = FxHashMap::default();
        m.reserve(c.pkts.len());
        for (i, p) in c.pkts.iter().enumerate() {
            let e = m.entry(in_flight(p, ipid)).or_insert((0, i as u32));
            e.0 += 1;
        }
        m
    };
    let (ca, cb) = (count(a), count(b));
    let mut votes: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    for (k, &(n, i)) in &ca {
        if n != 1 {
            continue;
        }
        if let Some(&(1, j)) = cb.get(k) {
            *votes
                .entry((a.pkts[i as usize].flow, b.pkts[j as usize].flow))
                .or_default() += 1;
        }
    }
    drop((ca, cb));
    let mut best: Vec<(u32, u32)> = vec![(NONE, 0); a.flows.len()];
    let mut vs: Vec<_> = votes.into_iter().collect();
    vs.sort_unstable();
    for ((fa, fb), n) in vs {
        let e = &mut best[fa as usize];
        if n > e.1 {
            *e = (fb, n);
        }
    }
    let mut map_ab = vec![NONE; a.flows.len()];
    let mut map_ba = vec![NONE; b.flows.len()];
    let mut weight_ba = vec![0u32; b.flows.len()];
    for (fa, &(fb, n)) in best.iter().enumerate() {
        if fb != NONE && n > weight_ba[fb as usize] {
            if map_ba[fb as usize] != NONE {
                map_ab[map_ba[fb as usize] as usize] = NONE;
            }
            map_ba[fb as usize] = fa as u32;
            weight_ba[fb as usize] = n;
            map_ab[fa] = fb;
        }
    }
    let index = |c: &Capture| -> FxHashMap<super::FlowKey, u32> {
        c.flows
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect()
    };
    let (ia, ib) = (index(a), index(b));
    let link = |fa: u32, fb: u32, map_ab: &mut Vec<u32>, map_ba: &mut Vec<u32>| {
        if map_ab[fa as usize] == NONE && map_ba[fb as usize] == NONE {
            map_ab[fa as usize] = fb;
            map_ba[fb as usize] = fa;
        }
    };
    // The reverse of a mapped flow maps to the reverse of its image.
    for fa in 0..a.flows.len() as u32 {
        let fb = map_ab[fa as usize];
        if fb == NONE {
            continue;
        }
        let ra = ia.get(&a.flows[fa as usize].reversed());
        let rb = ib.get(&b.flows[fb as usize].reversed());
        if let (Some(&ra), Some(&rb)) = (ra, rb) {
            link(ra, rb, &mut map_ab, &mut map_ba);
        }
    }
    // Flows never matched on a unique packet: the same addresses and ports, if free.
    for (fa, k) in a.flows.iter().enumerate() {
        if let Some(&fb) = ib.get(k) {
            link(fa as u32, fb, &mut map_ab, &mut map_ba);
        }
    }
    let mut nat = Nat::default();
    for (fa, &fb) in map_ab.iter().enumerate() {
        if fb == NONE {
            continue;
        }
        nat.flows_matched += 1;
        let (ka, kb) = (a.flows[fa], b.flows[fb as usize]);
        if ka != kb {
            nat.flows_rewritten += 1;
            nat.example.get_or_insert((ka, kb));
        }
    }
    (map_ab, map_ba, nat)
}

type Groups = (Vec<u32>, Vec<(u32, u32)>, Vec<(u32, u32)>);

/// Groups of identical packets (same flow through the map, same in-flight
/// fields): every packet's global id (A's index, or A's count plus B's
/// index), ordered by group, side and time; the groups' ranges; and the
/// groups with exactly one packet on each side, as (A index, B index).
fn group(a: &Capture, b: &Capture, map_ab: &[u32], ipid: bool) -> Groups {
    let na = a.pkts.len();
    let key = |g: u32| -> (u32, InFlight) {
        if (g as usize) < na {
            let p = &a.pkts[g as usize];
            let f = map_ab.get(p.flow as usize).copied().unwrap_or(NONE);
            let f = if f == NONE { A_ONLY | p.flow } else { f };
            (f, in_flight(p, ipid))
        } else {
            let p = &b.pkts[g as usize - na];
            (p.flow & !A_ONLY, in_flight(p, ipid))
        }
    };
    let ts = |g: u32| -> i64 {
        if (g as usize) < na {
            a.pkts[g as usize].ts
        } else {
            b.pkts[g as usize - na].ts
        }
    };
    let total = na + b.pkts.len();
    let mut hashed: Vec<(u64, u32)> = (0..total as u32)
        .map(|g| {
            let mut h = rustc_hash::FxHasher::default();
            key(g).hash(&mut h);
            (h.finish(), g)
        })
        .collect();
    hashed.sort_unstable();
    let mut order = Vec::with_capacity(total);
    let mut groups = Vec::new();
    let mut unique = Vec::new();
    let mut run: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < hashed.len() {
        let h = hashed[i].0;
        let mut j = i + 1;
        while j < hashed.len() && hashed[j].0 == h {
            j += 1;
        }
        run.clear();
        run.extend(hashed[i..j].iter().map(|x| x.1));
        // Equal hashes: by exact key (a collision splits here), then side, then time.
        run.sort_unstable_by_key(|&g| (key(g), g as usize >= na, ts(g), g));
        let mut k = 0;
        while k < run.len() {
            let kk = key(run[k]);
            let mut l = k + 1;
            while l < run.len() && key(run[l]) == kk {
                l += 1;
            }
            let lo = order.len() as u32;
            order.extend_from_slice(&run[k..l]);
            groups.push((lo, order.len() as u32));
            if l - k == 2 && (run[k] as usize) < na && (run[k + 1] as usize) >= na {
                unique.push((run[k], run[k + 1] - na as u32));
            }
            k = l;
        }
        i = j;
    }
    (order, groups, unique)
}

type Directions = (Vec<Option<bool>>, Vec<Option<bool>>, ClockEstimate);

/// Each flow's direction (true: A→B) and the clock offset.
fn directions(
    a: &Capture,
    b: &Capture,
    map_ab: &[u32],
    map_ba: &[u32],
    unique: &[(u32, u32)],
    opts: &Options,
) -> Directions {
    // t_B - t_A of the unique pairs, per A flow.
    let mut per_flow: Vec<(u32, i64)> = unique
        .iter()
        .map(|&(i, j)| {
            let (p, q) = (&a.pkts[i as usize], &b.pkts[j as usize]);
            (p.flow, q.ts.saturating_sub(p.ts))
        })
        .collect();
    per_flow.sort_unstable();
    let mut med: Vec<Option<i64>> = vec![None; a.flows.len()];
    let mut k = 0;
    while k < per_flow.len() {
        let f = per_flow[k].0;
        let mut l = k;
        while l < per_flow.len() && per_flow[l].0 == f {
            l += 1;
        }
        // Sorted by (flow, d): the middle one is the median.
        med[f as usize] = Some(per_flow[(k + l) / 2].1);
        k = l;
    }
    let index: FxHashMap<super::FlowKey, u32> = a
        .flows
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    let mut dir_a: Vec<Option<bool>> = vec![None; a.flows.len()];
    // 1. Both directions of a connection matched: the one that reaches B later is A→B.
    for (fa, k) in a.flows.iter().enumerate() {
        let Some(&ra) = index.get(&k.reversed()) else {
            continue;
        };
        if let (Some(x), Some(y)) = (med[fa], med[ra as usize]) {
            if x != y {
                dir_a[fa] = Some(x > y);
            }
        }
    }
    // 2. An address is on one side: vote with the flows decided so far.
    let mut side_a: FxHashMap<std::net::IpAddr, i64> = FxHashMap::default();
    let mut side_b: FxHashMap<std::net::IpAddr, i64> = FxHashMap::default();
    for (fa, d) in dir_a.iter().enumerate() {
        if let Some(ab) = *d {
            let v = if ab { 1 } else { -1 };
            *side_a.entry(a.flows[fa].src.addr).or_default() += v;
            *side_a.entry(a.flows[fa].dst.addr).or_default() -= v;
            if let Some(&fb) = map_ab.get(fa).filter(|&&x| x != NONE) {
                *side_b.entry(b.flows[fb as usize].src.addr).or_default() += v;
                *side_b.entry(b.flows[fb as usize].dst.addr).or_default() -= v;
            }
        }
    }
    let vote = |m: &FxHashMap<std::net::IpAddr, i64>, k: &super::FlowKey| {
        let v = m.get(&k.src.addr).copied().unwrap_or(0) - m.get(&k.dst.addr).copied().unwrap_or(0);
        (v != 0).then_some(v > 0)
    };
    for (fa, k) in a.flows.iter().enumerate() {
        if dir_a[fa].is_none() && med[fa].is_some() {
            dir_a[fa] = vote(&side_a, k);
        }
    }
    // 3. The clock offset from the flows whose direction is known.
    let (mut min_ab, mut max_ba) = (None::<i64>, None::<i64>);
    let (mut pairs_ab, mut pairs_ba) = (0u64, 0u64);
    for &(fa, dt) in &per_flow {
        match dir_a[fa as usize] {
            Some(true) => {
                pairs_ab += 1;
                min_ab = Some(min_ab.map_or(dt, |m| m.min(dt)));
            }
            Some(false) => {
                pairs_ba += 1;
                max_ba = Some(max_ba.map_or(dt, |m| m.max(dt)));
            }
            None => {}
        }
    }
    let mut clock = ClockEstimate {
        pairs_ab,
        pairs_ba,
        min_d_ab: min_ab,
        max_d_ba: max_ba,
        ..Default::default()
    };
    match (min_ab, max_ba) {
        (Some(x), Some(y)) => {
            let half = x.saturating_sub(y) / 2;
            clock.offset_ns = y.saturating_add(half);
            clock.bound_ns = Some(half.max(0));
        }
        // One direction only: assume no delay at all (the captures cannot say more).
        (Some(x), None) => clock.offset_ns = x,
        (None, Some(y)) => clock.offset_ns = y,
        (None, None) => {
            // No flow direction known: the median difference, if any.
            let mut all: Vec<i64> = per_flow.iter().map(|x| x.1).collect();
            clock.offset_ns = median(&mut all).unwrap_or(0);
        }
    }
    if let Some(o) = opts.offset_ns {
        clock.offset_ns = o;
        clock.given = true;
    }
    // 4. Flows still undecided with matched packets: against the offset.
    for fa in 0..a.flows.len() {
        if dir_a[fa].is_none() {
            if let Some(m) = med[fa] {
                dir_a[fa] = Some(m > clock.offset_ns);
            } else {
                dir_a[fa] = vote(&side_a, &a.flows[fa]);
            }
        }
    }
    // B's flows: as their A flow, else by address.
    let dir_b: Vec<Option<bool>> = b
        .flows
        .iter()
        .enumerate()
        .map(|(fb, k)| match map_ba.get(fb).copied() {
            Some(fa) if fa != NONE && dir_a[fa as usize].is_some() => dir_a[fa as usize],
            _ => vote(&side_b, k),
        })
        .collect();
    (dir_a, dir_b, clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_keeps_order_and_prefers_the_median_delay() {
        // Two identical packets 1 s apart, one copy 20 ms after the second.
        let s = [(0, 0), (1, 1_000_000_000)];
        let r = [(0, 1_020_000_000)];
        assert_eq!(assign(&s, &r, 2_000_000_000, 20_000_000), vec![(1, 0)]);
        // Two copies of one packet (duplication): both go to it.
        let s = [(0, 0)];
        let r = [(0, 20_000_000), (1, 21_000_000)];
        assert_eq!(
            assign(&s, &r, 500_000_000, 20_000_000),
            vec![(0, 0), (0, 1)]
        );
        // A copy before its packet was sent does not fit.
        let s = [(0, 100_000_000)];
        let r = [(0, 0)];
        assert!(assign(&s, &r, 500_000_000, 0).is_empty());
        assert!(assign(&[], &r, 500_000_000, 0).is_empty());
    }
}
