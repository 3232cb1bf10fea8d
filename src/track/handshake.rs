//! The handshake as an observer sees it: one state per stream, moved by one
//! step function over (state, who sent it, flags). hs-tui's own `hs.*`
//! fields come from here; Wireshark has no twin for them.

use std::fmt;

/// Connection state as shown in the flows table and `hs.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum HsState {
    /// No SYN or SYN-ACK seen: the capture started mid-connection.
    #[default]
    MidStream,
    /// SYN sent, nothing back yet. At the end of a capture this is reported as half-open.
    SynSent,
    /// SYN-ACK seen, the client's ACK not yet.
    SynReceived,
    Established,
    /// The server answered the SYN with a RST.
    Refused,
    /// A RST after the handshake (or mid-stream).
    Reset,
    /// One side sent FIN.
    Closing,
    /// Both sides sent FIN.
    Closed,
}

impl HsState {
    pub fn name(self) -> &'static str {
        match self {
            HsState::MidStream => "mid-stream",
            HsState::SynSent => "syn-sent",
            HsState::SynReceived => "syn-received",
            HsState::Established => "established",
            HsState::Refused => "refused",
            HsState::Reset => "reset",
            HsState::Closing => "closing",
            HsState::Closed => "closed",
        }
    }
    pub const ALL: [HsState; 8] = [
        HsState::MidStream,
        HsState::SynSent,
        HsState::SynReceived,
        HsState::Established,
        HsState::Refused,
        HsState::Reset,
        HsState::Closing,
        HsState::Closed,
    ];
}

impl fmt::Display for HsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A packet's part in the connection (`hs.phase`), with `hs.step` 1/2/3 for the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Phase {
    Syn,
    SynAck,
    /// The client's ACK that completes the three-way handshake.
    HandshakeAck,
    Data,
    #[default]
    Ack,
    Fin,
    Rst,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Syn => "syn",
            Phase::SynAck => "syn-ack",
            Phase::HandshakeAck => "handshake-ack",
            Phase::Data => "data",
            Phase::Ack => "ack",
            Phase::Fin => "fin",
            Phase::Rst => "rst",
        }
    }
    pub fn step(self) -> u8 {
        match self {
            Phase::Syn => 1,
            Phase::SynAck => 2,
            Phase::HandshakeAck => 3,
            _ => 0,
        }
    }
}

/// Handshake record of one stream. Directions are 0 (endpoint A, the first
/// frame's source) and 1. Times are nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    pub state: HsState,
    /// Direction of the client: the SYN's sender (or the SYN-ACK's receiver).
    pub client: Option<u8>,
    pub syn_first_ts: Option<i64>,
    pub syn_last_ts: Option<i64>,
    pub synack_ts: Option<i64>,
    pub ack_ts: Option<i64>,
    /// The first payload byte either way (8 bytes: a time of exactly 0 ns is kept as 1 ns).
    pub first_data: Option<std::num::NonZeroI64>,
    /// The client's first payload byte, and the server's first after it (plain-TCP time
    /// to first byte): 8 bytes each (a time of exactly 0 ns is kept as 1 ns).
    pub req: Option<std::num::NonZeroI64>,
    pub resp: Option<std::num::NonZeroI64>,
    pub end_ts: Option<i64>,
    /// Pure SYNs seen; all but the first with the same ISN are retransmissions.
    pub syns: u32,
    pub synacks: u32,
    pub client_isn: Option<u32>,
    /// A SYN-ACK acknowledged something other than ISN+1.
    pub wrong_ack: bool,
    /// Data carried on the SYN (TCP Fast Open).
    pub syn_data: bool,
    /// Both sides sent a pure SYN (simultaneous open).
    pub simultaneous: bool,
    pub fin_from: [bool; 2],
    pub rst_from: [bool; 2],
}

const ONE: std::num::NonZeroI64 = match std::num::NonZeroI64::new(1) {
    Some(n) => n,
    None => unreachable!(),
};

/// A time as 8 bytes in an `Option` (0 ns, never a real capture's, becomes 1 ns).
fn nz(ts: i64) -> std::num::NonZeroI64 {
    std::num::NonZeroI64::new(ts).unwrap_or(ONE)
}

