//! `hs-tui diff` (issue #12) against two-point sets with ground truth
//! (tests/conformance/twopoint/: the shared `visible` set and three made for
//! this test). Per packet: delivered or lost, and which frame it became;
//! identical packets (truth's `ambig > 1`) are compared per group, as the
//! set's README says. Per connection: the handshake as truth.tsv words it.
//! The clock offset: within 0.2 ms of what the captures allow (half the
//! difference of the two directions' minimum delays).

mod common;

use common::{bin, hs_tui};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn set(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/twopoint");
    match name {
        "visible" => d.join("visible"),
        n => d.join("own").join(n),
    }
}

fn tsv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("read tsv");
    let mut lines = text.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(String::from)
        .collect();
    lines
        .map(|l| {
            head.iter()
                .cloned()
                .zip(l.split('\t').map(String::from))
                .collect()
        })
        .collect()
}

struct Score {
    right: usize,
    total: usize,
    offset_err_ms: f64,
    /// What the captures allow: half the difference of the minimum delays each way.
    allowed_ms: f64,
    hs_right: usize,
    conns: usize,
    wrong: Vec<String>,
}

/// Per-packet rows of `hs-tui diff`: (side, frame) -> (peer frames, lost, role).
type Rows = HashMap<(String, u64), (String, String, String)>;

fn rows(out: &str) -> (Rows, f64) {
    let mut m = HashMap::new();
    let mut off = f64::NAN;
    for l in out.lines() {
        let c: Vec<&str> = l.split('\t').collect();
        assert_eq!(c.len(), 6, "row {l:?}");
        m.insert(
            (c[0].to_string(), c[1].parse().expect("frame")),
            (c[2].to_string(), c[3].to_string(), c[4].to_string()),
        );
        off = c[5].parse().expect("offset");
    }
    (m, off)
}

const FIELDS: &[&str] = &[
    "-e",
    "hs.diff.side",
    "-e",
    "frame.number",
    "-e",
    "hs.diff.peer_frame",
    "-e",
    "hs.diff.lost",
    "-e",
    "hs.diff.role",
    "-e",
    "hs.diff.clock_offset",
];

