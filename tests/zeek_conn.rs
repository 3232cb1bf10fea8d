//! `-z conn,zeek` against the conn.log Zeek itself wrote for 14 traces of its
//! btest suite (`tests/conformance/zeek-conn/`, see its README). Rows are
//! matched on (id.orig_h, id.orig_p, id.resp_h, id.resp_p, proto), in order
//! (Zeek's baselines mask ts and uid). A TCP row is exact when conn_state,
//! history, packets, bytes, missed bytes and IP bytes agree and the duration
//! is within 1 ms. Prints per-trace agreement; fails below 95% exact rows or
//! 99% conn_state/history of matched rows. Also checks the TSV header and
//! `#close`, and the JSON form.

mod common;

use common::hs_tui;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Zeek test name, trace, and whether Zeek ran with `-C` (checksums ignored).
const TESTS: &[(&str, &str, bool)] = &[
    ("core.cisco-fabric-path", "cisco-fabric-path.pcap", false),
    ("core.history-flip", "tcp_missing-syn.pcap", true),
    ("core.mpls-in-vlan", "mpls-in-vlan.pcap", true),
    ("core.pppoe-over-qinq", "pppoe-over-qinq.pcap", false),
    ("core.tcp-padding", "tcp-http-with-padding.pcap", true),
    ("opt.basic", "wikipedia.pcap", false),
    (
        "scripts.base.protocols.ftp.cwd-navigation",
        "ftp_cwd-navigation.pcap",
        false,
    ),
    (
        "scripts.base.protocols.ftp.ftp-ipv4",
        "ftp_ipv4.pcap",
        false,
    ),
    (
        "scripts.base.protocols.http.concurrent-range-requests",
        "http_concurrent-range-requests.pcap",
        false,
    ),
    (
        "scripts.base.protocols.irc.starttls",
        "tls_irc-starttls.pcap",
        true,
    ),
    (
        "scripts.base.protocols.ldap.basic",
        "ldap_simpleauth.pcap",
        true,
    ),
    ("scripts.base.protocols.pop3.basic", "pop3_pop3.pcap", false),
    ("scripts.base.protocols.ssh.basic", "ssh_ssh.pcap", false),
    (
        "scripts.base.protocols.ssh.half-duplex-client",
        "ssh_ssh.client-side-half-duplex.pcap",
        false,
    ),
];

const KEY: &[&str] = &["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"];
const COMPARED: &[&str] = &[
    "conn_state",
    "history",
    "orig_pkts",
    "resp_pkts",
    "orig_bytes",
    "resp_bytes",
    "missed_bytes",
    "orig_ip_bytes",
    "resp_ip_bytes",
];

type Row = HashMap<String, String>;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/zeek-conn")
}

/// The rows of a Zeek TSV log, by the names of its `#fields` line.
fn parse(text: &str) -> Vec<Row> {
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !line.starts_with('#') && !line.is_empty() && !fields.is_empty() {
            rows.push(
                fields
                    .iter()
                    .cloned()
                    .zip(line.split('\t').map(str::to_string))
                    .collect(),
            );
        }
    }
    rows
}

fn get<'a>(r: &'a Row, k: &str) -> &'a str {
    r.get(k).map(String::as_str).unwrap_or("-")
}

/// The compared fields that differ.
fn differs(b: &Row, o: &Row) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = COMPARED
        .iter()
        .copied()
        .filter(|f| get(b, f) != get(o, f))
        .collect();
    let (bd, od) = (get(b, "duration"), get(o, "duration"));
    let close = match (bd.parse::<f64>(), od.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 0.001,
        _ => bd == od,
    };
    if !close {
        out.push("duration");
    }
    out
}

fn conn_log(trace: &Path, no_checksums: bool, form: &str) -> String {
    let mut args = vec![
        "-r".to_string(),
        trace.display().to_string(),
        "-q".into(),
        "-z".into(),
        form.into(),
    ];
    if !no_checksums {
        // Zeek without -C drops packets with bad checksums.
        args.extend(["-o".into(), "tcp.check_checksum:TRUE".into()]);
    }
    let out = hs_tui(&args);
    assert_eq!(out.code, Some(0), "{}: {}", trace.display(), out.stderr);
    out.stdout
}

#[derive(Default)]
struct Tally {
    rows: usize,
    exact: usize,
    matched: usize,
    state: usize,
    history: usize,
}

