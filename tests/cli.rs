//! The real binary on the bundled sample captures: formats, options, and
//! every kind of bad input ending in one line and a non-zero status.

mod common;

use common::{bin, corpus_dir, hs_tui, require_tool, sample, tshark_cmd};
use std::io::Read;
use std::process::{Command, Stdio};

fn s(p: std::path::PathBuf) -> String {
    p.display().to_string()
}

#[test]
fn text_lines_follow_tshark_and_name_the_handshake_step() {
    let out = hs_tui(&["-r", &s(sample("http-get.pcap"))]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let first: Vec<&str> = out.stdout.lines().take(3).collect();
    assert!(
        first[0].contains("127.0.0.1 → 127.0.0.1    TCP 74")
            && first[0].contains("[SYN] Seq=0 Win=65495 Len=0 MSS=65495"),
        "{}",
        first[0]
    );
    assert!(first[0].ends_with("[stream 0: syn 1/3]"), "{}", first[0]);
    assert!(
        first[1].contains("[SYN, ACK] Seq=0 Ack=1")
            && first[1].ends_with("[stream 0: syn-ack 2/3]")
    );
    assert!(
        first[2].contains("[ACK] Seq=1 Ack=1")
            && first[2].ends_with("[stream 0: handshake-ack 3/3]")
    );
}

#[test]
fn refused_connection_is_named() {
    let out = hs_tui(&["-r", &s(sample("refused.pcap"))]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[1].contains("[RST, ACK] Seq=1 Ack=1 Win=0 Len=0")
            && lines[1].ends_with("[stream 0: rst, refused]"),
        "{}",
        lines[1]
    );
    let out = hs_tui(&[
        "-r",
        &s(sample("refused.pcap")),
        "-T",
        "fields",
        "-e",
        "hs.state",
        "-e",
        "hs.conn_state",
        "-e",
        "tcp.completeness",
    ]);
    assert_eq!(out.stdout.lines().nth(1), Some("refused\tREJ\t1"));
}

#[test]
fn fields_options_header_separator_occurrence_quote() {
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "tcp.port",
        "-E",
        "header=y",
        "-E",
        "separator=,",
        "-E",
        "occurrence=l",
        "-E",
        "quote=d",
        "-c",
        "2",
    ]);
    // tshark 4.0.17's answer, with the same options.
    assert_eq!(
        out.stdout,
        "frame.number,tcp.port\n\"1\",\"18080\"\n\"2\",\"40374\"\n"
    );
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "fields",
        "-e",
        "tcp.port",
        "-E",
        "aggregator=/s",
        "-c",
        "1",
    ]);
    assert!(out.stdout.trim_end().ends_with(" 18080"), "{}", out.stdout);
}

/// tshark quotes a multi-valued field as a whole (`"a,b"`), and leaves an absent one bare.
#[test]
fn quote_wraps_the_whole_field() {
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "udp.port",
        "-e",
        "tcp.port",
        "-e",
        "ip.addr",
        "-E",
        "quote=d",
        "-c",
        "2",
    ]);
    // tshark 4.0.17's answer, with the same options.
    assert_eq!(
        out.stdout,
        "\"1\"\t\t\"40374,18080\"\t\"127.0.0.1,127.0.0.1\"\n\
         \"2\"\t\t\"18080,40374\"\t\"127.0.0.1,127.0.0.1\"\n"
    );
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "fields",
        "-e",
        "tcp.port",
        "-E",
        "quote=s",
        "-E",
        "aggregator=/s",
        "-c",
        "1",
    ]);
    assert_eq!(out.stdout, "'40374 18080'\n");
}

/// The text output's time column has the capture's precision: 9 decimals for
/// nanosecond captures (pcap and pcapng), 6 otherwise, as tshark prints it.
#[test]
fn time_column_has_the_capture_precision() {
    let nano = corpus_dir().join("tcpdump-tcp-handshake-nano.pcap");
    let out = hs_tui(&["-r", &s(nano)]);
    let times: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(times, ["0.000000000", "0.127521774", "0.127609669"]);
    if !require_tool("tshark", "time_column_has_the_capture_precision") {
        return;
    }
    for (path, name, _) in common::captures_in(&corpus_dir()) {
        if name == "lo-not-a-capture.pcap"
            || name == "zeek-empty.pcap"
            || name == "lo-http-cut.pcap"
        {
            continue;
        }
        let col = |text: &str| -> Vec<String> {
            text.lines()
                .take(50)
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
                .collect()
        };
        let ours = hs_tui(&["-n", "-c", "50", "-r", &s(path.clone())]);
        let theirs = tshark_cmd(
            Command::new("tshark")
                .args(["-n", "-c", "50", "-r", &s(path.clone())])
                .env("LC_ALL", "C.UTF-8"),
        );
        assert_eq!(col(&ours.stdout), col(&theirs), "{name}");
    }
}

