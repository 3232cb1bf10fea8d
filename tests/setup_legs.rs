//! Connection set-up legs (`hs.setup.*`) against an independent computation
//! from tshark 4.0.17's own per-frame fields (frame times, TCP flags, TLS
//! record and handshake types), following the README's definitions; and the
//! `-q` / `-z hs` tables on real TLS captures. Without tshark the comparison
//! is a reported skip.

mod common;

use common::{hs_tui, require_tool, tshark_cmd, tshark_fields_cmd};
use std::collections::BTreeMap;
use std::path::Path;

const HRR_RANDOM: &str = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c";

/// One frame as tshark dissects it.
struct Frame {
    ts: f64,
    stream: u32,
    src: String,
    syn: bool,
    ack: bool,
    rst: bool,
    len: u32,
    hs_types: Vec<u8>,
    /// Record content types in order; 23 for TLS 1.3 opaque records.
    records: Vec<(u8, bool)>,
    versions: Vec<u16>,
    hrr: bool,
}

fn list(s: &str) -> Vec<&str> {
    s.split(',').filter(|x| !x.is_empty()).collect()
}

fn tshark_frames(cap: &str) -> Vec<Frame> {
    let config = tempfile::tempdir().unwrap();
    let fields = [
        "frame.time_epoch",
        "tcp.stream",
        "ip.src",
        "ipv6.src",
        "tcp.srcport",
        "tcp.flags.syn",
        "tcp.flags.ack",
        "tcp.flags.reset",
        "tcp.len",
        "tls.handshake.type",
        "tls.record.content_type",
        "tls.record.opaque_type",
        "tls.handshake.extensions.supported_version",
        "tls.handshake.version",
        "tls.handshake.random",
    ];
    let mut cmd = tshark_fields_cmd(Path::new(cap), None, &fields, config.path());
    let out = tshark_cmd(&mut cmd);
    let mut frames = Vec::new();
    for line in out.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < fields.len() || c[1].is_empty() {
            continue;
        }
        // Content types and opaque types come as two lists; tshark lists a TLS 1.3
        // record's opaque type instead of a content type.
        let mut records: Vec<(u8, bool)> = list(c[10])
            .iter()
            .map(|x| (x.parse().unwrap(), false))
            .collect();
        records.extend(list(c[11]).iter().map(|_| (23u8, true)));
        let hs_types: Vec<u8> = list(c[9]).iter().filter_map(|x| x.parse().ok()).collect();
        let hex = |x: &&str| u16::from_str_radix(x.trim_start_matches("0x"), 16).ok();
        let mut versions: Vec<u16> = list(c[12]).iter().filter_map(hex).collect();
        versions.extend(list(c[13]).iter().filter_map(hex));
        frames.push(Frame {
            ts: c[0].parse().unwrap(),
            stream: c[1].parse().unwrap(),
            src: format!("{}{}:{}", c[2], c[3], c[4]),
            syn: c[5] == "1" || c[5] == "True",
            ack: c[6] == "1" || c[6] == "True",
            rst: c[7] == "1" || c[7] == "True",
            len: c[8].parse().unwrap_or(0),
            hs_types,
            records,
            versions,
            hrr: list(c[14]).contains(&HRR_RANDOM),
        });
    }
    frames
}

