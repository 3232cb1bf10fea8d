//! Capture sources: a file, standard input, or a live interface, all read
//! through libpcap on a capture thread that decodes frames and sends them in
//! batches over a bounded channel. A slow consumer therefore slows reading
//! (offline) or lets the kernel drop (live, counted in `Stats`); memory does
//! not grow.

pub mod frames;
mod offsets;
pub mod privileges;

use crate::decode::{self, Frame, LinkType};
use crossbeam_channel::{bounded, Receiver, Sender};
use pcap::{Activated, Capture, Device, Precision};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum SourceSpec {
    File(PathBuf),
    Stdin,
    Live(LiveOptions),
}

#[derive(Clone, Debug)]
pub struct LiveOptions {
    pub interface: String,
    pub promiscuous: bool,
    pub snaplen: i32,
    pub bpf: Option<String>,
    pub buffer_mib: i32,
}

impl SourceSpec {
    pub fn describe(&self) -> String {
        match self {
            SourceSpec::File(p) => p.display().to_string(),
            SourceSpec::Stdin => "standard input".to_string(),
            SourceSpec::Live(l) => l.interface.clone(),
        }
    }
    pub fn is_live(&self) -> bool {
        matches!(self, SourceSpec::Live(_))
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CaptureError {
    #[error("{path}: no such file")]
    NotFound { path: String },
    #[error("{path}: permission denied")]
    FileAccess { path: String },
    #[error("{path}: not a pcap or pcapng capture file ({detail})")]
    NotACapture { path: String, detail: String },
    #[error("{path}: the capture is cut short in packet {packet} at byte offset {offset}; the {read} packets before it were read ({detail})")]
    Truncated {
        path: String,
        packet: u64,
        offset: String,
        read: u64,
        detail: String,
    },
    #[error("{path}: read error after {read} packets: {detail}")]
    Read {
        path: String,
        read: u64,
        detail: String,
    },
    #[error("no such interface '{name}'; available interfaces: {available}")]
    NoSuchInterface { name: String, available: String },
    #[error("no permission to capture on '{interface}' ({detail}): run as root (sudo hs-tui -i {interface}) or give the binary the capability: sudo setcap cap_net_raw,cap_net_admin=eip {exe}")]
    NoPermission {
        interface: String,
        detail: String,
        exe: String,
    },
    #[error("invalid capture filter '{filter}': {detail}")]
    BadFilter { filter: String, detail: String },
    #[error("capture on '{interface}' failed: {detail}")]
    Live { interface: String, detail: String },
    #[error("cannot drop privileges to user '{user}': {detail}")]
    PrivilegeDrop { user: String, detail: String },
}

/// Frames and their bytes, decoded on the capture thread.
#[derive(Default)]
pub struct Batch {
    pub frames: Vec<Frame>,
    /// Where each frame starts in the file (see `frames::FrameFile`), when
    /// `ReadOptions::offsets` asked for them and the source is a file.
    pub offsets: Vec<u64>,
    data: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl Batch {
    fn with_capacity(n: usize) -> Batch {
        Batch {
            frames: Vec::with_capacity(n),
            offsets: Vec::new(),
            data: Vec::with_capacity(n * 128),
            spans: Vec::with_capacity(n),
        }
    }
    pub fn len(&self) -> usize {
        self.frames.len()
    }
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
    pub fn bytes(&self, i: usize) -> &[u8] {
        let (s, l) = self.spans[i];
        &self.data[s as usize..(s + l) as usize]
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Frame, &[u8])> {
        self.frames
            .iter()
            .enumerate()
            .map(move |(i, f)| (f, self.bytes(i)))
    }
    fn clear(&mut self) {
        self.frames.clear();
        self.offsets.clear();
        self.data.clear();
        self.spans.clear();
    }
    /// Decode a frame straight into the batch (saves moving a 300-byte `Frame`).
    fn push_decoded(
        &mut self,
        defrag: &mut decode::frag::Defrag,
        link: LinkType,
        number: u64,
        ts: i64,
        wire_len: u32,
        bytes: &[u8],
    ) {
        self.spans
            .push((self.data.len() as u32, bytes.len() as u32));
        self.data.extend_from_slice(bytes);
        self.frames
            .push(Frame::new(number, ts, wire_len, bytes.len() as u32, link));
        if let Some(f) = self.frames.last_mut() {
            decode::decode_into(f, bytes);
            if f.problem == Some(decode::frag::NOTE) {
                defrag.feed(f, bytes);
            }
            // Hashed here, on the capture thread, so the tracker can prefetch.
            f.flow_hash = crate::track::flow_hash(f);
        }
    }
}

/// libpcap's counters for a live capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

pub enum Event {
    Batch(Batch),
    Stats(Stats),
    /// The source ended: cleanly (`None`) or with an error after the frames already sent.
    Done(Option<CaptureError>),
}

/// What the reader needs to know besides the handle.
pub struct Opened {
    pub link: LinkType,
    pub spec: SourceSpec,
    handle: Handle,
}

enum Handle {
    Offline(Buffered),
    Live(Capture<pcap::Active>),
}

/// Options of the reading loop.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Stop after this many frames (`-c`).
    pub max_frames: Option<u64>,
    /// Stop a live capture after this long (`-a duration:N`).
    pub duration: Option<Duration>,
    /// Report each frame's offset in the file (`Batch::offsets`).
    pub offsets: bool,
    /// Batches of 1,024 frames that may wait for the consumer (`None`: 16).
    /// A full queue holds ~0.5 MB a batch; the TUI keeps it short for a file
    /// (its consumer, not the disk, sets the pace), batch mode keeps it deep.
    pub queue_batches: Option<usize>,
}

/// A running capture thread.
pub struct Running {
    pub link: LinkType,
    pub events: Receiver<Event>,
    /// Give consumed batches back, so the capture thread reuses their memory
    /// instead of faulting in fresh pages for every batch.
    recycle: Sender<Batch>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Ask the capture thread to stop; it ends within its read timeout.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }
    /// Return a consumed batch for reuse (optional; dropped if the pool is full).
    pub fn recycle(&self, b: Batch) {
        let _ = self.recycle.try_send(b);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
        // Unblock a sender waiting on a full channel, then wait for the thread.
        while self.events.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            while !t.is_finished() {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = t.join();
        }
    }
}

fn map_open_error(path: &Path, e: pcap::Error) -> CaptureError {
    let p = path.display().to_string();
    let msg = e.to_string();
    if !path.exists() && path != Path::new("-") {
        return CaptureError::NotFound { path: p };
    }
    if msg.contains("Permission denied") {
        return CaptureError::FileAccess { path: p };
    }
    if msg.contains("truncated") || msg.contains("file is empty") {
        return CaptureError::NotACapture {
            path: p,
            detail: "the file ends inside its header".into(),
        };
    }
    CaptureError::NotACapture {
        path: p,
        detail: msg.trim_start_matches("libpcap error: ").to_string(),
    }
}

/// A savefile and the stdio buffer libpcap reads it through. Fields drop in
/// order: the capture (which closes the FILE) before its buffer.
struct Buffered {
    cap: Capture<pcap::Offline>,
    _buf: Box<[u8]>,
    /// The stream libpcap reads (owned by `cap`), for `ftell`.
    fp: Option<StreamPos>,
}

/// How the capture thread learns where each frame starts in the file.
enum Offsets {
    /// Classic pcap: 24-byte header, then 16-byte record headers; counted.
    Counted,
    /// pcapng (blocks of any size between packets): asked of the stream.
    Told(StreamPos),
}

/// Is the file a classic pcap (not pcapng)?
fn is_classic_pcap(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| {
            matches!(
                u32::from_le_bytes(magic),
                0xa1b2c3d4 | 0xa1b23c4d | 0xd4c3b2a1 | 0x4d3cb2a1
            )
        })
}

