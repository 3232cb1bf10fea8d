//! `-q -z expert` against tshark 4.0.17's expert summary, restricted to the TCP
//! dissector's lines (`scripts/expert-expected` made `tests/conformance/expert/`),
//! on every capture of the corpus, the TLS corpus and `sample-captures/`.

mod common;

use common::{captures_in, corpus_dir, hs_tui, require_tool};
use std::path::{Path, PathBuf};

fn all_captures() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        corpus_dir(),
        corpus_dir().join("tls/captures"),
        root.join("sample-captures"),
    ];
    dirs.iter()
        .flat_map(|d| captures_in(d))
        .map(|(p, _, stem)| (p, stem))
        .collect()
}

#[test]
fn expert_summary_equals_tshark_on_every_capture() {
    let expected = corpus_dir().join("expert");
    let (mut same, mut compared, mut diffs) = (0, 0, Vec::new());
    for (cap, stem) in all_captures() {
        let Ok(want) = std::fs::read_to_string(expected.join(format!("{stem}.txt"))) else {
            continue;
        };
        compared += 1;
        let out = hs_tui(&["-r", cap.to_str().unwrap(), "-q", "-z", "expert"]);
        if out.stdout == want {
            same += 1;
        } else {
            let first = want
                .lines()
                .zip(out.stdout.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("tshark {a:?} / hs-tui {b:?}"))
                .unwrap_or_else(|| "lengths differ".into());
            diffs.push(format!("{stem}: {first}"));
        }
    }
    assert!(
        compared >= 70,
        "only {compared} captures have an expected expert summary"
    );
    assert!(
        diffs.is_empty(),
        "{same}/{compared} identical; differing: {diffs:#?}"
    );
}

#[test]
fn expert_level_and_filter_narrow_the_summary() {
    let cap = corpus_dir().join("lo-tshark-http.pcapng");
    let cap = cap.to_str().unwrap();
    let all = hs_tui(&["-r", cap, "-q", "-z", "expert"]).stdout;
    assert!(
        all.contains("\nNotes (") && all.contains("\nChats ("),
        "{all}"
    );
    let warn = hs_tui(&["-r", cap, "-q", "-z", "expert,warn"]).stdout;
    assert!(
        !warn.contains("Notes (") && !warn.contains("Chats ("),
        "{warn}"
    );
    let none = hs_tui(&["-r", cap, "-q", "-z", "expert,note,tcp.port == 1"]);
    assert_eq!((none.code, none.stdout.as_str()), (Some(0), ""));
    let bad = hs_tui(&["-r", cap, "-q", "-z", "expert,tcp.port =="]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("Expert tap error"), "{}", bad.stderr);
}

/// Each summary line leads to its packets: its filter selects exactly as many
/// packets as the line counts.
#[test]
fn each_expert_line_filter_selects_its_packets() {
    let cap = corpus_dir().join("lo-tshark-http.pcapng");
    let cap = cap.to_str().unwrap();
    let checks = [
        ("tcp.connection.rst", "Connection reset (RST)"),
        ("tcp.connection.fin", "Connection finish (FIN)"),
        (
            "tcp.connection.fin_active",
            "This frame initiates the connection closing",
        ),
        (
            "tcp.connection.fin_passive",
            "This frame undergoes the connection closing",
        ),
        (
            "tcp.connection.syn && tcp.dstport == 18210",
            "Connection establish request (SYN): server port 18210",
        ),
        (
            "tcp.connection.synack && tcp.srcport == 18210",
            "Connection establish acknowledge (SYN+ACK): server port 18210",
        ),
    ];
    let all = hs_tui(&["-r", cap, "-q", "-z", "expert"]).stdout;
    for (filter, summary) in checks {
        let count: usize = all
            .lines()
            .find(|l| l.ends_with(summary))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        let rows = hs_tui(&[
            "-r",
            cap,
            "-Y",
            filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ]);
        assert!(count > 0, "{summary} missing from {all}");
        assert_eq!(rows.stdout.lines().count(), count, "{filter}");
    }
}

/// The stored answers are tshark's: regenerate a few with the real tshark.
#[test]
fn stored_expert_answers_are_tsharks() {
    if !require_tool("tshark", "stored_expert_answers_are_tsharks") {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/expert-expected");
    for stem in [
        "ppa-tcp_retransmissions",
        "lo-keepalive",
        "zeek-tcp-truncated-header",
    ] {
        let (cap, _) = all_captures().into_iter().find(|(_, s)| s == stem).unwrap();
        let out = std::process::Command::new(&script)
            .arg("--stdout")
            .arg(&cap)
            .output()
            .expect("run scripts/expert-expected");
        let stored =
            std::fs::read_to_string(corpus_dir().join(format!("expert/{stem}.txt"))).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), stored, "{stem}");
    }
}
