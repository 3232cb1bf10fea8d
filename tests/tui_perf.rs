//! Scripted measurement (ignored by default): a synthetic capture of
//! 1,000,850 packets in 108,200 flows is written to a temporary pcap, loaded
//! through the real capture thread, decoder and tracker into the TUI model,
//! and then the time of one frame, of a key press, of re-sorting and of
//! applying filters is measured, with the process's memory.
//!
//! Run: `cargo test --release --test tui_perf -- --ignored --nocapture`
//! (`HS_TUI_PERF_FLOWS=N` changes the number of flows, `HS_TUI_PERF_KEEP=FILE`
//! keeps the capture, `HS_TUI_PERF_VERBOSE=1` lists turns over 40 ms).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use etherparse::PacketBuilder;
use hs_tui::capture::{self, ReadOptions, SourceSpec};
use hs_tui::fields::{self, PacketView, Value};
use hs_tui::track::Budget;
use hs_tui::tui::app::SourceInfo;
use hs_tui::tui::filter::{CompiledFilter, PacketFilter};
use hs_tui::tui::store::Limits;
use hs_tui::tui::{render, App};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

const MAC_C: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_S: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// One flow's packets: (from client, flags, seq, ack, payload length).
fn script(kind: usize) -> Vec<(bool, &'static str, u32, u32, usize)> {
    match kind {
        // Refused.
        0 => vec![(true, "S", 0, 0, 0), (false, "RA", 0, 1, 0)],
        // Half-open: the SYN and its retransmissions.
        1 => vec![
            (true, "S", 0, 0, 0),
            (true, "S", 0, 0, 0),
            (true, "S", 0, 0, 0),
        ],
        // A short request/response with a FIN close.
        _ => vec![
            (true, "S", 0, 0, 0),
            (false, "SA", 0, 1, 0),
            (true, "A", 1, 1, 0),
            (true, "PA", 1, 1, 80),
            (false, "A", 1, 81, 0),
            (false, "PA", 1, 81, 200),
            (true, "A", 81, 201, 0),
            (false, "FA", 201, 81, 0),
            (true, "FA", 81, 202, 0),
            (false, "A", 202, 82, 0),
        ],
    }
}

fn frame(
    i: u32,
    from_client: bool,
    flags: &str,
    seq: u32,
    ack: u32,
    len: usize,
    out: &mut Vec<u8>,
) {
    let client = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let cport = 20_000 + (i % 40_000) as u16;
    let server = [192, 168, 0, 1];
    let (isn_c, isn_s) = (
        i.wrapping_mul(2_654_435_761),
        i.wrapping_mul(40_503) ^ 0x5555_5555,
    );
    let (src, dst, sp, dp, s, a) = if from_client {
        (
            client,
            server,
            cport,
            443,
            isn_c.wrapping_add(seq),
            isn_s.wrapping_add(ack),
        )
    } else {
        (
            server,
            client,
            443,
            cport,
            isn_s.wrapping_add(seq),
            isn_c.wrapping_add(ack),
        )
    };
    let (m1, m2) = if from_client {
        (MAC_C, MAC_S)
    } else {
        (MAC_S, MAC_C)
    };
    let mut b = PacketBuilder::ethernet2(m1, m2)
        .ipv4(src, dst, 64)
        .tcp(sp, dp, s, 65_000);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'A' => b.ack(a),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    out.clear();
    b.write(out, &vec![b'x'; len]).unwrap();
}

