//! `--parquet DIR` and several captures at once (issue #11, parts 3-5): the export is read
//! by the engines themselves, DuckDB and Spark, and their answer to the `-q` question (per
//! server: attempts, completed, refused, half-open, reset, initial-RTT percentiles) must be
//! `-q`'s answer.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

fn engines_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines")
}

/// Run `tests/engines/query.py ENGINE DATASET SQL`; rows as JSON objects.
fn query(engine: &str, dataset: &Path, sql: &Path) -> Vec<Value> {
    let out = Command::new("python3")
        .arg(engines_dir().join("query.py"))
        .arg(engine)
        .arg(dataset)
        .arg(sql)
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "query.py {engine} failed: {}",
        &stderr[stderr.len().saturating_sub(2000)..]
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("query.py prints JSON lines"))
        .collect()
}

/// Export the sample captures (several, so a Hive-partitioned dataset) and return -q's JSON.
fn export_samples(dir: &Path) -> Value {
    let o = hs_tui(&[
        "-r",
        sample("").to_str().unwrap(),
        "--parquet",
        dir.to_str().unwrap(),
        "-q",
        "-T",
        "json",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    serde_json::from_str(&o.stdout).expect("-q -T json is JSON")
}

/// The engine's rows equal -q's servers: same set of servers, same counts, percentiles
/// within rounding (-q's are nanoseconds, the export's seconds as doubles).
fn assert_same_servers(engine: &str, rows: &[Value], q: &Value) {
    let servers = q["servers"].as_array().expect("servers");
    assert!(servers.len() >= 5, "the samples have several servers");
    assert_eq!(rows.len(), servers.len(), "{engine}: number of servers");
    for s in servers {
        let name = s["server"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r["server"] == s["server"])
            .unwrap_or_else(|| panic!("{engine} has no row for {name}"));
        for k in ["attempts", "completed", "refused", "half_open", "reset"] {
            assert_eq!(row[k].as_u64(), s[k].as_u64(), "{engine}: {name} {k}");
        }
        for p in ["p50", "p90", "p99", "max"] {
            let want = s["initial_rtt_ms"][p].as_f64();
            let got = row[format!("{p}_ms")].as_f64();
            match (want, got) {
                (Some(w), Some(g)) => {
                    assert!((w - g).abs() < 1e-6, "{engine}: {name} {p}: {g} vs {w}")
                }
                (None, None) => {}
                _ => panic!("{engine}: {name} {p}: {got:?} vs {want:?}"),
            }
        }
    }
}

#[test]
fn duckdb_reproduces_q_over_several_captures() {
    if !require_python_module("duckdb", "duckdb_reproduces_q_over_several_captures") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let q = export_samples(dir.path());
    let n = std::fs::read_dir(dir.path()).unwrap().count();
    let captures = std::fs::read_dir(sample(""))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".pcap"))
        .count();
    assert!(captures >= 8);
    assert_eq!(n, captures, "one partition per sample capture");
    assert!(dir.path().join("capture=refused/streams.parquet").is_file());
    let rows = query("duckdb", dir.path(), &engines_dir().join("servers.sql"));
    assert_same_servers("duckdb", &rows, &q);
}

