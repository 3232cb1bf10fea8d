//! Follow TCP Stream in the interactive view (`f`): the selected flow's
//! payload, each direction in sequence order, as `-z follow,tcp` computes it.
//!
//! A background job re-reads the capture (or the live spool) through a fresh
//! [`Engine`], exactly as batch mode does, and feeds the flow's segments to a
//! [`Follower`] that keeps at most [`HOLD`] bytes. The same thread then
//! indexes the result into display lines, so the UI thread only ever formats
//! the rows on screen. Payload bytes never reach the terminal as they are:
//! [`escape`] turns every byte outside printable ASCII into `\xNN` (`\t`,
//! `\r` for those two), and the hex view prints '.' for them.

use crate::capture::{self, Event, ReadOptions, SourceSpec};
use crate::engine::Engine;
use crate::follow::{self, FollowSpec, Follower, Mode, Proto, Target};
use crate::track::{Budget, Endpoint};
use crossbeam_channel::{unbounded, Receiver, TryRecvError};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Payload bytes kept per followed stream; the rest is counted and said.
pub const HOLD: usize = 16 << 20;
/// An ASCII line longer than this many payload bytes continues on the next row.
pub const WRAP: usize = 64;

/// A followed stream, indexed for display.
pub struct FollowData {
    pub follower: Follower,
    /// ASCII rows, 5 bytes each (a stream of 16 MiB of newlines stays
    /// under 100 MB): where each starts, counting the bytes of all chunks
    /// one after the other, and its length (at most [`WRAP`]).
    row_start: Vec<u32>,
    row_len: Vec<u8>,
    /// Where each chunk starts in that count.
    chunk_start: Vec<u64>,
    /// Hex rows: the first row of each chunk, and the rows in all.
    hex_first: Vec<u64>,
    hex_rows: u64,
    /// Each chunk's offset in its direction (the hex dump's offsets).
    dir_off: Vec<u32>,
    /// Payload bytes per direction (client, server) and chunks per direction.
    pub bytes: [u64; 2],
    pub chunks: [u64; 2],
}

impl FollowData {
    pub fn build(follower: Follower) -> FollowData {
        let (mut row_start, mut row_len) = (Vec::new(), Vec::new());
        let mut chunk_start = Vec::with_capacity(follower.chunks.len());
        let mut total = 0u64;
        let mut hex_first = Vec::with_capacity(follower.chunks.len());
        let mut dir_off = Vec::with_capacity(follower.chunks.len());
        let (mut hex_rows, mut pos, mut bytes, mut chunks) =
            (0u64, [0u32; 2], [0u64; 2], [0u64; 2]);
        for c in &follower.chunks {
            let d = usize::from(c.from_server);
            hex_first.push(hex_rows);
            hex_rows += c.data.len().div_ceil(16) as u64;
            dir_off.push(pos[d]);
            pos[d] = pos[d].wrapping_add(c.data.len() as u32);
            bytes[d] += c.data.len() as u64;
            chunks[d] += 1;
            chunk_start.push(total);
            let base = total;
            total += c.data.len() as u64;
            let mut start = 0usize;
            let data = &c.data;
            while start < data.len() {
                let nl = data[start..].iter().position(|&b| b == b'\n');
                let (mut end, next) = match nl {
                    Some(i) => (start + i, start + i + 1),
                    None => (data.len(), data.len()),
                };
                if end > start && data[end - 1] == b'\r' && nl.is_some() {
                    end -= 1;
                }
                let mut s = start;
                loop {
                    let e = (s + WRAP).min(end);
                    // Offsets past u32 (no follower holds that much) end the index.
                    let Ok(at) = u32::try_from(base + s as u64) else {
                        break;
                    };
                    row_start.push(at);
                    row_len.push((e - s) as u8);
                    s = e;
                    if s >= end {
                        break;
                    }
                }
                start = next;
            }
        }
        FollowData {
            follower,
            row_start,
            row_len,
            chunk_start,
            hex_first,
            hex_rows,
            dir_off,
            bytes,
            chunks,
        }
    }

    /// Display rows in a mode.
    pub fn rows(&self, hex: bool) -> usize {
        if hex {
            self.hex_rows as usize
        } else {
            self.row_start.len()
        }
    }

