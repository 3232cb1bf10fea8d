//! Zeek-style `conn_state` and `history` (SEMANTICS.md §6), for users who
//! think in conn.log terms. The originator is the first packet's sender,
//! except that a first SYN-ACK flips the roles at once (history `^`).
//! Not modelled: checksum (`C`) and content-gap (`G`) letters, and Zeek's
//! "likely server port" role heuristic for mid-stream first packets.

use crate::decode::tcp::flags as fl;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Ep {
    #[default]
    Inactive,
    SynSent,
    Partial,
    Established,
    Closed,
    Reset,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZeekConn {
    /// Direction of the originator, once known.
    orig: Option<u8>,
    ep: [Ep; 2],
    hist: [u8; 24],
    hist_len: u8,
    /// Per direction: last SYN seq, last FIN end, last RST seq (for repeat letters).
    last_syn: [Option<u32>; 2],
    last_fin: [Option<u32>; 2],
    last_rst: [Option<u32>; 2],
    seen_once: [u8; 2],
    retrans_count: [u32; 2],
    zero_win_count: [u32; 2],
    highest: [Option<u32>; 2],
    payload: bool,
}

const ONCE_A: u8 = 1;
const ONCE_D: u8 = 2;
const ONCE_I: u8 = 4;
const ONCE_Q: u8 = 8;

impl ZeekConn {
    pub fn history(&self) -> &str {
        std::str::from_utf8(&self.hist[..self.hist_len as usize]).unwrap_or("")
    }

    /// The history's whole buffer and its length: a fixed-size copy, cheaper per packet
    /// than copying `history()` (the Parquet export keeps one per row).
    pub fn history_raw(&self) -> ([u8; 24], usize) {
        (self.hist, self.hist_len as usize)
    }

    fn push(&mut self, c: u8) {
        if (self.hist_len as usize) < self.hist.len() {
            self.hist[self.hist_len as usize] = c;
            self.hist_len += 1;
        }
    }

    fn letter(&mut self, is_orig: bool, c: u8) {
        self.push(if is_orig {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
    }

    /// Logarithmic letters: recorded on the 1st, 10th, 100th... occurrence.
    fn log_letter(&mut self, is_orig: bool, c: u8, count: u32) {
        if matches!(count, 1 | 10 | 100 | 1000 | 10_000 | 100_000) {
            self.letter(is_orig, c);
        }
    }

    pub fn step(&mut self, dir: u8, seq: u32, flags: u16, len: u32, window: u16) {
        let syn = flags & fl::SYN != 0;
        let ack = flags & fl::ACK != 0;
        let fin = flags & fl::FIN != 0;
        let rst = flags & fl::RST != 0;
        let orig = *self
            .orig
            .get_or_insert_with(|| if syn && ack { 1 - dir } else { dir });
        if self.hist_len == 0 && orig != dir {
            self.push(b'^');
        }
        let is_orig = dir == orig;
        let (me, peer) = (dir as usize, 1 - dir as usize);
        let d = dir as usize;

        // History letters.
        if syn && (fin || rst) {
            if self.seen_once[d] & ONCE_Q == 0 {
                self.seen_once[d] |= ONCE_Q;
                self.letter(is_orig, b'q');
            }
        } else if syn {
            if self.last_syn[d] != Some(seq) {
                self.letter(is_orig, if ack { b'h' } else { b's' });
            }
            self.last_syn[d] = Some(seq);
        }
        if fin && rst {
            if self.seen_once[d] & ONCE_I == 0 {
                self.seen_once[d] |= ONCE_I;
                self.letter(is_orig, b'i');
            }
        } else if fin {
            let end = seq.wrapping_add(len);
            if self.last_fin[d] != Some(end) {
                self.letter(is_orig, b'f');
            }
            self.last_fin[d] = Some(end);
        } else if rst {
            if self.last_rst[d] != Some(seq) {
                self.letter(is_orig, b'r');
            }
            self.last_rst[d] = Some(seq);
        }
        if !syn && !fin && !rst {
            if ack && len == 0 && self.seen_once[d] & ONCE_A == 0 {
                self.seen_once[d] |= ONCE_A;
                self.letter(is_orig, b'a');
            }
            if len > 0 && self.seen_once[d] & ONCE_D == 0 {
                self.seen_once[d] |= ONCE_D;
                self.letter(is_orig, b'd');
            }
        }
        if len > 0 {
            self.payload = true;
            let end = seq.wrapping_add(len);
            match self.highest[d] {
                Some(h) if !crate::track::seq::gt(end, h) => {
                    self.retrans_count[d] += 1;
                    let c = self.retrans_count[d];
                    self.log_letter(is_orig, b't', c);
                }
                _ => self.highest[d] = Some(end),
            }
        }
        if window == 0 && !rst && self.ep[peer] != Ep::Closed && self.ep[me] != Ep::Reset {
            self.zero_win_count[d] += 1;
            let c = self.zero_win_count[d];
            self.log_letter(is_orig, b'w', c);
        }

        // Endpoint states.
        if syn {
            if is_orig && !ack {
                if matches!(self.ep[me], Ep::Inactive | Ep::Partial) {
                    self.ep[me] = Ep::SynSent;
                }
            } else {
                self.ep[me] = Ep::Established;
                if self.ep[peer] == Ep::SynSent {
                    self.ep[peer] = Ep::Established;
                }
            }
        }
        if fin {
            if self.ep[peer] == Ep::Reset && self.ep[me] == Ep::Closed {
                self.ep[peer] = Ep::Closed;
            }
            if self.ep[me] != Ep::Reset {
                self.ep[me] = Ep::Closed;
            }
        }
        if rst && !(self.ep[me] == Ep::Closed && self.ep[peer] == Ep::Closed) {
            self.ep[me] = Ep::Reset;
        }
        if !syn && !fin && !rst && self.ep[me] == Ep::Inactive {
            let resp_ack_ignored = !is_orig && len == 0 && self.ep[peer] == Ep::SynSent;
            if ack && self.ep[peer] == Ep::Established {
                self.ep[me] = Ep::Established;
            } else if !resp_ack_ignored {
                self.ep[me] = Ep::Partial;
            }
        }
    }

    /// Zeek's `conn_state`, decided in its order; the first match wins.
    pub fn conn_state(&self) -> &'static str {
        let o = self.orig.unwrap_or(0) as usize;
        let (os, rs) = (self.ep[o], self.ep[1 - o]);
        let inactive = |e: Ep| matches!(e, Ep::Inactive | Ep::Partial);
        if rs == Ep::Reset {
            if os == Ep::SynSent || (os == Ep::Reset && !self.payload) {
                return "REJ";
            }
            if inactive(os) {
                return "RSTRH";
            }
            return "RSTR";
        }
        if os == Ep::Reset {
            if inactive(rs) {
                return if self.rstos0_history() {
                    "RSTOS0"
                } else {
                    "OTH"
                };
            }
            return "RSTO";
        }
        match (os, rs) {
            (Ep::Closed, Ep::Closed) => "SF",
            (Ep::Closed, r) if inactive(r) => "SH",
            (Ep::Closed, _) => "S2",
            (o2, Ep::Closed) if inactive(o2) => "SHR",
            (_, Ep::Closed) => "S3",
            (Ep::SynSent, Ep::Inactive) => "S0",
            (Ep::Established, Ep::Established) => "S1",
            _ => "OTH",
        }
    }

    /// `^?S[^HAFGIQ]*R.*`
    fn rstos0_history(&self) -> bool {
        let h = self.history().as_bytes();
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
}

impl Ep {
    const ALL: [Ep; 6] = [
        Ep::Inactive,
        Ep::SynSent,
        Ep::Partial,
        Ep::Established,
        Ep::Closed,
        Ep::Reset,
    ];
}

impl ZeekConn {
    /// Write the state for [`super::FlowSummary::pack`]: values into `p`, what is
    /// present (and `payload`) as bits of `mask` from `bit` on. Sequence
    /// numbers are written as differences from the direction's last SYN.
    pub(super) fn pack(&self, p: &mut super::pack::Packer, mask: &mut u64, bit: &mut u32) {
        p.opt(mask, bit, self.orig, |p, v| p.u8(v));
        for d in 0..2 {
            p.u8(Ep::ALL.iter().position(|&e| e == self.ep[d]).unwrap_or(0) as u8);
            p.u8(self.seen_once[d]);
            p.u64(self.retrans_count[d] as u64);
            p.u64(self.zero_win_count[d] as u64);
            p.opt(mask, bit, self.last_syn[d], |p, v| p.u64(v as u64));
            let base = self.last_syn[d].unwrap_or(0);
            for v in [self.last_fin[d], self.last_rst[d], self.highest[d]] {
                p.opt(mask, bit, v, |p, v| p.u64(v.wrapping_sub(base) as u64));
            }
        }
        p.u8(self.hist_len);
        p.0.extend_from_slice(&self.hist[..self.hist_len as usize]);
        *mask |= (self.payload as u64) << *bit;
        *bit += 1;
    }

    /// Read what [`ZeekConn::pack`] wrote.
    pub(super) fn unpack(u: &mut super::pack::Unpacker, mask: u64, bit: &mut u32) -> ZeekConn {
        let mut z = ZeekConn {
            orig: u.opt(mask, bit, |u| u.u8()),
            ..ZeekConn::default()
        };
        for d in 0..2 {
            z.ep[d] = Ep::ALL.get(u.u8() as usize).copied().unwrap_or_default();
            z.seen_once[d] = u.u8();
            z.retrans_count[d] = u.u32();
            z.zero_win_count[d] = u.u32();
            z.last_syn[d] = u.opt(mask, bit, |u| u.u32());
            let base = z.last_syn[d].unwrap_or(0);
            z.last_fin[d] = u.opt(mask, bit, |u| base.wrapping_add(u.u32()));
            z.last_rst[d] = u.opt(mask, bit, |u| base.wrapping_add(u.u32()));
            z.highest[d] = u.opt(mask, bit, |u| base.wrapping_add(u.u32()));
        }
        z.hist_len = u.u8().min(z.hist.len() as u8);
        for i in 0..z.hist_len as usize {
            z.hist[i] = u.u8();
        }
        z.payload = mask & (1 << *bit) != 0;
        *bit += 1;
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tcp::flags::*;

    fn run(steps: &[(u8, u16, u32)]) -> ZeekConn {
        let mut z = ZeekConn::default();
        for (i, &(d, f, len)) in steps.iter().enumerate() {
            z.step(d, 1000 + i as u32 * 100, f, len, 100);
        }
        z
    }

    #[test]
    fn normal_close_is_sf() {
        let z = run(&[
            (0, SYN, 0),
            (1, SYN | ACK, 0),
            (0, ACK, 0),
            (0, ACK | PSH, 10),
            (1, ACK, 5),
            (0, FIN | ACK, 0),
            (1, FIN | ACK, 0),
        ]);
        assert_eq!(z.conn_state(), "SF");
        assert_eq!(z.history(), "ShADdFf");
    }

    #[test]
    fn refused_is_rej_and_unanswered_is_s0() {
        let z = run(&[(0, SYN, 0), (1, RST | ACK, 0)]);
        assert_eq!((z.conn_state(), z.history()), ("REJ", "Sr"));
        let z = run(&[(0, SYN, 0)]);
        assert_eq!((z.conn_state(), z.history()), ("S0", "S"));
    }

    #[test]
    fn established_then_originator_reset() {
        let z = run(&[
            (0, SYN, 0),
            (1, SYN | ACK, 0),
            (0, ACK, 0),
            (0, ACK, 3),
            (1, ACK, 4),
            (0, RST, 0),
        ]);
        assert_eq!(z.conn_state(), "RSTO");
        let z = run(&[(0, SYN, 0), (0, RST, 0)]);
        assert_eq!(z.conn_state(), "RSTOS0");
    }

    #[test]
    fn synack_first_flips_roles() {
        let z = run(&[(0, SYN | ACK, 0), (1, ACK, 0)]);
        assert!(z.history().starts_with("^h"));
        assert_eq!(z.conn_state(), "S1");
    }
}
