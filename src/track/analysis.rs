//! Wireshark 4.0.17's per-segment TCP analysis (`tcp_analyze_sequence_number`),
//! one pass, in file order. Steps are numbered as in SEMANTICS.md §3.2; the
//! order and early exits are part of the behaviour and must not be "tidied".

use super::seq;
use smallvec::SmallVec;

/// `tcp.analysis.*` flag bits.
pub mod flag {
    pub const RETRANSMISSION: u32 = 1 << 0;
    pub const FAST_RETRANSMISSION: u32 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u32 = 1 << 2;
    pub const OUT_OF_ORDER: u32 = 1 << 3;
    pub const LOST_SEGMENT: u32 = 1 << 4;
    pub const ACK_LOST_SEGMENT: u32 = 1 << 5;
    pub const DUPLICATE_ACK: u32 = 1 << 6;
    pub const ZERO_WINDOW: u32 = 1 << 7;
    pub const ZERO_WINDOW_PROBE: u32 = 1 << 8;
    pub const ZERO_WINDOW_PROBE_ACK: u32 = 1 << 9;
    pub const KEEP_ALIVE: u32 = 1 << 10;
    pub const KEEP_ALIVE_ACK: u32 = 1 << 11;
    pub const REUSED_PORTS: u32 = 1 << 12;
    pub const WINDOW_UPDATE: u32 = 1 << 13;
    pub const WINDOW_FULL: u32 = 1 << 14;

    /// (bit, filter field suffix, Info label), in Wireshark's Info printing order (§3.3).
    pub const ALL: [(u32, &str, &str); 15] = [
        (REUSED_PORTS, "reused_ports", "TCP Port numbers reused"),
        (RETRANSMISSION, "retransmission", "TCP Retransmission"),
        (
            FAST_RETRANSMISSION,
            "fast_retransmission",
            "TCP Fast Retransmission",
        ),
        (
            SPURIOUS_RETRANSMISSION,
            "spurious_retransmission",
            "TCP Spurious Retransmission",
        ),
        (OUT_OF_ORDER, "out_of_order", "TCP Out-Of-Order"),
        (
            LOST_SEGMENT,
            "lost_segment",
            "TCP Previous segment not captured",
        ),
        (
            ACK_LOST_SEGMENT,
            "ack_lost_segment",
            "TCP ACKed unseen segment",
        ),
        (WINDOW_UPDATE, "window_update", "TCP Window Update"),
        (WINDOW_FULL, "window_full", "TCP Window Full"),
        (KEEP_ALIVE, "keep_alive", "TCP Keep-Alive"),
        (KEEP_ALIVE_ACK, "keep_alive_ack", "TCP Keep-Alive ACK"),
        (DUPLICATE_ACK, "duplicate_ack", "TCP Dup ACK"),
        (
            ZERO_WINDOW_PROBE,
            "zero_window_probe",
            "TCP ZeroWindowProbe",
        ),
        (ZERO_WINDOW, "zero_window", "TCP ZeroWindow"),
        (
            ZERO_WINDOW_PROBE_ACK,
            "zero_window_probe_ack",
            "TCP ZeroWindowProbeAck",
        ),
    ];

    /// `tcp.analysis.retransmission` also matches fast and spurious retransmissions.
    pub const ANY_RETRANSMISSION: u32 =
        RETRANSMISSION | FAST_RETRANSMISSION | SPURIOUS_RETRANSMISSION;

    /// Wireshark's "Bad TCP" colouring rule: any flag but the chatty ones.
    pub fn is_bad(flags: u32) -> bool {
        flags & !(WINDOW_UPDATE | KEEP_ALIVE | KEEP_ALIVE_ACK) != 0
    }
}

/// Wireshark's TCP_MAX_UNACKED_SEGMENTS.
pub const MAX_UNACKED: usize = 10_000;
const FAST_RETRANS_WINDOW_NS: i64 = 20_000_000;
const OOO_DEFAULT_NS: i64 = 3_000_000;

#[derive(Clone, Copy, Debug)]
struct Unacked {
    frame: u64,
    seq: u32,
    nextseq: u32,
    ts: i64,
}

