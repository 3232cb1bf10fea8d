//! Alarms across streams: SYN floods and port scans. Fed one stream summary
//! at a time (as streams retire, and at the end), so it works the same for
//! a file, a live capture and the TUI. State is bounded: per-key tables are
//! capped, and only counts and a few timestamps are kept per key.

use super::{Endpoint, FlowSummary, HsState};
use std::net::IpAddr;

type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Thresholds, configurable from the command line.
#[derive(Clone, Copy, Debug)]
pub struct AlarmConfig {
    /// A SYN flood: at least this many handshakes to one server port that never completed...
    pub flood_min: usize,
    /// ...starting within this window (nanoseconds).
    pub flood_window_ns: i64,
    /// A port scan: one source reaching at least this many distinct ports of one host...
    pub scan_min_ports: usize,
    /// ...of which at least this share were refused or unanswered.
    pub scan_failed_share: f64,
}

impl Default for AlarmConfig {
    fn default() -> Self {
        AlarmConfig {
            flood_min: 100,
            flood_window_ns: 10_000_000_000,
            scan_min_ports: 20,
            scan_failed_share: 0.8,
        }
    }
}

const MAX_KEYS: usize = 100_000;
const MAX_TIMES: usize = 1_000_000;
const MAX_SOURCES: usize = 10_000;

#[derive(Default)]
struct Flood {
    /// Start times of incomplete handshakes (bounded).
    starts: Vec<i64>,
    sources: FoldMap<IpAddr, u64>,
    incomplete: u64,
    completed: u64,
}

/// Distinct server ports a client tried, and whether each was open. Nearly every client
/// tries one or two ports, so those stay inline; a scanner's set moves to a hash map.
#[derive(Default)]
enum PortSet {
    #[default]
    Empty,
    Few(smallvec::SmallVec<[(u16, bool); 3]>),
    Many(FoldMap<u16, bool>),
}

impl PortSet {
    const FEW: usize = 8;

    /// Insert or update; returns the previous value like `HashMap::insert`.
    fn insert(&mut self, port: u16, open: bool) -> Option<bool> {
        match self {
            PortSet::Empty => {
                *self = PortSet::Few(smallvec::smallvec![(port, open)]);
                None
            }
            PortSet::Few(v) => {
                if let Some(e) = v.iter_mut().find(|e| e.0 == port) {
                    return Some(std::mem::replace(&mut e.1, open));
                }
                if v.len() < Self::FEW {
                    v.push((port, open));
                } else {
                    let mut m: FoldMap<u16, bool> = v.drain(..).collect();
                    m.insert(port, open);
                    *self = PortSet::Many(m);
                }
                None
            }
            PortSet::Many(m) => m.insert(port, open),
        }
    }

    fn len(&self) -> usize {
        match self {
            PortSet::Empty => 0,
            PortSet::Few(v) => v.len(),
            PortSet::Many(m) => m.len(),
        }
    }

    fn open_ports(&self) -> Vec<u16> {
        match self {
            PortSet::Empty => Vec::new(),
            PortSet::Few(v) => v.iter().filter(|e| e.1).map(|e| e.0).collect(),
            PortSet::Many(m) => m.iter().filter(|(_, o)| **o).map(|(p, _)| *p).collect(),
        }
    }
}

/// A (source, target) address pair as a map key: two IPv4 addresses packed in one
/// integer (cheaper to hash and compare; every stream of a capture looks one up),
/// in the same order as the addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum AddrPair {
    V4(u64),
    Other(IpAddr, IpAddr),
}

impl AddrPair {
    fn new(a: IpAddr, b: IpAddr) -> AddrPair {
        match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                AddrPair::V4((u32::from(a) as u64) << 32 | u32::from(b) as u64)
            }
            _ => AddrPair::Other(a, b),
        }
    }
    fn addrs(self) -> (IpAddr, IpAddr) {
        match self {
            AddrPair::V4(k) => (
                IpAddr::V4(((k >> 32) as u32).into()),
                IpAddr::V4((k as u32).into()),
            ),
            AddrPair::Other(a, b) => (a, b),
        }
    }
}

#[derive(Default)]
struct Scan {
    ports: PortSet,
    failed_ports: u64,
    first_ts: i64,
    last_ts: i64,
}

/// One raised alarm, ready to print.
#[derive(Clone, Debug, PartialEq)]
pub enum Alarm {
    SynFlood {
        server: Endpoint,
        /// Incomplete handshakes in the densest window, and that window's start/end.
        peak: usize,
        window_start_ns: i64,
        window_end_ns: i64,
        incomplete: u64,
        completed: u64,
        /// Top sources by incomplete handshakes.
        top_sources: Vec<(IpAddr, u64)>,
    },
    PortScan {
        source: IpAddr,
        target: IpAddr,
        ports: usize,
        failed: u64,
        first_ns: i64,
        last_ns: i64,
        /// Ports that answered with a SYN-ACK (open).
        open_ports: Vec<u16>,
    },
}

