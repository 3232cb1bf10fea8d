//! Mutation fuzzer over the capture reader, decoder and tracker: the real binary on
//! mutated captures (bit flips, truncation, record lengths, pcapng block lengths and
//! options, link types, VLAN and IPv6 extension-header bombs). Every run must end with
//! status 0 or 2, within 10 s, under 1 GiB; otherwise the input is saved as a reproducer
//! (`target/tmp/fuzz-repro/`, or `$HS_TUI_FUZZ_OUT`) and the test fails.
//!
//! CI runs a bounded number of cases (`HS_TUI_FUZZ_CASES`, default 2,000, and at most
//! `HS_TUI_FUZZ_SECS`, default 90 s); run longer on demand, e.g.
//! `HS_TUI_FUZZ_CASES=100000 HS_TUI_FUZZ_SECS=3600 cargo test --release --test fuzz_capture`.
//! `HS_TUI_FUZZ_SEED` repeats a run (the seed is printed; by default it changes each run);
//! `HS_TUI_FUZZ_BIN` fuzzes another hs-tui binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod rng {
    /// xorshift64*: small, deterministic from its seed.
    pub struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
        pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[self.below(v.len())]
        }
    }
}
use rng::Rng;

const HANG: Duration = Duration::from_secs(10);
const MAX_RSS_KIB: i64 = 1 << 20;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["sample-captures", "tests/conformance", "tests/data"] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            files.extend(rd.flatten().map(|e| e.path()).filter(|p| {
                p.extension().is_some_and(|x| x == "pcap" || x == "pcapng")
                    && p.metadata().is_ok_and(|m| m.len() < 100_000)
            }));
        }
    }
    files.sort();
    let v: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    assert!(v.len() >= 20, "seed captures: {}", v.len());
    v
}

fn le32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn put32(b: &mut [u8], i: usize, v: u32) {
    if let Some(s) = b.get_mut(i..i + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn interesting32(r: &mut Rng, near: u32) -> u32 {
    let random = r.next() as u32;
    *r.pick(&[
        0,
        1,
        near.wrapping_add(1),
        near.wrapping_sub(1),
        near.wrapping_mul(2),
        0xffff,
        0x10000,
        0x7fff_ffff,
        0xffff_ffff,
        0x8000_0000,
        262_144,
        262_145,
        random,
    ])
}

/// Offsets of the record headers of a classic little-endian pcap.
fn pcap_records(b: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut at = 24;
    while let Some(cap) = le32(b, at + 8) {
        v.push(at);
        at = match at.checked_add(16 + cap as usize) {
            Some(n) if n <= b.len() => n,
            _ => break,
        };
    }
    v
}

/// Offsets of the blocks of a little-endian pcapng file.
fn pcapng_blocks(b: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut at = 0;
    while let Some(len) = le32(b, at + 4) {
        v.push(at);
        if len < 12 {
            break;
        }
        at = match at.checked_add(len as usize) {
            Some(n) if n <= b.len() => n,
            _ => break,
        };
    }
    v
}

/// A classic pcap of one Ethernet frame.
fn one_frame_pcap(link: u32, frame: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, link] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    for x in [1_700_000_000u32, 0, frame.len() as u32, frame.len() as u32] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(frame);
    v
}

const TCP_SYN: [u8; 20] = [
    0x9c, 0x40, 0, 80, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
];

/// Ethernet with `n` stacked VLAN tags (802.1Q and QinQ), then IPv4 and a TCP SYN.
fn vlan_bomb(r: &mut Rng) -> Vec<u8> {
    let n = *r.pick(&[3, 4, 100, 5_000]);
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    for i in 0..n {
        let tpid: u16 = if i % 2 == 0 { 0x8100 } else { 0x88a8 };
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&(i as u16 & 0x0fff).to_be_bytes());
    }
    v.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    v.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    v.extend_from_slice(&TCP_SYN);
    one_frame_pcap(1, &v)
}

