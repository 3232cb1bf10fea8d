//! A compact, lossless byte encoding of a [`FlowSummary`] (varints, times
//! as differences from the first frame's, absent values as bits of a mask).
//! The TUI keeps one per flow row: about 130 bytes where the summary is 472.

use super::{Endpoint, FlowSummary, Handshake, HsState, SynOptions, ZeekConn};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bytes of the mask at the end of an encoding (41 bits are used).
const MASK_BYTES: usize = 6;

/// Writes varints into a byte buffer.
pub(crate) struct Packer<'a>(pub(crate) &'a mut Vec<u8>);

impl Packer<'_> {
    pub(crate) fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    /// An optional value: a bit of `mask` says it is there.
    pub(crate) fn opt<T: Copy>(
        &mut self,
        mask: &mut u64,
        bit: &mut u32,
        v: Option<T>,
        f: impl FnOnce(&mut Self, T),
    ) {
        if let Some(v) = v {
            *mask |= 1 << *bit;
            f(self, v);
        }
        *bit += 1;
    }
}

/// Reads what a [`Packer`] wrote.
pub(crate) struct Unpacker<'a> {
    b: &'a [u8],
    i: usize,
}

impl Unpacker<'_> {
    pub(crate) fn u64(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        while let Some(&x) = self.b.get(self.i) {
            self.i += 1;
            if shift < 64 {
                v |= ((x & 0x7f) as u64) << shift;
            }
            shift += 7;
            if x < 0x80 {
                break;
            }
        }
        v
    }
    pub(crate) fn i64(&mut self) -> i64 {
        let v = self.u64();
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }
    pub(crate) fn u32(&mut self) -> u32 {
        self.u64() as u32
    }
    pub(crate) fn u8(&mut self) -> u8 {
        let v = self.b.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v
    }
    pub(crate) fn opt<T>(
        &mut self,
        mask: u64,
        bit: &mut u32,
        f: impl FnOnce(&mut Self) -> T,
    ) -> Option<T> {
        let on = mask & (1 << *bit) != 0;
        *bit += 1;
        on.then(|| f(self))
    }
}

fn put_ep(p: &mut Packer, e: Endpoint) {
    match e.0 {
        IpAddr::V4(a) => {
            p.u8(4);
            p.0.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            p.u8(6);
            p.0.extend_from_slice(&a.octets());
        }
    }
    p.u64(e.1 as u64);
}

fn get_ep(u: &mut Unpacker) -> Endpoint {
    let addr = if u.u8() == 4 {
        let mut o = [0u8; 4];
        o.iter_mut().for_each(|b| *b = u.u8());
        IpAddr::V4(Ipv4Addr::from(o))
    } else {
        let mut o = [0u8; 16];
        o.iter_mut().for_each(|b| *b = u.u8());
        IpAddr::V6(Ipv6Addr::from(o))
    };
    Endpoint(addr, u.u64() as u16)
}