/// Write the synthetic capture: flows start 100 µs apart, ten at a time in flight.
fn write_capture(path: &std::path::Path, flows: u32) -> u64 {
    let dead = pcap::Capture::dead_with_precision(pcap::Linktype::ETHERNET, pcap::Precision::Nano)
        .unwrap();
    let mut save = dead.savefile(path).unwrap();
    let mut buf = Vec::new();
    let mut n = 0u64;
    let base_ts: i64 = 1_700_000_000_000_000_000;
    // Interleave: packet k of flow i goes out at i*100µs + k*30µs (+ i-dependent RTT).
    let mut events: Vec<(i64, u32, usize)> = Vec::new();
    for i in 0..flows {
        let kind = match i % 20 {
            0 => 0,
            1 => 1,
            _ => 2,
        };
        let rtt = 20_000 + (i as i64 % 97) * 1_000;
        for k in 0..script(kind).len() {
            let gap = if kind == 1 {
                1_000_000_000 * k as i64
            } else {
                rtt * k as i64
            };
            events.push((i as i64 * 100_000 + gap, i, k));
        }
    }
    events.sort_unstable();
    for (ts, i, k) in events {
        let kind = match i % 20 {
            0 => 0,
            1 => 1,
            _ => 2,
        };
        let (fc, fl, s, a, len) = script(kind)[k];
        frame(i, fc, fl, s, a, len, &mut buf);
        let t = base_ts + ts;
        let header = pcap::PacketHeader {
            ts: libc::timeval {
                tv_sec: t / 1_000_000_000,
                tv_usec: t % 1_000_000_000,
            },
            caplen: buf.len() as u32,
            len: buf.len() as u32,
        };
        save.write(&pcap::Packet::new(&header, &buf));
        n += 1;
    }
    save.flush().unwrap();
    n
}

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

struct SynFilter;
impl PacketFilter for SynFilter {
    fn matches(&self, p: &PacketView<'_>) -> bool {
        let f = fields::by_name("tcp.flags.syn").unwrap();
        let mut v = Vec::new();
        f.values(p, &mut v);
        v.first() == Some(&Value::Bool(true))
    }
}
fn syn_compiler(_: &str) -> Result<CompiledFilter, String> {
    Ok(std::sync::Arc::new(SynFilter))
}