#[test]
fn reproduces_zeeks_tcp_rows() {
    let mut total = Tally::default();
    let mut report = String::new();
    for &(test, trace, no_checksums) in TESTS {
        let ours = parse(&conn_log(
            &dir().join("traces").join(trace),
            no_checksums,
            "conn,zeek",
        ));
        let baseline = std::fs::read_to_string(dir().join(format!("baselines/{test}.conn.log")))
            .expect("baseline");
        let mut used = vec![false; ours.len()];
        let mut t = Tally::default();
        for b in parse(&baseline).iter().filter(|r| get(r, "proto") == "tcp") {
            t.rows += 1;
            let best = (0..ours.len())
                .filter(|&i| !used[i] && KEY.iter().all(|k| get(&ours[i], k) == get(b, k)))
                .min_by_key(|&i| differs(b, &ours[i]).len());
            let Some(i) = best else {
                report.push_str(&format!("  {test}: no row for {}\n", key_text(b)));
                continue;
            };
            used[i] = true;
            let o = &ours[i];
            t.matched += 1;
            let d = differs(b, o);
            t.exact += d.is_empty() as usize;
            t.state += (get(b, "conn_state") == get(o, "conn_state")) as usize;
            t.history += (get(b, "history") == get(o, "history")) as usize;
            for f in d {
                report.push_str(&format!(
                    "  {test}: {} {f}: zeek {} hs-tui {}\n",
                    key_text(b),
                    get(b, f),
                    get(o, f)
                ));
            }
        }
        println!(
            "{test:<56} rows exact {:>3}/{:<3} conn_state {:>3}/{:<3} history {:>3}/{:<3}",
            t.exact, t.rows, t.state, t.matched, t.history, t.matched
        );
        total.rows += t.rows;
        total.exact += t.exact;
        total.matched += t.matched;
        total.state += t.state;
        total.history += t.history;
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let (pe, ps, ph) = (
        pct(total.exact, total.rows),
        pct(total.state, total.matched),
        pct(total.history, total.matched),
    );
    println!(
        "TOTAL: {}/{} TCP rows exact ({pe:.1}%), conn_state {ps:.1}%, history {ph:.1}% of {} matched",
        total.exact, total.rows, total.matched
    );
    print!("{report}");
    assert!(
        pe >= 95.0 && ps >= 99.0 && ph >= 99.0,
        "below the bar: {pe:.1}% exact, {ps:.1}% conn_state, {ph:.1}% history"
    );
}

fn key_text(r: &Row) -> String {
    KEY.iter().map(|k| get(r, k)).collect::<Vec<_>>().join(" ")
}

#[test]
fn tsv_layout_is_zeeks() {
    let out = conn_log(
        &dir().join("traces/tcp_missing-syn.pcap"),
        true,
        "conn,zeek",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "#separator \\x09");
    assert_eq!(
        &lines[1..5],
        &[
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tconn"
        ]
    );
    let stamp = |l: &str, tag: &str| {
        let v = l
            .strip_prefix(tag)
            .unwrap_or_else(|| panic!("{l:?} lacks {tag}"));
        assert!(
            v.len() == 19 && v.split('-').count() == 6,
            "{tag} {v:?} is not YYYY-MM-DD-HH-MM-SS"
        );
    };
    stamp(lines[5], "#open\t");
    stamp(lines[lines.len() - 1], "#close\t");
    // Zeek's own header for the same fields (the baseline of the ssh test has exactly these).
    let zeek =
        std::fs::read_to_string(dir().join("baselines/scripts.base.protocols.ssh.basic.conn.log"))
            .expect("baseline");
    let header = |t: &str, tag: &str| t.lines().find(|l| l.starts_with(tag)).map(str::to_string);
    assert_eq!(header(&out, "#fields"), header(&zeek, "#fields"));
    assert_eq!(header(&out, "#types"), header(&zeek, "#types"));
    let row: Vec<&str> = lines[8].split('\t').collect();
    assert_eq!(row.len(), 22);
    assert!(
        row[0].len() == 17 && row[0].as_bytes()[10] == b'.',
        "ts {}",
        row[0]
    );
    assert!(row[1].starts_with('C'), "uid {}", row[1]);
    assert_eq!(
        &row[2..8],
        &[
            "141.42.64.125",
            "56730",
            "125.190.109.199",
            "80",
            "tcp",
            "-"
        ]
    );
    assert_eq!(row[11], "SF");
    assert_eq!(row[15], "^hADdFaf");
    assert_eq!((row[20], row[21]), ("-", "6"));
    assert_eq!(lines.len(), 10);
}

#[test]
fn json_lines_are_zeeks() {
    let out = conn_log(
        &dir().join("traces/mpls-in-vlan.pcap"),
        true,
        "conn,zeek-json",
    );
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let o = r.as_object().expect("object");
        assert!(o["ts"].is_f64() && o["uid"].as_str().is_some_and(|u| u.starts_with('C')));
        assert_eq!(o["proto"], "tcp");
        assert_eq!(o["conn_state"], "OTH");
        assert_eq!(o["ip_proto"], 6);
        // A zero duration leaves duration and bytes unset: Zeek omits them.
        assert!(!o.contains_key("duration") && !o.contains_key("orig_bytes"));
        assert!(!o.contains_key("service") && !o.contains_key("tunnel_parents"));
    }
    let flipped = rows
        .iter()
        .find(|r| r["id.orig_p"] == 32828)
        .expect("the row Zeek flips");
    assert_eq!(
        (
            &flipped["history"],
            &flipped["resp_ip_bytes"],
            &flipped["id.resp_p"]
        ),
        (
            &serde_json::json!("^d"),
            &serde_json::json!(1500),
            &serde_json::json!(80)
        )
    );
    // Keys in Zeek's field order.
    let first = out.lines().next().unwrap_or("");
    let at = |k: &str| first.find(&format!("\"{k}\"")).unwrap_or(usize::MAX);
    assert!(
        at("ts") < at("uid") && at("uid") < at("id.orig_h") && at("conn_state") < at("history")
    );
}

#[test]
fn fields_agree_between_tsv_and_json() {
    let trace = dir().join("traces/ftp_ipv4.pcap");
    let tsv = parse(&conn_log(&trace, false, "conn,zeek"));
    let json: Vec<serde_json::Value> = conn_log(&trace, false, "conn,zeek-json")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(tsv.len(), json.len());
    for (t, j) in tsv.iter().zip(&json) {
        for f in [
            "history",
            "conn_state",
            "orig_pkts",
            "resp_ip_bytes",
            "id.orig_p",
        ] {
            let jv = match &j[f] {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            assert_eq!(get(t, f), jv, "{f}");
        }
    }
}
