//! End-to-end: the real binary in a tmux pane, driven with `send-keys` and
//! read back with `capture-pane`. Every test uses its own tmux server
//! (`-L`), so nothing else running tmux is touched. Without tmux (or root, for
//! the live test) a reported skip; under `CI=true` a failure.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hs-tui");
const HTTP: &str = "tests/data/lo-http-refused.pcap";
const CUT: &str = "tests/data/http-get-cut.pcap";

fn have_tmux(test: &str) -> bool {
    common::require_tool("tmux", test)
}

/// One tmux server with one pane running a command; killed on drop.
struct Pane {
    socket: String,
    /// The server's socket file, removed when done.
    socket_path: Option<String>,
}

impl Pane {
    fn start(name: &str, w: u16, h: u16, cmd: &str) -> Pane {
        let socket = format!("hs-tui-e2e-{}-{name}", std::process::id());
        let mut p = Pane {
            socket,
            socket_path: None,
        };
        // Keep the pane after the program ends, to read what it left (exit code, stderr).
        let full = format!("{cmd}; echo EXIT=$?; sleep 30");
        let st = p.tmux(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            &full,
        ]);
        assert!(st, "tmux new-session failed");
        let out = Command::new("tmux")
            .args(["-L", &p.socket, "display-message", "-p", "#{socket_path}"])
            .output();
        p.socket_path = out
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty());
        p
    }

    fn tmux(&self, args: &[&str]) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env("TERM", "xterm-256color")
            .status()
            .is_ok_and(|s| s.success())
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "t"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            assert!(self.tmux(&["send-keys", "-t", "t", k]));
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Type literal text.
    fn text(&self, s: &str) {
        assert!(self.tmux(&["send-keys", "-t", "t", "-l", s]));
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Wait until the screen contains all of `want`; panic with the screen if it never does.
    fn wait_for(&self, want: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if want.iter().all(|w| s.contains(w)) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {want:?}:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of the program in the pane (the shell's child).
    fn program_pid(&self) -> Option<u32> {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "list-panes",
                "-t",
                "t",
                "-F",
                "#{pane_pid}",
            ])
            .output()
            .ok()?;
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn cmd(args: &str) -> String {
    format!("{BIN} {args}")
}

#[test]
fn filter_drill_in_ladder_and_quit() {
    if !have_tmux("filter_drill_in_ladder_and_quit") {
        return;
    }
    let p = Pane::start("main", 120, 40, &cmd(&format!("-r {HTTP}")));
    p.wait_for(&[
        "Flows · 5",
        "127.0.0.1:52012 → 127.0.0.1:1",
        "refused",
        "4 completed",
    ]);
    // Filter to the refused flow.
    p.keys(&["/"]);
    p.wait_for(&["Filter ▸"]);
    p.text("hs.state == \"refused\"");
    p.wait_for(&["Filter ▸ hs.state == \"refused\""]);
    p.keys(&["Enter"]);
    let s = p.wait_for(&["Flows · 1 of 5", "Filter: hs.state == \"refused\""]);
    assert!(!s.contains("127.0.0.1:55022"), "{s}");
    // Drill into it.
    p.keys(&["Enter"]);
    p.wait_for(&["Packets of stream 3", "RST,ACK", "refused"]);
    // The ladder.
    p.keys(&["l"]);
    p.wait_for(&[
        "Ladder of stream 3",
        "client 127.0.0.1:52012",
        "server 127.0.0.1:1",
        "✘ refused",
    ]);
    // Details of the RST.
    p.keys(&["j", "Enter"]);
    p.wait_for(&["Details · frame 39", "Transmission Control Protocol"]);
    // Help, then quit.
    p.keys(&["?"]);
    p.wait_for(&["hs-tui keys"]);
    p.keys(&["Escape", "q"]);
    let s = p.wait_for(&["EXIT=0"]);
    assert!(
        !s.contains("Flows ·"),
        "the alternate screen is gone after quitting:\n{s}"
    );
}

#[test]
fn clear_filter_mouse_free_navigation_and_ctrl_c() {
    if !have_tmux("clear_filter_mouse_free_navigation_and_ctrl_c") {
        return;
    }
    let p = Pane::start("nav", 80, 24, &cmd(&format!("-r {HTTP}")));
    p.wait_for(&["Flows · 5"]);
    // Set a filter, see it applied, clear it (Ctrl-U, Enter), see every flow again.
    p.keys(&["/"]);
    p.wait_for(&["Filter ▸"]);
    p.text("hs.state == \"refused\"");
    p.keys(&["Enter"]);
    p.wait_for(&["Flows · 1 of 5", "Filter: hs.state == \"refused\""]);
    p.keys(&["/"]);
    p.wait_for(&["Filter ▸ hs.state == \"refused\""]);
    p.keys(&["C-u", "Enter"]);
    let s = p.wait_for(&["Flows · 5"]);
    assert!(!s.contains("of 5"), "filter still applied:\n{s}");
    assert!(!s.contains("Filter: hs.state"), "filter still shown:\n{s}");
    p.keys(&["G"]);
    p.wait_for(&["Packets of stream 4"]);
    p.keys(&["s", "s", "s"]);
    p.wait_for(&["sort: initial RTT ▼"]);
    p.keys(&["r", "t"]);
    p.keys(&["Tab"]);
    p.wait_for(&["raw seq", "Capture t"]);
    p.keys(&["C-c"]);
    // As shells expect after Ctrl-C.
    p.wait_for(&["EXIT=130"]);
}

#[test]
fn go_to_find_expert_and_sigterm() {
    if !have_tmux("go_to_find_expert_and_sigterm") {
        return;
    }
    let p = Pane::start("find", 120, 40, &cmd(&format!("-r {HTTP}")));
    p.wait_for(&["Flows · 5"]);
    // Go to the refused flow's RST (frame 39): its flow and packet are selected.
    p.keys(&["C-g"]);
    p.wait_for(&["Go to packet ▸"]);
    p.text("39");
    p.keys(&["Enter"]);
    p.wait_for(&["Packets of stream 3", "RST,ACK"]);
    // Find a string in the payload (Tab: display filter -> string), without hiding flows.
    p.keys(&["C-f"]);
    p.wait_for(&["Find display filter ▸"]);
    p.keys(&["Tab"]);
    p.text("GET /");
    p.wait_for(&["Find string ▸ GET /"]);
    p.keys(&["Enter"]);
    let s = p.wait_for(&["found string 'GET /' in packet"]);
    assert!(
        s.contains("Flows · 5") && !s.contains("of 5"),
        "find hid flows:\n{s}"
    );
    // The expert overlay, and Enter filters to the line's packets.
    p.keys(&["e"]);
    p.wait_for(&["expert info ·", "Warns (", "Connection reset (RST)"]);
    p.keys(&["Enter"]);
    p.wait_for(&["Filter: tcp.connection.rst"]);
    // SIGTERM restores the terminal and exits with 143.
    let pid = p.program_pid().expect("hs-tui's pid");
    assert!(Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let s = p.wait_for(&["EXIT=143"]);
    assert!(!s.contains("Flows ·"), "the alternate screen is gone:\n{s}");
}

#[test]
fn too_small_then_resized() {
    if !have_tmux("too_small_then_resized") {
        return;
    }
    let p = Pane::start("small", 70, 20, &cmd(&format!("-r {HTTP}")));
    p.wait_for(&["terminal too small (need 80x24, have 70x20)"]);
    assert!(p.tmux(&["resize-window", "-t", "t", "-x", "100", "-y", "30"]));
    p.wait_for(&["Flows · 5"]);
    p.keys(&["q"]);
    p.wait_for(&["EXIT=0"]);
}

#[test]
fn capture_error_stays_on_screen_and_prints_after_restore() {
    if !have_tmux("capture_error_stays_on_screen_and_prints_after_restore") {
        return;
    }
    let p = Pane::start("cut", 120, 40, &cmd(&format!("-r {CUT}")));
    p.wait_for(&["capture error:", "cut short in packet 20", "read error"]);
    p.keys(&["q"]);
    let s = p.wait_for(&["EXIT=2"]);
    assert!(
        s.contains("hs-tui: tests/data/http-get-cut.pcap: the capture is cut short"),
        "{s}"
    );
}

#[test]
fn sigterm_and_panic_restore_the_terminal() {
    if !have_tmux("sigterm_and_panic_restore_the_terminal") {
        return;
    }
    // After the program, the pane's shell prints the terminal mode: "icanon" means cooked mode is back.
    let tail = "; stty -a | grep -o -- '-\\?icanon'";
    // SIGTERM ends the program cleanly; an abort runs no Rust unwinding (a
    // stack overflow ends in one): a SIGABRT handler restores the terminal.
    for signal in ["TERM", "ABRT"] {
        let p = Pane::start(
            &signal.to_lowercase(),
            100,
            30,
            &format!("{}{tail}", cmd(&format!("-r {HTTP}"))),
        );
        p.wait_for(&["Flows · 5"]);
        let pid = p.program_pid().expect("pid of hs-tui");
        assert!(Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap()
            .success());
        let s = p.wait_for(&["EXIT="]);
        assert!(
            s.lines().any(|l| l.trim() == "icanon"),
            "terminal not restored after SIG{signal}:\n{s}"
        );
        assert!(
            !s.contains("Flows ·"),
            "still on the alternate screen:\n{s}"
        );
        let flags = Command::new("tmux")
            .args(["-L", &p.socket, "display-message", "-p", "-t", "t"])
            .arg("#{alternate_on}#{mouse_any_flag}")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&flags.stdout).trim(),
            "00",
            "SIG{signal}"
        );
    }

    let p = Pane::start(
        "panic",
        100,
        30,
        &format!("HS_TUI_TEST_PANIC=1 {}{tail}", cmd(&format!("-r {HTTP}"))),
    );
    let s = p.wait_for(&["HS_TUI_TEST_PANIC is set", "EXIT="]);
    assert!(
        s.lines().any(|l| l.trim() == "icanon"),
        "terminal not restored after a panic:\n{s}"
    );
    assert!(!s.contains("Flows ·"), "{s}");
}

#[test]
fn batch_mode_when_not_a_terminal() {
    // Piped output keeps the batch printer.
    let out = Command::new(BIN).args(["-r", HTTP]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 51);
    // -T tui insists on a terminal.
    let out = Command::new(BIN)
        .args(["-r", HTTP, "-T", "tui"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a terminal"));
}

/// Live capture on `lo` (root only): connections made by the test show up.
#[test]
fn live_capture_on_loopback() {
    if !have_tmux("live_capture_on_loopback") {
        return;
    }
    if !common::require_root("live_capture_on_loopback") {
        return;
    }
    if !Path::new("/sys/class/net/lo").exists() {
        common::skip("live_capture_on_loopback", "no lo interface");
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A closed port: bind, note, drop.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The capture thread sends a live batch when the next packet arrives
    // (libpcap's read timeout does not fire on an idle Linux interface), so
    // a UDP ticker keeps packets coming; UDP is counted, never a flow.
    let ticker = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tick_port = ticker.local_addr().unwrap().port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let tick = std::thread::spawn(move || {
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = ticker.send_to(b"tick", ("127.0.0.1", tick_port));
            std::thread::sleep(Duration::from_millis(60));
        }
    });
    let filter = format!("tcp port {port} or tcp port {closed} or udp port {tick_port}");
    // Root's settings, which the view (become nobody, who has no home) can neither read
    // nor write: it must keep quiet about them instead of showing "Permission denied".
    let home = tempfile::tempdir().unwrap();
    let conf = home.path().join(".config/hs-tui");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("tui.json"), "{}").unwrap();
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let live = format!(
        "env -u XDG_CONFIG_HOME -u HS_TUI_CONFIG_DIR -u SUDO_USER HOME={} {}",
        home.path().display(),
        cmd(&format!("-i lo {filter}"))
    );
    let p = Pane::start("live", 120, 40, &live);
    let s = p.wait_for(&["● LIVE", "waiting for TCP packets"]);
    assert!(!s.contains("settings"), "{s}");
    std::thread::sleep(Duration::from_millis(500));
    let accept = std::thread::spawn(move || {
        for _ in 0..3 {
            if let Ok((s, _)) = listener.accept() {
                drop(s);
            }
        }
    });
    for _ in 0..3 {
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        drop(s);
    }
    let _ = std::net::TcpStream::connect(("127.0.0.1", closed));
    accept.join().unwrap();
    let s = p.wait_for(&[
        "Flows · 4",
        "3 completed",
        "1 refused",
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(s.contains("following"), "{s}");
    // Pause: the display freezes while capture goes on.
    p.keys(&["p"]);
    p.wait_for(&["PAUSED"]);
    let _ = std::net::TcpStream::connect(("127.0.0.1", closed));
    p.wait_for(&["queued", "Flows · 4"]);
    p.keys(&["p"]);
    p.wait_for(&["Flows · 5", "2 refused"]);
    p.keys(&["q"]);
    let s = p.wait_for(&["EXIT=0"]);
    assert!(!s.contains("settings"), "{s}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    tick.join().unwrap();
}

#[test]
fn display_filter_from_the_command_line_applies_at_start() {
    if !have_tmux("display_filter_from_the_command_line_applies_at_start") {
        return;
    }
    let p = Pane::start(
        "yflag",
        120,
        40,
        &cmd(&format!("-r {HTTP} -Y 'hs.state == \"refused\"'")),
    );
    let s = p.wait_for(&["Flows · 1 of 5", "Filter: hs.state == \"refused\""]);
    assert!(s.contains("127.0.0.1:1"), "{s}");
    p.keys(&["q"]);
    p.wait_for(&["EXIT=0"]);
}

#[test]
fn follow_stream_hex_save_and_back() {
    if !have_tmux("follow_stream_hex_save_and_back") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cap =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/follow/captures/follow-crafted.pcap");
    let run = format!(
        "cd {} && {}",
        dir.path().display(),
        cmd(&format!("-r {}", cap.display()))
    );
    let p = Pane::start("follow", 120, 40, &run);
    p.wait_for(&["Flows · 9", "10.0.0.1:40000"]);
    p.keys(&["f"]);
    // Client and server data in order; the escape sequence and the bell are shown as text,
    // not sent to the terminal (which would have cleared the screen).
    let s = p.wait_for(&[
        "Follow TCP stream 0",
        "AAAA",
        "DDDD",
        "after the client FIN\\x1b[2J\\x07\\t\\x00end",
    ]);
    assert!(s.contains("Follow TCP stream 0 · ascii"), "{s}");
    p.keys(&["x"]);
    p.wait_for(&["· hex ·", "00000000  41 41 41 41", "pqrstuvw xyz{|}~."]);
    p.keys(&["w"]);
    p.wait_for(&["saved the stream to"]);
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read temp dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let text = std::fs::read_to_string(&saved[0]).expect("saved text");
    assert!(
        text.starts_with("\n===") && text.contains("Follow: tcp,hex\nFilter: tcp.stream eq 0\n"),
        "tshark's layout"
    );
    p.keys(&["Escape"]);
    p.wait_for(&["Flows · 9"]);
    p.keys(&["q"]);
    p.wait_for(&["EXIT=0"]);
}

#[test]
fn timeline_columns_time_reference_and_apply_as_filter() {
    if !have_tmux("timeline_columns_time_reference_and_apply_as_filter") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("HS_TUI_CONFIG_DIR={} {BIN} -r {HTTP}", dir.path().display());
    let p = Pane::start("more", 200, 60, &cmd);
    p.wait_for(&["Flows · 5"]);
    // The timeline, then a filter to its first buckets.
    p.keys(&["T"]);
    p.wait_for(&["timeline ·", "completed", "iRTT p50"]);
    p.keys(&["g", "Space", "Right", "Enter"]);
    p.wait_for(&["Filter: hs.start >= 0.000000 && hs.start <"]);
    p.keys(&["/", "C-u", "Enter"]);
    p.wait_for(&["Flows · 5 "]);
    // Columns: show the service column (fourth from the end, before sni, tls_version and
    // failure), then leave.
    p.keys(&["C"]);
    p.wait_for(&["flows columns", "[ ] service", "tls_version", "failure"]);
    p.keys(&["G", "k", "k", "k", "Space"]);
    p.wait_for(&["[x] service"]);
    p.keys(&["Escape"]);
    p.wait_for(&["Service"]);
    // Time reference on the third packet of the first flow.
    p.keys(&["Enter", "j", "j", "C-t"]);
    p.wait_for(&["*REF*", "Since ref"]);
    // Apply a details line as a filter: the source port of that packet.
    p.keys(&["Enter"]);
    p.wait_for(&["Details · frame"]);
    let s = p.wait_for(&["Source Port: "]);
    assert!(s.contains("[Stream index: 0]"), "{s}");
    p.keys(&["q"]);
    p.wait_for(&["EXIT=0"]);
    // The columns were remembered.
    let saved = std::fs::read_to_string(dir.path().join("tui.json")).unwrap();
    assert!(saved.contains("\"service\""), "{saved}");
}