/// The legs of one stream from tshark's frames, by the README's definitions
/// (tcp, ch, sh, flight, tls, ttfb, total), in seconds.
fn legs(frames: &[&Frame]) -> [Option<f64>; 7] {
    let mut out = [None; 7];
    let Some(syn) = frames.iter().find(|f| f.syn && !f.ack) else {
        return out;
    };
    let client = syn.src.clone();
    let synack = frames
        .iter()
        .position(|f| f.syn && f.ack && f.src != client);
    let ack = synack.and_then(|i| {
        frames[i..]
            .iter()
            .find(|f| f.src == client && f.ack && !f.syn && !f.rst)
    });
    let d = |a: Option<f64>, b: Option<f64>| Some(b? - a?).filter(|x| *x >= 0.0);
    out[0] = d(Some(syn.ts), ack.map(|f| f.ts));
    let ch = frames.iter().position(|f| f.hs_types.contains(&1));
    let sh = frames
        .iter()
        .position(|f| f.hs_types.contains(&2) && !f.hrr && f.src != client);
    let Some(ch) = ch else { return out };
    out[1] = d(ack.map(|f| f.ts), Some(frames[ch].ts));
    let Some(sh) = sh else { return out };
    out[2] = d(Some(frames[ch].ts), Some(frames[sh].ts));
    let tls13 = frames[sh].versions.first() == Some(&0x0304);
    // The server's first flight: its frames with records until the client's next one.
    let mut flight = None;
    for f in &frames[sh..] {
        if f.records.is_empty() {
            continue;
        }
        if f.src == client {
            break;
        }
        flight = Some(f.ts);
    }
    out[3] = d(Some(frames[sh].ts), flight);
    // Finished of each side, and the first application data each way.
    let (mut fin, mut ccs) = ([None, None], [false, false]);
    let (mut cdata, mut sdata): (Option<(f64, usize)>, Option<f64>) = (None, None);
    for (i, f) in frames[sh..].iter().enumerate() {
        let side = usize::from(f.src != client);
        for &(ct, opaque) in &f.records {
            let appdata = if tls13 {
                if opaque && side == 0 && fin[0].is_none() {
                    fin[0] = Some(f.ts);
                    false
                } else {
                    opaque && (side == 1 || fin[0].is_some())
                }
            } else {
                match ct {
                    20 => {
                        ccs[side] = true;
                        false
                    }
                    22 if ccs[side] => {
                        fin[side].get_or_insert(f.ts);
                        false
                    }
                    23 => true,
                    _ => false,
                }
            };
            if appdata && side == 0 && cdata.is_none() {
                cdata = Some((f.ts, i));
            } else if appdata && side == 1 && sdata.is_none() {
                if let Some((_, ci)) = cdata.filter(|c| c.1 != i) {
                    let _ = ci;
                    sdata = Some(f.ts);
                }
            }
        }
    }
    let done = if tls13 {
        fin[0]
    } else {
        fin[0].zip(fin[1]).map(|(a, b)| a.max(b))
    };
    out[4] = d(Some(frames[ch].ts), done);
    out[5] = d(cdata.map(|c| c.0), sdata);
    out[6] = d(Some(syn.ts), sdata.filter(|_| out[5].is_some()));
    out
}

/// Plain TCP: the client's first payload byte to the server's first after it.
fn plain_ttfb(frames: &[&Frame]) -> Option<(f64, f64)> {
    let syn = frames.iter().find(|f| f.syn && !f.ack)?;
    let req = frames
        .iter()
        .position(|f| f.src == syn.src && f.len > 0 && !f.syn && !f.rst)?;
    let resp = frames[req..]
        .iter()
        .find(|f| f.src != syn.src && f.len > 0 && !f.syn && !f.rst)?;
    Some((resp.ts - frames[req].ts, resp.ts - syn.ts))
}

const NAMES: [&str; 7] = [
    "hs.setup.tcp",
    "hs.setup.ch",
    "hs.setup.sh",
    "hs.setup.flight",
    "hs.setup.tls",
    "hs.setup.ttfb",
    "hs.setup.total",
];

/// hs-tui's legs per stream, from the stream's last frame.
fn ours(cap: &str) -> BTreeMap<u32, Vec<Option<f64>>> {
    let mut args = vec!["-r", cap, "-T", "fields", "-e", "tcp.stream"];
    for n in NAMES {
        args.extend(["-e", n]);
    }
    let out = hs_tui(&args);
    assert_eq!(out.code, Some(0), "{cap}: {}", out.stderr);
    let mut m = BTreeMap::new();
    for line in out.stdout.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let Ok(s) = c[0].parse::<u32>() else { continue };
        m.insert(s, c[1..].iter().map(|x| x.parse::<f64>().ok()).collect());
    }
    m
}