#[test]
fn spark_reproduces_q_over_several_captures() {
    let test = "spark_reproduces_q_over_several_captures";
    if !require_python_module("pyspark", test) || !require_tool("java", test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let q = export_samples(dir.path());
    let rows = query("spark", dir.path(), &engines_dir().join("servers.sql"));
    assert_same_servers("spark", &rows, &q);
}

/// The packet table holds one row per TCP packet with the values `-T fields` prints, and
/// the partition column tells the captures apart.
#[test]
fn packet_rows_match_fields_output() {
    if !require_python_module("duckdb", "packet_rows_match_fields_output") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let http = sample("http-get.pcap");
    let reset = sample("reset.pcap");
    let o = hs_tui(&[
        "-r",
        http.to_str().unwrap(),
        "-r",
        reset.to_str().unwrap(),
        "--parquet",
        d,
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.is_empty(), "--parquet prints no packets");
    let sql = dir.path().join("q.sql");
    std::fs::write(
        &sql,
        "SELECT capture, frame_file, frame_number, tcp_stream, tcp_seq, tcp_ack, hs_state, \
         tcp_analysis_initial_rtt, CAST(frame_time AS VARCHAR) AS t FROM packets \
         ORDER BY capture, frame_number",
    )
    .unwrap();
    let rows = query("duckdb", dir.path(), &sql);
    for (cap, path) in [("http-get", &http), ("reset", &reset)] {
        let want = hs_tui(&[
            "-r",
            path.to_str().unwrap(),
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.seq",
            "-e",
            "tcp.ack",
            "-e",
            "hs.state",
            "-e",
            "tcp.analysis.initial_rtt",
        ]);
        let got: Vec<&Value> = rows.iter().filter(|r| r["capture"] == cap).collect();
        let lines: Vec<&str> = want.stdout.lines().collect();
        assert!(!lines.is_empty());
        assert_eq!(got.len(), lines.len(), "{cap}: one row per TCP packet");
        for (r, line) in got.iter().zip(lines) {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(r["frame_file"].as_str(), path.to_str(), "frame_file");
            let cell = |k: &str| match &r[k] {
                Value::Null => String::new(),
                v => v.to_string().trim_matches('"').to_string(),
            };
            assert_eq!(
                [
                    cell("frame_number"),
                    cell("tcp_stream"),
                    cell("tcp_seq"),
                    cell("tcp_ack"),
                    cell("hs_state")
                ],
                [f[0], f[1], f[2], f[3], f[4]],
                "{cap} frame {}",
                f[0]
            );
            let rtt = r["tcp_analysis_initial_rtt"].as_f64();
            let want_rtt = f[5].parse::<f64>().ok();
            assert_eq!(
                rtt.is_some(),
                want_rtt.is_some(),
                "{cap} frame {} iRTT",
                f[0]
            );
            if let (Some(a), Some(b)) = (rtt, want_rtt) {
                assert!((a - b).abs() < 1e-9);
            }
            assert!(cell("t").starts_with("20"), "frame_time is a timestamp");
        }
    }
}

/// Several captures: one summary whose per-server counts are the sums of each capture's.
#[test]
fn merged_summary_sums_the_captures() {
    let caps = [
        "refused.pcap",
        "reset.pcap",
        "many-short.pcap",
        "half-open.pcap",
    ];
    let mut args: Vec<String> = Vec::new();
    let mut want: std::collections::BTreeMap<String, [u64; 5]> = Default::default();
    let keys = ["attempts", "completed", "refused", "half_open", "reset"];
    for c in caps {
        let p = sample(c).to_str().unwrap().to_string();
        let o = hs_tui(&["-r", &p, "-q", "-T", "json"]);
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        for s in v["servers"].as_array().unwrap() {
            let e = want
                .entry(s["server"].as_str().unwrap().to_string())
                .or_default();
            for (i, k) in keys.iter().enumerate() {
                e[i] += s[k].as_u64().unwrap();
            }
        }
        args.extend(["-r".to_string(), p]);
    }
    args.extend(["-q", "-T", "json"].map(String::from));
    let o = hs_tui(&args);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let mut got: std::collections::BTreeMap<String, [u64; 5]> = Default::default();
    for s in v["servers"].as_array().unwrap() {
        let e = got
            .entry(s["server"].as_str().unwrap().to_string())
            .or_default();
        for (i, k) in keys.iter().enumerate() {
            e[i] += s[k].as_u64().unwrap();
        }
    }
    assert_eq!(got, want);
}

#[test]
fn several_captures_a_bad_one_is_named() {
    let a = sample("reset.pcap");
    let b = sample("refused.pcap");
    let o = hs_tui(&[
        "-r",
        a.to_str().unwrap(),
        "-r",
        b.to_str().unwrap(),
        "-w",
        "/tmp/x",
    ]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("-w"), "{}", o.stderr);
    let o = hs_tui(&["-r", a.to_str().unwrap(), "-r", "/nonexistent/x.pcap", "-q"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("/nonexistent/x.pcap"), "{}", o.stderr);
    let o = hs_tui(&["-r", &format!("{}/*.nothing", sample("").display()), "-q"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("no file matches"), "{}", o.stderr);
}

#[test]
fn unwritable_parquet_dir_is_an_error_naming_it() {
    let o = hs_tui(&[
        "-r",
        sample("reset.pcap").to_str().unwrap(),
        "--parquet",
        "/proc/hs-tui-parquet",
    ]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("/proc/hs-tui-parquet"), "{}", o.stderr);
}

/// A table file that is a symlink (here to /dev/full) is refused, as -w refuses one: the
/// error names the file and the exit status is 2.
#[test]
fn symlinked_table_file_is_refused() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // packets.parquet is a symlink to /dev/full: refused (O_NOFOLLOW), as -w refuses.
    std::os::unix::fs::symlink("/dev/full", dir.path().join("packets.parquet")).unwrap();
    let o = hs_tui(&[
        "-r",
        sample("many-short.pcap").to_str().unwrap(),
        "--parquet",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("packets.parquet"), "{}", o.stderr);
}

/// A capture of `n` TCP packets (SYN, SYN-ACK, ACK, then data segments), streams of 8
/// packets between varied addresses and ports, so the export does not compress to nothing.
fn synthetic_capture(path: &Path, n: u32) {
    let mut out = Vec::with_capacity(24 + n as usize * 80);
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..n {
        let s = i / 8;
        let k = i % 8;
        let client = [10, (s >> 16) as u8, (s >> 8) as u8, s as u8];
        let server = [192, 168, 0, (s % 7) as u8 + 1];
        let cport = 1024 + (s % 60000) as u16;
        let from_client = k != 1 && k % 2 == 0;
        let (src, dst, sp, dp) = if from_client {
            (client, server, cport, 443)
        } else {
            (server, client, 443, cport)
        };
        let flags: u8 = match k {
            0 => 0x02,
            1 => 0x12,
            2 => 0x10,
            _ => 0x18,
        };
        let payload: &[u8] = if k >= 3 { b"0123456789abcdef" } else { b"" };
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
        let total = 40 + payload.len() as u16;
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&sp.to_be_bytes());
        f.extend_from_slice(&dp.to_be_bytes());
        f.extend_from_slice(&(s.wrapping_mul(2654435761) + k * 100).to_be_bytes());
        f.extend_from_slice(&(s.wrapping_mul(40503) + k).to_be_bytes());
        f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        out.extend_from_slice(&(1_700_000_000 + i / 1000).to_le_bytes());
        out.extend_from_slice(&((i % 1000) * 1000).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&f);
    }
    std::fs::write(path, out).unwrap();
}

/// A 200 kB tmpfs (root only) and a 200,000-packet capture beside it; unmounted on drop.
/// `None` (the test recorded as skipped) without root or without tmpfs.
struct FullDisk {
    dir: tempfile::TempDir,
    mnt: std::path::PathBuf,
}

impl FullDisk {
    fn mount(test: &str) -> Option<FullDisk> {
        if !require_root(test) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        synthetic_capture(&dir.path().join("big.pcap"), 200_000);
        let mnt = dir.path().join("full");
        std::fs::create_dir(&mnt).unwrap();
        let mount = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=200k", "tmpfs"])
            .arg(&mnt)
            .output();
        if !mount.as_ref().is_ok_and(|o| o.status.success()) {
            skip(test, &format!("cannot mount a tmpfs: {mount:?}"));
            return None;
        }
        Some(FullDisk { dir, mnt })
    }
    fn capture(&self) -> String {
        self.dir.path().join("big.pcap").display().to_string()
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.mnt).status();
    }
}

/// A full disk (a 200 kB tmpfs, mounted as root): the run fails with exit status 2 and an
/// error naming the file and "No space left on device", and says the file is unreadable.
#[test]
fn full_disk_is_an_error_naming_the_file() {
    let Some(disk) = FullDisk::mount("full_disk_is_an_error_naming_the_file") else {
        return;
    };
    let out = disk.mnt.join("export");
    let o = hs_tui(&["-r", &disk.capture(), "--parquet", out.to_str().unwrap()]);
    drop(disk);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("No space left on device"), "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("{}/packets.parquet", out.display())),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("unreadable"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

/// streams.parquet carries each stream's TLS handshake: per stream, `hs_tls_sni` and
/// `hs_tls_ja4` are what `-T fields -e hs.tls.sni -e hs.tls.ja4` says at the ClientHello;
/// packets.parquet lists the handshake types of each packet.
#[test]
fn tls_columns_match_fields_output() {
    if !require_python_module("duckdb", "tls_columns_match_fields_output") {
        return;
    }
    let caps = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/tls/captures");
    let cap = caps.join("zeek-tls-fragmented-handshake.pcap");
    let dir = tempfile::tempdir().unwrap();
    let o = hs_tui(&[
        "-r",
        cap.to_str().unwrap(),
        "--parquet",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let want = hs_tui(&[
        "-r",
        cap.to_str().unwrap(),
        "-Y",
        "tls.handshake.type == 1",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "hs.tls.sni",
        "-e",
        "hs.tls.ja4",
    ]);
    let mut want: Vec<String> = want.stdout.lines().map(String::from).collect();
    want.sort();
    want.dedup();
    assert!(!want.is_empty());
    let sql = dir.path().join("q.sql");
    std::fs::write(
        &sql,
        "SELECT tcp_stream, hs_tls_sni, hs_tls_ja4, hs_tls_version, hs_tls_cipher, hs_setup_tls \
         FROM streams WHERE hs_tls_ja4 IS NOT NULL ORDER BY tcp_stream",
    )
    .unwrap();
    let rows = query("duckdb", dir.path(), &sql);
    let cell = |v: &Value| match v {
        Value::Null => String::new(),
        v => v.to_string().trim_matches('"').to_string(),
    };
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}",
                cell(&r["tcp_stream"]),
                cell(&r["hs_tls_sni"]),
                cell(&r["hs_tls_ja4"])
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| !r["hs_tls_version"].is_null()));
    std::fs::write(
        &sql,
        "SELECT count(*) AS n FROM packets WHERE list_contains(tls_handshake_type, 1)",
    )
    .unwrap();
    let n = query("duckdb", dir.path(), &sql);
    assert_eq!(n[0]["n"].as_u64(), Some(want.len() as u64), "{n:?}");
}

/// The TCP packets of the sample captures, as `-Y tcp -T fields` counts them.
fn sample_tcp_packets() -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(sample("")).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
            let o = hs_tui(&[
                "-r",
                p.to_str().unwrap(),
                "-Y",
                "tcp",
                "-T",
                "fields",
                "-e",
                "frame.number",
            ]);
            assert_eq!(o.code, Some(0), "{}", o.stderr);
            n += o.stdout.lines().count();
        }
    }
    n
}