/// One direction's analysis state (Wireshark's `tcp_flow_t` + seq info).
/// Zero for `nextseq`/`maxseqtobeacked` means "unknown", quirk included.
#[derive(Clone, Debug)]
pub struct FlowAnalysis {
    pub nextseq: u32,
    nextseq_ts: i64,
    nextseq_frame: u64,
    maxseqtobeacked: u32,
    pub lastack: u32,
    lastack_ts: i64,
    /// Last raw 16-bit window sent; starts at 0xFFFFFFFF.
    pub window: u32,
    /// -1 unknown, -2 no scaling, else the shift (0..=14).
    pub win_scale: i8,
    dupacknum: i32,
    lastnondupack: u64,
    lastsegmentflags: u32,
    /// Inline for the first two: most directions never have more in flight,
    /// and a heap buffer per direction costs a cache miss per packet.
    unacked: SmallVec<[Unacked; 2]>,
    valid_bif: bool,
    /// From this direction's SYN until its first ACK without SYN.
    pub is_first_ack: bool,
    /// Total bytes covered by the SACK blocks of this direction's last frame.
    sack_total: u32,
    push_bytes: u32,
    push_set_last: bool,
}

impl Default for FlowAnalysis {
    fn default() -> Self {
        FlowAnalysis {
            nextseq: 0,
            nextseq_ts: 0,
            nextseq_frame: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_ts: 0,
            window: 0xFFFF_FFFF,
            win_scale: -1,
            dupacknum: 0,
            lastnondupack: 0,
            lastsegmentflags: 0,
            unacked: SmallVec::new(),
            valid_bif: true,
            is_first_ack: false,
            sack_total: 0,
            push_bytes: 0,
            push_set_last: false,
        }
    }
}

impl FlowAnalysis {
    /// The same-ISN SYN rule (§1): the analysis's next sequence is reset to the next expected ack.
    pub fn reset_nextseq_for_syn(&mut self) {
        self.nextseq = self.maxseqtobeacked;
    }
    pub fn unacked_len(&self) -> usize {
        self.unacked.len()
    }
}

/// The segment as the analysis sees it: raw numbers.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub frame: u64,
    pub ts: i64,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub window: u16,
    pub syn: bool,
    pub ack_flag: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// What the analysis found for one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub flags: u32,
    pub dup_ack_num: u32,
    pub dup_ack_frame: u64,
    pub acks_frame: Option<u64>,
    pub ack_rtt_ns: Option<i64>,
    pub bytes_in_flight: Option<u32>,
    pub push_bytes_sent: Option<u32>,
    pub rto_ns: Option<i64>,
    pub rto_frame: Option<u64>,
    /// Wireshark created its per-frame analysis record: the frame has a
    /// "SEQ/ACK analysis" subtree, which is where iRTT is shown (§3.4).
    pub record: bool,
}

/// "within N ns": unsigned difference, so an earlier frame never counts (§0.3).
#[inline]
fn within(now: i64, then: i64, limit: i64) -> bool {
    let d = now.wrapping_sub(then);
    d >= 0 && d < limit
}