/// IPv6 with a chain of `n` extension headers (hop-by-hop, destination options,
/// routing, fragment), then a TCP SYN; raw IP link type.
fn ipv6_ext_bomb(r: &mut Rng) -> Vec<u8> {
    let n = *r.pick(&[2, 50, 3_000]);
    let kinds = [0u8, 60, 43, 44];
    let mut ext = Vec::new();
    let first = *r.pick(&kinds);
    let mut kind = first;
    for i in 0..n {
        let next = if i + 1 == n { 6 } else { *r.pick(&kinds) };
        if kind == 44 {
            ext.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 1]);
        } else {
            ext.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
        }
        kind = next;
    }
    let payload = (ext.len() + TCP_SYN.len()).min(0xffff) as u16;
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&payload.to_be_bytes());
    v.extend_from_slice(&[first, 64]);
    v.extend_from_slice(&[0; 15]);
    v.push(1);
    v.extend_from_slice(&[0; 15]);
    v.push(2);
    v.extend_from_slice(&ext);
    v.extend_from_slice(&TCP_SYN);
    one_frame_pcap(101, &v)
}

fn mutate(r: &mut Rng, seeds: &[Vec<u8>]) -> (Vec<u8>, &'static str) {
    let kind = r.below(9);
    match kind {
        5 => return (vlan_bomb(r), "VLAN bomb"),
        6 => return (ipv6_ext_bomb(r), "IPv6 extension headers"),
        _ => {}
    }
    let mut b = r.pick(seeds).clone();
    let what = match kind {
        0 => {
            for _ in 0..1 + r.below(16) {
                let i = r.below(b.len());
                b[i] ^= 1 << r.below(8);
            }
            "bit flips"
        }
        1 => {
            b.truncate(r.below(b.len() + 1));
            "truncation"
        }
        2 => {
            let recs = pcap_records(&b);
            if recs.is_empty() {
                let i = r.below(b.len());
                b[i] = r.next() as u8;
            } else {
                let at = *r.pick(&recs);
                let field = at + if r.below(2) == 0 { 8 } else { 12 };
                let v = interesting32(r, le32(&b, field).unwrap_or(0));
                put32(&mut b, field, v);
            }
            "record length"
        }
        3 => {
            let blocks = pcapng_blocks(&b);
            if blocks.is_empty() {
                b.truncate(r.below(b.len() + 1));
            } else {
                let at = *r.pick(&blocks);
                let len = le32(&b, at + 4).unwrap_or(12) as usize;
                // The leading or the trailing length, or a byte of the block's body
                // (options: codes, lengths, if_tsresol).
                match r.below(3) {
                    0 => put32(&mut b, at + 4, interesting32(r, len as u32)),
                    1 => {
                        let end = at + len.saturating_sub(4);
                        put32(&mut b, end, interesting32(r, len as u32));
                    }
                    _ => {
                        let i = at + 8 + r.below(len.saturating_sub(12).max(1));
                        if i < b.len() {
                            let random = r.next() as u8;
                            b[i] = *r.pick(&[0, 1, 2, 9, 0x80, 0xff, random]);
                        }
                    }
                }
            }
            "pcapng block"
        }
        4 => {
            let random = r.next() as u32;
            let link = *r.pick(&[
                0u32, 1, 12, 14, 101, 113, 228, 229, 276, 127, 0xffff, random,
            ]);
            if le32(&b, 0) == Some(0x0a0d_0d0a) {
                // The first IDB's link type.
                if let Some(&idb) = pcapng_blocks(&b).iter().find(|&&a| le32(&b, a) == Some(1)) {
                    if let Some(s) = b.get_mut(idb + 8..idb + 10) {
                        s.copy_from_slice(&(link as u16).to_le_bytes());
                    }
                }
            } else {
                put32(&mut b, 20, link);
            }
            "link type"
        }
        7 => {
            // Duplicate or insert a chunk.
            let i = r.below(b.len());
            let n = r.below(64).min(b.len() - i);
            let chunk: Vec<u8> = if r.below(2) == 0 {
                b[i..i + n].to_vec()
            } else {
                (0..n).map(|_| r.next() as u8).collect()
            };
            let j = r.below(b.len());
            b.splice(j..j, chunk);
            "splice"
        }
        _ => {
            // Random bytes over a header field region.
            let i = r.below(b.len().min(200));
            for k in i..(i + 8).min(b.len()) {
                b[k] = r.next() as u8;
            }
            "header bytes"
        }
    };
    (b, what)
}

