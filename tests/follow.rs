//! `-z follow,...` against tshark 4.0.17, byte for byte. The answers are stored
//! in `tests/follow/expected/` (see `tests/follow/README.md` for how they were
//! made), so a clone without tshark still checks itself; with tshark installed
//! a few are also regenerated live.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (capture, -z argument, expected file) from `cases.tsv`.
fn cases() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(root().join("tests/follow/cases.tsv")).expect("cases.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut it = l.split('\t');
            Some((
                it.next()?.to_string(),
                it.next()?.to_string(),
                it.next()?.to_string(),
            ))
        })
        .collect()
}

fn run_hs(cap: &Path, z: &str) -> Vec<u8> {
    let out = Command::new(common::bin())
        .args(["-n", "-q", "-r"])
        .arg(cap)
        .args(["-z", z])
        .stdin(Stdio::null())
        .output()
        .expect("run hs-tui");
    out.stdout
}

/// The first line where two outputs part, for a short failure message.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let (w, g) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
    for (i, (a, b)) in w.lines().zip(g.lines()).enumerate() {
        if a != b {
            let cut = |s: &str| s.chars().take(100).collect::<String>();
            return format!("line {}: tshark {:?} / hs-tui {:?}", i + 1, cut(a), cut(b));
        }
    }
    format!(
        "{} lines from tshark, {} from hs-tui",
        w.lines().count(),
        g.lines().count()
    )
}

#[test]
fn follow_matches_stored_tshark_output() {
    let cases = cases();
    assert!(cases.len() > 300, "cases.tsv lists {} cases", cases.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for (cap, z, expected) in &cases {
        let want_path = root().join("tests/follow/expected").join(expected);
        // Answers over the size limit of regen.sh are not stored.
        let Ok(want) = std::fs::read(&want_path) else {
            continue;
        };
        compared += 1;
        let got = run_hs(&root().join(cap), z);
        if got != want {
            failures.push(format!("{cap} -z {z}: {}", first_difference(&want, &got)));
        }
    }
    eprintln!(
        "follow: {} of {compared} (capture, stream, mode) cases byte-identical to tshark",
        compared - failures.len()
    );
    assert!(compared > 300, "only {compared} stored answers");
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn follow_matches_live_tshark() {
    if !common::require_tool("tshark", "follow_matches_live_tshark") {
        return;
    }
    let cfg = tempfile::tempdir().expect("temp dir");
    let crafted = root().join("tests/follow/captures/follow-crafted.pcap");
    let v6 = root().join("tests/conformance/lo-ipv6-http.pcap");
    let checks: [(&Path, &str); 4] = [
        (&crafted, "follow,tcp,ascii,6"),
        (&crafted, "follow,tcp,hex,0"),
        (&crafted, "follow,tcp,raw,10.0.0.1:40007,10.0.0.2:80"),
        (&v6, "follow,tcp,hex,[::1]:18110,[::1]:49172"),
    ];
    for (cap, z) in checks {
        let want = common::tshark_cmd(
            Command::new("tshark")
                .env("WIRESHARK_CONFIG_DIR", cfg.path())
                .env("LC_ALL", "C")
                .args(["-n", "-q", "-r"])
                .arg(cap)
                .args(["-z", z]),
        );
        let got = run_hs(cap, z);
        assert!(
            got == want.as_bytes(),
            "{} -z {z}: {}",
            cap.display(),
            first_difference(want.as_bytes(), &got)
        );
    }
}

#[test]
fn several_follows_print_in_reverse_order_as_tshark() {
    let cap = root().join("tests/conformance/lo-http-curl.pcap");
    let out = Command::new(common::bin())
        .args(["-n", "-q", "-r"])
        .arg(&cap)
        .args([
            "-z",
            "follow,tcp,raw,0",
            "-z",
            "conv,tcp",
            "-z",
            "follow,tls,hex,1",
        ])
        .output()
        .expect("run hs-tui");
    let text = String::from_utf8_lossy(&out.stdout);
    let tls = text.find("Follow: tls,hex").expect("tls follow");
    let conv = text.find("TCP Conversations").expect("conv");
    let tcp = text.find("Follow: tcp,raw").expect("tcp follow");
    assert!(tls < conv && conv < tcp, "order: {tls} {conv} {tcp}");
    assert!(
        !text.contains("Handshake Summary"),
        "-q with -z follow prints no summary"
    );
}

#[test]
fn bad_follow_arguments_are_errors() {
    for z in [
        "follow,tcp,ascii",
        "follow,tcp,utf-8,0",
        "follow,tcp,ascii,0,0",
        "follow,tcp,ascii,1.2.3.4:80,[::1]:80",
    ] {
        let out = common::hs_tui(&["-q", "-r", "sample-captures/http-get.pcap", "-z", z]);
        assert_eq!(out.code, Some(2), "{z}: {}", out.stderr);
        assert!(out.stderr.contains("follow - "), "{z}: {}", out.stderr);
    }
}
