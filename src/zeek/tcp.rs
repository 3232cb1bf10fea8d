//! One TCP connection as Zeek's TCP analyzer sees it: two endpoints with
//! Zeek's states and sequence bookkeeping, the connection history, and the
//! decisions that feed the connection table's timers (close, reset).
//!
//! This follows Zeek's `TCPAnalyzer::DeliverPacket` (packet_analysis/protocol/tcp)
//! and `TCPSessionAdapter` step by step, in the same order, because the order
//! is what decides the letters: history before the state machine, the state
//! machine before the close. Each state-machine arm names the Zeek function it
//! mirrors. Content gaps (`G`) come from [`super::reasm`].

use super::reasm::Reasm;
use crate::decode::tcp::flags as fl;

/// Zeek's `EndpointState`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EpState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

impl EpState {
    fn is_handshake(self) -> bool {
        matches!(
            self,
            EpState::Inactive | EpState::SynSent | EpState::SynAckSent
        )
    }
}

/// A logarithmic history letter (Zeek's `ScaledHistoryEntry`, base 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scaled {
    count: u32,
    threshold: u32,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled {
            count: 0,
            threshold: 1,
        }
    }
}

impl Scaled {
    /// True when this occurrence is recorded (1st, 10th, 100th, ...).
    fn hit(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count != self.threshold {
            return false;
        }
        match self.threshold.checked_mul(10) {
            Some(t) => self.threshold = t,
            None => self.count = 0,
        }
        true
    }
}

/// Zeek's `TCP_Endpoint`, reduced to what conn.log needs.
#[derive(Clone, Debug, Default)]
pub struct Endpoint {
    pub state: EpState,
    pub prev_state: EpState,
    start_seq: i64,
    last_seq: u32,
    ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    fin_cnt: u32,
    fin_seq: u64,
    pub did_close: bool,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    rxmt: Scaled,
    win0: Scaled,
    gap: Scaled,
    chk: Scaled,
    /// Content bookkeeping for gaps and missed bytes.
    pub reasm: Reasm,
}

fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

impl Endpoint {
    fn start_seq32(&self) -> u32 {
        self.start_seq as u32
    }
    fn init_start(&mut self, s: u32) {
        self.start_seq = s as i64;
    }
    fn update_last_seq_raw(&mut self, s: u32) {
        if s < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = s;
    }
    fn update_ack_seq_raw(&mut self, s: u32) {
        if s < self.ack_seq {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = s;
    }
    fn full(seq: u32, wraps: u32) -> u64 {
        ((wraps as u64) << 32).wrapping_add(seq as u64)
    }
    fn to_relative(&self, seq: u32, wraps: u32) -> u64 {
        Self::full(seq, wraps).wrapping_sub(self.start_seq as u64)
    }
    fn no_data_acked(&self) -> bool {
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let start = self.start_seq as u64;
        ack == start || ack == start.wrapping_add(1)
    }

    fn set_state(&mut self, s: EpState) {
        if s != self.state {
            self.prev_state = self.state;
            self.state = s;
        }
    }
}

/// Zeek's history bit masks (`Conn.h`); the responder's are shifted by 16.
mod hist {
    pub const SYN: u32 = 0x1;
    pub const FIN: u32 = 0x2;
    pub const RST: u32 = 0x4;
    pub const FIN_RST: u32 = 0x8;
    pub const DATA: u32 = 0x10;
    pub const ACK: u32 = 0x20;
    pub const MULTI_FLAG: u32 = 0x40;
}

/// History longer than this stops growing (Zeek has no cap; a hostile
/// stream of differing SYNs would otherwise grow it without bound).
const MAX_HISTORY: usize = 256;

/// What a packet asks of the connection table after it was processed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Arm the attempt timer (`tcp_attempt_delay` after this packet).
    pub attempt_timer: bool,
    /// Both sides are closed (or one reset): delete `tcp_close_delay` after the last time.
    pub delete_timer: bool,
    /// A side closed and the other may follow: expire check `tcp_session_timer` after the last time.
    pub expire_timer: bool,
    /// Analyzer timers are cancelled (Zeek's `CancelTimers`).
    pub cancel_timers: bool,
    /// The handshake is over: the inactivity timeout becomes `tcp_inactivity_timeout`.
    pub long_inactivity: bool,
}