    /// Row `i`: whether the server sent it, and its text (printable ASCII only).
    pub fn row(&self, hex: bool, i: usize) -> Option<(bool, String)> {
        let chunks = &self.follower.chunks;
        if hex {
            let i = i as u64;
            if i >= self.hex_rows {
                return None;
            }
            let ci = self.hex_first.partition_point(|&f| f <= i).checked_sub(1)?;
            let c = chunks.get(ci)?;
            let k = (i - self.hex_first[ci]) as usize;
            let data = c.data.get(k * 16..((k + 1) * 16).min(c.data.len()))?;
            let mut out = Vec::with_capacity(80);
            let off = self.dir_off[ci].wrapping_add((k * 16) as u32);
            follow::hex_lines(b"", off, data, &mut out);
            out.pop();
            Some((c.from_server, String::from_utf8_lossy(&out).into_owned()))
        } else {
            let at = u64::from(*self.row_start.get(i)?);
            let len = usize::from(*self.row_len.get(i)?);
            let ci = self
                .chunk_start
                .partition_point(|&s| s <= at)
                .checked_sub(1)?;
            let c = chunks.get(ci)?;
            let s = (at - self.chunk_start[ci]) as usize;
            Some((c.from_server, escape(c.data.get(s..s + len).unwrap_or(&[]))))
        }
    }
}

/// Payload bytes as terminal-safe text: printable ASCII as is, `\t` and `\r`
/// for those, `\xNN` for every other byte (escape sequences, UTF-8 included).
pub fn escape(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len());
    for &b in data {
        match b {
            0x20..=0x7e => s.push(b as char),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            _ => {
                let _ = std::fmt::Write::write_fmt(&mut s, format_args!("\\x{b:02x}"));
            }
        }
    }
    s
}

pub enum FollowMsg {
    /// Frames read so far.
    Progress(u64),
    Done(Result<Box<FollowData>, String>),
}

/// What the follow job reads.
pub struct FollowJobSpec {
    pub path: PathBuf,
    /// Read at most this many frames (a spool: what it holds now).
    pub frames: Option<u64>,
    /// Stop after this frame (the flow's last, once the file is loaded).
    pub until_frame: Option<u64>,
    pub budget: Budget,
    pub stream: u32,
}

/// A running follow job; dropping it stops it.
pub struct FollowJob {
    rx: Receiver<FollowMsg>,
    stop: Arc<AtomicBool>,
}

impl Drop for FollowJob {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl FollowJob {
    pub fn start(spec: FollowJobSpec) -> FollowJob {
        let (tx, rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let tx2 = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("follow".into())
            .spawn(move || {
                let r = run(&spec, &stop2, |n| {
                    let _ = tx2.send(FollowMsg::Progress(n));
                });
                let _ = tx2.send(FollowMsg::Done(r.map(|f| Box::new(FollowData::build(f)))));
            });
        if let Err(e) = spawned {
            let _ = tx.send(FollowMsg::Done(Err(format!(
                "cannot start a background job: {e}"
            ))));
        }
        FollowJob { rx, stop }
    }

    /// The next message, without blocking; a job gone without its result failed.
    pub fn next(&self) -> Option<FollowMsg> {
        match self.rx.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(FollowMsg::Done(Err(
                "the background job ended unexpectedly".into(),
            ))),
        }
    }
}

/// The job itself (also called directly by tests): the stream's follower.
pub fn run(
    spec: &FollowJobSpec,
    stop: &AtomicBool,
    mut progress: impl FnMut(u64),
) -> Result<Follower, String> {
    let source = SourceSpec::File(spec.path.clone());
    let opened = capture::open(&source).map_err(|e| e.to_string())?;
    let running = capture::spawn(
        opened,
        ReadOptions {
            max_frames: spec.frames,
            ..Default::default()
        },
    );
    let target = FollowSpec {
        proto: Proto::Tcp,
        mode: Mode::Ascii,
        target: Target::Stream(spec.stream),
        chunk_min: 1,
        chunk_max: u32::MAX,
    };
    let mut engine = Engine::new(spec.budget);
    let mut follower = Follower::new(HOLD);
    let mut read = 0u64;
    'read: while let Ok(ev) = running.events.recv() {
        if stop.load(Ordering::Relaxed) {
            return Err("stopped".into());
        }
        match ev {
            Event::Batch(batch) => {
                for (f, bytes) in batch.iter() {
                    let view = engine.process(f, bytes);
                    read += 1;
                    if target.matches(&view) {
                        if let Some(seg) = follow::segment_of(&view) {
                            follower.segment(&seg);
                        }
                    }
                    if spec.until_frame.is_some_and(|u| f.number >= u) {
                        break 'read;
                    }
                }
                if engine.has_retired() {
                    engine.take_retired();
                }
                progress(read);
            }
            Event::Stats(_) => {}
            Event::Done(e) => {
                if let Some(e) = e {
                    // What was read is shown; a cut file is said by the load already.
                    if read == 0 {
                        return Err(e.to_string());
                    }
                }
                break;
            }
        }
    }
    Ok(follower)
}

/// The follow view's state.
pub struct FollowView {
    pub stream: u32,
    /// Client and server as the flows table shows them.
    pub ends: (Endpoint, Endpoint),
    pub hex: bool,
    /// The first row shown.
    pub offset: usize,
    pub job: Option<FollowJob>,
    pub read: u64,
    pub data: Option<Arc<FollowData>>,
    pub error: Option<String>,
    /// A save in progress: its result arrives here.
    pub saving: Option<Receiver<Result<String, String>>>,
}