#[test]
fn setup_legs_match_an_independent_computation_from_tshark() {
    const TEST: &str = "setup_legs_match_an_independent_computation_from_tshark";
    if !require_tool("tshark", TEST) {
        return;
    }
    let mut caps: Vec<String> = std::fs::read_dir("tests/conformance/tls/captures")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    caps.extend(
        [
            "sample-captures/http-get.pcap",
            "sample-captures/many-short.pcap",
            "tests/conformance/lo-http-curl.pcap",
        ]
        .map(String::from),
    );
    caps.sort();
    let (mut checked, mut bad) = (0, Vec::new());
    for cap in &caps {
        let frames = tshark_frames(cap);
        let ours = ours(cap);
        let mut by_stream: BTreeMap<u32, Vec<&Frame>> = BTreeMap::new();
        for f in &frames {
            by_stream.entry(f.stream).or_default().push(f);
        }
        for (s, fs) in &by_stream {
            // An SSLv2 ClientHello (no TLS record) leaves the stream plain TCP.
            let tls = fs
                .iter()
                .any(|f| f.hs_types.contains(&1) && !f.records.is_empty());
            let mut want = legs(fs);
            if !tls {
                want[1..5].fill(None);
                if let Some((ttfb, total)) = plain_ttfb(fs) {
                    want[5] = Some(ttfb);
                    want[6] = Some(total);
                }
            }
            let Some(got) = ours.get(s) else {
                bad.push(format!("{cap} stream {s}: not in hs-tui's output"));
                continue;
            };
            for (i, name) in NAMES.iter().enumerate() {
                let ok = match (want[i], got[i]) {
                    (Some(a), Some(b)) => (a - b).abs() < 2e-6,
                    (None, None) => true,
                    _ => false,
                };
                checked += want[i].is_some() as u32;
                if !ok {
                    bad.push(format!(
                        "{cap} stream {s} {name}: tshark-derived {:?}, hs-tui {:?}",
                        want[i], got[i]
                    ));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} legs compared");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn quiet_summary_and_z_hs_show_legs_sni_failures_and_reuse() {
    let cap = "tests/conformance/tls/captures/zeek-tls13draft16-ff52-aborted.pcap";
    let out = hs_tui(&["-r", cap, "-q", "-z", "hs", "-z", "hs,summary"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let s = &out.stdout;
    for want in [
        "Connection set-up (per stream, ms",
        "Set-up legs per server",
        "SNI    tls13.crypto.mozilla.org",
        "TLS alert protocol_version(70) from server",
        "Connection reuse (top 10 client -> server by connections):",
        "192.150.187.20",
    ] {
        assert!(s.contains(want), "missing {want:?} in:\n{s}");
    }
    // The per-stream row carries the failure words and the SNI.
    let row = s
        .lines()
        .find(|l| l.trim_start().starts_with("0 ") && l.contains("tls13.crypto.mozilla.org"))
        .unwrap_or_else(|| panic!("no stream 0 row:\n{s}"));
    assert!(
        row.contains("TLS alert protocol_version(70) from server"),
        "{row}"
    );

    let cap = "tests/conformance/tls/captures/lo-tls12-resume-id.pcap";
    let out = hs_tui(&["-r", cap, "-q", "-T", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON summary");
    let server = &v["servers"][0];
    assert_eq!(server["sni"][0]["name"], "resume.example");
    assert_eq!(server["sni"][0]["connections"], 2);
    for leg in ["tcp", "ch", "sh", "flight", "tls", "ttfb", "total"] {
        assert_eq!(server["setup_ms"][leg]["n"], 2, "{leg}: {server}");
    }
    assert_eq!(v["setup"]["reuse"][0]["connections"], 2);
    assert!(v["setup"]["failures"].as_array().unwrap().is_empty());
}

#[test]
fn failure_words_for_refused_unanswered_and_alerts() {
    let cases = [
        ("tests/conformance/lo-refused.pcap", "refused (RST to SYN)"),
        (
            "tests/conformance/lo-syn-unanswered.pcap",
            "SYN never answered",
        ),
        (
            "tests/conformance/tls/captures/zeek-tls13draft16-ff52-aborted.pcap",
            "TLS alert protocol_version(70) from server",
        ),
    ];
    for (cap, words) in cases {
        let out = hs_tui(&["-r", cap, "-q"]);
        assert!(
            out.stdout.contains(words),
            "{cap}: no {words:?} in\n{}",
            out.stdout
        );
    }
    // As a field, on the packets that show it, and usable in a filter.
    let cap = "tests/conformance/tls/captures/zeek-tls13draft16-ff52-aborted.pcap";
    let out = hs_tui(&[
        "-r",
        cap,
        "-Y",
        "hs.failure contains \"alert\"",
        "-T",
        "fields",
        "-e",
        "hs.failure",
    ]);
    assert!(
        out.stdout
            .lines()
            .next()
            .is_some_and(|l| l == "TLS alert protocol_version(70) from server"),
        "{}",
        out.stdout
    );
}

/// The reuse table of `-q -T json` on a recorded capture of 1,000 short TLS connections
/// from one client and kept-alive ones from another (`scripts/reuse-capture`), against
/// the same figures computed from tshark's frames: connections per client, lifetime
/// (first to last packet) median and max, and the share of lifetime spent from the
/// first SYN to the end of the TLS handshake.
#[test]
fn reuse_table_matches_tshark_on_a_recorded_capture() {
    const TEST: &str = "reuse_table_matches_tshark_on_a_recorded_capture";
    if !require_tool("tshark", TEST) {
        return;
    }
    let cap = "sample-captures/tls-reuse.pcapng";
    let frames = tshark_frames(cap);
    let mut by_stream: BTreeMap<u32, Vec<&Frame>> = BTreeMap::new();
    for f in &frames {
        by_stream.entry(f.stream).or_default().push(f);
    }
    // Client address -> (lifetimes, set-up sum, set-up lifetime sum).
    let mut want: BTreeMap<String, (Vec<f64>, f64, f64)> = BTreeMap::new();
    for fs in by_stream.values() {
        let Some(syn) = fs.iter().find(|f| f.syn && !f.ack) else {
            continue;
        };
        let life = fs.last().unwrap().ts - fs[0].ts;
        // `src` is address:port; the pair is by the client's address.
        let client = syn.src.rsplit_once(':').map_or(&*syn.src, |(a, _)| a);
        let e = want.entry(client.to_string()).or_default();
        e.0.push(life);
        let l = legs(fs);
        if let Some(tcp) = l[0] {
            let setup = match (l[1], l[4].or(l[2])) {
                (Some(ch), Some(tls)) => (tcp + ch + tls).max(tcp),
                _ => tcp,
            };
            e.1 += setup;
            e.2 += life.max(setup);
        }
    }
    let out = hs_tui(&["-r", cap, "-q", "-T", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON summary");
    let reuse = v["setup"]["reuse"].as_array().expect("reuse rows");
    assert_eq!(reuse.len(), want.len(), "{reuse:?}");
    for row in reuse {
        let client = row["client"].as_str().unwrap();
        let (lives, setup, setup_life) = want.get(client).unwrap_or_else(|| panic!("{client}"));
        let mut lives = lives.clone();
        lives.sort_by(f64::total_cmp);
        assert_eq!(row["connections"], lives.len(), "{client}");
        let median = lives[(lives.len() - 1) / 2];
        let max = lives[lives.len() - 1];
        assert!(
            (row["lifetime_s"]["p50"].as_f64().unwrap() - median).abs() < 2e-6,
            "{client}: {row}"
        );
        assert!(
            (row["lifetime_s"]["max"].as_f64().unwrap() - max).abs() < 2e-6,
            "{client}: {row}"
        );
        let share = 100.0 * setup / setup_life;
        assert!(
            (row["setup_percent"].as_f64().unwrap() - share).abs() < 0.01,
            "{client}: {row} vs {share}"
        );
    }
    // What the sample is for: the short connections spend most of their life in set-up.
    assert!(reuse[0]["connections"].as_u64().unwrap() >= 1000);
    assert!(reuse[0]["setup_percent"].as_f64().unwrap() > 40.0);
    assert!(reuse[1]["setup_percent"].as_f64().unwrap() < 10.0);
}

/// `-q` over several captures counts the TLS legs and SNIs too: the TLS server's block of
/// the merged summary is the one a single capture's `-q` prints.
#[test]
fn several_captures_keep_the_tls_legs() {
    let tls = "tests/conformance/tls/captures/lo-tls12-resume-id.pcap";
    let one = hs_tui(&["-r", tls, "-q"]);
    assert_eq!(one.code, Some(0), "{}", one.stderr);
    let both = hs_tui(&["-r", tls, "-r", "sample-captures/http-get.pcap", "-q"]);
    assert_eq!(both.code, Some(0), "{}", both.stderr);
    let block = |s: &str| -> Vec<String> {
        s.lines()
            .skip_while(|l| !l.contains("127.0.0.1:443") || !l.contains(" tcp "))
            .take_while(|l| !l.contains("SNI"))
            .map(String::from)
            .collect()
    };
    let want = block(&one.stdout);
    assert!(want.len() >= 6, "legs of the TLS server:\n{}", one.stdout);
    assert!(want.iter().any(|l| l.contains(" tls ")), "{want:?}");
    assert_eq!(block(&both.stdout), want, "{}", both.stdout);
    assert!(
        both.stdout.contains("SNI    resume.example"),
        "{}",
        both.stdout
    );
}