#[test]
fn count_stops_early() {
    let out = hs_tui(&["-r", &s(sample("many-short.pcap")), "-c", "7"]);
    assert_eq!(out.stdout.lines().count(), 7);
}

#[test]
fn standard_input_reads_like_a_file() {
    let data = std::fs::read(sample("http-get.pcap")).unwrap();
    let mut child = Command::new(bin())
        .args(["-r", "-", "-T", "fields", "-e", "tcp.stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let from_file = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "fields",
        "-e",
        "tcp.stream",
    ])
    .stdout;
    assert_eq!(text, from_file);
}

#[test]
fn write_then_read_back_gives_the_same_packets() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("copy.pcap");
    let out = hs_tui(&[
        "-r",
        &s(sample("many-short.pcap")),
        "-q",
        "-w",
        &s(out_file.clone()),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let a = hs_tui(&[
        "-r",
        &s(sample("many-short.pcap")),
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.seq",
    ]);
    let b = hs_tui(&[
        "-r",
        &s(out_file),
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.seq",
    ]);
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stdout.lines().count() > 400);
}

#[test]
fn json_ek_and_ndjson_are_valid_json() {
    let out = hs_tui(&["-r", &s(sample("http-get.pcap")), "-T", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    let packets = v.as_array().unwrap();
    assert_eq!(
        packets.len(),
        hs_tui(&["-r", &s(sample("http-get.pcap"))])
            .stdout
            .lines()
            .count()
    );
    assert_eq!(
        packets[1]["_source"]["layers"]["tcp"]["tcp.flags"],
        "0x0012"
    );
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "json",
        "-e",
        "tcp.stream",
        "-e",
        "ip.addr",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v[0]["_source"]["layers"]["ip.addr"],
        serde_json::json!(["127.0.0.1", "127.0.0.1"])
    );
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "ek",
        "-e",
        "tcp.stream",
    ]);
    for l in out.stdout.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("each ek line is JSON");
    }
    let out = hs_tui(&["-r", &s(sample("http-get.pcap")), "-T", "ndjson"]);
    let first: serde_json::Value =
        serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["tcp.stream"], 0);
    assert_eq!(first["hs.phase"], "syn");
}

#[test]
fn conv_tcp_matches_tshark_byte_for_byte() {
    let mut files = vec![
        sample("http-get.pcap"),
        sample("many-short.pcap"),
        sample("refused.pcap"),
    ];
    let d = corpus_dir();
    files.extend(
        [
            "zeek-smtp.pcap",
            "lo-parallel-50.pcap",
            "zeek-tcp-rst-inject.pcap",
            "zeek-wikipedia.pcap",
            // Frame 1's options are cut by the snaplen: tshark's TCP tap never sees it.
            "zeek-tcp-truncated-header.pcap",
        ]
        .map(|f| d.join(f)),
    );
    if !require_tool("tshark", "conv_tcp_matches_tshark_byte_for_byte") {
        return;
    }
    // With a filter, only the matching packets count: the side shown first is the source
    // of a conversation's first matching packet, its start and duration theirs.
    let zs = [
        "conv,tcp",
        "conv,tcp,tcp.len>0",
        "conv,tcp,tcp.srcport==18080 or tcp.srcport==25",
        "conv,tcp,frame.number>20",
        "conv,tcp,tcp.flags.syn==1",
        "conv,tcp,tcp.analysis.flags",
    ];
    for f in files {
        for z in zs {
            let ours = hs_tui(&["-n", "-q", "-r", &s(f.clone()), "-z", z]);
            assert_eq!(ours.code, Some(0), "{}", ours.stderr);
            let theirs = tshark_cmd(
                Command::new("tshark")
                    .args(["-n", "-q", "-r", &s(f.clone()), "-z", z])
                    .env("LC_ALL", "C.UTF-8"),
            );
            assert_eq!(ours.stdout, theirs, "{} -z {z}", f.display());
        }
    }
}