#[derive(Default)]
pub struct Alarms {
    cfg: AlarmConfig,
    floods: FoldMap<Endpoint, Flood>,
    scans: FoldMap<AddrPair, Scan>,
}

fn completed(f: &FlowSummary) -> bool {
    f.hs.ack_ts.is_some()
        || matches!(
            f.hs.state,
            HsState::Established | HsState::Closing | HsState::Closed
        )
}

impl Alarms {
    pub fn new(cfg: AlarmConfig) -> Alarms {
        Alarms {
            cfg,
            ..Alarms::default()
        }
    }

    /// Account one stream (its latest summary). Streams without a SYN are ignored.
    pub fn add(&mut self, f: &FlowSummary) {
        let Some(start) = f.hs.syn_first_ts else {
            return;
        };
        let (Some(client), Some(server)) = (f.client(), f.server()) else {
            return;
        };
        let done = completed(f);
        // Answered with a SYN-ACK but never completed still counts as a flood victim.
        if self.floods.len() < MAX_KEYS || self.floods.contains_key(&server) {
            let fl = self.floods.entry(server).or_default();
            if done {
                fl.completed += 1;
            } else {
                fl.incomplete += 1;
                if fl.starts.len() < MAX_TIMES {
                    fl.starts.push(start);
                }
                if fl.sources.len() < MAX_SOURCES || fl.sources.contains_key(&client.0) {
                    *fl.sources.entry(client.0).or_default() += 1;
                }
            }
        }
        let key = AddrPair::new(client.0, server.0);
        if self.scans.len() < MAX_KEYS || self.scans.contains_key(&key) {
            let sc = self.scans.entry(key).or_insert_with(|| Scan {
                first_ts: start,
                last_ts: start,
                ..Scan::default()
            });
            let open = f.synack > 0 || done;
            let failed = matches!(f.hs.state, HsState::Refused | HsState::SynSent) && !open;
            let was = sc.ports.insert(server.1, open);
            if was.is_none() && failed {
                sc.failed_ports += 1;
            }
            sc.first_ts = sc.first_ts.min(start);
            sc.last_ts = sc.last_ts.max(start);
        }
    }

    /// The alarms raised so far, floods first, each sorted by size.
    pub fn raised(&self) -> Vec<Alarm> {
        let mut out = Vec::new();
        let mut floods: Vec<_> = self
            .floods
            .iter()
            .filter(|(_, f)| f.starts.len() >= self.cfg.flood_min)
            .collect();
        floods.sort_by(|a, b| b.1.incomplete.cmp(&a.1.incomplete).then(a.0.cmp(b.0)));
        for (server, f) in floods {
            let mut t = f.starts.clone();
            t.sort_unstable();
            // Densest window: two pointers over sorted start times.
            let (mut best, mut best_i, mut j) = (0usize, 0usize, 0usize);
            for i in 0..t.len() {
                while t[i] - t[j] > self.cfg.flood_window_ns {
                    j += 1;
                }
                if i + 1 - j > best {
                    best = i + 1 - j;
                    best_i = i;
                }
            }
            if best < self.cfg.flood_min {
                continue;
            }
            let mut top: Vec<(IpAddr, u64)> = f.sources.iter().map(|(a, n)| (*a, *n)).collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(5);
            out.push(Alarm::SynFlood {
                server: *server,
                peak: best,
                window_start_ns: t[best_i + 1 - best],
                window_end_ns: t[best_i],
                incomplete: f.incomplete,
                completed: f.completed,
                top_sources: top,
            });
        }
        let mut scans: Vec<_> = self
            .scans
            .iter()
            .filter(|(_, s)| {
                s.ports.len() >= self.cfg.scan_min_ports
                    && s.failed_ports as f64 >= self.cfg.scan_failed_share * s.ports.len() as f64
            })
            .collect();
        scans.sort_by(|a, b| b.1.ports.len().cmp(&a.1.ports.len()).then(a.0.cmp(b.0)));
        for (key, s) in scans {
            let (src, dst) = key.addrs();
            let mut open = s.ports.open_ports();
            open.sort_unstable();
            open.truncate(20);
            out.push(Alarm::PortScan {
                source: src,
                target: dst,
                ports: s.ports.len(),
                failed: s.failed_ports,
                first_ns: s.first_ts,
                last_ns: s.last_ts,
                open_ports: open,
            });
        }
        out
    }
}

impl Alarm {
    /// A short form for a status bar.
    pub fn headline(&self) -> String {
        match self {
            Alarm::SynFlood { server, peak, .. } => {
                format!("SYN flood on {} ({peak} incomplete handshakes)", server)
            }
            Alarm::PortScan {
                source,
                target,
                ports,
                ..
            } => format!("port scan of {target} by {source} ({ports} ports)"),
        }
    }
}