fn time<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[test]
#[ignore = "measurement: run with --release -- --ignored --nocapture"]
fn one_million_packets() {
    let flows: u32 = std::env::var("HS_TUI_PERF_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(108_200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synthetic.pcap");
    let (n, t_write) = time(|| write_capture(&path, flows));
    let size = std::fs::metadata(&path).unwrap().len();
    if let Some(keep) = std::env::var_os("HS_TUI_PERF_KEEP") {
        std::fs::copy(&path, keep).unwrap();
    }
    println!(
        "synthetic capture: {n} packets, {flows} flows, {:.1} MB, written in {}",
        size as f64 / 1e6,
        ms(t_write)
    );

    let rss0 = rss_mib();
    let spec = SourceSpec::File(path.clone());
    let opened = capture::open(&spec).unwrap();
    let mut app = App::new(
        SourceInfo {
            name: path.display().to_string(),
            live: false,
            file_size: Some(size),
            path: Some(path.clone()),
        },
        opened.link,
        Budget::default(),
        Limits::default(),
        None,
    );
    let running = capture::spawn(
        opened,
        ReadOptions {
            offsets: true,
            ..Default::default()
        },
    );
    // Load as the event loop does: slices of at most 20 ms, counting how long each took.
    let mut worst_slice = Duration::ZERO;
    let mut worst_parts = (Duration::ZERO, Duration::ZERO, Duration::ZERO, 0u64);
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let (_, t_load) = time(|| loop {
        // One turn of the event loop, drawing included.
        let t = Instant::now();
        app.pump(&running.events, t + hs_tui::tui::INGEST_BUDGET);
        let t1 = Instant::now();
        app.work(t1 + hs_tui::tui::WORK_BUDGET);
        let t2 = Instant::now();
        render(&mut term, &mut app).unwrap();
        if t1 - t > Duration::from_millis(40) && std::env::var_os("HS_TUI_PERF_VERBOSE").is_some() {
            println!(
                "  slow turn: ingest {} at {} packets, {} flows",
                ms(t1 - t),
                app.store.counts.frames,
                app.store.flows.len()
            );
        }
        if t.elapsed() > worst_slice {
            worst_slice = t.elapsed();
            worst_parts = (t1 - t, t2 - t1, t2.elapsed(), app.store.counts.frames);
        }
        if app.loaded() {
            break;
        }
        if app.store.counts.frames < n {
            std::thread::yield_now();
        }
    });
    app.settle();
    let rss1 = rss_mib();
    println!(
        "longest turn: ingest {} + work {} + draw {} (after {} packets)",
        ms(worst_parts.0),
        ms(worst_parts.1),
        ms(worst_parts.2),
        worst_parts.3
    );
    assert_eq!(app.store.counts.frames, n);
    assert_eq!(app.store.flows.len() as u32, flows);
    println!(
        "load through capture+decode+track into the model, drawing every turn: {} ({:.0} packets/s); longest turn {}",
        ms(t_load),
        n as f64 / t_load.as_secs_f64(),
        ms(worst_slice)
    );
    println!(
        "memory: RSS {:.0} MiB -> {:.0} MiB (+{:.0} MiB; frame bytes stay in the file); {:.0} bytes/packet overall",
        rss0,
        rss1,
        rss1 - rss0,
        (rss1 - rss0) * (1 << 20) as f64 / n as f64
    );

    println!(
        "record size: {} bytes",
        std::mem::size_of::<hs_tui::tui::store::PacketRec>()
    );
    render(&mut term, &mut app).unwrap();
    let frames = 50;
    let (_, t) = time(|| {
        for _ in 0..frames {
            render(&mut term, &mut app).unwrap();
        }
    });
    println!(
        "render one frame 200x60 (flows + packets + details): {}",
        ms(t / frames)
    );
    let key = |app: &mut App, c: KeyCode| app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
    let (_, t) = time(|| {
        for _ in 0..frames {
            key(&mut app, KeyCode::Char('j'));
            render(&mut term, &mut app).unwrap();
        }
    });
    println!("key press (j) + frame: {}", ms(t / frames));
    let (_, t) = time(|| {
        key(&mut app, KeyCode::Char('G'));
        render(&mut term, &mut app).unwrap();
    });
    println!("G (jump to the last of {flows} flows) + frame: {}", ms(t));
    // Sorting 100k flows.
    let (_, t) = time(|| {
        for _ in 0..3 {
            key(&mut app, KeyCode::Char('s'));
        }
        render(&mut term, &mut app).unwrap();
    });
    println!(
        "sort by initial RTT (3 × s, re-sort {flows} flows) + frame: {}",
        ms(t)
    );

    // Quick filter over the flows.
    let (_, t) = time(|| {
        app.apply_filter("refused");
        app.settle();
    });
    println!(
        "quick filter 'refused' over {flows} flows: {} -> {} flows",
        ms(t),
        app.flows.rows.len()
    );
    // A packet-level filter through the field registry (a stand-in for the display-filter engine).
    app.filter.compiler = Some(syn_compiler);
    let mut turns = 0;
    let mut worst = Duration::ZERO;
    let (_, t) = time(|| {
        app.apply_filter("tcp.flags.syn == 1");
        loop {
            let t = Instant::now();
            let more = app.work(t + hs_tui::tui::WORK_BUDGET);
            render(&mut term, &mut app).unwrap();
            worst = worst.max(t.elapsed());
            turns += 1;
            if !more && app.filter.job.is_none() {
                break;
            }
        }
    });
    println!(
        "packet filter (registry field tcp.flags.syn) over {n} packets, drawing every turn: {} in {turns} turns (longest {}) -> {} flows",
        ms(t),
        ms(worst),
        app.flows.rows.len()
    );
    render(&mut term, &mut app).unwrap();
    let (_, t) = time(|| {
        for _ in 0..frames {
            key(&mut app, KeyCode::Char('k'));
            render(&mut term, &mut app).unwrap();
        }
    });
    println!(
        "key press + frame with the packet filter applied: {}",
        ms(t / frames)
    );
    let (_, t) = time(|| {
        app.apply_filter("");
        app.settle();
        render(&mut term, &mut app).unwrap();
    });
    println!("clear the filter + frame: {}", ms(t));
    running.stop();
}