/// One packet's TCP facts, as the decoder gives them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seg {
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
    /// Payload length from the IP header (not what was captured).
    pub len: u32,
    /// Payload bytes captured.
    pub caplen: u32,
    /// The checksum was verified and is wrong.
    pub bad_checksum: bool,
}

impl Seg {
    fn syn(&self) -> bool {
        self.flags & fl::SYN != 0
    }
    fn fin(&self) -> bool {
        self.flags & fl::FIN != 0
    }
    fn rst(&self) -> bool {
        self.flags & fl::RST != 0
    }
    fn ack_flag(&self) -> bool {
        self.flags & fl::ACK != 0
    }
}

/// Zeek's TCP session: endpoints indexed by side of the table key (0 or 1);
/// `orig` says which side is the originator (a flip toggles it).
#[derive(Clone, Debug, Default)]
pub struct TcpConn {
    pub ep: [Endpoint; 2],
    pub orig: usize,
    history: Vec<u8>,
    hist_seen: u32,
    pub is_active: bool,
    is_partial: bool,
    /// Bits 1 (orig) and 2 (resp): a first packet was seen from that role.
    first_packet_seen: u8,
}

impl TcpConn {
    pub fn new(orig: usize) -> TcpConn {
        TcpConn {
            orig,
            is_active: true,
            ..TcpConn::default()
        }
    }

    pub fn history(&self) -> &str {
        std::str::from_utf8(&self.history).unwrap_or("")
    }

    pub fn orig_ep(&self) -> &Endpoint {
        &self.ep[self.orig]
    }
    pub fn resp_ep(&self) -> &Endpoint {
        &self.ep[1 - self.orig]
    }

    pub fn add_history(&mut self, c: u8) {
        if self.history.len() < MAX_HISTORY {
            self.history.push(c);
        }
    }

    /// Zeek's `Connection::FlipRoles` as far as TCP sees it (`^` in the history).
    pub fn flip(&mut self) {
        self.orig = 1 - self.orig;
        self.add_history(b'^');
    }

    fn is_orig(&self, side: usize) -> bool {
        side == self.orig
    }

    /// `CheckHistory`: the letter the first time per role; true if it was seen before.
    fn check_history(&mut self, side: usize, mask: u32, code: u8) -> bool {
        let (mask, code) = if self.is_orig(side) {
            (mask, code)
        } else {
            (mask << 16, code.to_ascii_lowercase())
        };
        if self.hist_seen & mask == 0 {
            self.hist_seen |= mask;
            self.add_history(code);
            return false;
        }
        true
    }

    fn side_letter(&mut self, side: usize, code: u8) {
        let c = if self.is_orig(side) {
            code
        } else {
            code.to_ascii_lowercase()
        };
        self.add_history(c);
    }

    fn scaled(&mut self, side: usize, which: u8) {
        let hit = match which {
            b'T' => self.ep[side].rxmt.hit(),
            b'W' => self.ep[side].win0.hit(),
            b'G' => self.ep[side].gap.hit(),
            _ => self.ep[side].chk.hit(),
        };
        if hit {
            self.side_letter(side, which);
        }
    }

    /// Zeek's `IsClosed`.
    pub fn is_closed(&self) -> bool {
        self.ep[0].did_close || self.ep[1].did_close
    }

    /// Zeek's `TCPSessionAdapter::IsReuse`: a SYN that starts a new connection on this key.
    pub fn is_reuse(&self, seg: &Seg) -> bool {
        if !seg.syn() {
            return false;
        }
        let orig = self.orig_ep();
        let resp = self.resp_ep();
        let mut conn_orig = orig;
        if seg.ack_flag() {
            if orig.state != EpState::Inactive {
                return false; // not a half connection
            }
            conn_orig = resp;
        }
        if !self.is_closed() {
            if seg.seq == conn_orig.start_seq32() {
                return false;
            }
            if !seg.ack_flag()
                && conn_orig.state == EpState::SynAckSent
                && resp.state == EpState::Inactive
                && seg.seq == resp.start_seq32()
            {
                return false; // SYN and SYN-ACK reversed; NextPacket sorts it out
            }
        }
        true
    }

