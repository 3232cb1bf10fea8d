//! The one per-server tally: the `-q` summary, its JSON and the TUI's
//! servers view all count a stream's handshake outcome here.

use crate::engine::legs::Legs;
use crate::track::{Endpoint, FlowSummary, HsState};

/// How a stream's handshake ended, as the per-server tallies count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The third packet of the handshake was seen (also when the stream later closed or reset).
    Completed,
    /// The server answered the SYN with a RST.
    Refused,
    /// SYN (or SYN-ACK) without the rest of the handshake.
    HalfOpen,
    /// Reset before the handshake completed.
    Reset,
    /// The capture started mid-connection: no handshake to count.
    MidStream,
}

impl Outcome {
    pub fn of(f: &FlowSummary) -> Outcome {
        match f.hs.state {
            HsState::Refused => Outcome::Refused,
            HsState::SynSent | HsState::SynReceived => Outcome::HalfOpen,
            HsState::Reset if f.hs.ack_ts.is_none() => Outcome::Reset,
            HsState::MidStream => Outcome::MidStream,
            _ => Outcome::Completed,
        }
    }
}

/// One server's handshakes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerTally {
    /// Streams with a handshake (mid-stream ones are counted apart).
    pub attempts: u64,
    pub completed: u64,
    pub refused: u64,
    pub half_open: u64,
    pub reset: u64,
    pub mid_stream: u64,
    /// Initial RTTs in nanoseconds, a bounded sample (see [`push_sample`]).
    pub irtt: Vec<i64>,
    /// Samples of each set-up leg ([`crate::engine::legs::LEG_NAMES`] order).
    pub legs: [Vec<i64>; 7],
    /// Server names the clients asked for (SNI), with counts: the first [`MAX_SNIS`].
    pub snis: Vec<(String, u64)>,
    /// Connections whose set-up failed ([`crate::engine::legs::failure`]).
    pub failed: u64,
}

/// Distinct SNIs kept per server.
pub const MAX_SNIS: usize = 8;

/// Initial-RTT samples kept per tally.
pub const MAX_SAMPLES: usize = 100_000;

/// Keep a bounded, evenly thinned sample.
pub fn push_sample(v: &mut Vec<i64>, x: i64) {
    push_sample_max(v, x, MAX_SAMPLES)
}

/// Samples kept per set-up leg and server, and of lifetimes per client→server pair.
pub const LEG_SAMPLES: usize = 20_000;

/// [`push_sample`] with its bound.
pub fn push_sample_max(v: &mut Vec<i64>, x: i64, max: usize) {
    if v.len() < max {
        v.push(x);
    } else {
        let i = (x.unsigned_abs() as usize) % max;
        v[i] = x;
    }
}

impl ServerTally {
    pub fn add(&mut self, f: &FlowSummary) {
        let outcome = Outcome::of(f);
        if outcome != Outcome::MidStream {
            self.attempts += 1;
        }
        match outcome {
            Outcome::Completed => self.completed += 1,
            Outcome::Refused => self.refused += 1,
            Outcome::HalfOpen => self.half_open += 1,
            Outcome::Reset => self.reset += 1,
            Outcome::MidStream => self.mid_stream += 1,
        }
        if let Some(r) = f.irtt_ns {
            push_sample(&mut self.irtt, r);
        }
    }
}

