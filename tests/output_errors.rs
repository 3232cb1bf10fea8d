//! Output that cannot be written is said, with a non-zero exit; a reader
//! that stops early (`| head`) is not an error.

use std::process::{Command, Stdio};

fn hs_tui() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hs-tui"))
}
const SAMPLE: &str = "sample-captures/http-get.pcap";

#[test]
fn w_onto_a_full_disk_says_so_and_exits_2() {
    let out = hs_tui()
        .args(["-r", SAMPLE, "-w", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("0 packets written whole"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn w_prints_nothing_unless_p() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pcap");
    let p = path.to_str().unwrap();
    let out = hs_tui().args(["-r", SAMPLE, "-w", p]).output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    // The written file is nanosecond pcap: compare what does not depend on the time format.
    let fields = |f: &str| {
        let out = hs_tui()
            .args([
                "-r",
                f,
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "frame.len",
            ])
            .args(["-e", "tcp.stream", "-e", "tcp.seq", "-e", "_ws.col.Info"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let direct = fields(SAMPLE);
    assert!(direct.lines().count() > 10);
    assert_eq!(fields(p), direct, "the file holds every packet");
    let out = hs_tui()
        .args(["-r", SAMPLE, "-w", p, "-P"])
        .output()
        .unwrap();
    let printed = hs_tui().args(["-r", SAMPLE]).output().unwrap().stdout;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&printed)
    );
}

#[test]
fn w_does_not_follow_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious");
    std::fs::write(&target, b"keep").unwrap();
    let link = dir.path().join("out.pcap");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = hs_tui()
        .args(["-r", SAMPLE, "-w", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&target).unwrap(), b"keep");
}

#[test]
fn a_closed_standard_output_is_an_error() {
    // `>&-`: the child starts with descriptor 1 closed.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' -r {SAMPLE} >&-",
            env!("CARGO_BIN_EXE_hs-tui")
        ))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("standard output is closed"), "{err}");
}

#[test]
fn standard_output_on_a_full_disk_is_an_error() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' -r sample-captures/many-short.pcap > /dev/full",
            env!("CARGO_BIN_EXE_hs-tui")
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
}

#[test]
fn a_reader_that_stops_early_ends_quietly() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' -r sample-captures/many-short.pcap | head -1; exit ${{PIPESTATUS:-0}}",
            env!("CARGO_BIN_EXE_hs-tui")
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dev_null_opened_read_write_is_not_a_closed_output() {
    // Python's subprocess.DEVNULL (and systemd) open /dev/null read-write.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' -r {SAMPLE} 1<>/dev/null",
            env!("CARGO_BIN_EXE_hs-tui")
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_crashed_capture_thread_is_an_error_not_success() {
    // Debug builds panic on the third packet when asked to (see capture::read_loop).
    let out = hs_tui()
        .args(["-r", SAMPLE])
        .env("HS_TUI_TEST_CAPTURE_PANIC", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("capture thread stopped unexpectedly"), "{err}");
}