    /// `SetPartialStatus`.
    fn set_partial_status(&mut self, seg: &Seg, is_orig: bool) {
        if is_orig {
            if self.first_packet_seen & 1 == 0 {
                self.is_partial = !seg.syn() || seg.ack_flag();
            }
        } else if self.first_packet_seen & 2 == 0 && !self.is_partial {
            self.is_partial = !seg.syn();
        }
    }

    /// One segment from `side`. Returns what the table must do with its timers,
    /// and whether the packet counts (a bad checksum drops it, as Zeek does).
    pub fn process(
        &mut self,
        side: usize,
        seg: &Seg,
        ts: i64,
        last_time: &mut i64,
    ) -> (Effects, bool) {
        let mut fx = Effects::default();
        let me = side;
        let peer = 1 - side;
        if seg.bad_checksum {
            self.scaled(me, b'C');
            return (fx, false);
        }
        let is_orig = self.is_orig(me);
        self.set_partial_status(seg, is_orig);

        let base_seq = seg.seq;
        let ack_seq = seg.ack;
        let len = seg.len;
        let mut seg_len = len as i64 + seg.syn() as i64 + seg.fin() as i64;
        if seg.rst() {
            seg_len -= len as i64;
        }
        let one_past = base_seq.wrapping_add(seg_len as u32);

        self.init_endpoint(me, seg, base_seq, one_past);

        let (rel_seq, seq_underflow) = {
            let e = &self.ep[me];
            get_relative_seq(e, base_seq, e.last_seq, e.seq_wraps)
        };

        self.update_history(me, seg, rel_seq, len);
        // update_window: only the zero-window letter matters here (a scaled window is 0 iff it is).
        if seg.window == 0
            && !seg.rst()
            && self.ep[peer].state != EpState::Closed
            && self.ep[me].state != EpState::Reset
        {
            self.scaled(me, b'W');
        }

        if !self.ep[0].did_close || !self.ep[1].did_close {
            *last_time = ts;
        }
        if seg.fin() {
            let e = &mut self.ep[me];
            e.fin_cnt += 1;
            e.fin_seq = rel_seq.wrapping_add(seg_len as u64);
        }

        let mut rel_ack = 0u64;
        if seg.ack_flag() {
            if self.ep[peer].state == EpState::Inactive {
                rel_ack = 1;
                let p = &mut self.ep[peer];
                let s = ack_seq.wrapping_sub(1);
                p.init_start(s);
                p.ack_seq = s;
                p.last_seq = s;
            } else {
                let p = &self.ep[peer];
                let (r, under) = get_relative_seq(p, ack_seq, p.ack_seq, p.ack_wraps);
                if under {
                    rel_ack = 0;
                } else {
                    rel_ack = r;
                    if !seg.rst() {
                        let p = &mut self.ep[peer];
                        let d = seq_delta(ack_seq, p.ack_seq);
                        if !(ack_seq == 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0 {
                            p.update_ack_seq_raw(ack_seq);
                        }
                    }
                }
            }
        }

        self.update_last_seq(me, one_past, seg, len);

        let (do_close, gen_event) = self.update_state_machine(me, seg, base_seq, &mut fx);

        if seg.ack_flag() {
            // After the state machine, so a gap revealed by a FIN or RST is judged
            // in the closing state (TCPAnalyzer::DeliverPacket's comment).
            let mut gaps = Vec::new();
            let partial = self.is_partial;
            let p = &mut self.ep[peer];
            p.reasm
                .ack_received(rel_ack, p.fin_cnt, p.fin_seq, partial, &mut gaps);
            for (_at, glen) in gaps {
                self.gap(peer, glen);
            }
        }

        let rel_data_seq = if seg.syn() {
            rel_seq.wrapping_add(1)
        } else {
            rel_seq
        };
        if len > 0 && seg.caplen >= len && !seg.rst() && !seq_underflow {
            let e = &mut self.ep[me];
            let acked = e.to_relative(e.ack_seq, e.ack_wraps);
            let nda = e.no_data_acked();
            e.reasm.data_sent(rel_data_seq, len as u64, acked, nda);
        }

        if do_close {
            self.connection_closed(me, gen_event, &mut fx);
        }
        self.first_packet_seen |= if is_orig { 1 } else { 2 };
        (fx, true)
    }

    /// `TCP_Reassembler::Gap`: only a cleanly established or closing
    /// connection gets the `G` letter and the missed bytes (conn.log counts
    /// them from the `content_gap` event, raised under the same condition).
    fn gap(&mut self, side: usize, len: u64) {
        let clean = |e: &Endpoint| {
            e.state == EpState::Established
                || (e.state == EpState::Closed && e.prev_state == EpState::Established)
        };
        if clean(&self.ep[side]) && clean(&self.ep[1 - side]) {
            self.ep[side].reasm.missed += len;
            self.scaled(side, b'G');
        }
    }

    /// `init_endpoint`.
    fn init_endpoint(&mut self, me: usize, seg: &Seg, first_seg_seq: u32, last_seq: u32) {
        let e = &mut self.ep[me];
        match e.state {
            EpState::Inactive => {
                let last = if seg.syn() {
                    e.ack_seq = first_seg_seq;
                    e.init_start(first_seg_seq);
                    last_seq
                } else {
                    // A partial connection: numbered as though a SYN was seen.
                    e.ack_seq = first_seg_seq.wrapping_sub(1);
                    e.init_start(first_seg_seq.wrapping_sub(1));
                    first_seg_seq
                };
                e.last_seq = last;
            }
            EpState::SynSent | EpState::SynAckSent => {
                if seg.syn() && first_seg_seq != e.start_seq32() {
                    e.init_start(first_seg_seq);
                    e.ack_seq = first_seg_seq;
                    e.last_seq = last_seq;
                }
            }
            EpState::Established | EpState::Partial => {
                if seg.syn() {
                    e.init_start(first_seg_seq);
                    e.ack_seq = first_seg_seq;
                    e.last_seq = last_seq;
                }
            }
            EpState::Reset => {
                if seg.syn() && e.prev_state == EpState::Inactive {
                    e.init_start(first_seg_seq);
                    e.ack_seq = first_seg_seq;
                    e.last_seq = last_seq;
                }
            }
            EpState::Closed => {}
        }
    }

    /// `update_history`.
    fn update_history(&mut self, me: usize, seg: &Seg, rel_seq: u64, len: u32) {
        let bits = seg.syn() as u8 + seg.fin() as u8 + seg.rst() as u8;
        if bits > 1 {
            if seg.fin() && seg.rst() {
                self.check_history(me, hist::FIN_RST, b'I');
            } else {
                self.check_history(me, hist::MULTI_FLAG, b'Q');
            }
        } else if bits == 1 {
            if seg.syn() {
                let code = if seg.ack_flag() { b'H' } else { b'S' };
                if self.check_history(me, hist::SYN, code) && rel_seq != self.ep[me].hist_last_syn {
                    self.side_letter(me, code);
                }
                self.ep[me].hist_last_syn = rel_seq;
            }
            if seg.fin() {
                let end = rel_seq.wrapping_add(len as u64);
                if self.check_history(me, hist::FIN, b'F') && end != self.ep[me].hist_last_fin {
                    self.side_letter(me, b'F');
                }
                self.ep[me].hist_last_fin = end;
            }
            if seg.rst() {
                if self.check_history(me, hist::RST, b'R') && rel_seq != self.ep[me].hist_last_rst {
                    self.side_letter(me, b'R');
                }
                self.ep[me].hist_last_rst = rel_seq;
            }
        } else if len > 0 {
            self.check_history(me, hist::DATA, b'D');
        } else if seg.ack_flag() {
            self.check_history(me, hist::ACK, b'A');
        }
    }

    /// `update_last_seq`: returns the advance of the segment's end over the side's last sequence.
    fn update_last_seq(&mut self, me: usize, last_seq: u32, seg: &Seg, len: u32) -> i32 {
        let e = &mut self.ep[me];
        let delta_last = seq_delta(last_seq, e.last_seq);
        let too_far = !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta_last);
        if (seg.syn() || seg.rst()) && too_far {
            // Untrusted SYN/RST sequence numbers.
        } else if seg.fin() && e.last_seq == e.start_seq32().wrapping_add(1) {
            e.update_last_seq_raw(last_seq);
        } else if e.state == EpState::Reset {
            // No sequence number after a RST is trusted.
        } else if delta_last > 0 {
            e.update_last_seq_raw(last_seq);
        } else if len > 0 {
            self.scaled(me, b'T');
        }
        delta_last
    }

