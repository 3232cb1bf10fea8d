//! The part of Zeek's TCP reassembler that conn.log can see: which sequence
//! ranges of one direction arrived, how far delivery got, and the content
//! gaps an ACK reveals (`TCP_Reassembler::AckReceived` -> `TrimToSeq` ->
//! `Undelivered` -> `Gap`). Only ranges are kept, never bytes. Sequence
//! numbers are Zeek's relative ones (the first data byte after a SYN is 1).

/// Out-of-order ranges kept per direction; beyond this the newest is dropped
/// (Zeek keeps them all, up to its 10 MB excess-data limit).
const MAX_BLOCKS: usize = 64;
/// Zeek's `tcp_max_above_hole_without_any_acks`.
const MAX_ABOVE_HOLE_WITHOUT_ACKS: u64 = 16_384;
/// Zeek's `tcp_excessive_data_without_further_acks`.
const EXCESSIVE_DATA_WITHOUT_ACKS: u64 = 10 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Reasm {
    /// `last_reassem_seq`: everything below was delivered (or given up as a gap).
    next: u64,
    /// `trim_seq`: everything below was acknowledged.
    trim: u64,
    /// Received ranges above `next`, sorted, not overlapping: (seq, upper).
    blocks: Vec<(u64, u64)>,
    /// Bytes received and not yet acknowledged (Zeek's buffered block data).
    buffered: u64,
    /// Zeek stopped reassembling this direction (`skip_deliveries`).
    skip: bool,
    /// Bytes reported missing (conn.log `missed_bytes`).
    pub missed: u64,
}

impl Default for Reasm {
    fn default() -> Self {
        Reasm {
            next: 1,
            trim: 1,
            blocks: Vec::new(),
            buffered: 0,
            skip: false,
            missed: 0,
        }
    }
}

impl Reasm {
    /// `TCP_Reassembler::DataSent` for `[seq, seq+len)`; `acked` is the
    /// sender's relative sequence the peer acknowledged so far, and
    /// `no_data_acked` says the peer acknowledged nothing beyond the SYN.
    pub fn data_sent(&mut self, seq: u64, len: u64, acked: u64, no_data_acked: bool) {
        if self.skip {
            return;
        }
        let mut seq = seq;
        let upper = seq.saturating_add(len);
        if seq < acked {
            if upper <= acked {
                return; // delivered and acknowledged already
            }
            seq = acked;
        }
        // Reassembler::NewBlock: nothing below the trim point is kept.
        if upper <= self.trim {
            return;
        }
        seq = seq.max(self.trim);
        self.buffered = self.buffered.saturating_add(upper - seq);
        if seq <= self.next {
            if upper > self.next {
                self.next = upper;
                self.absorb();
            }
        } else {
            self.insert(seq, upper);
        }
        let above_hole = self
            .blocks
            .last()
            .map_or(0, |b| b.1.saturating_sub(self.next));
        if (no_data_acked && above_hole > MAX_ABOVE_HOLE_WITHOUT_ACKS)
            || self.buffered > EXCESSIVE_DATA_WITHOUT_ACKS
        {
            self.blocks.clear();
            self.skip = true;
        }
    }

    /// Deliver the blocks that became contiguous with `next`.
    fn absorb(&mut self) {
        let mut i = 0;
        while i < self.blocks.len() {
            let (s, u) = self.blocks[i];
            if s > self.next {
                break;
            }
            self.next = self.next.max(u);
            i += 1;
        }
        self.blocks.drain(..i);
    }

    fn insert(&mut self, seq: u64, upper: u64) {
        let at = self.blocks.partition_point(|b| b.0 < seq);
        self.blocks.insert(at, (seq, upper));
        // Merge overlapping neighbours.
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.blocks.len());
        for &(s, u) in &self.blocks {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(u),
                _ => merged.push((s, u)),
            }
        }
        merged.truncate(MAX_BLOCKS);
        self.blocks = merged;
    }

    /// `TCP_Reassembler::AckReceived(seq)`: the gaps `[at, at+len)` the ACK
    /// reveals, in order. `partial` is the analyzer's `IsPartial()`; a
    /// partial connection's faked first byte (or the byte after it) is never
    /// reported.
    pub fn ack_received(
        &mut self,
        seq: u64,
        fin_cnt: u32,
        fin_seq: u64,
        partial: bool,
        gaps: &mut Vec<(u64, u64)>,
    ) {
        let seq = if fin_cnt > 0 && seq >= fin_seq {
            fin_seq.wrapping_sub(1)
        } else {
            seq
        };
        if seq <= self.trim {
            return;
        }
        if seq > self.next {
            self.undelivered(seq, partial, gaps);
        }
        self.blocks.retain(|b| b.1 > seq);
        self.trim = seq;
        self.buffered = self.blocks.iter().map(|b| b.1 - b.0).sum();
    }

    /// `TCP_Reassembler::Undelivered(up_to)`.
    fn undelivered(&mut self, up_to: u64, partial: bool, gaps: &mut Vec<(u64, u64)>) {
        if up_to <= 2 && partial {
            return;
        }
        if !self.skip {
            while let Some(&(s, u)) = self.blocks.first() {
                if s >= up_to {
                    break;
                }
                if s > self.next {
                    gaps.push((self.next, s - self.next));
                }
                self.next = self.next.max(u);
                self.blocks.remove(0);
                self.absorb();
            }
            if up_to > self.next {
                gaps.push((self.next, up_to - self.next));
            }
        }
        self.next = self.next.max(up_to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_data_has_no_gap() {
        let mut r = Reasm::default();
        let mut g = Vec::new();
        r.data_sent(1, 100, 1, true);
        r.ack_received(101, 0, 0, false, &mut g);
        assert!(g.is_empty());
    }

    #[test]
    fn an_ack_beyond_the_data_reveals_the_hole() {
        let mut r = Reasm::default();
        let mut g = Vec::new();
        r.data_sent(1, 100, 1, true);
        r.data_sent(151, 50, 1, true);
        r.ack_received(201, 0, 0, false, &mut g);
        assert_eq!(g, vec![(101, 50)]);
        // The same ACK again reveals nothing new.
        g.clear();
        r.ack_received(201, 0, 0, false, &mut g);
        assert!(g.is_empty());
    }

    #[test]
    fn fin_octet_is_not_a_gap_and_partial_start_is_ignored() {
        let mut r = Reasm::default();
        let mut g = Vec::new();
        r.data_sent(1, 10, 1, true);
        // FIN at 11 (fin_seq = 12): an ACK of 12 is trimmed to 11.
        r.ack_received(12, 1, 12, false, &mut g);
        assert!(g.is_empty());
        let mut r = Reasm::default();
        r.ack_received(2, 0, 0, true, &mut g);
        assert!(g.is_empty());
    }
}