impl FollowView {
    pub fn new(stream: u32, ends: (Endpoint, Endpoint), job: FollowJob) -> FollowView {
        FollowView {
            stream,
            ends,
            hex: false,
            offset: 0,
            job: Some(job),
            read: 0,
            data: None,
            error: None,
            saving: None,
        }
    }

    pub fn rows(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.rows(self.hex))
    }

    /// Scroll by `d` rows within a page of `page` rows.
    pub fn scroll(&mut self, d: i64, page: usize) {
        let max = self.rows().saturating_sub(page.max(1));
        let to = (self.offset as i64).saturating_add(d).clamp(0, max as i64);
        self.offset = to as usize;
    }

    /// Switch ASCII ↔ hex, keeping about the same place in the stream.
    pub fn toggle_hex(&mut self) {
        let (from, to) = (self.rows().max(1), {
            self.hex = !self.hex;
            self.rows()
        });
        self.offset = ((self.offset as u128 * to as u128) / from as u128) as usize;
        self.offset = self.offset.min(to.saturating_sub(1));
    }

    /// Take what the job sent; true while it runs.
    pub fn poll(&mut self) -> bool {
        let mut running = false;
        if let Some(job) = &self.job {
            running = true;
            while let Some(m) = job.next() {
                match m {
                    FollowMsg::Progress(n) => self.read = n,
                    FollowMsg::Done(r) => {
                        match r {
                            Ok(d) => self.data = Some(Arc::from(d)),
                            Err(e) => self.error = Some(e),
                        }
                        running = false;
                        break;
                    }
                }
            }
        }
        if !running {
            self.job = None;
        }
        running
    }

    /// The text `w` writes: tshark's `-z follow,tcp` output in the shown mode.
    pub fn spec(&self) -> FollowSpec {
        FollowSpec {
            proto: Proto::Tcp,
            mode: if self.hex { Mode::Hex } else { Mode::Ascii },
            target: Target::Stream(self.stream),
            chunk_min: 1,
            chunk_max: u32::MAX,
        }
    }
}

/// Write the followed stream as tshark prints it, in a file created new
/// (never through a symlink), in the first of `dirs` that takes it.
pub fn save(
    data: &FollowData,
    spec: &FollowSpec,
    dirs: &[PathBuf],
    name: &str,
) -> Result<String, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut tried = Vec::new();
    for dir in dirs {
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path);
        match file {
            Ok(f) => {
                let mut w = std::io::BufWriter::new(f);
                let r = follow::render(spec, &data.follower, &mut w).and_then(|_| w.flush());
                return match r {
                    Ok(()) => Ok(path.display().to_string()),
                    Err(e) => Err(format!("writing {} failed: {e}", path.display())),
                };
            }
            Err(e) => tried.push(format!("{}: {e}", dir.display())),
        }
    }
    Err(format!(
        "cannot save {name} in any of: {}",
        tried.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::follow::Chunk;

    fn data(chunks: &[(bool, &[u8])]) -> FollowData {
        let mut f = Follower::default();
        for (s, d) in chunks {
            f.chunks.push(Chunk {
                from_server: *s,
                frame: 1,
                ts_ns: 0,
                data: d.to_vec(),
            });
        }
        FollowData::build(f)
    }

    #[test]
    fn ascii_rows_split_lines_wrap_and_escape() {
        let long = vec![b'a'; WRAP + 3];
        let d = data(&[
            (false, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            (true, b"\x1b[2J\x07bell\tt\xc3\xa9"),
            (false, &long),
        ]);
        let rows: Vec<(bool, String)> =
            (0..d.rows(false)).filter_map(|i| d.row(false, i)).collect();
        let text: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            text,
            [
                "GET / HTTP/1.1",
                "Host: x",
                "",
                "\\x1b[2J\\x07bell\\tt\\xc3\\xa9",
                &"a".repeat(WRAP),
                "aaa"
            ]
        );
        assert!(rows[3].0 && !rows[0].0);
        for (_, t) in &rows {
            assert!(t.bytes().all(|b| (0x20..0x7f).contains(&b)), "{t:?}");
        }
    }

    #[test]
    fn hex_rows_count_offsets_per_direction() {
        let d = data(&[(false, &[0u8; 20]), (true, b"ok"), (false, b"\x1bz")]);
        assert_eq!(d.rows(true), 4);
        assert!(d.row(true, 2).unwrap().1.starts_with("00000000  6f 6b"));
        assert!(d.row(true, 3).unwrap().1.starts_with("00000014  1b 7a"));
        assert!(d.row(true, 3).unwrap().1.ends_with(".z"));
        assert!(d.row(true, 4).is_none());
    }
}