    /// `UpdateStateMachine`: returns (do_close, gen_event).
    fn update_state_machine(
        &mut self,
        me: usize,
        seg: &Seg,
        base_seq: u32,
        fx: &mut Effects,
    ) -> (bool, bool) {
        let peer = 1 - me;
        let mut do_close = false;
        let mut gen_event = false;
        let is_orig = self.is_orig(me);
        match self.ep[me].state {
            EpState::Inactive => {
                // UpdateInactiveState
                if seg.syn() {
                    if is_orig {
                        if seg.ack_flag() {
                            self.set_state(me, EpState::SynAckSent, fx);
                        } else {
                            self.set_state(me, EpState::SynSent, fx);
                        }
                        fx.attempt_timer = true;
                    } else {
                        if !seg.ack_flag()
                            && self.ep[peer].state == EpState::SynAckSent
                            && base_seq == self.ep[me].start_seq32()
                        {
                            // SYN and SYN-ACK reversed: flip and establish.
                            self.is_partial = false;
                            self.flip();
                            self.set_state(peer, EpState::Established, fx);
                        }
                        if self.ep[peer].state == EpState::SynSent {
                            self.set_state(peer, EpState::Established, fx);
                        }
                        self.set_state(me, EpState::Established, fx);
                    }
                }
                if seg.fin() {
                    self.set_state(me, EpState::Closed, fx);
                    do_close = true;
                    gen_event = true;
                }
                if seg.rst() {
                    self.set_state(me, EpState::Reset, fx);
                    let is_reject = if self.is_orig(me) {
                        self.ep[peer].state == EpState::Established
                    } else {
                        matches!(self.ep[peer].state, EpState::SynSent | EpState::SynAckSent)
                    };
                    do_close = true;
                    gen_event = !is_reject;
                }
                if self.ep[me].state == EpState::Inactive {
                    let orig_state = self.orig_ep().state;
                    if !self.is_orig(me) && seg.len == 0 && orig_state == EpState::SynSent {
                        // An ACK of the SYN before the SYN-ACK: not a partial connection.
                    } else if seg.ack_flag() && self.ep[peer].state == EpState::Established {
                        // SYN missed, SYN-ACK seen: established.
                        self.set_state(me, EpState::Established, fx);
                        self.is_partial = false;
                    } else {
                        self.set_state(me, EpState::Partial, fx);
                    }
                }
            }
            EpState::SynSent | EpState::SynAckSent => {
                // UpdateSYN_SentState
                if seg.fin() {
                    self.set_state(me, EpState::Closed, fx);
                    do_close = true;
                    gen_event = true;
                }
                if seg.rst() {
                    self.set_state(me, EpState::Reset, fx);
                    self.connection_reset();
                    do_close = true;
                }
            }
            EpState::Established | EpState::Partial => {
                // UpdateEstablishedState
                if seg.syn()
                    && self.ep[me].state == EpState::Partial
                    && self.ep[peer].state == EpState::Inactive
                    && !seg.ack_flag()
                {
                    self.set_state(me, EpState::SynSent, fx);
                }
                if seg.fin() && !seg.rst() {
                    self.set_state(me, EpState::Closed, fx);
                    if self.ep[peer].state == EpState::Reset
                        && self.ep[peer].prev_state == EpState::Closed
                    {
                        // The peer's FIN then RST was a normal close.
                        self.set_state(peer, EpState::Closed, fx);
                    }
                    do_close = true;
                    gen_event = true;
                }
                if seg.rst() {
                    self.set_state(me, EpState::Reset, fx);
                    do_close = true;
                    let p = &self.ep[peer];
                    if p.state != EpState::Reset || p.prev_state != EpState::Established {
                        self.connection_reset();
                    }
                }
            }
            EpState::Closed => {
                // UpdateClosedState: a RST after our FIN, unless the peer closed too.
                if seg.rst() && self.ep[peer].state != EpState::Closed {
                    self.set_state(me, EpState::Reset, fx);
                    if !self.ep[me].did_close {
                        do_close = true;
                    }
                }
            }
            EpState::Reset => {
                // UpdateResetState: only weirds.
            }
        }
        (do_close, gen_event)
    }