/// tshark refuses a conversation filter that does not compile; so does hs-tui, before
/// reading anything.
#[test]
fn conv_tcp_rejects_a_bad_filter() {
    for f in ["tcp.flgs", "tcp.port ==", "foo"] {
        let out = hs_tui(&[
            "-q",
            "-r",
            &s(sample("http-get.pcap")),
            "-z",
            &format!("conv,tcp,{f}"),
        ]);
        assert_eq!(out.code, Some(2), "{f}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(
            out.stderr.contains(&format!("Filter \"{f}\" is invalid")),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn handshake_report_and_summary() {
    let out = hs_tui(&["-q", "-r", &s(sample("reset.pcap")), "-z", "hs"]);
    assert!(out.stdout.contains("TCP Handshakes (per stream)"));
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.contains("reset") && l.contains("127.0.0.1:18091"))
            .count(),
        2,
        "{}",
        out.stdout
    );
    let out = hs_tui(&["-q", "-r", &s(sample("refused.pcap"))]);
    assert!(out.stdout.contains("TCP Handshake Summary"));
    assert!(
        out.stdout.contains("refused                 2"),
        "{}",
        out.stdout
    );
}

#[test]
fn closed_pipe_ends_quietly_with_success() {
    let d = corpus_dir();
    let mut child = Command::new(bin())
        .args([
            "-r",
            &s(d.join("stopddos-syn-ecn-cwr-flood.pcapng")),
            "-T",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 1000];
    child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_input_gets_one_line_and_status_2() {
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["-r".into(), "/nonexistent/x.pcap".into()],
            "no such file",
        ),
        // A directory is read as several captures (issue #11); one without any is an error.
        (
            vec![
                "-r".into(),
                concat!(env!("CARGO_MANIFEST_DIR"), "/src").into(),
            ],
            "no capture (*.pcap, *.pcapng, *.cap) in the directory",
        ),
        (vec![], "nothing to read"),
        (
            vec![
                "-r".into(),
                s(sample("http-get.pcap")),
                "-T".into(),
                "fields".into(),
                "-e".into(),
                "tcp.flgs".into(),
            ],
            "did you mean 'tcp.flags'",
        ),
        (
            vec![
                "-r".into(),
                s(sample("http-get.pcap")),
                "-T".into(),
                "fields".into(),
            ],
            "needs at least one -e",
        ),
        (
            vec![
                "-r".into(),
                s(sample("http-get.pcap")),
                "-E".into(),
                "bogus=1".into(),
            ],
            "invalid -E option",
        ),
        (
            vec![
                "-r".into(),
                s(sample("http-get.pcap")),
                "-z".into(),
                "io,stat,1".into(),
            ],
            "invalid -z argument",
        ),
        (
            vec![
                "-r".into(),
                s(sample("http-get.pcap")),
                "port".into(),
                "80".into(),
            ],
            "live capture only",
        ),
        (
            vec!["-i".into(), "no-such-if0".into()],
            "no such interface 'no-such-if0'; available interfaces:",
        ),
    ];
    for (args, needle) in cases {
        let out = hs_tui(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim_end().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"));
    }
    // An empty file and a garbage file.
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.pcap", &b""[..]),
        ("junk.pcap", &b"\xd4\xc3\xb2\xa1junk"[..]),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = hs_tui(&["-r", &s(p)]);
        assert_eq!(out.code, Some(2), "{name}");
        assert!(
            out.stderr.starts_with("hs-tui: ") && out.stderr.trim_end().lines().count() == 1,
            "{name}: {}",
            out.stderr
        );
    }
}

#[test]
fn list_fields_covers_the_registry() {
    let out = hs_tui(&["--list-fields"]);
    for f in [
        "tcp.stream\t",
        "tcp.analysis.initial_rtt\t",
        "hs.state\t",
        "hs.conn_state\t",
        "_ws.col.Info\t",
    ] {
        assert!(out.stdout.contains(f), "{f}");
    }
}

#[test]
fn negotiated_options_per_side() {
    let out = hs_tui(&[
        "-r",
        &s(sample("http-get.pcap")),
        "-T",
        "fields",
        "-c",
        "3",
        "-e",
        "hs.mss.client",
        "-e",
        "hs.mss.server",
        "-e",
        "hs.wscale.client",
        "-e",
        "hs.wscale.server",
        "-e",
        "hs.sack_permitted",
        "-e",
        "hs.timestamps",
    ]);
    let rows: Vec<&str> = out.stdout.lines().collect();
    // After the SYN only the client's side is known; after the SYN-ACK both are.
    assert_eq!(rows[0], "65495\t\t10\t\t\t");
    assert_eq!(rows[2], "65495\t65495\t10\t10\t1\t1");
}

#[test]
fn hs_io_counts_every_handshake_once_per_interval() {
    let cap = common::sample("many-short.pcap");
    let cap = cap.to_str().unwrap();
    let out = common::hs_tui(&["-r", cap, "-q", "-z", "hs,io,0.02"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .filter(|l| l.contains(" <> "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.len() >= 5, "{}", out.stdout);
    assert_eq!(rows[0][0], "0.000");
    assert_eq!(rows[1][0], "0.020");
    let opened: u64 = rows.iter().map(|r| r[3].parse::<u64>().unwrap()).sum();
    let completed: u64 = rows.iter().map(|r| r[4].parse::<u64>().unwrap()).sum();
    assert_eq!((opened, completed), (40, 40));
    let bad = common::hs_tui(&["-r", cap, "-q", "-z", "hs,io,0"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("interval"), "{}", bad.stderr);
}

/// A fuzzed capture whose damaged IPv6 extension chain once made etherparse's
/// extension iterator read past its slice (an abort in debug builds).
#[test]
fn a_damaged_ipv6_extension_chain_is_an_error_not_a_crash() {
    let cap = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-ipv6-ext-overrun-cut.pcap");
    let out = hs_tui(&[
        "-r",
        cap.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "ip.addr",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("read error after 2 packets"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}
