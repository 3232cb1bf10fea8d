//! Live capture on loopback (root or CAP_NET_RAW only): a tiny HTTP server on
//! 127.0.0.1, connections to it and to a closed port, captured with a BPF
//! filter and a duration. Traffic never leaves 127.0.0.1.

mod common;

use common::bin;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

fn can_capture() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("NOTICE: not root; live capture test skipped");
    }
    root
}

#[test]
fn handshakes_on_loopback_appear_as_streams() {
    if !can_capture() {
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
    if !can_capture() {
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
    if !can_capture() {
        return;
    }
    let name = std::ffi::CString::new("nobody").unwrap();
    // SAFETY: getpwnam with a valid C string; the fields are read at once.
    let uid = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            println!("NOTICE: no user 'nobody'; privilege-drop test skipped");
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