impl ServerTally {
    /// A stream's set-up legs, SNI and whether its set-up failed.
    pub fn add_setup(&mut self, legs: &Legs, sni: Option<&str>, failed: bool) {
        for (i, v) in self.legs.iter_mut().enumerate() {
            if let Some(x) = legs.get(i) {
                push_sample_max(v, x, LEG_SAMPLES);
            }
        }
        if let Some(sni) = sni {
            match self.snis.iter().position(|(s, _)| s == sni) {
                Some(i) => self.snis[i].1 += 1,
                None if self.snis.len() < MAX_SNIS => self.snis.push((sni.to_string(), 1)),
                None => {}
            }
        }
        self.failed += failed as u64;
    }
    /// The SNIs, most asked first, as one short text.
    pub fn sni_text(&self) -> String {
        let mut v: Vec<&(String, u64)> = self.snis.iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Connection reuse of one client (address) to one server (address, port).
/// Most pairs have one or two connections: their lifetimes stay inline (no
/// allocation), and `-q` keeps one of these per pair of a capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairTally {
    /// Connections opened (a handshake seen).
    pub conns: u64,
    /// Lifetimes (first to last packet): every one up to [`LEG_SAMPLES`], then a
    /// bounded sample.
    pub life: smallvec::SmallVec<[i64; 2]>,
    pub life_max: i64,
    /// Over the connections whose set-up was measured: set-up time and lifetime summed.
    pub setup_sum: i64,
    pub setup_life_sum: i64,
}

/// A client address and the server it connects to.
pub type Pair = (std::net::IpAddr, Endpoint);

impl PairTally {
    /// A connection and its set-up time ([`Legs::setup`]).
    pub fn add(&mut self, f: &FlowSummary, setup: Option<i64>) {
        self.conns += 1;
        let life = f.duration_ns().max(0);
        if self.life.len() < LEG_SAMPLES {
            self.life.push(life);
        } else {
            self.life[(life.unsigned_abs() as usize) % LEG_SAMPLES] = life;
        }
        self.life_max = self.life_max.max(life);
        if let Some(setup) = setup {
            self.setup_sum += setup;
            self.setup_life_sum += life.max(setup);
        }
    }
    /// Share of the measured connections' lifetime spent in set-up, in percent.
    pub fn setup_percent(&self) -> Option<f64> {
        (self.setup_life_sum > 0)
            .then(|| 100.0 * self.setup_sum as f64 / self.setup_life_sum as f64)
    }
    /// (median, max) lifetime.
    pub fn life_median_max(&self) -> Option<(i64, i64)> {
        let mut v = self.life.clone();
        if v.is_empty() {
            return None;
        }
        let mid = (v.len() - 1) / 2;
        Some((*v.select_nth_unstable(mid).1, self.life_max))
    }
}

/// Client→server pairs and their tallies (`-q` counts one per connection). Pairs of
/// IPv4 addresses, nearly all of them, are keyed by one packed integer: hashing and
/// comparing it costs a fraction of an `(IpAddr, Endpoint)` key, and `-q` pays it for
/// every connection of the capture.
#[derive(Default)]
pub struct PairMap {
    v4: FoldMap<u128, PairTally>,
    other: FoldMap<Pair, PairTally>,
}

type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

impl PairMap {
    pub fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn pack(p: &Pair) -> Option<u128> {
        match (p.0, (p.1).0) {
            (std::net::IpAddr::V4(c), std::net::IpAddr::V4(s)) => {
                Some((u32::from(c) as u128) << 48 | (u32::from(s) as u128) << 16 | (p.1).1 as u128)
            }
            _ => None,
        }
    }
    fn unpack(k: u128) -> Pair {
        let v4 = |x: u128| std::net::IpAddr::V4(std::net::Ipv4Addr::from((x & 0xffff_ffff) as u32));
        (v4(k >> 48), Endpoint(v4(k >> 16), k as u16))
    }
    /// The tally of `p`, created if there is room for one more pair (`None`: full).
    pub fn tally(&mut self, p: Pair, room: usize) -> Option<&mut PairTally> {
        let full = self.len() >= room;
        match Self::pack(&p) {
            Some(k) if full => self.v4.get_mut(&k),
            Some(k) => Some(self.v4.entry(k).or_default()),
            None if full => self.other.get_mut(&p),
            None => Some(self.other.entry(p).or_default()),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (Pair, &PairTally)> {
        self.v4
            .iter()
            .map(|(k, t)| (Self::unpack(*k), t))
            .chain(self.other.iter().map(|(p, t)| (*p, t)))
    }
}

/// The pair of a stream with a handshake (client address, server).
pub fn pair_of(f: &FlowSummary) -> Option<Pair> {
    if Outcome::of(f) == Outcome::MidStream {
        return None;
    }
    Some((f.client()?.0, f.server()?))
}

/// The `top` pairs by connections opened, most first (then by address). One pass
/// that keeps the best `top` seen: a capture of one-off clients has as many pairs as
/// connections, and collecting or sorting them all cost `-q` more than counting them.
pub fn ranked_pairs<'a, I>(pairs: I, top: usize) -> Vec<(Pair, &'a PairTally)>
where
    I: IntoIterator<Item = (Pair, &'a PairTally)>,
{
    let order = |a: &(Pair, &PairTally), b: &(Pair, &PairTally)| {
        b.1.conns.cmp(&a.1.conns).then(a.0.cmp(&b.0))
    };
    // Best first; `v[top - 1]` is the bar a pair must pass.
    let mut v: Vec<(Pair, &PairTally)> = Vec::with_capacity(top + 1);
    if top == 0 {
        return v;
    }
    for (p, t) in pairs {
        if v.len() == top {
            let last = &v[top - 1];
            // Cheap test first: most pairs have fewer connections than the bar.
            if t.conns < last.1.conns || (t.conns == last.1.conns && p > last.0) {
                continue;
            }
        }
        let item = (p, t);
        let at = v.partition_point(|x| order(x, &item).is_lt());
        v.insert(at, item);
        v.truncate(top);
    }
    v
}

/// Servers and their tallies, heaviest first (then by address).
pub fn ranked<'a, I>(tallies: I) -> Vec<(Endpoint, &'a ServerTally)>
where
    I: IntoIterator<Item = (&'a Endpoint, &'a ServerTally)>,
{
    let mut v: Vec<(Endpoint, &ServerTally)> = tallies.into_iter().map(|(e, t)| (*e, t)).collect();
    v.sort_by(|a, b| b.1.attempts.cmp(&a.1.attempts).then(a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_counts_once_and_mid_stream_is_no_attempt() {
        let mut all = crate::engine::tests::summaries("sample-captures/reset.pcap");
        all.extend(crate::engine::tests::summaries(
            "tests/data/lo-http-refused.pcap",
        ));
        assert!(!all.is_empty());
        let mut t = ServerTally::default();
        let mut seen = Vec::new();
        for f in &all {
            t.add(f);
            seen.push(Outcome::of(f));
        }
        let count = |o| seen.iter().filter(|&&x| x == o).count() as u64;
        assert_eq!(t.completed, count(Outcome::Completed));
        assert_eq!(t.refused, count(Outcome::Refused));
        assert!(t.refused > 0, "the refused capture has refused streams");
        assert_eq!(t.mid_stream, count(Outcome::MidStream));
        assert_eq!(
            t.attempts,
            t.completed + t.refused + t.half_open + t.reset,
            "mid-stream streams are no attempts"
        );
        let mut mid = all[0].clone();
        mid.hs.state = HsState::MidStream;
        assert_eq!(Outcome::of(&mid), Outcome::MidStream);
    }

    #[test]
    fn pair_lifetimes_median_and_max() {
        let all = crate::engine::tests::summaries("sample-captures/many-short.pcap");
        assert!(all.len() >= 3);
        let mut one = PairTally::default();
        one.add(&all[0], None);
        let l0 = all[0].duration_ns();
        assert_eq!(one.life_median_max(), Some((l0, l0)));
        assert!(!one.life.spilled(), "one connection allocates nothing");
        let mut two = one.clone();
        two.add(&all[1], None);
        assert!(!two.life.spilled(), "nor do two");
        let mut three = PairTally::default();
        let mut lives: Vec<i64> = all[..3].iter().map(|f| f.duration_ns()).collect();
        for f in &all[..3] {
            three.add(f, Some(1));
        }
        lives.sort();
        assert_eq!(three.life_median_max(), Some((lives[1], lives[2])));
        assert_eq!(three.conns, 3);
    }

    /// IPv4 pairs go through the packed key and come back as they went in; the top
    /// pairs are the most used, ties by address, as a full sort would rank them.
    #[test]
    fn pair_map_packs_and_ranks() {
        use std::net::IpAddr;
        let all = crate::engine::tests::summaries("sample-captures/many-short.pcap");
        let mut m = PairMap::default();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let keys: Vec<Pair> = (0..40u8)
            .map(|i| {
                let c = IpAddr::from([10, 0, 0, i % 7]);
                let server = if i % 5 == 0 {
                    Endpoint(v6, 443)
                } else {
                    Endpoint(IpAddr::from([192, 168, 1, i % 3]), 8000 + (i % 2) as u16)
                };
                (c, server)
            })
            .collect();
        let mut want: std::collections::HashMap<Pair, u64> = Default::default();
        for (i, k) in keys.iter().enumerate() {
            m.tally(*k, usize::MAX)
                .unwrap()
                .add(&all[i % all.len()], None);
            *want.entry(*k).or_default() += 1;
        }
        assert_eq!(m.len(), want.len());
        let mut full: Vec<(Pair, u64)> = want.into_iter().collect();
        full.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for top in [1, 3, 10, 100] {
            let got: Vec<(Pair, u64)> = ranked_pairs(m.iter(), top)
                .into_iter()
                .map(|(p, t)| (p, t.conns))
                .collect();
            assert_eq!(
                got,
                full.iter().take(top).cloned().collect::<Vec<_>>(),
                "top {top}"
            );
        }
        // A full map counts known pairs and turns new ones away.
        let n = m.len();
        assert!(m.tally(keys[0], n).is_some());
        let new = (
            IpAddr::from([10, 9, 9, 9]),
            Endpoint(IpAddr::from([192, 168, 1, 1]), 1),
        );
        assert!(m.tally(new, n).is_none());
    }
}
