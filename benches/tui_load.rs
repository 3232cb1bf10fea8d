//! How the TUI answers while it loads a big capture, and what it costs in
//! memory. Not a test: it measures and prints.
//!
//! The capture is loaded through the real capture thread, decoder and engine
//! into the TUI model, turn by turn as the event loop does (ingest for at
//! most `INGEST_BUDGET`, background work for `WORK_BUDGET` within `TURN_BUDGET`, draw into a
//! 200x60 `TestBackend`). A key can only be read between turns, so a key's
//! latency is at most the longest turn plus handling the key and drawing:
//! both are measured, during the load (with the first seconds apart) and
//! after it, then a display filter applied after the load.
//!
//! ```sh
//! cargo bench --bench tui_load                                   # 1M-packet synthetic capture
//! HS_TUI_BENCH_FLOWS=1081000 cargo bench --bench tui_load        # about 10M packets
//! HS_TUI_BENCH_FILE=big.pcap cargo bench --bench tui_load        # a capture of yours
//! ```
//! `HS_TUI_BENCH_LOAD_ONLY=1` stops after the load (for a heap profiler such
//! as `heaptrack`); `HS_TUI_BENCH_MALLOC=1` prints glibc's `malloc_stats` then
//! (bytes in use against bytes taken from the system).
//! `scripts/perf-captures` makes the two perf-sized captures (a real loopback
//! capture of about 3M packets, and a 10M-packet synthetic one).