/// libpcap's `FILE`, only ever asked for its position on the capture thread.
struct StreamPos(*mut libc::FILE);
// SAFETY: the FILE moves to the capture thread with the Capture that owns it
// and is used there only (by libpcap and by `ftell` between its reads).
unsafe impl Send for StreamPos {}

impl StreamPos {
    fn tell(&self) -> u64 {
        // SAFETY: the FILE is open for as long as the Capture lives, which outlives every call.
        let p = unsafe { libc::ftello(self.0) };
        p.max(0) as u64
    }
}

/// Open a savefile on `fd` (which libpcap then owns) with a 1 MiB stdio buffer.
/// libpcap reads savefiles through stdio with the file system's block size:
/// one read(2) per 4 KiB, 36,000 of them for a 150 MB capture, which cost as
/// much as all of libpcap's own work per packet.
fn open_buffered(fd: std::os::fd::RawFd) -> Result<Buffered, pcap::Error> {
    extern "C" {
        // libpcap's API (pcap/pcap.h); the pcap crate links the library but keeps its bindings private.
        fn pcap_fopen_offline_with_tstamp_precision(
            fp: *mut libc::FILE,
            precision: libc::c_uint,
            errbuf: *mut libc::c_char,
        ) -> *mut libc::c_void;
    }
    const PCAP_TSTAMP_PRECISION_NANO: libc::c_uint = 1;
    const PCAP_ERRBUF_SIZE: usize = 256;
    // glibc ignores the size when setvbuf is given no buffer, so we own it.
    let mut buf = vec![0u8; 1 << 20].into_boxed_slice();
    // SAFETY: fd is an open descriptor we own; fdopen takes it over, and on
    // success pcap_fopen takes the FILE over (closed by pcap_close when the
    // Capture drops, before `buf`). On failure we close what we opened.
    // setvbuf comes before any I/O on the stream, as it must.
    unsafe {
        let fp = libc::fdopen(fd, c"rb".as_ptr());
        if fp.is_null() {
            libc::close(fd);
            return Err(pcap::Error::PcapError("cannot open the file".into()));
        }
        libc::setvbuf(fp, buf.as_mut_ptr().cast(), libc::_IOFBF, buf.len());
        let mut err = [0 as libc::c_char; PCAP_ERRBUF_SIZE];
        let p = pcap_fopen_offline_with_tstamp_precision(
            fp,
            PCAP_TSTAMP_PRECISION_NANO,
            err.as_mut_ptr(),
        );
        match std::ptr::NonNull::new(p.cast()) {
            Some(p) => Ok(Buffered {
                cap: Capture::from(p),
                _buf: buf,
                fp: Some(StreamPos(fp)),
            }),
            None => {
                libc::fclose(fp);
                let msg = std::ffi::CStr::from_ptr(err.as_ptr()).to_string_lossy();
                Err(pcap::Error::PcapError(msg.into_owned()))
            }
        }
    }
}