impl Handshake {
    /// The client's first payload byte (plain TCP's request).
    pub fn req_ts(&self) -> Option<i64> {
        self.req.map(|t| t.get())
    }
    /// The server's first payload byte after the client's.
    pub fn resp_ts(&self) -> Option<i64> {
        self.resp.map(|t| t.get())
    }
    pub fn syn_retransmissions(&self) -> u32 {
        self.syns.saturating_sub(1)
    }
    pub fn synack_retransmissions(&self) -> u32 {
        self.synacks.saturating_sub(1)
    }
    /// SYN to SYN-ACK.
    pub fn syn_to_synack(&self) -> Option<i64> {
        Some(self.synack_ts? - self.syn_last_ts?)
    }
    /// First SYN to the RST that ended the attempt, for a handshake that
    /// never completed (a refusal, or a reset of a half-open attempt).
    pub fn syn_to_rst(&self) -> Option<i64> {
        if self.ack_ts.is_some() || !matches!(self.state, HsState::Refused | HsState::Reset) {
            return None;
        }
        Some(self.end_ts? - self.syn_first_ts?)
    }
    /// SYN-ACK to the client's ACK.
    pub fn synack_to_ack(&self) -> Option<i64> {
        Some(self.ack_ts? - self.synack_ts?)
    }
    /// First SYN to the first payload byte.
    pub fn syn_to_data(&self) -> Option<i64> {
        Some(self.first_data?.get() - self.syn_first_ts?)
    }
    /// The state to report once the capture is over: an unanswered SYN is half-open.
    pub fn final_name(&self) -> &'static str {
        match self.state {
            HsState::SynSent => "half-open",
            s => s.name(),
        }
    }

    /// Advance with one segment from direction `dir`. Returns the packet's phase.
    #[allow(clippy::too_many_arguments)]
    pub fn step(&mut self, dir: u8, ts: i64, seq: u32, ack: u32, flags: u16, len: u32) -> Phase {
        use crate::decode::tcp::flags as fl;
        let syn = flags & fl::SYN != 0;
        let ackf = flags & fl::ACK != 0;
        let fin = flags & fl::FIN != 0;
        let rst = flags & fl::RST != 0;
        let from_client = self.client == Some(dir);

        let phase = if rst {
            Phase::Rst
        } else if syn && !ackf {
            Phase::Syn
        } else if syn {
            Phase::SynAck
        } else if fin {
            Phase::Fin
        } else if self.state == HsState::SynReceived && from_client && ackf {
            Phase::HandshakeAck
        } else if len > 0 {
            Phase::Data
        } else {
            Phase::Ack
        };

        // One transition table: (state, phase) -> state. Reasons in the arms.
        match phase {
            Phase::Syn => {
                match self.client {
                    None => self.client = Some(dir),
                    Some(c) if c != dir => self.simultaneous = true,
                    _ => {}
                }
                if self.client == Some(dir) {
                    self.syns += 1;
                    self.client_isn = Some(seq);
                    self.syn_first_ts.get_or_insert(ts);
                    self.syn_last_ts = Some(ts);
                    if len > 0 {
                        self.syn_data = true;
                    }
                }
                if matches!(self.state, HsState::MidStream) {
                    self.state = HsState::SynSent;
                }
            }
            Phase::SynAck => {
                // The SYN-ACK's receiver is the client, even when its SYN was not captured.
                let client = *self.client.get_or_insert(1 - dir);
                if client != dir {
                    self.synacks += 1;
                    self.synack_ts.get_or_insert(ts);
                    if let Some(isn) = self.client_isn {
                        if ack != isn.wrapping_add(1) && !self.syn_data {
                            self.wrong_ack = true;
                        }
                    }
                    if matches!(self.state, HsState::MidStream | HsState::SynSent) {
                        self.state = HsState::SynReceived;
                    }
                } else {
                    // Simultaneous open: the client's own SYN-ACK.
                    self.simultaneous = true;
                }
            }
            Phase::HandshakeAck => {
                self.ack_ts = Some(ts);
                self.state = HsState::Established;
                if len > 0 {
                    self.first_data.get_or_insert(nz(ts));
                }
            }
            Phase::Data | Phase::Ack => {
                if len > 0 {
                    self.first_data.get_or_insert(nz(ts));
                }
                // Simultaneous open completes on the peer's ACK, too.
                if self.state == HsState::SynReceived && ackf {
                    self.state = HsState::Established;
                    self.ack_ts.get_or_insert(ts);
                }
            }
            Phase::Fin => {
                if len > 0 {
                    self.first_data.get_or_insert(nz(ts));
                }
                self.fin_from[dir as usize] = true;
                if self.state == HsState::SynReceived && ackf && from_client {
                    self.ack_ts.get_or_insert(ts);
                }
                if !matches!(self.state, HsState::Refused | HsState::Reset) {
                    self.state = if self.fin_from[0] && self.fin_from[1] {
                        HsState::Closed
                    } else {
                        HsState::Closing
                    };
                    self.end_ts.get_or_insert(ts);
                }
            }
            Phase::Rst => {
                self.rst_from[dir as usize] = true;
                // A RST from the server to an unanswered SYN is a refusal.
                self.state = match self.state {
                    HsState::SynSent if !from_client => HsState::Refused,
                    HsState::Refused => HsState::Refused,
                    // Both FINs then a RST (SO_LINGER 0 on the last ACK) is still a close.
                    HsState::Closed => HsState::Closed,
                    _ => HsState::Reset,
                };
                self.end_ts.get_or_insert(ts);
            }
        }
        if len > 0 && !syn && !rst && self.resp.is_none() {
            if from_client {
                self.req.get_or_insert(nz(ts));
            } else if self.req.is_some() {
                self.resp = Some(nz(ts));
            }
        }
        phase
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tcp::flags::*;

    fn run(steps: &[(u8, u16, u32)]) -> (Handshake, Vec<Phase>) {
        let mut h = Handshake::default();
        let phases = steps
            .iter()
            .enumerate()
            .map(|(i, &(d, fl, len))| h.step(d, i as i64 * 1000, 100, 101, fl, len))
            .collect();
        (h, phases)
    }

    #[test]
    fn three_way_then_fin_close() {
        let (h, p) = run(&[
            (0, SYN, 0),
            (1, SYN | ACK, 0),
            (0, ACK, 0),
            (0, ACK | PSH, 10),
            (1, FIN | ACK, 0),
            (0, FIN | ACK, 0),
        ]);
        assert_eq!(
            p[..4],
            [Phase::Syn, Phase::SynAck, Phase::HandshakeAck, Phase::Data]
        );
        assert_eq!(h.state, HsState::Closed);
        assert_eq!(h.syn_to_synack(), Some(1000));
        assert_eq!(h.synack_to_ack(), Some(1000));
        assert_eq!(h.syn_to_data(), Some(3000));
    }

    #[test]
    fn refused_and_half_open() {
        let (h, _) = run(&[(0, SYN, 0), (1, RST | ACK, 0)]);
        assert_eq!(h.state, HsState::Refused);
        let (h, _) = run(&[(0, SYN, 0), (0, SYN, 0), (0, SYN, 0)]);
        assert_eq!(h.state, HsState::SynSent);
        assert_eq!(h.final_name(), "half-open");
        assert_eq!(h.syn_retransmissions(), 2);
    }

    #[test]
    fn reset_after_established_and_midstream() {
        let (h, _) = run(&[(0, SYN, 0), (1, SYN | ACK, 0), (0, ACK, 0), (1, RST, 0)]);
        assert_eq!(h.state, HsState::Reset);
        let (h, _) = run(&[(0, ACK, 10), (1, ACK, 0)]);
        assert_eq!(h.state, HsState::MidStream);
        assert_eq!(h.client, None);
    }

    #[test]
    fn synack_without_syn_names_the_client() {
        let (h, _) = run(&[(0, SYN | ACK, 0), (1, ACK, 0)]);
        assert_eq!(h.client, Some(1));
        assert_eq!(h.state, HsState::Established);
    }

    #[test]
    fn wrong_ack_in_synack() {
        let mut h = Handshake::default();
        h.step(0, 0, 1000, 0, SYN, 0);
        h.step(1, 1, 5000, 7, SYN | ACK, 0);
        assert!(h.wrong_ack);
    }
}