    /// `TCP_Endpoint::SetState`, with the inactivity-timeout switch when the handshake ends.
    fn set_state(&mut self, side: usize, s: EpState, fx: &mut Effects) {
        let cur = self.ep[side].state;
        if s == cur {
            return;
        }
        if !s.is_handshake() && cur.is_handshake() && self.ep[1 - side].state.is_handshake() {
            fx.long_inactivity = true;
        }
        self.ep[side].set_state(s);
    }

    fn connection_reset(&mut self) {
        self.is_active = false;
    }

    /// `ConnectionClosed` (no data pending: Zeek defers only while reassembled data waits).
    fn connection_closed(&mut self, me: usize, gen_event: bool, fx: &mut Effects) {
        let peer = 1 - me;
        if self.ep[me].did_close {
            return;
        }
        self.ep[me].did_close = true;
        let close_complete = self.ep[me].state == EpState::Reset
            || self.ep[peer].did_close
            || self.ep[peer].state == EpState::Inactive;
        if close_complete {
            if gen_event
                && (self.ep[me].prev_state != EpState::Inactive
                    || self.ep[peer].state != EpState::Inactive)
            {
                // ConnectionFinished: the analyzer goes inactive.
                self.is_active = false;
            }
            fx.cancel_timers = true;
            fx.delete_timer = true;
        } else if self.ep[me].prev_state != EpState::Inactive {
            fx.expire_timer = true;
        }
    }

