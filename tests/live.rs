//! Live capture on loopback (root or CAP_NET_RAW only): a tiny HTTP server on
//! 127.0.0.1, connections to it and to a closed port, captured with a BPF
//! filter and a duration. Traffic never leaves 127.0.0.1.

mod common;

use common::{bin, require_root};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

fn can_capture(test: &str) -> bool {
    require_root(test)
}

#[test]
fn handshakes_on_loopback_appear_as_streams() {
    if !can_capture("handshakes_on_loopback_appear_as_streams") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten().take(3) {
            let mut buf = [0u8; 512];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let child = Command::new(bin())
        .args([
            "-i",
            "lo",
            "-f",
            &format!("tcp port {port}"),
            "-a",
            "duration:3",
            "-T",
            "fields",
        ])
        .args([
            "-e",
            "tcp.stream",
            "-e",
            "tcp.flags",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.ack",
            "-e",
            "hs.phase",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    for _ in 0..3 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut s = String::new();
        let _ = c.read_to_string(&mut s);
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("packets captured"), "{stderr}");
    let rows: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    for stream in ["0", "1", "2"] {
        let syn = rows
            .iter()
            .find(|r| r[0] == stream && r[1] == "0x0002")
            .unwrap_or_else(|| panic!("no SYN in stream {stream}:\n{stdout}"));
        assert_eq!((syn[2], syn[4]), ("0", "syn"));
        let synack = rows
            .iter()
            .find(|r| r[0] == stream && r[1] == "0x0012")
            .expect("SYN-ACK");
        assert_eq!((synack[2], synack[3]), ("0", "1"));
    }
    assert!(
        !rows.iter().any(|r| r[0] == "3"),
        "only three streams expected:\n{stdout}"
    );
}

/// A live capture piped into another program shows packets as they come,
/// not when the output buffer fills or the capture ends.
#[test]
fn live_output_reaches_a_pipe_while_capturing() {
    if !can_capture("live_output_reaches_a_pipe_while_capturing") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new(bin())
        .args([
            "-i",
            "lo",
            "-f",
            &format!("tcp port {port}"),
            "-a",
            "duration:20",
        ])
        .args(["-T", "fields", "-e", "tcp.dstport"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        let n = stdout.read(&mut buf).unwrap_or(0);
        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
    });
    std::thread::sleep(Duration::from_millis(1000));
    let _c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let first = rx.recv_timeout(Duration::from_secs(5));
    let _ = child.kill();
    let _ = child.wait();
    let first = first.expect("no output within 5 s of the first packet");
    assert!(first.lines().next() == Some(&port.to_string()), "{first:?}");
}

/// Under sudo, hs-tui gives up root as soon as the capture handle is open (as
/// tcpdump does): parsing hostile packets and writing files run as the user.
#[test]
fn live_capture_drops_root_for_the_sudo_user() {
    if !can_capture("live_capture_drops_root_for_the_sudo_user") {
        return;
    }
    let name = std::ffi::CString::new("nobody").unwrap();
    // SAFETY: getpwnam with a valid C string; the fields are read at once.
    let uid = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            common::skip("live_capture_drops_root", "no user 'nobody'");
            return;
        }
        (*pw).pw_uid
    };
    let child = Command::new(bin())
        .env("SUDO_USER", "nobody")
        .args(["-i", "lo", "-f", "tcp port 9", "-a", "duration:3", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Uid: real, effective, saved and filesystem ids: all of them dropped.
    let uids: Vec<u32> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(uids, vec![uid; 4], "{status}");

    // A SUDO_USER that does not exist is an error, not a capture left running as root.
    let out = Command::new(bin())
        .env("SUDO_USER", "no-such-user-hs-tui")
        .args(["-i", "lo", "-a", "duration:1", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-user-hs-tui"), "{err}");
}

/// The real, effective, saved and filesystem user ids of a running process.
fn uids_of(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect()
}

fn uid_of(user: &str) -> Option<u32> {
    let name = std::ffi::CString::new(user).unwrap();
    // SAFETY: getpwnam with a valid C string; the field is read at once.
    unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        (!pw.is_null()).then(|| (*pw).pw_uid)
    }
}

/// Run as root without sudo, a live capture parses packets as nobody by default (as
/// tcpdump); `-Z root` keeps root; `-Z USER` picks the user.
#[test]
fn live_capture_as_root_drops_to_nobody_unless_z_root() {
    const TEST: &str = "live_capture_as_root_drops_to_nobody_unless_z_root";
    if !can_capture(TEST) {
        return;
    }
    let Some(nobody) = uid_of("nobody") else {
        common::skip(TEST, "no user 'nobody'");
        return;
    };
    for (z, want) in [(None, nobody), (Some("root"), 0), (Some("nobody"), nobody)] {
        let mut cmd = Command::new(bin());
        cmd.env_remove("SUDO_USER").args([
            "-i",
            "lo",
            "-f",
            "tcp port 9",
            "-a",
            "duration:2",
            "-q",
        ]);
        if let Some(z) = z {
            cmd.args(["-Z", z]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1000));
        let uids = uids_of(child.id());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "-Z {z:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(uids, vec![want; 4], "-Z {z:?}");
    }
}

/// A file read as root with `-Z nobody`: the packets are parsed, and the `-w` file
/// written, as nobody (the file belongs to nobody); without -Z as root.
#[test]
fn file_read_with_z_is_parsed_as_that_user() {
    const TEST: &str = "file_read_with_z_is_parsed_as_that_user";
    if !can_capture(TEST) {
        return;
    }
    let Some(nobody) = uid_of("nobody") else {
        common::skip(TEST, "no user 'nobody'");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // nobody must be able to create the file here.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let input = common::sample("http-get.pcap");
    for (z, owner) in [(Some("nobody"), nobody), (None, 0)] {
        let out_file = dir.path().join(format!("out-{owner}.pcap"));
        let mut cmd = Command::new(bin());
        cmd.env_remove("SUDO_USER")
            .arg("-r")
            .arg(&input)
            .arg("-q")
            .arg("-w")
            .arg(&out_file);
        if let Some(z) = z {
            cmd.args(["-Z", z]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "-Z {z:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta = std::fs::metadata(&out_file).unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::uid(&meta),
            owner,
            "-Z {z:?}"
        );
        assert!(meta.len() > 24, "-Z {z:?}: packets written");
    }
    // An unknown user is an error before any packet.
    let out = Command::new(bin())
        .arg("-r")
        .arg(&input)
        .args(["-Z", "no-such-user-hs-tui"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-user-hs-tui"));
}

/// `--parquet DIR -b duration:1` on a live capture (issue #11, item 4): connections made
/// over three seconds land in at least two periods, every pair is complete (DuckDB reads
/// them all), no temporary file is left, and the rows are the packets captured.
#[test]
fn live_parquet_rotates_by_the_clock() {
    let test = "live_parquet_rotates_by_the_clock";
    if !can_capture(test) || !common::require_python_module("duckdb", test) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten().take(6) {
            let mut buf = [0u8; 512];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(bin())
        .args(["-i", "lo", "-f", &format!("tcp port {port}"), "-Z", "root"])
        .args(["--parquet", dir.path().to_str().unwrap()])
        .args(["-b", "duration:1", "-a", "duration:4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    for _ in 0..6 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut s = String::new();
        let _ = c.read_to_string(&mut s);
        std::thread::sleep(Duration::from_millis(450));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let captured: u64 = stderr
        .lines()
        .find_map(|l| l.strip_suffix(" malformed"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count: {stderr}"));
    assert!(captured >= 6 * 8, "{stderr}");
    let mut files = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.file_name().to_string_lossy().to_string());
            }
        }
    }
    assert!(files.iter().all(|f| !f.starts_with('.')), "{files:?}");
    let pairs = files.iter().filter(|f| f.starts_with("packets-")).count();
    assert!(pairs >= 2, "{files:?}");
    assert_eq!(files.len(), 2 * pairs, "{files:?}");
    let script = format!(
        "import duckdb\nc = duckdb.connect()\nd = {:?}\nprint(c.execute(f\"SELECT count(*) FROM read_parquet('{{d}}/**/packets-*.parquet', hive_partitioning=true)\").fetchone()[0])\nprint(c.execute(f\"SELECT count(*) FROM read_parquet('{{d}}/**/streams-*.parquet', hive_partitioning=true) WHERE NOT hs_open_at_rotation\").fetchone()[0])",
        dir.path().to_str().unwrap()
    );
    let q = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    let qout = String::from_utf8_lossy(&q.stdout);
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    let nums: Vec<u64> = qout.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(nums[0], captured, "packet rows vs packets captured");
    assert_eq!(nums[1], 6, "one final row per connection");
}