impl std::fmt::Display for Alarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Alarm::SynFlood {
                server,
                peak,
                window_start_ns,
                window_end_ns,
                incomplete,
                completed,
                top_sources,
            } => {
                let secs = (window_end_ns - window_start_ns) as f64 / 1e9;
                write!(
                    f,
                    "SYN flood on {}: {peak} incomplete handshakes within {secs:.3} s ({incomplete} incomplete, {completed} completed in all); top sources: {}",
                    server,
                    top_sources.iter().map(|(a, n)| format!("{a} ({n})")).collect::<Vec<_>>().join(", ")
                )
            }
            Alarm::PortScan {
                source,
                target,
                ports,
                failed,
                first_ns,
                last_ns,
                open_ports,
            } => {
                let secs = (last_ns - first_ns) as f64 / 1e9;
                write!(f, "port scan of {target} by {source}: {ports} ports in {secs:.3} s, {failed} refused or unanswered")?;
                if open_ports.is_empty() {
                    write!(f, "; no open ports found")
                } else {
                    write!(
                        f,
                        "; open: {}",
                        open_ports
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn port_set_behaves_like_a_map_across_its_growth() {
        let mut s = super::PortSet::default();
        let mut m = std::collections::HashMap::new();
        for (i, p) in [5u16, 9, 5, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 5]
            .into_iter()
            .enumerate()
        {
            let open = i % 3 == 0;
            assert_eq!(s.insert(p, open), m.insert(p, open), "port {p}");
            assert_eq!(s.len(), m.len());
        }
        assert!(matches!(s, super::PortSet::Many(_)));
        let mut open = s.open_ports();
        open.sort_unstable();
        let mut want: Vec<u16> = m.iter().filter(|(_, o)| **o).map(|(p, _)| *p).collect();
        want.sort_unstable();
        assert_eq!(open, want);
    }

    use super::*;
    use crate::track::{Handshake, ZeekConn};

    fn flow(
        client: (u8, u16),
        server_port: u16,
        start_ms: i64,
        state: HsState,
        synack: u32,
    ) -> FlowSummary {
        let c = IpAddr::from([10, 0, 0, client.0]);
        let s = IpAddr::from([10, 0, 0, 1]);
        FlowSummary {
            stream: 0,
            a: Endpoint(c, client.1),
            b: Endpoint(s, server_port),
            first_frame: 1,
            last_frame: 1,
            first_ts: start_ms * 1_000_000,
            last_ts: start_ms * 1_000_000,
            frames: [1, 0],
            bytes: [60, 0],
            payload: [0; 2],
            syn: 1,
            synack,
            fin: 0,
            rst: 0,
            completeness: 1,
            first_frame_bits: 0,
            irtt_ns: None,
            hs: Handshake {
                state,
                client: Some(0),
                syn_first_ts: Some(start_ms * 1_000_000),
                ack_ts: if state == HsState::Established {
                    Some(start_ms * 1_000_000 + 1)
                } else {
                    None
                },
                ..Handshake::default()
            },
            zeek: ZeekConn::default(),
            retransmissions: 0,
            dup_acks: 0,
            lost_segments: 0,
            zero_windows: 0,
            conv_frames: [1, 0],
            conv_bytes: [60, 0],
            syn_opts: Default::default(),
            ecn: false,
            closing: 0,
        }
    }

    #[test]
    fn flood_needs_density_not_just_volume() {
        let mut a = Alarms::new(AlarmConfig {
            flood_min: 50,
            ..AlarmConfig::default()
        });
        // 60 half-open SYNs spread over 10 minutes: no flood.
        for i in 0..60 {
            a.add(&flow(
                (2, 1000 + i),
                80,
                i as i64 * 10_000,
                HsState::SynSent,
                0,
            ));
        }
        assert!(a.raised().is_empty());
        // 70 more within a second: a flood, with the top source named.
        for i in 0..70 {
            a.add(&flow(
                (3, 2000 + i),
                80,
                700_000 + i as i64 * 10,
                HsState::SynReceived,
                1,
            ));
        }
        let r = a.raised();
        assert!(
            matches!(&r[0], Alarm::SynFlood { peak, top_sources, .. } if *peak >= 70 && top_sources[0].0 == IpAddr::from([10, 0, 0, 3]))
        );
        assert!(r[0].to_string().starts_with("SYN flood on 10.0.0.1:80: "));
    }

    #[test]
    fn scan_is_many_ports_mostly_refused() {
        let mut a = Alarms::default();
        for p in 1..=30u16 {
            let state = if p == 22 {
                HsState::Established
            } else {
                HsState::Refused
            };
            a.add(&flow((9, 40000 + p), p, p as i64, state, (p == 22) as u32));
        }
        let r = a.raised();
        assert_eq!(r.len(), 1);
        assert!(
            matches!(&r[0], Alarm::PortScan { ports: 30, failed: 29, open_ports, .. } if open_ports == &vec![22])
        );
        // A client talking to 30 ports that all answer is not a scan.
        let mut a = Alarms::default();
        for p in 1..=30u16 {
            a.add(&flow((9, 40000 + p), p, p as i64, HsState::Established, 1));
        }
        assert!(a.raised().is_empty());
    }
}