/// Open a source. Live captures are opened here, on the caller's thread, so
/// that privileges can be dropped right after (see `privileges`).
pub fn open(spec: &SourceSpec) -> Result<Opened, CaptureError> {
    match spec {
        SourceSpec::File(path) => {
            if path.is_dir() {
                return Err(CaptureError::NotACapture {
                    path: path.display().to_string(),
                    detail: "it is a directory".into(),
                });
            }
            let cap = match std::fs::File::open(path) {
                Ok(f) => open_buffered(std::os::fd::IntoRawFd::into_raw_fd(f))
                    .map_err(|e| map_open_error(path, e))?,
                // libpcap's own open reports the problem in the words the errors expect.
                Err(_) => Buffered {
                    cap: Capture::from_file_with_precision(path, Precision::Nano)
                        .map_err(|e| map_open_error(path, e))?,
                    _buf: Box::new([]),
                    fp: None,
                },
            };
            let link = LinkType::from_linktype(cap.cap.get_datalink().0);
            Ok(Opened {
                link,
                spec: spec.clone(),
                handle: Handle::Offline(cap),
            })
        }
        SourceSpec::Stdin => {
            // SAFETY: fd 0 is ours for the life of the process; libpcap takes ownership of a dup.
            let fd = unsafe { libc::dup(0) };
            if fd < 0 {
                return Err(CaptureError::NotACapture {
                    path: "-".into(),
                    detail: "cannot read standard input".into(),
                });
            }
            let cap = open_buffered(fd).map_err(|e| map_open_error(Path::new("-"), e))?;
            let link = LinkType::from_linktype(cap.cap.get_datalink().0);
            Ok(Opened {
                link,
                spec: spec.clone(),
                handle: Handle::Offline(cap),
            })
        }
        SourceSpec::Live(l) => open_live(l).map(|cap| Opened {
            link: LinkType::from_linktype(cap.get_datalink().0),
            spec: spec.clone(),
            handle: Handle::Live(cap),
        }),
    }
}

/// Interfaces as `-D` lists them.
pub fn interfaces() -> Result<Vec<Device>, CaptureError> {
    Device::list().map_err(|e| CaptureError::Live {
        interface: "-".into(),
        detail: e.to_string(),
    })
}

pub fn interface_names() -> String {
    match interfaces() {
        Ok(list) => list
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Err(_) => "(cannot list interfaces)".into(),
    }
}

