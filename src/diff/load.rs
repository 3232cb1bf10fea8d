//! Read one capture into compact per-packet records: only TCP packets, and
//! only what the path does not change. A capture given as `-` (standard
//! input) is spooled to a temporary file first, so both sides can be read
//! again for per-packet output.

use super::{Endpoint, Side};
use crate::capture::{self, Event, ReadOptions, SourceSpec};
use anyhow::Context;
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

/// One direction of a TCP conversation as this capture saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub src: Endpoint,
    pub dst: Endpoint,
}

impl FlowKey {
    pub fn reversed(self) -> FlowKey {
        FlowKey {
            src: self.dst,
            dst: self.src,
        }
    }
}

/// One TCP packet, 48 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pkt {
    /// Timestamp in this capture's own clock, ns since the epoch.
    pub ts: i64,
    /// Frame number in the capture (1-based).
    pub frame: u32,
    /// Index into [`Capture::flows`].
    pub flow: u32,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub tsval: u32,
    pub tsecr: u32,
    pub flags: u16,
    pub win: u16,
    /// IPv4 identification; 0 and meaningless for IPv6 (see `v4`).
    pub ipid: u16,
    pub has_ts: bool,
    pub v4: bool,
    /// A hash of the SACK blocks and the first payload bytes: duplicate ACKs
    /// differing only in their SACK blocks are different packets.
    pub content: u32,
}

/// The TCP packets of one capture.
pub struct Capture {
    pub side: Side,
    /// What the user named it (a path or `-`).
    pub name: String,
    /// The file read (for stdin, the spool file).
    pub path: PathBuf,
    pub pkts: Vec<Pkt>,
    pub flows: Vec<FlowKey>,
    /// Frames in the file, TCP or not.
    pub frames: u64,
    /// Frames that were TCP but could not be used (fragments, quoted in ICMP, cut short).
    pub skipped: u64,
    /// Kept alive while the spool file of standard input is needed.
    _spool: Option<tempfile::NamedTempFile>,
}

impl Capture {
    pub fn flow_of(&self, p: &Pkt) -> FlowKey {
        self.flows[p.flow as usize]
    }
    /// The packet with this frame number, if it is TCP.
    pub fn by_frame(&self, frame: u64) -> Option<usize> {
        self.pkts
            .binary_search_by_key(&frame, |p| p.frame as u64)
            .ok()
    }
}

/// Where to read a capture named on the command line: a file, or standard
/// input spooled to a temporary file.
pub fn source(name: &str) -> anyhow::Result<(PathBuf, Option<tempfile::NamedTempFile>)> {
    if name != "-" {
        return Ok((PathBuf::from(name), None));
    }
    let mut tmp = tempfile::NamedTempFile::new().context("cannot spool standard input")?;
    std::io::copy(&mut std::io::stdin().lock(), tmp.as_file_mut())
        .context("reading standard input")?;
    Ok((tmp.path().to_path_buf(), Some(tmp)))
}

/// Read every TCP packet of `name` (`-`: standard input).
pub fn load(name: &str, side: Side) -> anyhow::Result<Capture> {
    let (path, spool) = source(name)?;
    let mut c = read_path(&path, side)?;
    c.name = name.to_string();
    c._spool = spool;
    Ok(c)
}

fn read_path(path: &Path, side: Side) -> anyhow::Result<Capture> {
    let opened = capture::open(&SourceSpec::File(path.to_path_buf()))?;
    let running = capture::spawn(opened, ReadOptions::default());
    let mut c = Capture {
        side,
        name: path.display().to_string(),
        path: path.to_path_buf(),
        pkts: Vec::new(),
        flows: Vec::new(),
        frames: 0,
        skipped: 0,
        _spool: None,
    };
    let mut index: FxHashMap<FlowKey, u32> = FxHashMap::default();
    let mut error = None;
    while let Ok(ev) = running.events.recv() {
        match ev {
            Event::Batch(b) => {
                for (f, bytes) in b.iter() {
                    c.frames += 1;
                    let (Some(ip), Some(t)) = (f.ip.as_ref(), f.tcp.as_ref()) else {
                        continue;
                    };
                    let Some(len) = t.seg_len.filter(|_| t.has_fixed && !t.quoted) else {
                        c.skipped += 1;
                        continue;
                    };
                    let key = FlowKey {
                        src: Endpoint {
                            addr: ip.src,
                            port: t.src_port,
                        },
                        dst: Endpoint {
                            addr: ip.dst,
                            port: t.dst_port,
                        },
                    };
                    let n = index.len() as u32;
                    let flow = *index.entry(key).or_insert_with(|| {
                        c.flows.push(key);
                        n
                    });
                    let (tsval, tsecr) = t.options.timestamp.unwrap_or((0, 0));
                    let v4 = ip.src.is_ipv4();
                    let content = {
                        use std::hash::{Hash, Hasher};
                        let mut h = rustc_hash::FxHasher::default();
                        t.options.sack_blocks().hash(&mut h);
                        let off = f.payload_off as usize;
                        let n = (f.payload_cap as usize).min(32);
                        bytes.get(off..off.saturating_add(n)).hash(&mut h);
                        let x = h.finish();
                        (x ^ (x >> 32)) as u32
                    };
                    c.pkts.push(Pkt {
                        ts: f.ts_ns,
                        frame: f.number.min(u32::MAX as u64) as u32,
                        flow,
                        seq: t.seq,
                        ack: t.ack,
                        len,
                        tsval,
                        tsecr,
                        flags: t.flags,
                        win: t.window,
                        ipid: if v4 { ip.id } else { 0 },
                        has_ts: t.options.timestamp.is_some(),
                        v4,
                        content,
                    });
                }
                running.recycle(b);
            }
            Event::Stats(_) => {}
            Event::Done(e) => {
                error = e;
                break;
            }
        }
    }
    if let Some(e) = error {
        // What was read is still usable; say where the file stopped.
        eprintln!("hs-tui: {e}");
    }
    Ok(c)
}
