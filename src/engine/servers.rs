//! The one per-server tally: the `-q` summary, its JSON and the TUI's
//! servers view all count a stream's handshake outcome here.

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
}

/// Initial-RTT samples kept per tally.
pub const MAX_SAMPLES: usize = 100_000;

/// Keep a bounded, evenly thinned sample.
pub fn push_sample(v: &mut Vec<i64>, x: i64) {
    if v.len() < MAX_SAMPLES {
        v.push(x);
    } else {
        let i = (x.unsigned_abs() as usize) % MAX_SAMPLES;
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
}