fn open_live(l: &LiveOptions) -> Result<Capture<pcap::Active>, CaptureError> {
    let live_err = |detail: String| CaptureError::Live {
        interface: l.interface.clone(),
        detail,
    };
    let perm_err = |detail: String| CaptureError::NoPermission {
        interface: l.interface.clone(),
        detail,
        exe: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "hs-tui".into()),
    };
    if let Ok(list) = interfaces() {
        if !list.iter().any(|d| d.name == l.interface) {
            return Err(CaptureError::NoSuchInterface {
                name: l.interface.clone(),
                available: interface_names(),
            });
        }
    }
    let inactive = Capture::from_device(l.interface.as_str())
        .map_err(|e| live_err(e.to_string()))?
        .promisc(l.promiscuous)
        .snaplen(l.snaplen)
        // Not immediate mode: libpcap then falls back to TPACKET_V2, whose ring slots are
        // sized by the snaplen (256 KiB), so a 4 MiB buffer holds ~16 packets and bursts drop.
        // TPACKET_V3 packs packets densely and hands over a block at most 100 ms late.
        .immediate_mode(false)
        .timeout(100)
        .buffer_size(l.buffer_mib.saturating_mul(1 << 20))
        .precision(Precision::Nano);
    let cap = inactive.open().map_err(|e| {
        let msg = e.to_string();
        if msg.contains("ermission") || msg.contains("not permitted") {
            perm_err(msg)
        } else if msg.contains("No such device") {
            CaptureError::NoSuchInterface {
                name: l.interface.clone(),
                available: interface_names(),
            }
        } else {
            live_err(msg)
        }
    })?;
    // Non-blocking, and we poll the descriptor ourselves: with immediate mode libpcap's read
    // timeout does not fire on an idle interface, so a blocking read would never see the stop
    // flag or the -a duration.
    let mut cap = cap.setnonblock().map_err(|e| live_err(e.to_string()))?;
    if let Some(f) = &l.bpf {
        cap.filter(f, true).map_err(|e| CaptureError::BadFilter {
            filter: f.clone(),
            detail: e
                .to_string()
                .trim_start_matches("libpcap error: ")
                .to_string(),
        })?;
    }
    Ok(cap)
}

const BATCH: usize = 1024;
const LIVE_FLUSH: Duration = Duration::from_millis(50);

/// Start reading on a capture thread.
pub fn spawn(opened: Opened, opts: ReadOptions) -> Running {
    let depth = opts.queue_batches.unwrap_or(16).max(1);
    let (tx, rx) = bounded(depth);
    let (recycle_tx, recycle_rx) = bounded(depth * 2);
    let stop = Arc::new(AtomicBool::new(false));
    let link = opened.link;
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name("capture".into())
        .spawn(move || {
            let spec = opened.spec.clone();
            match opened.handle {
                Handle::Offline(Buffered { cap, _buf, fp }) => {
                    // Offsets only make sense in a file that can be read again.
                    let pos = match &spec {
                        SourceSpec::File(path) if opts.offsets => match fp {
                            // A classic pcap's offsets are counted (ftell costs an lseek per packet).
                            Some(_) if is_classic_pcap(path) => Some(Offsets::Counted),
                            Some(fp) => Some(Offsets::Told(fp)),
                            None => None,
                        },
                        _ => None,
                    };
                    read_loop(cap, link, &spec, &opts, &stop2, &tx, &recycle_rx, None, pos)
                }
                Handle::Live(cap) => {
                    let fd = std::os::fd::AsRawFd::as_raw_fd(&cap);
                    read_loop(
                        cap,
                        link,
                        &spec,
                        &opts,
                        &stop2,
                        &tx,
                        &recycle_rx,
                        Some(fd),
                        None,
                    )
                }
            }
        })
        .expect("spawn capture thread");
    Running {
        link,
        events: rx,
        recycle: recycle_tx,
        stop,
        thread: Some(thread),
    }
}