impl FlowSummary {
    /// Append the summary's encoding to `out` ([`FlowSummary::unpack`] reads it back).
    pub fn pack(&self, out: &mut Vec<u8>) {
        let t0 = self.first_ts;
        let hs = &self.hs;
        // The mask of present values and booleans is known at the end, and
        // goes there: the last `MASK_BYTES` bytes.
        let mut mask = 0u64;
        let mut bit = 0u32;
        {
            let mut q = Packer(out);
            q.u64(self.stream as u64);
            put_ep(&mut q, self.a);
            put_ep(&mut q, self.b);
            q.u64(self.first_frame);
            q.u64(self.last_frame.wrapping_sub(self.first_frame));
            q.i64(t0);
            q.i64(self.last_ts.wrapping_sub(t0));
            for d in 0..2 {
                q.u64(self.frames[d]);
                q.u64(self.bytes[d]);
                q.u64(self.payload[d]);
                q.u64(self.frames[d].wrapping_sub(self.conv_frames[d]));
                q.u64(self.bytes[d].wrapping_sub(self.conv_bytes[d]));
            }
            for v in [self.syn, self.synack, self.fin, self.rst] {
                q.u64(v as u64);
            }
            q.u8(self.completeness);
            q.u8(self.first_frame_bits);
            q.u8(self.closing);
            q.u8(HsState::ALL
                .iter()
                .position(|&s| s == hs.state)
                .unwrap_or(0) as u8);
            for v in [
                self.retransmissions,
                self.dup_acks,
                self.lost_segments,
                self.zero_windows,
            ] {
                q.u64(v as u64);
            }
            q.u64(hs.syns as u64);
            q.u64(hs.synacks as u64);
            q.opt(&mut mask, &mut bit, self.irtt_ns, |q, v| q.i64(v));
            q.opt(&mut mask, &mut bit, hs.client, |q, v| q.u8(v));
            for t in [
                hs.syn_first_ts,
                hs.syn_last_ts,
                hs.synack_ts,
                hs.ack_ts,
                hs.first_data.map(|t| t.get()),
                hs.req_ts(),
                hs.resp_ts(),
                hs.end_ts,
            ] {
                q.opt(&mut mask, &mut bit, t, |q, v| q.i64(v.wrapping_sub(t0)));
            }
            q.opt(&mut mask, &mut bit, hs.client_isn, |q, v| q.u64(v as u64));
            for o in &self.syn_opts {
                q.opt(&mut mask, &mut bit, o.mss, |q, v| q.u64(v as u64));
                q.opt(&mut mask, &mut bit, o.wscale, |q, v| q.u8(v));
            }
            self.zeek.pack(&mut q, &mut mask, &mut bit);
            let flags = [
                self.ecn,
                hs.wrong_ack,
                hs.syn_data,
                hs.simultaneous,
                hs.fin_from[0],
                hs.fin_from[1],
                hs.rst_from[0],
                hs.rst_from[1],
            ];
            let opts = self
                .syn_opts
                .iter()
                .flat_map(|o| [o.seen, o.sack_perm, o.timestamps, o.tfo]);
            for f in flags.into_iter().chain(opts) {
                mask |= (f as u64) << bit;
                bit += 1;
            }
        }
        debug_assert!(bit as usize <= MASK_BYTES * 8);
        out.extend_from_slice(&mask.to_le_bytes()[..MASK_BYTES]);
    }