#[path = "common/synth.rs"]
mod synth;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hs_tui::capture::{self, ReadOptions, SourceSpec};
use hs_tui::track::Budget;
use hs_tui::tui::app::SourceInfo;
use hs_tui::tui::store::Limits;
use hs_tui::tui::{render, work_deadline, App, INGEST_BUDGET, WORK_BUDGET};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// p50, p99 and max of a list of durations.
fn spread(v: &mut [Duration]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {} p99 {} max {} ({} samples)",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(v[v.len() - 1]),
        v.len()
    )
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs with no argument: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = match std::env::var_os("HS_TUI_BENCH_FILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let flows: u32 = std::env::var("HS_TUI_BENCH_FLOWS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(108_200);
            let p = dir.path().join("synthetic.pcap");
            let t = Instant::now();
            let n = synth::write_capture(&p, flows);
            println!(
                "synthetic capture: {n} packets in {flows} flows, written in {}",
                ms(t.elapsed())
            );
            p
        }
    };
    let size = std::fs::metadata(&path).unwrap().len();
    println!("capture: {} ({:.1} MB)", path.display(), size as f64 / 1e6);

    let rss0 = rss_mib();
    let opened = capture::open(&SourceSpec::File(path.clone())).unwrap();
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
        hs_tui::tui::filter::default_compiler(),
    );
    let read = ReadOptions {
        offsets: true,
        queue_batches: Some(hs_tui::tui::FILE_QUEUE_BATCHES),
        ..Default::default()
    };
    let running = capture::spawn(opened, read);
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let key =
        |app: &mut App, c: char| app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));

    let (mut turns_first, mut turns, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    let mut peak_rss = rss0;
    let start = Instant::now();
    let mut first_rows = None;
    let mut n_turn = 0u64;
    let mut worst = (Duration::ZERO, [Duration::ZERO; 3], 0u64);
    loop {
        let t = Instant::now();
        app.pump(&running.events, t + INGEST_BUDGET);
        let t1 = Instant::now();
        app.work(work_deadline(t));
        let t2 = Instant::now();
        render(&mut term, &mut app).unwrap();
        let d = t.elapsed();
        if d > worst.0 {
            worst = (d, [t1 - t, t2 - t1, t2.elapsed()], app.store.counts.frames);
        }
        if start.elapsed() < Duration::from_secs(3) {
            turns_first.push(d);
        } else {
            turns.push(d);
        }
        if first_rows.is_none() && !app.flows.rows.is_empty() {
            first_rows = Some(start.elapsed());
        }
        n_turn += 1;
        // A key every few turns: handling it and drawing the answer.
        if n_turn % 5 == 0 {
            let t = Instant::now();
            key(&mut app, if n_turn % 10 == 0 { 'j' } else { 'k' });
            render(&mut term, &mut app).unwrap();
            keys.push(t.elapsed());
        }
        peak_rss = peak_rss.max(rss_mib());
        if app.loaded() {
            break;
        }
    }
    let load = start.elapsed();
    let rss1 = rss_mib();
    peak_rss = peak_rss.max(rss1);
    let n = app.store.counts.frames;
    println!(
        "loaded {n} packets, {} flows in {} ({:.2} Mpkt/s); first rows after {}",
        app.store.flows.len(),
        ms(load),
        n as f64 / load.as_secs_f64() / 1e6,
        first_rows.map(ms).unwrap_or_default()
    );
    println!(
        "turns in the first 3 s of the load (the wait for a key): {}",
        spread(&mut turns_first)
    );
    println!("turns later in the load: {}", spread(&mut turns));
    println!(
        "  longest turn {}: ingest {} + background work {} + draw {}, at packet {}",
        ms(worst.0),
        ms(worst.1[0]),
        ms(worst.1[1]),
        ms(worst.1[2]),
        worst.2
    );
    println!("key + draw during the load: {}", spread(&mut keys));
    println!(
        "memory: peak RSS {:.0} MiB (+{:.0} MiB), {:.0} bytes/packet at the peak, {:.0} after the load",
        peak_rss,
        peak_rss - rss0,
        (peak_rss - rss0) * 1048576.0 / n as f64,
        (rss1 - rss0) * 1048576.0 / n as f64
    );
    let packed: Vec<usize> = (app.store.flows.iter())
        .map(|e| e.packed_len())
        .filter(|&n| n > 0)
        .collect();
    println!(
        "  record {} bytes/packet; flow row {} bytes + the engine's {} bytes per stream it holds ({} now), or {:.0} bytes packed on average once it let go ({} streams)",
        std::mem::size_of::<hs_tui::tui::store::PacketRec>(),
        std::mem::size_of::<hs_tui::tui::store::FlowEntry>(),
        hs_tui::track::STREAM_BYTES,
        app.store.flows.len() - packed.len(),
        packed.iter().sum::<usize>() as f64 / packed.len().max(1) as f64,
        packed.len()
    );

    if std::env::var_os("HS_TUI_BENCH_MALLOC").is_some() {
        extern "C" {
            fn malloc_stats();
        }
        unsafe { malloc_stats() };
    }
    if std::env::var_os("HS_TUI_BENCH_LOAD_ONLY").is_some() {
        return;
    }
    if std::env::var_os("HS_TUI_BENCH_PAUSE").is_some() {
        std::thread::sleep(Duration::from_secs(2));
    }
    let mut keys = Vec::new();
    let mut slowest = (Duration::ZERO, 0, Duration::ZERO);
    for i in 0..200 {
        let t = Instant::now();
        key(&mut app, if i % 2 == 0 { 'j' } else { 'G' });
        let handled = t.elapsed();
        render(&mut term, &mut app).unwrap();
        keys.push(t.elapsed());
        if t.elapsed() > slowest.0 {
            slowest = (t.elapsed(), i, handled);
        }
    }
    println!(
        "  slowest key after the load: #{} ({}, of which handling the key {})",
        slowest.1,
        ms(slowest.0),
        ms(slowest.2)
    );
    println!("key + draw after the load: {}", spread(&mut keys));

    for filter in [
        "tcp.flags.reset == 1",
        "tcp.analysis.retransmission or tcp.len > 100",
    ] {
        let t = Instant::now();
        app.apply_filter(filter);
        let mut turns = Vec::new();
        while app.filter.job.is_some() {
            let t = Instant::now();
            app.work(t + WORK_BUDGET);
            render(&mut term, &mut app).unwrap();
            turns.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(1));
        }
        println!(
            "filter '{filter}' over the whole file after the load: {} -> {} flows; turns meanwhile {}",
            ms(t.elapsed()),
            app.flows.rows.len(),
            spread(&mut turns)
        );
    }
}