fn score_with(dir: &Path, a: &Path, b: &Path, swapped: bool) -> Score {
    let summary = tempfile::NamedTempFile::new().expect("tmp");
    let mut args: Vec<String> = vec![
        "diff".into(),
        a.display().to_string(),
        b.display().to_string(),
        "-T".into(),
        "fields".into(),
        "--summary".into(),
        summary.path().display().to_string(),
    ];
    args.extend(FIELDS.iter().map(|s| s.to_string()));
    let out = hs_tui(&args);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let (mine, mut offset) = rows(&out.stdout);
    if swapped {
        offset = -offset;
    }
    let (sa, sb) = if swapped { ("b", "a") } else { ("a", "b") };
    let truth = tsv(&dir.join("truth.tsv"));
    let mut s = Score {
        right: 0,
        total: 0,
        offset_err_ms: 0.0,
        allowed_ms: 0.0,
        hs_right: 0,
        conns: 0,
        wrong: Vec::new(),
    };
    // (dir, conn, fields) -> (rows, copies in truth, copies found, all sender rows)
    let mut groups: HashMap<String, (usize, usize, usize, bool)> = HashMap::new();
    let mut min_owd = [f64::INFINITY; 2];
    for t in &truth {
        let c2s = t["dir"] == "c2s";
        let side = if c2s { sa } else { sb };
        if let Ok(o) = t["owd_ms"].parse::<f64>() {
            let k = usize::from(!c2s);
            min_owd[k] = min_owd[k].min(o);
        }
        let frame: u64 = t["send_frame"].parse().expect("send_frame");
        let want = if t["recv_frame"] == "-" {
            String::new()
        } else {
            t["recv_frame"].clone()
        };
        let empty = (String::from("?"), String::new(), String::new());
        let got = mine.get(&(side.to_string(), frame)).unwrap_or(&empty);
        if t["ambig"] == "1" {
            let ok = got.0 == want
                && got.1 == if want.is_empty() { "1" } else { "0" }
                && got.2 == "sender";
            s.total += 1;
            s.right += ok as usize;
            if !ok && s.wrong.len() < 10 {
                s.wrong.push(format!(
                    "{} frame {frame} {}: want {want:?}, got {got:?}",
                    t["dir"], t["flags"]
                ));
            }
        } else {
            let key = ["dir", "conn", "seq", "ack", "flags", "len", "tsval", "ipid"]
                .iter()
                .map(|k| t[*k].as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let g = groups.entry(key).or_insert((0, 0, 0, true));
            g.0 += 1;
            g.1 += t["copies"].parse::<usize>().expect("copies");
            g.2 += got.0.split(',').filter(|x| !x.is_empty()).count();
            g.3 &= got.2 == "sender";
        }
    }
    for (k, (n, want, got, senders)) in groups {
        let ok = want == got && senders;
        s.total += n;
        s.right += n * ok as usize;
        if !ok && s.wrong.len() < 10 {
            s.wrong
                .push(format!("group {k}: {want} copies, found {got}"));
        }
    }
    let params: HashMap<String, String> = std::fs::read_to_string(dir.join("params.txt"))
        .expect("params")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let true_off: f64 = params["clock_offset_s"].parse().expect("offset");
    s.offset_err_ms = (offset - true_off).abs() * 1e3;
    s.allowed_ms = (min_owd[0] - min_owd[1]).abs() / 2.0;
    // Handshakes, per connection (matched by endpoints and start time).
    let want = tsv(&dir.join("summary.tsv"));
    // Start times are in A's clock: the server's when the captures are swapped.
    let shift = if swapped { true_off } else { 0.0 };
    let got = tsv(summary.path());
    // The handshake, and per direction what was sent, lost, duplicated, reordered, and which frames were lost.
    let cols = [
        "handshake_result",
        "syn_sent",
        "syn_lost",
        "synack_sent",
        "synack_lost",
        "handshake",
        "c2s_sent",
        "c2s_lost",
        "c2s_dup",
        "c2s_reordered",
        "c2s_lost_frames",
        "s2c_sent",
        "s2c_lost",
        "s2c_dup",
        "s2c_reordered",
        "s2c_lost_frames",
    ];
    s.conns = want.len();
    for w in &want {
        let t0: f64 = w["start_time"].parse().expect("start");
        let m = got.iter().find(|g| {
            g["client"] == w["client"]
                && g["server"] == w["server"]
                && (g["start_time"].parse::<f64>().unwrap_or(0.0) - shift - t0).abs() < 0.5
        });
        match m {
            Some(g) if cols.iter().all(|c| g[*c] == w[*c]) => s.hs_right += 1,
            _ if !swapped && s.wrong.len() < 10 => s.wrong.push(format!(
                "conn {}: want {:?}, got {:?}",
                w["conn"],
                cols.map(|c| w[c].clone()),
                m.map(|g| cols.map(|c| g[c].clone()))
            )),
            _ => {}
        }
    }
    assert_eq!(got.len(), want.len(), "connections found");
    s
}

fn check(name: &str) {
    let dir = set(name);
    let s = score_with(
        &dir,
        &dir.join("client.pcap"),
        &dir.join("server.pcap"),
        false,
    );
    eprintln!(
        "{name}: placed {}/{} right, clock offset error {:.3} ms (the captures allow {:.3}), handshakes {}/{}",
        s.right, s.total, s.offset_err_ms, s.allowed_ms, s.hs_right, s.conns
    );
    assert_eq!(s.right, s.total, "{name}: {:?}", s.wrong);
    assert_eq!(s.hs_right, s.conns, "{name}: {:?}", s.wrong);
    assert!(
        (s.offset_err_ms - s.allowed_ms).abs() < 0.2,
        "{name}: offset error {} ms, allowed {}",
        s.offset_err_ms,
        s.allowed_ms
    );
}

#[test]
fn visible_set_matches_its_truth() {
    check("visible");
    // 20/15 ms each way: the estimate is off by 2.5 ms, as the set's README says.
}

#[test]
fn jitter_reorder_duplication_set() {
    check("jitter-dup");
}

#[test]
fn ipv6_asymmetric_set() {
    check("v6-asym");
}

#[test]
fn clocks_seconds_apart_set() {
    check("bigoffset");
}

#[test]
fn heavy_reordering_and_duplication_set() {
    check("reorder-dup");
}

#[test]
fn one_way_loss_set() {
    check("oneway-loss");
}

#[test]
fn a_given_offset_is_used() {
    let dir = set("visible");
    let (a, b) = (dir.join("client.pcap"), dir.join("server.pcap"));
    let out = hs_tui(&[
        "diff",
        a.to_str().expect("p"),
        b.to_str().expect("p"),
        "-q",
        "--offset",
        "0.25",
    ]);
    assert!(
        out.stdout
            .contains("clock offset B − A = +250.000 ms (given)"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("a→b: 804 sent, 54 lost"));
}

#[test]
fn captures_given_in_the_other_order() {
    // B first: sides swap, every packet is still placed.
    let dir = set("v6-asym");
    let s = score_with(
        &dir,
        &dir.join("server.pcap"),
        &dir.join("client.pcap"),
        true,
    );
    assert_eq!(s.right, s.total, "{:?}", s.wrong);
    assert_eq!(s.hs_right, s.conns);
}

/// Rewrite the client's addresses (10.99.0.1 -> 192.0.2.77, fd99::1 -> fd99::77)
/// and ports (+1000) in a classic Ethernet pcap, as a NAT between the points would;
/// with `ipid`, also every IPv4 ID (as some NATs do).
fn nat_rewrite(src: &Path, dst: &Path, ipid: bool) {
    let mut d = std::fs::read(src).expect("read pcap");
    let mut off = 24;
    while off + 16 <= d.len() {
        let cap = u32::from_le_bytes([d[off + 8], d[off + 9], d[off + 10], d[off + 11]]) as usize;
        let f = off + 16;
        let end = (f + cap).min(d.len());
        off = f + cap;
        if end < f + 14 {
            continue;
        }
        let et = u16::from_be_bytes([d[f + 12], d[f + 13]]);
        let ip = f + 14;
        if ipid && et == 0x0800 && end >= ip + 20 {
            let id = u16::from_be_bytes([d[ip + 4], d[ip + 5]]) ^ 0x5a5a;
            d[ip + 4..ip + 6].copy_from_slice(&id.to_be_bytes());
        }
        let (addr_offs, alen, l4, from, to): (_, usize, usize, Vec<u8>, Vec<u8>) = match et {
            0x0800 if end >= ip + 20 => (
                [ip + 12, ip + 16],
                4,
                ip + ((d[ip] & 0xf) as usize) * 4,
                vec![10, 99, 0, 1],
                vec![192, 0, 2, 77],
            ),
            0x86dd if end >= ip + 40 => {
                let mut from = vec![0u8; 16];
                from[0] = 0xfd;
                from[1] = 0x99;
                from[15] = 1;
                let mut to = from.clone();
                to[15] = 0x77;
                ([ip + 8, ip + 24], 16, ip + 40, from, to)
            }
            _ => continue,
        };
        for (k, &a) in addr_offs.iter().enumerate() {
            if d[a..a + alen] == from[..] {
                d[a..a + alen].copy_from_slice(&to);
                // The client's port: source port when it is the source, else destination.
                let p = l4 + 2 * k;
                if p + 2 <= end {
                    let port = u16::from_be_bytes([d[p], d[p + 1]]).wrapping_add(1000);
                    d[p..p + 2].copy_from_slice(&port.to_be_bytes());
                }
            }
        }
    }
    std::fs::write(dst, d).expect("write pcap");
}

#[test]
fn nat_between_the_points() {
    let dir = set("visible");
    let tmp = tempfile::tempdir().expect("tmp");
    let b = tmp.path().join("server-nat.pcap");
    nat_rewrite(&dir.join("server.pcap"), &b, false);
    let out = hs_tui(&[
        "diff".as_ref(),
        dir.join("client.pcap").as_os_str(),
        b.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("NAT between the points: 120 of 120 flows rewritten"),
        "{}",
        out.stdout.lines().take(4).collect::<Vec<_>>().join("\n")
    );
    assert!(out.stdout.contains("a→b: 804 sent, 54 lost"));
    assert!(out.stdout.contains("b→a: 819 sent, 48 lost"));
    assert!(out.stdout.contains("[at the other point 192.0.2.77:"));
    // Every packet placed as without the NAT (the truth's frame numbers are unchanged).
    let s = score_with(&dir, &dir.join("client.pcap"), &b, false);
    assert_eq!(s.right, s.total, "{:?}", s.wrong);
}

#[test]
fn a_nat_that_rewrites_ip_ids_too() {
    let dir = set("jitter-dup");
    let tmp = tempfile::tempdir().expect("tmp");
    let b = tmp.path().join("server-nat.pcap");
    nat_rewrite(&dir.join("server.pcap"), &b, true);
    let out = hs_tui(&[
        "diff".as_ref(),
        dir.join("client.pcap").as_os_str(),
        b.as_os_str(),
        "-q".as_ref(),
    ]);
    assert!(
        out.stdout.contains("IPv4 IDs differ between the points"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("NAT between the points"));
    let s = score_with(&dir, &dir.join("client.pcap"), &b, false);
    assert!(
        s.right * 100 >= s.total * 99,
        "{}/{}: {:?}",
        s.right,
        s.total,
        s.wrong
    );
}

#[test]
fn one_capture_from_standard_input() {
    let dir = set("bigoffset");
    let a = dir.join("client.pcap");
    let b = dir.join("server.pcap");
    let mut args: Vec<&str> = vec!["diff", "-", b.to_str().expect("path"), "-T", "fields"];
    args.extend(FIELDS);
    let mut child = Command::new(bin())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let bytes = std::fs::read(&a).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("write");
    let piped = child.wait_with_output().expect("wait");
    let mut args2: Vec<&str> = vec!["diff", a.to_str().expect("p"), b.to_str().expect("p")];
    args2.extend(["-T", "fields"]);
    args2.extend(FIELDS);
    let direct = hs_tui(&args2);
    assert!(piped.status.success());
    assert_eq!(String::from_utf8_lossy(&piped.stdout), direct.stdout);
    let both = hs_tui(&["diff", "-", "-"]);
    assert_eq!(both.code, Some(2));
    assert!(both.stderr.contains("only one"), "{}", both.stderr);
}

#[test]
fn display_filter_and_json() {
    let dir = set("visible");
    let (a, b) = (dir.join("client.pcap"), dir.join("server.pcap"));
    let (a, b) = (a.to_str().expect("p"), b.to_str().expect("p"));
    let lost = hs_tui(&[
        "diff",
        a,
        b,
        "-Y",
        "hs.diff.lost == 1",
        "-T",
        "fields",
        "-e",
        "hs.diff.side",
    ]);
    assert_eq!(lost.code, Some(0), "{}", lost.stderr);
    let na = lost.stdout.lines().filter(|l| *l == "a").count();
    let nb = lost.stdout.lines().filter(|l| *l == "b").count();
    assert_eq!((na, nb), (54, 48));
    // A lost SYN, its verdict on every packet of the connection.
    let syn = hs_tui(&[
        "diff",
        a,
        b,
        "-Y",
        "hs.diff.lost == 1 and tcp.flags.syn == 1 and tcp.flags.ack == 0",
        "-T",
        "ndjson",
        "-e",
        "frame.number",
        "-e",
        "hs.diff.verdict",
        "-e",
        "hs.diff.owd",
    ]);
    assert_eq!(syn.code, Some(0), "{}", syn.stderr);
    assert!(syn
        .stdout
        .contains("the SYN was lost once on the way to the server"));
    let json = hs_tui(&["diff", a, b, "-Y", "frame.number == 1", "-T", "json"]);
    assert!(
        json.stdout.contains("\"hs.diff.peer_frame\""),
        "{}",
        json.stdout.len()
    );
    assert!(json.stdout.contains("\"hs.diff.clock_offset\""));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let out = hs_tui(&["diff", "/nonexistent.pcap", "/nonexistent2.pcap"]);
    assert_eq!(out.code, Some(2));
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let out = hs_tui(&["diff", "only-one.pcap"]);
    assert_eq!(out.code, Some(2));
    // An empty capture on one side: everything on the other is unmatched.
    let dir = set("bigoffset");
    let tmp = tempfile::tempdir().expect("tmp");
    let empty = tmp.path().join("empty.pcap");
    let head = std::fs::read(dir.join("client.pcap")).expect("read");
    std::fs::write(&empty, &head[..24]).expect("write");
    let out = hs_tui(&[
        "diff".as_ref(),
        dir.join("client.pcap").as_os_str(),
        empty.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Unrelated captures, the same capture twice, every sample against every other: no panic.
    let samples: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures"))
            .expect("sample-captures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
    for a in &samples {
        for b in samples.iter().take(4) {
            for args in [vec!["-q"], vec!["-T", "fields", "-e", "hs.diff.peer_frame"]] {
                let mut v = vec!["diff", a.to_str().expect("p"), b.to_str().expect("p")];
                v.extend(args);
                let out = hs_tui(&v);
                assert!(
                    !out.stderr.contains("panicked"),
                    "{a:?} {b:?}: {}",
                    out.stderr
                );
                assert_eq!(out.code, Some(0), "{a:?} {b:?}: {}", out.stderr);
            }
        }
    }
}

/// Copy a classic pcap without one frame (a capture drop).
fn drop_frame(src: &Path, dst: &Path, frame: usize) {
    let d = std::fs::read(src).expect("read pcap");
    let mut out = d[..24].to_vec();
    let (mut off, mut n) = (24, 0);
    while off + 16 <= d.len() {
        let cap = u32::from_le_bytes([d[off + 8], d[off + 9], d[off + 10], d[off + 11]]) as usize;
        let end = (off + 16 + cap).min(d.len());
        n += 1;
        if n != frame {
            out.extend_from_slice(&d[off..end]);
        }
        off = end;
    }
    std::fs::write(dst, out).expect("write pcap");
}

#[test]
fn a_capture_drop_at_the_sender_is_not_a_loss() {
    // visible: client frame 4 (conn 0's handshake ACK) reached the server as its frame 5.
    let dir = set("visible");
    let tmp = tempfile::tempdir().expect("tmp");
    let a = tmp.path().join("client-drop.pcap");
    drop_frame(&dir.join("client.pcap"), &a, 4);
    let b = dir.join("server.pcap");
    let out = hs_tui(&[
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "-Y".as_ref(),
        "hs.diff.capture_drop == 1".as_ref(),
        "-T".as_ref(),
        "fields".as_ref(),
        "-e".as_ref(),
        "hs.diff.side".as_ref(),
        "-e".as_ref(),
        "frame.number".as_ref(),
        "-e".as_ref(),
        "hs.diff.lost".as_ref(),
        "-e".as_ref(),
        "hs.diff.role".as_ref(),
        "-e".as_ref(),
        "hs.diff.peer_frame".as_ref(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "b\t5\t0\treceiver\t\n");
    let q = hs_tui(&["diff".as_ref(), a.as_os_str(), b.as_os_str(), "-q".as_ref()]);
    assert!(q.stdout.contains(
        "a→b: 803 sent, 54 lost (6.7%), 0 duplicated, 0 reordered, 1 seen only at the receiver"
    ));
    assert!(q
        .stdout
        .contains("capture drops at the sender's point, not losses"));
}

/// The two-lane ladder in a real terminal (tmux, its own server): opened by
/// `hs-tui diff A B`, moved with keys, closed with `q`.
#[test]
fn ladder_in_tmux() {
    if !common::require_tool("tmux", "ladder_in_tmux") {
        return;
    }
    let dir = set("visible");
    let socket = format!("hs-tui-diff-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .env("TERM", "xterm-256color")
            .output()
            .expect("tmux")
    };
    let cmd = format!(
        "cd {} && {} diff client.pcap server.pcap; echo EXIT=$?; sleep 30",
        dir.display(),
        bin()
    );
    let st = tmux(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "120",
        "-y",
        "32",
        &cmd,
    ]);
    assert!(st.status.success(), "tmux new-session failed");
    let screen =
        || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned();
    let wait = |want: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let s = screen();
            if s.contains(want) {
                return s;
            }
            if std::time::Instant::now() > deadline {
                let _ = tmux(&["kill-server"]);
                panic!("never saw {want:?}; screen:\n{s}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let s = wait("connections: 60 shown of 60");
    assert!(
        s.contains("client (a) ms") && s.contains("server (b) ms"),
        "{s}"
    );
    // Down to conn 4: its SYN was lost, and the cross ends that line.
    for _ in 0..4 {
        let _ = tmux(&["send-keys", "-t", "t", "j"]);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let s = wait("conn 4 10.99.0.1:57994");
    assert!(s.contains("SYN ✕ lost") && s.contains('✕'), "{s}");
    assert!(s.contains("⋮ 1.028 s later"), "{s}");
    let _ = tmux(&["send-keys", "-t", "t", "q"]);
    let s = wait("EXIT=");
    let _ = tmux(&["kill-server"]);
    assert!(s.contains("EXIT=0"), "{s}");
}