    /// The summary [`FlowSummary::pack`] encoded.
    pub fn unpack(b: &[u8]) -> FlowSummary {
        let (b, m) = b.split_at(b.len().saturating_sub(MASK_BYTES));
        let mut mb = [0u8; 8];
        mb[..m.len()].copy_from_slice(m);
        let mask = u64::from_le_bytes(mb);
        let mut u = Unpacker { b, i: 0 };
        let mut bit = 0u32;
        let stream = u.u32();
        let a = get_ep(&mut u);
        let b = get_ep(&mut u);
        let first_frame = u.u64();
        let last_frame = first_frame.wrapping_add(u.u64());
        let t0 = u.i64();
        let last_ts = t0.wrapping_add(u.i64());
        let mut frames = [0u64; 2];
        let mut bytes = [0u64; 2];
        let mut payload = [0u64; 2];
        let mut conv_frames = [0u64; 2];
        let mut conv_bytes = [0u64; 2];
        for d in 0..2 {
            frames[d] = u.u64();
            bytes[d] = u.u64();
            payload[d] = u.u64();
            conv_frames[d] = frames[d].wrapping_sub(u.u64());
            conv_bytes[d] = bytes[d].wrapping_sub(u.u64());
        }
        let (syn, synack, fin, rst) = (u.u32(), u.u32(), u.u32(), u.u32());
        let completeness = u.u8();
        let first_frame_bits = u.u8();
        let closing = u.u8();
        let state = HsState::ALL
            .get(u.u8() as usize)
            .copied()
            .unwrap_or_default();
        let (retransmissions, dup_acks, lost_segments, zero_windows) =
            (u.u32(), u.u32(), u.u32(), u.u32());
        let syns = u.u32();
        let synacks = u.u32();
        let irtt_ns = u.opt(mask, &mut bit, |u| u.i64());
        let client = u.opt(mask, &mut bit, |u| u.u8());
        let mut ts = [None; 8];
        for t in ts.iter_mut() {
            *t = u.opt(mask, &mut bit, |u| t0.wrapping_add(u.i64()));
        }
        let client_isn = u.opt(mask, &mut bit, |u| u.u32());
        let mut syn_opts = [SynOptions::default(); 2];
        for o in syn_opts.iter_mut() {
            o.mss = u.opt(mask, &mut bit, |u| u.u64() as u16);
            o.wscale = u.opt(mask, &mut bit, |u| u.u8());
        }
        let zeek = ZeekConn::unpack(&mut u, mask, &mut bit);
        let mut flag = || {
            let v = mask & (1 << bit) != 0;
            bit += 1;
            v
        };
        let ecn = flag();
        let hs = Handshake {
            state,
            client,
            syn_first_ts: ts[0],
            syn_last_ts: ts[1],
            synack_ts: ts[2],
            ack_ts: ts[3],
            first_data: ts[4].and_then(std::num::NonZeroI64::new),
            req: ts[5].and_then(std::num::NonZeroI64::new),
            resp: ts[6].and_then(std::num::NonZeroI64::new),
            end_ts: ts[7],
            syns,
            synacks,
            client_isn,
            wrong_ack: flag(),
            syn_data: flag(),
            simultaneous: flag(),
            fin_from: [flag(), flag()],
            rst_from: [flag(), flag()],
        };
        for o in syn_opts.iter_mut() {
            o.seen = flag();
            o.sack_perm = flag();
            o.timestamps = flag();
            o.tfo = flag();
        }
        FlowSummary {
            stream,
            a,
            b,
            first_frame,
            last_frame,
            first_ts: t0,
            last_ts,
            frames,
            bytes,
            payload,
            syn,
            synack,
            fin,
            rst,
            completeness,
            first_frame_bits,
            irtt_ns,
            hs,
            zeek,
            retransmissions,
            dup_acks,
            lost_segments,
            zero_windows,
            conv_frames,
            conv_bytes,
            syn_opts,
            ecn,
            closing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values at their limits read back as written (the corpus check in
    /// `tui::store` covers real streams, packet by packet).
    #[test]
    fn extremes_read_back() {
        let ep = |a: &str, p| Endpoint(a.parse().unwrap(), p);
        let mut s = FlowSummary {
            stream: u32::MAX,
            a: ep("2001:db8::1", 65535),
            b: ep("10.0.0.1", 0),
            first_frame: u64::MAX,
            last_frame: 3,
            first_ts: i64::MIN,
            last_ts: i64::MAX,
            frames: [u64::MAX, 0],
            bytes: [1, u64::MAX],
            payload: [u64::MAX; 2],
            syn: u32::MAX,
            synack: 1,
            fin: 0,
            rst: 7,
            completeness: 0xff,
            first_frame_bits: 0x80,
            irtt_ns: Some(i64::MIN),
            hs: Handshake {
                state: HsState::Closed,
                client: Some(1),
                syn_first_ts: Some(i64::MAX),
                syn_last_ts: Some(i64::MIN),
                synack_ts: None,
                ack_ts: Some(0),
                first_data: std::num::NonZeroI64::new(-1),
                req: std::num::NonZeroI64::new(i64::MIN),
                resp: None,
                end_ts: None,
                syns: u32::MAX,
                synacks: 0,
                client_isn: Some(u32::MAX),
                wrong_ack: true,
                syn_data: false,
                simultaneous: true,
                fin_from: [false, true],
                rst_from: [true, false],
            },
            zeek: ZeekConn::default(),
            retransmissions: u32::MAX,
            dup_acks: 0,
            lost_segments: 5,
            zero_windows: 1,
            conv_frames: [0, u64::MAX],
            conv_bytes: [u64::MAX, 2],
            syn_opts: [
                SynOptions {
                    seen: true,
                    mss: Some(u16::MAX),
                    wscale: Some(14),
                    sack_perm: false,
                    timestamps: true,
                    tfo: true,
                },
                SynOptions::default(),
            ],
            ecn: true,
            closing: 2,
        };
        let mut z = ZeekConn::default();
        for (i, &(dir, seq, flags)) in [
            (0u8, u32::MAX, 0x02u16),
            (1, 5, 0x12),
            (0, 0, 0x10),
            (0, 1, 0x18),
            (1, 6, 0x11),
            (0, 9, 0x04),
        ]
        .iter()
        .enumerate()
        {
            z.step(dir, seq, flags, i as u32 * 100, 0);
        }
        s.zeek = z;
        let mut out = Vec::new();
        s.pack(&mut out);
        assert_eq!(FlowSummary::unpack(&out), s);
        s.zeek = ZeekConn::default();
        s.a = ep("::", 1);
        s.irtt_ns = None;
        s.hs = Handshake::default();
        s.syn_opts = [SynOptions::default(); 2];
        s.ecn = false;
        out.clear();
        s.pack(&mut out);
        assert_eq!(FlowSummary::unpack(&out), s);
    }
}
