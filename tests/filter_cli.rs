//! `-Y` and `--list-filters` as a user meets them: the real binary, its exit
//! status, its standard error.

use std::path::PathBuf;
use std::process::{Command, Output};

fn hs_tui(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hs-tui"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run hs-tui")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_bad_filter_exits_2_before_reading_any_packet() {
    // The capture does not exist: the filter error must come first.
    let o = hs_tui(
        &["-r", "/nonexistent/capture.pcap", "-Y", "tcp.flgs == 1"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "hs-tui: Left side of \"==\" expression must be a field or function, not tcp.flgs.\n    tcp.flgs == 1\n    ^~~~~~~~\n    did you mean 'tcp.flags'?\n"
    );
    assert!(o.stdout.is_empty());

    let o = hs_tui(&["-r", "/nonexistent/capture.pcap", "-Y", "tcp and"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "hs-tui: Unexpected end of filter expression.\n");

    let o = hs_tui(
        &["-r", "/nonexistent/capture.pcap", "-Y", "@no-such-preset"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no display filter preset named 'no-such-preset'"));
}

#[test]
fn presets_list_and_override() {
    let o = hs_tui(&["--list-filters"], &[]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for name in [
        "handshakes-only",
        "failed-handshakes",
        "resets",
        "slow-handshakes",
        "retransmissions",
        "host-only-tcp",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{name}\t"))),
            "{name} missing from:\n{out}"
        );
    }

    // $HS_TUI_FILTERS comes first: its presets add to and override the shipped ones.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("presets.txt"),
        "# mine\nresets: tcp.flags.fin == 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("more.txt"),
        "# extra\nweb: tcp.port in {80, 443}\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let o = hs_tui(&["--list-filters"], &[("HS_TUI_FILTERS", d)]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.lines()
            .any(|l| l.starts_with("resets\ttcp.flags.fin == 1\tmine\t")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("web\ttcp.port in {80, 443}\textra\t")),
        "{out}"
    );
    assert_eq!(out.lines().filter(|l| l.starts_with("resets\t")).count(), 1);

    // And they are usable, selecting what their expressions select (frame numbers from
    // `tshark -Y 'tcp.port in {80, 443}'` and `tshark -Y 'tcp.flags.fin == 1'`).
    let frames = |cap: &str, preset: &str| {
        let cap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(cap);
        let o = hs_tui(
            &[
                "-r",
                cap.to_str().unwrap(),
                "-Y",
                preset,
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
            &[("HS_TUI_FILTERS", d)],
        );
        assert!(o.status.success(), "{preset}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        frames("tests/conformance/esnet-nmap-80-vanilla.pcap", "@web"),
        "1 2 3 4 5 6 7 8 9 10 11"
    );
    assert_eq!(frames("sample-captures/http-get.pcap", "@web"), "");
    assert_eq!(
        frames("sample-captures/http-get.pcap", "@resets"),
        "10 11 22 23 35 36"
    );
}

#[test]
fn filter_selects_and_writes_only_matching_packets() {
    let cap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/lo-http-curl.pcap");
    let cap = cap.to_str().unwrap();
    let o = hs_tui(
        &[
            "-r",
            cap,
            "-Y",
            "tcp.flags.syn == 1 and tcp.flags.ack == 0",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1\n13\n25\n");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("syn.pcap");
    let o = hs_tui(
        &[
            "-r",
            cap,
            "-Y",
            "@handshakes-only",
            "-q",
            "-w",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = hs_tui(
        &[
            "-r",
            out.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "tcp.flags",
        ],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "0x0002\n0x0012\n0x0002\n0x0012\n0x0002\n0x0012\n"
    );
}

/// 20,000-term `and`/`or` chains from the command line (they overflowed the stack,
/// SIGABRT, at 2,396 terms): no signal, and the same frames as the short form. Written
/// with `&&`/`||` to stay under the kernel's 128 KiB limit for one argument.
#[test]
fn very_long_filter_chains_run() {
    let cap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-captures/http-get.pcap");
    let cap = cap.to_str().unwrap();
    let frames = |filter: &str| {
        let o = hs_tui(
            &[
                "-r",
                cap,
                "-Y",
                filter,
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let n = 20_000;
    let and = format!("{}&&tcp.len>0", vec!["!udp"; n - 1].join("&&"));
    let or = format!("{}||tcp.flags==0x012", vec!["udp"; n - 1].join("||"));
    // a && b || c && d || ...: 20,000 terms.
    let mixed = format!("{}||tcp.len>0&&tcp", vec!["udp&&tcp"; n / 2 - 1].join("||"));
    for (long, short) in [
        (&and, "tcp.len>0"),
        (&or, "tcp.flags==0x012"),
        (&mixed, "tcp.len>0"),
    ] {
        assert!(long.len() < 128 * 1024);
        let want = frames(short);
        assert!(!want.is_empty());
        assert_eq!(frames(long), want, "{short}");
    }
    // Deep nesting is a clean error (exit 2), not a crash.
    let deep = format!("{}tcp{}", "(".repeat(10_000), ")".repeat(10_000));
    let o = hs_tui(&["-r", cap, "-Y", &deep], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nested too deeply"), "{}", stderr(&o));
}

/// An unknown 100 kB field name is an error at once, with no "did you mean" (the
/// suggestion search was quadratic in the name's length: 0.8 s). The bound itself is
/// tested without a clock in filter::compile::tests::suggestions_are_bounded.
#[test]
fn a_huge_unknown_name_is_an_error() {
    let name = format!("tcp.{}", "x".repeat(100_000));
    let o = hs_tui(&["-r", "/nonexistent.pcap", "-Y", &name], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("is neither a field nor a protocol name"),
        "{}",
        &err[..200]
    );
    assert!(!err.contains("did you mean"));
    let o = hs_tui(&["-r", "/nonexistent.pcap", "-e", &name], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown field"));
}