#[allow(clippy::too_many_arguments)]
fn read_loop<T: Activated + ?Sized>(
    mut cap: Capture<T>,
    link: LinkType,
    spec: &SourceSpec,
    opts: &ReadOptions,
    stop: &AtomicBool,
    tx: &Sender<Event>,
    recycled: &Receiver<Batch>,
    poll_fd: Option<std::os::fd::RawFd>,
    pos: Option<Offsets>,
) {
    let fresh = || match recycled.try_recv() {
        Ok(mut b) => {
            b.clear();
            b
        }
        Err(_) => Batch::with_capacity(BATCH),
    };
    let live = spec.is_live();
    let started = Instant::now();
    let mut batch = Batch::with_capacity(BATCH);
    let mut batch_started = Instant::now();
    let mut last_stats = Instant::now();
    let mut number: u64 = 0;
    // Byte offset of the next record in a classic pcap file (24-byte header, 16-byte record headers).
    let mut classic_offset: u64 = 24;
    let mut defrag = decode::frag::Defrag::default();
    let send = |b: Batch| tx.send(Event::Batch(b)).is_ok();
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break None;
        }
        if opts.max_frames.is_some_and(|m| number >= m) {
            break None;
        }
        if opts.duration.is_some_and(|d| started.elapsed() >= d) {
            break None;
        }
        let at = match &pos {
            Some(Offsets::Counted) => Some(classic_offset),
            Some(Offsets::Told(fp)) => Some(fp.tell()),
            None => None,
        };
        match cap.next_packet() {
            Ok(pkt) => {
                number += 1;
                // Debug builds only: lets a test see what a crash of this thread does.
                #[cfg(debug_assertions)]
                if number == 3 && std::env::var_os("HS_TUI_TEST_CAPTURE_PANIC").is_some() {
                    panic!("capture thread crash asked for by a test");
                }
                if let Some(at) = at {
                    batch.offsets.push(at);
                }
                let h = pkt.header;
                // With nanosecond precision, tv_usec carries nanoseconds.
                #[allow(clippy::unnecessary_cast)] // time_t/suseconds_t are not i64 everywhere
                // Seconds clamped to +-4e9 (year 2096): a damaged pcapng timestamp gave
                // seconds that overflowed (found by tests/fuzz_capture.rs), and time
                // differences must not overflow either.
                let ts = (h.ts.tv_sec as i64).clamp(-4_000_000_000, 4_000_000_000) * 1_000_000_000
                    + (h.ts.tv_usec as i64).clamp(0, 999_999_999);
                classic_offset += 16 + h.caplen as u64;
                batch.push_decoded(&mut defrag, link, number, ts, h.len, pkt.data);
                if batch.len() >= BATCH || (live && batch_started.elapsed() >= LIVE_FLUSH) {
                    if !send(std::mem::replace(&mut batch, fresh())) {
                        return;
                    }
                    batch_started = Instant::now();
                }
            }
            Err(pcap::Error::TimeoutExpired) => {
                if !batch.is_empty() {
                    if !send(std::mem::replace(&mut batch, fresh())) {
                        return;
                    }
                    batch_started = Instant::now();
                }
                if let Some(fd) = poll_fd {
                    wait_readable(fd, 100);
                }
            }
            Err(pcap::Error::NoMorePackets) => break None,
            Err(e) => break Some(read_error(spec, number, classic_offset, e)),
        }
        if live && last_stats.elapsed() >= Duration::from_millis(500) {
            last_stats = Instant::now();
            if let Ok(s) = cap.stats() {
                let st = Stats {
                    received: number,
                    dropped: s.dropped as u64,
                    if_dropped: s.if_dropped as u64,
                };
                if tx.send(Event::Stats(st)).is_err() {
                    return;
                }
            }
        }
    };
    if !batch.is_empty() && !send(batch) {
        return;
    }
    if live {
        if let Ok(s) = cap.stats() {
            let _ = tx.send(Event::Stats(Stats {
                received: number,
                dropped: s.dropped as u64,
                if_dropped: s.if_dropped as u64,
            }));
        }
    }
    let _ = tx.send(Event::Done(result));
}

/// Wait until the capture descriptor is readable or `ms` pass.
fn wait_readable(fd: std::os::fd::RawFd, ms: i32) {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe {
        libc::poll(&mut p, 1, ms);
    }
}

fn read_error(spec: &SourceSpec, read: u64, classic_offset: u64, e: pcap::Error) -> CaptureError {
    let detail = e
        .to_string()
        .trim_start_matches("libpcap error: ")
        .to_string();
    match spec {
        SourceSpec::Live(l) => CaptureError::Live {
            interface: l.interface.clone(),
            detail,
        },
        SourceSpec::File(_) | SourceSpec::Stdin => {
            let path = spec.describe();
            if detail.contains("truncated") {
                let offset = match spec {
                    SourceSpec::File(p) => offsets::record_offset(p, read),
                    _ => None,
                }
                .unwrap_or(classic_offset);
                CaptureError::Truncated {
                    path,
                    packet: read + 1,
                    offset: offset.to_string(),
                    read,
                    detail,
                }
            } else {
                CaptureError::Read { path, read, detail }
            }
        }
    }
}