/// `-b duration:N` (issue #11, item 4): offline, periods follow packet time. Every period
/// is a complete pair under capture=/date=/hour=, no temporary file is left, and DuckDB
/// over the whole dataset answers the `-q` question as `-q` does (counting each stream
/// once: `NOT hs_open_at_rotation`) and holds every TCP packet.
#[test]
fn rotated_export_reproduces_q() {
    if !require_python_module("duckdb", "rotated_export_reproduces_q") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = hs_tui(&[
        "-r",
        sample("").to_str().unwrap(),
        "--parquet",
        dir.path().to_str().unwrap(),
        "-b",
        "duration:0.25",
        "-q",
        "-T",
        "json",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let q: Value = serde_json::from_str(&o.stdout).expect("-q -T json is JSON");
    let mut packets = Vec::new();
    let mut streams = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            assert!(
                !name.starts_with('.'),
                "temporary file left: {}",
                p.display()
            );
            let rel = p
                .strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .to_string();
            let parts: Vec<&str> = rel.split('/').collect();
            assert_eq!(parts.len(), 4, "{rel}");
            assert!(parts[0].starts_with("capture="), "{rel}");
            assert!(
                parts[1].starts_with("date=") && parts[1].len() == 15,
                "{rel}"
            );
            assert!(
                parts[2].starts_with("hour=") && parts[2].len() == 7,
                "{rel}"
            );
            if let Some(stem) = name.strip_prefix("packets-") {
                packets.push(stem.to_string());
            } else if let Some(stem) = name.strip_prefix("streams-") {
                streams.push(stem.to_string());
            } else {
                panic!("unexpected file {rel}");
            }
        }
    }
    packets.sort();
    streams.sort();
    assert_eq!(packets, streams, "every period is a pair");
    let many_short = std::fs::read_dir(dir.path().join("capture=many-short"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .flat_map(|h| std::fs::read_dir(h.path()).unwrap().flatten())
        .filter(|f| f.file_name().to_string_lossy().starts_with("packets-"))
        .count();
    assert!(
        many_short >= 3,
        "1.3 s in 0.25 s periods: {many_short} files"
    );
    assert!(packets.len() >= 12, "{} periods", packets.len());

    let rows = query("duckdb", dir.path(), &engines_dir().join("servers.sql"));
    assert_same_servers("duckdb", &rows, &q);
    // The same SQL on Spark, over the same rotated files (partitions three levels deep).
    let test = "rotated_export_reproduces_q (Spark)";
    if require_python_module("pyspark", test) && require_tool("java", test) {
        let rows = query("spark", dir.path(), &engines_dir().join("servers.sql"));
        assert_same_servers("spark", &rows, &q);
    }

    let sql = dir.path().join("count.sql");
    std::fs::write(
        &sql,
        "SELECT (SELECT COUNT(*) FROM packets) AS packets, \
         (SELECT COUNT(*) FROM streams WHERE NOT hs_open_at_rotation) AS streams, \
         (SELECT COUNT(*) FROM (SELECT DISTINCT capture, tcp_stream FROM streams)) AS distinct_streams, \
         (SELECT COUNT(*) FROM streams WHERE hs_open_at_rotation) AS open_rows",
    )
    .unwrap();
    let c = query("duckdb", dir.path(), &sql);
    assert_eq!(c[0]["packets"].as_u64(), Some(sample_tcp_packets() as u64));
    assert_eq!(c[0]["streams"], c[0]["distinct_streams"], "{c:?}");
    assert!(c[0]["open_rows"].as_u64().unwrap() > 0, "{c:?}");
}

/// `-b files:N` keeps the last N pairs; `-b` needs `--parquet`; a bad `-b` is an error.
#[test]
fn ring_keeps_the_last_files_and_checks_its_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let cap = sample("many-short.pcap");
    let o = hs_tui(&[
        "-r",
        cap.to_str().unwrap(),
        "--parquet",
        dir.path().to_str().unwrap(),
        "-b",
        "duration:0.1",
        "-b",
        "files:2",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let n = walk_files(dir.path());
    assert_eq!(n.len(), 4, "{n:?}");
    for bad in [
        &["-b", "duration:x"][..],
        &["-b", "files:3"],
        &["-b", "size:1"],
    ] {
        let mut args = vec![
            "-r",
            cap.to_str().unwrap(),
            "--parquet",
            dir.path().to_str().unwrap(),
        ];
        args.extend_from_slice(bad);
        let o = hs_tui(&args);
        assert_eq!(o.code, Some(2), "{bad:?}: {}", o.stderr);
        assert!(o.stderr.contains("-b"), "{}", o.stderr);
    }
    let o = hs_tui(&["-r", cap.to_str().unwrap(), "-b", "duration:1", "-q"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("--parquet"), "{}", o.stderr);
    // An unwritable DIR stops the run before reading, naming it.
    let o = hs_tui(&[
        "-r",
        cap.to_str().unwrap(),
        "--parquet",
        "/proc/hs-tui-ring",
        "-b",
        "duration:1",
    ]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("/proc/hs-tui-ring"), "{}", o.stderr);
}

/// `-b filesize:KB` closes a period once its packets reach KB as -w would write them.
#[test]
fn ring_rotates_on_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let cap = sample("many-short.pcap");
    let o = hs_tui(&[
        "-r",
        cap.to_str().unwrap(),
        "--parquet",
        dir.path().to_str().unwrap(),
        "-b",
        "filesize:10",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let size = std::fs::metadata(&cap).unwrap().len();
    let files = walk_files(dir.path());
    let pairs = files.len() / 2;
    // Each period holds at least 10 kB of packets (the last one: what is left).
    assert!(
        pairs >= 2 && pairs as u64 <= size / 10_000 + 1,
        "{pairs} pairs for {size} bytes"
    );
}

/// Every file under `dir`, recursively, as paths relative to it.
fn walk_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// `frame.file` (issue #11): the capture a packet was read from, as named on the command
/// line. Several captures with per-packet output are read one after another, each numbered
/// from 1; `-Y 'frame.file == "..."'` picks one.
#[test]
fn frame_file_names_each_capture() {
    let dir = sample("");
    let run = |extra: &[&str]| {
        let mut args = vec!["-r", "reset.pcap", "-r", "refused.pcap"];
        args.extend_from_slice(extra);
        let o = std::process::Command::new(bin())
            .args(&args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let out = run(&["-T", "fields", "-e", "frame.file", "-e", "frame.number"]);
    let mut want: Vec<String> = (1..=16).map(|n| format!("reset.pcap\t{n}")).collect();
    want.extend((1..=4).map(|n| format!("refused.pcap\t{n}")));
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    let out = run(&[
        "-Y",
        "frame.file == \"refused.pcap\"",
        "-T",
        "fields",
        "-e",
        "frame.file",
        "-e",
        "frame.number",
    ]);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(
        out.lines().all(|l| l.starts_with("refused.pcap\t")),
        "{out}"
    );
    // One capture: its name as given; a JSON dump without -e leaves the field out (tshark
    // has no such key).
    let o = hs_tui(&[
        "-r",
        sample("refused.pcap").to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "frame.file",
        "-c",
        "1",
    ]);
    assert_eq!(o.stdout.trim(), sample("refused.pcap").to_str().unwrap());
    let o = hs_tui(&[
        "-r",
        sample("refused.pcap").to_str().unwrap(),
        "-T",
        "json",
        "-c",
        "1",
    ]);
    assert!(!o.stdout.contains("frame.file"), "{}", o.stdout);
}

/// A full disk while rotating (`-b duration:1` into a 200 kB tmpfs): exit status 2, the
/// error names the period's file, and no hidden `.tmp` file is left behind (a period's
/// unfinished files have no footer: they are removed, and their space with them).
#[test]
fn full_disk_while_rotating_leaves_no_temporary_files() {
    let Some(disk) = FullDisk::mount("full_disk_while_rotating_leaves_no_temporary_files") else {
        return;
    };
    let out = disk.mnt.join("export");
    let o = hs_tui(&[
        "-r",
        &disk.capture(),
        "--parquet",
        out.to_str().unwrap(),
        "-b",
        "duration:1",
    ]);
    let left: Vec<String> = walk_files(&out)
        .into_iter()
        .filter(|f| f.ends_with(".tmp"))
        .collect();
    drop(disk);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("No space left on device"), "{}", o.stderr);
    assert!(o.stderr.contains(".parquet"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert!(left.is_empty(), "temporary files left: {left:?}");
}