/// The binary under test: this build's, or `$HS_TUI_FUZZ_BIN` (a release build, or a
/// copy kept apart from a shared target directory, for long runs).
fn binary() -> PathBuf {
    std::env::var_os("HS_TUI_FUZZ_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(common::bin()))
}

/// What a run must not do; `None` when it ended well.
// The child is reaped by `wait4` (for its peak memory), which clippy does not see.
#[allow(clippy::zombie_processes)]
fn run_case(file: &Path, args: &[&str]) -> Option<String> {
    let mut child = Command::new(binary())
        .arg("-r")
        .arg(file)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hs-tui");
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let (status, rss) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break (status, ru.ru_maxrss);
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            return Some(format!("hang: still running after {HANG:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = reader.join().unwrap_or_default();
    if libc::WIFSIGNALED(status) {
        return Some(format!(
            "killed by signal {}: {}",
            libc::WTERMSIG(status),
            err.lines().take(3).collect::<Vec<_>>().join(" | ")
        ));
    }
    let code = libc::WEXITSTATUS(status);
    if (code != 0 && code != 2) || err.contains("panicked") {
        return Some(format!(
            "exit status {code}: {}",
            err.lines().take(5).collect::<Vec<_>>().join(" | ")
        ));
    }
    if rss > MAX_RSS_KIB {
        return Some(format!("memory: peak {} MiB", rss / 1024));
    }
    None
}

const ARGS: &[&[&str]] = &[
    &[],
    &["-q"],
    &["-q", "-z", "conv,tcp", "-z", "hs"],
    &["-T", "json"],
    &[
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.analysis.flags",
        "-e",
        "tcp.options.sack_le",
        "-e",
        "frame.malformed",
        "-e",
        "ip.addr",
    ],
    &[
        "-Y",
        "tcp.analysis.flags or tls or http or tcp contains \"a\"",
    ],
    &["-n", "-T", "ek"],
    &["-q", "-z", "conn,zeek", "-o", "tcp.check_checksum:TRUE"],
    &["-q", "-z", "conn,zeek-json"],
];

#[test]
fn mutated_captures_never_crash_hang_or_blow_up() {
    let cases = env_num("HS_TUI_FUZZ_CASES", 2_000) as usize;
    let secs = env_num("HS_TUI_FUZZ_SECS", 90);
    let seed = env_num(
        "HS_TUI_FUZZ_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    ) | 1;
    let out_dir = std::env::var_os("HS_TUI_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-repro"));
    eprintln!("fuzz_capture: seed {seed}, up to {cases} cases or {secs} s");
    let seeds = seeds();
    // Every argument set works on a good capture (else every case would "fail").
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/http-get.pcap");
    for a in ARGS {
        let o = Command::new(binary())
            .arg("-r")
            .arg(&good)
            .args(*a)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{a:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let args = ARGS;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let tmp = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let (seeds, next, failures, tmp, out_dir) =
                (&seeds, &next, &failures, tmp.path(), &out_dir);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cases || Instant::now() > deadline {
                    break;
                }
                let mut r = Rng(seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                r.next();
                let (bytes, what) = mutate(&mut r, seeds);
                let a = *r.pick(args);
                let file = tmp.join(format!("case-{t}.pcap"));
                std::fs::write(&file, &bytes).unwrap();
                if let Some(why) = run_case(&file, a) {
                    std::fs::create_dir_all(out_dir).unwrap();
                    let repro = out_dir.join(format!("capture-{seed}-{i}.pcap"));
                    std::fs::write(&repro, &bytes).unwrap();
                    let line = format!(
                        "{why} ({what}); reproduce: hs-tui -r {} {}",
                        repro.display(),
                        a.join(" ")
                    );
                    std::fs::write(repro.with_extension("txt"), &line).unwrap();
                    failures.lock().unwrap().push(line);
                }
            });
        }
    });
    let n = next.load(Ordering::Relaxed).min(cases);
    let failures = failures.into_inner().unwrap();
    eprintln!("fuzz_capture: {n} cases, {} failures", failures.len());
    assert!(n >= cases.min(20), "only {n} cases ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