/// Run the analysis for one segment sent by `fwd` towards `rev`. `fwd_base`
/// is the sender's base sequence (bytes in flight are measured relative to
/// it); `irtt_ns` is the stream's initial RTT (0 = not known yet).
pub fn analyze(
    fwd: &mut FlowAnalysis,
    rev: &mut FlowAnalysis,
    s: &Segment,
    fwd_base: u32,
    irtt_ns: i64,
    f: &mut Findings,
) {
    let sfr = s.syn || s.fin || s.rst;
    let window = s.window as u32;
    let same = s.seq == fwd.nextseq && s.ack == fwd.lastack;

    // 0. An ACK from this side re-validates the peer's bytes in flight.
    if s.ack_flag {
        rev.valid_bif = true;
    }

    'flags: {
        // 1. Zero window probe.
        if s.len == 1 && s.seq == fwd.nextseq && rev.window == 0 {
            f.flags |= flag::ZERO_WINDOW_PROBE;
            break 'flags;
        }
        // 2. Zero window.
        if window == 0 && !sfr {
            f.flags |= flag::ZERO_WINDOW;
        }
        // 3. Previous segment not captured.
        if fwd.nextseq != 0 && seq::gt(s.seq, fwd.nextseq) && !s.rst {
            f.flags |= flag::LOST_SEGMENT;
            fwd.valid_bif = false;
        }
        // 4. Keep-alive (plain u32 compare, no "known" guard: Wireshark's quirk).
        if s.len <= 1 && s.seq == fwd.nextseq.wrapping_sub(1) && !sfr {
            f.flags |= flag::KEEP_ALIVE;
        }
        // 5. Window update.
        if s.len == 0 && window != 0 && window != fwd.window && same && !sfr {
            f.flags |= flag::WINDOW_UPDATE;
        }
        // 6. Window full: the segment fills the peer's advertised window exactly.
        if s.len > 0 && rev.win_scale != -1 && !sfr {
            let shift = if rev.is_first_ack || rev.win_scale == -2 {
                0
            } else {
                rev.win_scale as u32
            };
            let edge = rev.lastack.wrapping_add(rev.window.wrapping_shl(shift));
            if s.seq.wrapping_add(s.len) == edge {
                f.flags |= flag::WINDOW_FULL;
            }
        }
        // 7. Keep-alive ACK.
        if s.len == 0
            && window != 0
            && window == fwd.window
            && same
            && rev.lastsegmentflags & flag::KEEP_ALIVE != 0
            && !sfr
        {
            f.flags |= flag::KEEP_ALIVE_ACK;
            break 'flags;
        }
        // 8. Zero window probe ACK.
        if s.len == 0
            && window == 0
            && window == fwd.window
            && same
            && rev.lastsegmentflags & flag::ZERO_WINDOW_PROBE != 0
            && !sfr
        {
            f.flags |= flag::ZERO_WINDOW_PROBE_ACK;
            break 'flags;
        }
        // 9. Duplicate ACK.
        if s.len == 0 && window != 0 && window == fwd.window && same && !sfr {
            fwd.dupacknum = if fwd.dupacknum == -1 {
                1
            } else {
                fwd.dupacknum + 1
            };
            f.flags |= flag::DUPLICATE_ACK;
            f.dup_ack_num = fwd.dupacknum.max(0) as u32;
            f.dup_ack_frame = fwd.lastnondupack;
        }
    }

    // 10. A new ack value ends any run of duplicates.
    if s.ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
    }

    // 11. ACKed unseen segment. Entering this block creates the analysis record even without a flag.
    if rev.maxseqtobeacked != 0 && seq::gt(s.ack, rev.maxseqtobeacked) && s.ack_flag {
        f.record = true;
        if seq::lt(rev.maxseqtobeacked, rev.nextseq) {
            rev.maxseqtobeacked = rev.nextseq;
            f.flags |= flag::ACK_LOST_SEGMENT;
        } else {
            if rev.dupacknum == 0 {
                f.flags |= flag::ACK_LOST_SEGMENT;
            }
            rev.dupacknum = -1;
        }
    }

    // 12. The retransmission family.
    if (s.len > 0 || s.syn || s.fin) && f.flags & flag::KEEP_ALIVE == 0 {
        let mut not_advanced = fwd.nextseq != 0 && seq::lt(s.seq, fwd.nextseq);
        // Real data after a dropped zero-window-probe byte is not a retransmission.
        if s.len > 1 && fwd.nextseq.wrapping_sub(1) == s.seq {
            not_advanced = false;
        }
        let seglen_sf = s.len.wrapping_add((s.syn || s.fin) as u32);
        if s.len > 0 && rev.lastack != 0 && seq::le(s.seq.wrapping_add(s.len), rev.lastack) {
            f.flags |= flag::SPURIOUS_RETRANSMISSION;
        } else if not_advanced
            // Wireshark's dupacknum is unsigned: the -1 left by step 11 compares as >= 2
            // (zeek-tcp-reassembly frame 8 is a Fast Retransmission for that reason).
            && rev.dupacknum as u32 >= 2
            && rev.lastack == s.seq
            && within(s.ts, rev.lastack_ts, FAST_RETRANS_WINDOW_NS)
        {
            f.flags |= flag::FAST_RETRANSMISSION;
        } else if not_advanced
            && within(
                s.ts,
                fwd.nextseq_ts,
                if irtt_ns != 0 {
                    irtt_ns
                } else {
                    OOO_DEFAULT_NS
                },
            )
            && fwd.nextseq != s.seq.wrapping_add(seglen_sf)
        {
            f.flags |= flag::OUT_OF_ORDER;
        } else if not_advanced {
            f.flags |= flag::RETRANSMISSION;
            // 4.0: measured from the oldest unacked segment, whichever it is; else from nextseq's frame.
            let (t, fr) = match fwd.unacked.first() {
                Some(u) => (u.ts, u.frame),
                None => (fwd.nextseq_ts, fwd.nextseq_frame),
            };
            let rto = s.ts.wrapping_sub(t);
            if rto != 0 {
                f.rto_ns = Some(rto);
                f.rto_frame = Some(fr);
            }
        }
    }

    // 13. Bookkeeping. The +1 for SYN/FIN is taken only when the segment is recorded (Wireshark's quirk).
    let mut end = s.seq.wrapping_add(s.len);
    if (s.len > 0 || s.syn || s.fin) && fwd.unacked.len() < MAX_UNACKED {
        end = end.wrapping_add((s.syn || s.fin) as u32);
        // Wireshark keeps newest first; we push at the back, so index 0 is the oldest.
        fwd.unacked.push(Unacked {
            frame: s.frame,
            seq: s.seq,
            nextseq: end,
            ts: s.ts,
        });
    }
    let zwp = f.flags & flag::ZERO_WINDOW_PROBE != 0;
    if !zwp {
        if seq::gt(end, fwd.nextseq) || fwd.nextseq == 0 {
            fwd.nextseq = end;
            fwd.nextseq_ts = s.ts;
            fwd.nextseq_frame = s.frame;
        }
        if s.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0 {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
    }
    fwd.window = window;
    fwd.lastack = s.ack;
    fwd.lastack_ts = s.ts;
    fwd.lastsegmentflags = f.flags;

    // 14. ACK matching against the peer's unacked segments. Wireshark uses the
    // raw ack field whether or not the ACK flag is set, and when several copies
    // match, the oldest (the original transmission) wins.
    let ack = s.ack;
    let mut acked: Option<(u64, i64)> = None;
    rev.unacked.retain(|u| {
        if ack == u.nextseq {
            acked.get_or_insert((u.frame, u.ts));
            false
        } else if seq::gt(ack, u.seq) && seq::le(ack, u.nextseq) {
            u.seq = ack;
            true
        } else {
            seq::gt(u.nextseq, ack)
        }
    });
    if let Some((fr, t)) = acked {
        f.record = true;
        f.acks_frame = Some(fr);
        let rtt = s.ts.wrapping_sub(t);
        if rtt != 0 {
            f.ack_rtt_ns = Some(rtt);
        }
    }

    // 15. Bytes in flight and bytes pushed.
    if s.len != 0 && !fwd.unacked.is_empty() && fwd.valid_bif {
        // Span over base-relative values with plain u32 compares.
        let mut first = u32::MAX;
        let mut last = 0u32;
        for u in &fwd.unacked {
            first = first.min(u.seq.wrapping_sub(fwd_base));
            last = last.max(u.nextseq.wrapping_sub(fwd_base));
        }
        let in_flight = last.wrapping_sub(first).wrapping_sub(rev.sack_total);
        if in_flight > 0 && in_flight < 2_000_000_000 {
            f.bytes_in_flight = Some(in_flight - (s.syn || s.fin) as u32);
        }
        match (s.psh, fwd.push_set_last) {
            (true, false) => {
                fwd.push_bytes = fwd.push_bytes.wrapping_add(s.len);
                fwd.push_set_last = true;
            }
            (true, true) => fwd.push_bytes = s.len,
            (false, true) => {
                fwd.push_bytes = s.len;
                fwd.push_set_last = false;
            }
            (false, false) => fwd.push_bytes = fwd.push_bytes.wrapping_add(s.len),
        }
        f.record = true;
        f.push_bytes_sent = f.bytes_in_flight.map(|_| fwd.push_bytes);
    }
    if f.flags != 0 {
        f.record = true;
    }
}

impl FlowAnalysis {
    /// Whether this direction's SYN has been seen but not yet an ACK without SYN.
    pub fn note_flags(&mut self, syn: bool, ack: bool) {
        if syn {
            self.is_first_ack = true;
        } else if ack {
            self.is_first_ack = false;
        }
    }

    /// SACK blocks of this direction's latest frame (Wireshark keeps at most 3).
    pub fn set_sack(&mut self, blocks: &[(u32, u32)]) {
        self.sack_total = blocks
            .iter()
            .take(3)
            .fold(0u32, |acc, &(l, r)| acc.wrapping_add(r.wrapping_sub(l)));
    }
}