    /// Zeek's `Size()` of a side: bytes of sequence space, SYN and FIN excluded.
    pub fn size(&self, side: usize) -> u64 {
        let e = &self.ep[side];
        let p = &self.ep[1 - side];
        if e.prev_state == EpState::SynSent
            && e.state == EpState::Reset
            && p.state == EpState::Inactive
            && !e.no_data_acked()
        {
            return 0;
        }
        let last = Endpoint::full(e.last_seq, e.seq_wraps);
        let ack = Endpoint::full(e.ack_seq, e.ack_wraps);
        let mut size = if last > ack {
            last.wrapping_sub(e.start_seq as u64)
        } else {
            ack.wrapping_sub(e.start_seq as u64)
        };
        // Neither the SYN octet nor the FIN octet is data.
        size = size.saturating_sub(1);
        if e.fin_cnt > 0 {
            size = size.saturating_sub(1);
        }
        size
    }

    /// The originator's and responder's missed bytes (content gaps).
    pub fn missed_bytes(&self) -> u64 {
        self.ep[0].reasm.missed + self.ep[1].reasm.missed
    }

    /// Zeek's `conn_state` (base/protocols/conn/main.zeek), decided in its order.
    pub fn conn_state(&self) -> &'static str {
        use EpState::*;
        let os = self.orig_ep().state;
        let rs = self.resp_ep().state;
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent)
                || (os == Reset && self.size(self.orig) == 0 && self.size(1 - self.orig) == 0)
            {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if r_inactive {
                if rstos0_history(self.history().as_bytes()) {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        } else if rs == Closed {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }
}

const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// `get_relative_seq`: (relative sequence as Zeek's u64, underflow).
fn get_relative_seq(e: &Endpoint, cur: u32, last: u32, wraps: u32) -> (u64, bool) {
    let delta = seq_delta(cur, last);
    let mut wraps = wraps;
    if delta < 0 {
        if wraps != 0 && cur > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur < last {
        wraps = wraps.wrapping_add(1);
    }
    if wraps == 0 {
        let d = seq_delta(cur, e.start_seq32());
        return (d as i64 as u64, d < 0);
    }
    (e.to_relative(cur, wraps), false)
}

/// Zeek's `/^?S[^HAFGIQ]*R.*/ == history` (an anchored match).
fn rstos0_history(h: &[u8]) -> bool {
    let h = h.strip_prefix(b"^").unwrap_or(h);
    let Some(rest) = h.strip_prefix(b"S") else {
        return false;
    };
    for &c in rest {
        if c == b'R' {
            return true;
        }
        if b"HAFGIQ".contains(&c) {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tcp::flags::*;

    /// (side, flags, seq, ack, len)
    fn run(steps: &[(usize, u16, u32, u32, u32)]) -> TcpConn {
        let mut c = TcpConn::new(0);
        let mut last = 0;
        for (i, &(side, flags, seq, ack, len)) in steps.iter().enumerate() {
            let seg = Seg {
                seq,
                ack,
                flags,
                window: 100,
                len,
                caplen: len,
                bad_checksum: false,
            };
            c.process(side, &seg, i as i64, &mut last);
        }
        c
    }

    const C: u32 = 1000;
    const S: u32 = 5000;

    fn handshake() -> Vec<(usize, u16, u32, u32, u32)> {
        vec![
            (0, SYN, C, 0, 0),
            (1, SYN | ACK, S, C + 1, 0),
            (0, ACK, C + 1, S + 1, 0),
        ]
    }

    #[test]
    fn normal_close_is_sf_with_sizes() {
        let mut s = handshake();
        s.extend([
            (0, ACK | PSH, C + 1, S + 1, 10),
            (1, ACK | PSH, S + 1, C + 11, 5),
            (0, FIN | ACK, C + 11, S + 6, 0),
            (1, FIN | ACK, S + 6, C + 12, 0),
            (0, ACK, C + 12, S + 7, 0),
        ]);
        let c = run(&s);
        assert_eq!(c.conn_state(), "SF");
        assert_eq!(c.history(), "ShADdFf");
        assert_eq!((c.size(0), c.size(1)), (10, 5));
    }

    #[test]
    fn syn_repeats_are_one_s() {
        let c = run(&[(0, SYN, C, 0, 0), (0, SYN, C, 0, 0)]);
        assert_eq!((c.history(), c.conn_state()), ("S", "S0"));
        // A new ISN re-bases the side (init_endpoint), so its relative
        // sequence is 0 again: still one S. (The table makes it a new
        // connection anyway: IsReuse.)
        let c = run(&[(0, SYN, C, 0, 0), (0, SYN, C + 7, 0, 0)]);
        assert_eq!(c.history(), "S");
    }

    #[test]
    fn rejected_and_reset_states() {
        let c = run(&[(0, SYN, C, 0, 0), (1, RST | ACK, 0, C + 1, 0)]);
        assert_eq!((c.conn_state(), c.history()), ("REJ", "Sr"));
        let c = run(&[(0, SYN, C, 0, 0), (0, RST, C + 1, 0, 0)]);
        assert_eq!((c.conn_state(), c.history()), ("RSTOS0", "SR"));
        let mut s = handshake();
        s.push((1, RST, S + 1, 0, 0));
        assert_eq!(run(&s).conn_state(), "RSTR");
    }

    #[test]
    fn fin_then_rst_then_peer_fin_is_sf() {
        let mut s = handshake();
        s.extend([
            (0, FIN | ACK, C + 1, S + 1, 0),
            (0, RST, C + 2, 0, 0),
            (1, FIN | ACK, S + 1, C + 2, 0),
        ]);
        let c = run(&s);
        assert_eq!((c.conn_state(), c.history()), ("SF", "ShAFRf"));
    }

    #[test]
    fn retransmitted_data_is_t_and_logarithmic() {
        let mut s = handshake();
        for _ in 0..11 {
            s.push((0, ACK | PSH, C + 1, S + 1, 10));
        }
        // 1 original + 10 repeats: T on the 1st and the 10th repeat.
        assert_eq!(run(&s).history(), "ShADTT");
    }

    #[test]
    fn data_behind_a_pure_ack_ahead_of_it_is_t() {
        // The ACK carrying seq C+11 arrives before the data C+1..C+11 (reordering).
        let mut s = handshake();
        s.extend([(0, ACK, C + 11, S + 1, 0), (0, ACK | PSH, C + 1, S + 1, 10)]);
        assert_eq!(run(&s).history(), "ShADT");
    }

    #[test]
    fn an_ack_past_a_hole_is_g_with_missed_bytes() {
        let mut s = handshake();
        s.extend([
            (0, ACK | PSH, C + 1, S + 1, 10),
            // C+11..C+21 never seen.
            (0, ACK | PSH, C + 21, S + 1, 10),
            (1, ACK, S + 1, C + 31, 0),
        ]);
        let c = run(&s);
        // The ACK is recorded (a) before the gap it reveals (G), as in Zeek.
        assert_eq!((c.history(), c.missed_bytes()), ("ShADaG", 10));
        // Not in a partial (mid-stream) connection: Zeek reports gaps only when both
        // sides are cleanly established.
        let c = run(&[
            (0, ACK | PSH, C, S, 10),
            (0, ACK | PSH, C + 20, S, 10),
            (1, ACK, S, C + 30, 0),
        ]);
        assert_eq!((c.history(), c.missed_bytes()), ("Da", 0));
    }

    #[test]
    fn zero_window_is_w() {
        let mut c = TcpConn::new(0);
        let mut last = 0;
        let seg = Seg {
            seq: C,
            flags: SYN,
            ..Seg::default()
        };
        c.process(0, &seg, 0, &mut last);
        assert_eq!(c.history(), "SW");
    }

    #[test]
    fn fin_rst_together_is_i_and_syn_fin_is_q() {
        let c = run(&[(0, SYN | FIN, C, 0, 0), (0, FIN | RST, C, 0, 0)]);
        assert_eq!(c.history(), "QI");
    }

    #[test]
    fn synack_reversal_flips_mid_history() {
        // The originator's SYN-ACK first, then the responder's SYN with the same ISN.
        let c = run(&[(0, SYN | ACK, C, S + 1, 0), (1, SYN, S, 0, 0)]);
        assert!(c.history().contains('^'), "{}", c.history());
    }

    #[test]
    fn bad_checksum_is_c_and_not_counted() {
        let mut c = TcpConn::new(0);
        let mut last = 0;
        let seg = Seg {
            seq: C,
            flags: SYN,
            window: 5,
            bad_checksum: true,
            ..Seg::default()
        };
        let (_, counted) = c.process(0, &seg, 0, &mut last);
        assert!(!counted);
        assert_eq!((c.history(), c.conn_state()), ("C", "OTH"));
    }

    #[test]
    fn midstream_first_data_is_partial_oth() {
        let c = run(&[
            (0, ACK | PSH, C, S, 10),
            (1, ACK | PSH, S, C + 10, 20),
            (0, ACK, C + 10, S + 20, 0),
        ]);
        assert_eq!((c.conn_state(), c.history()), ("OTH", "DdA"));
        assert_eq!((c.size(0), c.size(1)), (10, 20));
    }

    #[test]
    fn reuse_only_on_a_new_syn() {
        let c = run(&handshake());
        let syn = |seq| Seg {
            seq,
            flags: SYN,
            ..Seg::default()
        };
        assert!(!c.is_reuse(&syn(C)), "a SYN retransmission is not reuse");
        assert!(c.is_reuse(&syn(C + 99)));
        let c = run(&[(0, SYN, C, 0, 0), (1, RST | ACK, 0, C + 1, 0)]);
        assert!(c.is_reuse(&syn(C)), "after a close any SYN is reuse");
    }
}
