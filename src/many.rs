//! Several captures at once: `-r a.pcap -r b.pcap`, `-r DIR` or `-r 'caps/*.pcap'`.
//!
//! Each capture is read by its own worker (a capture thread decodes, the worker tracks), as
//! many workers as there are cores. Each keeps its own stream numbering, as if it had been
//! read alone. With `--parquet DIR` each writes `DIR/capture=NAME/{packets,streams}.parquet`
//! (a Hive-partitioned dataset: readers see a `capture` column), and every row's
//! `frame_file` names the capture. With `-q` the workers send their streams to this thread,
//! which tallies them in one report: the per-server table merges the servers seen in every
//! capture.

use crate::capture::{self, Event, SourceSpec};
use crate::engine::tls::TlsSummary;
use crate::engine::{AppLayer, Engine};
use crate::output::parquet::ParquetError;
use crate::output::report::Reports;
use crate::output::ring::Export;
use crate::pipeline::Settings;
use crate::track::FlowSummary;
use anyhow::{bail, Context};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Capture file name endings a directory is searched for.
const EXTENSIONS: &[&str] = &["pcap", "pcapng", "cap"];

/// The captures that `-r` names, when there are several or a directory or glob was given
/// (empty: one ordinary `-r FILE`, or none). Sorted within each directory or glob.
pub fn expand(reads: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let single = reads.len() == 1 && !is_pattern(&reads[0]) && !Path::new(&reads[0]).is_dir();
    if reads.is_empty() || single {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for r in reads {
        if r == "-" {
            bail!("standard input (-r -) cannot be read with other captures");
        }
        let path = Path::new(r);
        if path.is_dir() {
            let mut found = list_dir(path, |name| {
                name.rsplit_once('.')
                    .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
            })?;
            if found.is_empty() {
                bail!("no capture (*.pcap, *.pcapng, *.cap) in the directory {r}");
            }
            out.append(&mut found);
        } else if is_pattern(r) {
            let (dir, pat) = match r.rsplit_once('/') {
                Some(("", p)) => (Path::new("/"), p),
                Some((d, p)) => (Path::new(d), p),
                None => (Path::new("."), r.as_str()),
            };
            if is_pattern(&dir.to_string_lossy()) {
                bail!("-r {r}: a glob may only match file names, not directories");
            }
            let mut found = list_dir(dir, |name| glob_match(pat.as_bytes(), name.as_bytes()))?;
            if found.is_empty() {
                bail!("-r {r}: no file matches");
            }
            out.append(&mut found);
        } else {
            out.push(path.to_path_buf());
        }
    }
    Ok(out)
}

fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn list_dir(dir: &Path, keep: impl Fn(&str) -> bool) -> anyhow::Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter(|e| keep(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

/// Shell-style wildcard match on a file name: `*`, `?` and `[abc]`/`[a-z]`/`[!x]`.
pub fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    // Iterative with one backtrack point for the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class(&pat[p..], name[n]) {
                        if matched {
                            p += next;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at the start of `pat`: (does `c` match, length of the class).
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < pat.len() {
        if pat[i] == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if i + 2 < pat.len() && pat[i + 1] == b'-' && pat[i + 2] != b']' {
            hit |= pat[i] <= c && c <= pat[i + 2];
            i += 3;
        } else {
            hit |= pat[i] == c;
            i += 1;
        }
    }
    None
}

/// Partition names: the file name without its extension, with characters that paths and
/// Hive partition values handle badly replaced by `_`, made unique with `-2`, `-3`...
pub fn partition_names(files: &[PathBuf]) -> Vec<String> {
    let mut seen = HashSet::new();
    files
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let stem = match name.rsplit_once('.') {
                Some((s, ext)) if EXTENSIONS.contains(&ext) && !s.is_empty() => s,
                _ => &name,
            };
            let clean = crate::output::ring::partition_value(stem);
            let mut n = clean.clone();
            let mut i = 2;
            while !seen.insert(n.clone()) {
                n = format!("{clean}-{i}");
                i += 1;
            }
            n
        })
        .collect()
}

/// What a worker tells the main thread.
enum Msg {
    /// Streams in their final state, each with its TLS handshake (the set-up legs).
    Streams(Vec<(FlowSummary, Option<Box<TlsSummary>>)>),
    Done {
        index: usize,
        result: Result<u64, String>,
    },
}

/// How many workers: `--jobs`, else one per core; never more than captures.
fn workers(files: usize, jobs: Option<usize>) -> usize {
    let cores = jobs
        .or_else(|| {
            std::env::var("HS_TUI_WORKERS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
        })
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    cores.min(files).max(1)
}

/// Read every capture of `settings.many`. Errors in one capture are reported with its
/// name; the others are still read, and the exit status is 2.
pub fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    if !settings.quiet && settings.parquet.is_none() {
        bail!("several captures are read with -q (one merged summary) and/or --parquet DIR; per-packet output of several captures is not supported");
    }
    if settings.write.is_some() {
        bail!("-w cannot be used with several captures");
    }
    if settings.stats.keeps_rows() {
        bail!("with several captures only the -q summary is available (not -z conv/hs/expert/io)");
    }
    let files = settings.many.clone();
    let names = partition_names(&files);
    // Open every capture first (an unreadable one stops here, before anything is written),
    // then give up privileges as a single -r does.
    let mut opened = Vec::with_capacity(files.len());
    for f in &files {
        let o = capture::open(&SourceSpec::File(f.clone()))?;
        opened.push(std::sync::Mutex::new(Some(o)));
    }
    capture::privileges::drop_for_file()?;
    if settings.quiet && crate::pipeline::stdout_is_closed() {
        bail!("standard output is closed: nothing could be printed");
    }

    let stop = crate::pipeline::install_signal_flag();
    let next = AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(64);
    let mut reports = Reports::new(settings.stats.clone());
    let want_reports = settings.quiet;
    let mut failures: Vec<String> = Vec::new();
    let n_workers = workers(files.len(), settings.jobs);
    std::thread::scope(|scope| {
        for w in 0..n_workers {
            let tx = tx.clone();
            let (settings, files, names, opened, next, stop) =
                (&settings, &files, &names, &opened, &next, &stop);
            let _ = std::thread::Builder::new()
                .name(format!("hs-tui worker {w}"))
                .spawn_scoped(scope, move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() {
                        break;
                    }
                    let taken = opened[i].lock().ok().and_then(|mut o| o.take());
                    let result = match taken {
                        Some(o) => one(settings, &files[i], &names[i], o, &tx, want_reports, stop),
                        None => Err("not opened".to_string()),
                    };
                    if tx.send(Msg::Done { index: i, result }).is_err() {
                        break;
                    }
                });
        }
        drop(tx);
        for msg in rx.iter() {
            match msg {
                Msg::Streams(v) => {
                    for (s, tls) in &v {
                        reports.add_tls(s, tls.as_deref());
                    }
                }
                Msg::Done { index, result } => {
                    if let Err(e) = result {
                        let name = files[index].display().to_string();
                        failures.push(if e.contains(&name) {
                            e
                        } else {
                            format!("{name}: {e}")
                        });
                    }
                }
            }
        }
    });
    if want_reports {
        let mut out = std::io::stdout().lock();
        match reports.write(&mut out).and_then(|_| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            r => r.context("writing output")?,
        }
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in &failures {
        eprintln!("hs-tui: {f}");
    }
    Ok(ExitCode::from(2))
}

/// Read one capture to its end: track, export, and send its streams for the summary.
fn one(
    settings: &Settings,
    file: &Path,
    name: &str,
    opened: capture::Opened,
    tx: &crossbeam_channel::Sender<Msg>,
    want_reports: bool,
    stop: &Arc<AtomicBool>,
) -> Result<u64, String> {
    let label = file.display().to_string();
    crate::fields::set_capture_file(Some(&file.to_string_lossy()));
    let mut sink = match &settings.parquet {
        Some(dir) => {
            let base = dir.join(format!("capture={name}"));
            Some(
                match &settings.ring {
                    Some(spec) => Export::ring(&base, &label, spec.clone()),
                    None => Export::single(&base, &label),
                }
                .map_err(|e| e.to_string())?,
            )
        }
        None => None,
    };
    let running = capture::spawn(opened, settings.read.clone());
    let cap_stop = running.stop_flag();
    let mut engine = Engine::new(settings.budget);
    engine.set_analysis(settings.analyze);
    engine.dissect(AppLayer::App.when(settings.filter.as_ref().is_some_and(|f| f.uses_app())));
    // The export's TLS columns need the TLS dissection (only).
    engine.dissect(AppLayer::Tls.when(sink.is_some()));
    // The summary's set-up legs follow TLS as a single -r -q does.
    engine.dissect(AppLayer::TlsLite.when(want_reports));
    let mut error: Option<String> = None;
    fn export<'a>(
        sink: &mut Option<Export>,
        streams: impl Iterator<Item = (&'a FlowSummary, Option<&'a TlsSummary>)>,
    ) -> Result<(), ParquetError> {
        if let Some(p) = sink.as_mut() {
            for (f, tls) in streams {
                p.stream(f, tls)?;
            }
        }
        Ok(())
    }
    // Streams the engine let go of: their rows to the export, their summaries to the report.
    let hand_off_retired =
        |engine: &mut Engine, sink: &mut Option<Export>, error: &mut Option<String>| {
            if !engine.has_retired() {
                return;
            }
            let retired = engine.take_retired_with_tls();
            if let Err(e) = export(sink, retired.iter().map(|(s, t)| (s, t.as_deref()))) {
                *error = Some(e.to_string());
                *sink = None;
                cap_stop.store(true, Ordering::Relaxed);
            }
            if want_reports && tx.send(Msg::Streams(retired)).is_err() {
                cap_stop.store(true, Ordering::Relaxed);
            }
        };
    let mut died = true;
    loop {
        if stop.load(Ordering::Relaxed) {
            cap_stop.store(true, Ordering::Relaxed);
        }
        let ev = match running.events.recv_timeout(Duration::from_millis(200)) {
            Ok(ev) => ev,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        match ev {
            Event::Batch(batch) => {
                for (i, (f, bytes)) in batch.iter().enumerate() {
                    engine.prefetch(&batch.frames, i);
                    if sink.as_ref().is_some_and(|p| p.due(f.ts_ns)) {
                        // Streams let go of before the rotation belong to the closing period.
                        hand_off_retired(&mut engine, &mut sink, &mut error);
                        if let Some(p) = sink.as_mut() {
                            let streams = engine
                                .summaries()
                                .map(|s| (s, engine.tls_summary(s.stream)));
                            if let Err(e) = p.rotate(streams) {
                                error = Some(e.to_string());
                                sink = None;
                                cap_stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    let view = engine.process(f, bytes);
                    if let Some(p) = sink.as_mut() {
                        if settings
                            .filter
                            .as_ref()
                            .is_none_or(|flt| flt.matches(&view))
                        {
                            if let Err(e) = p.packet(&view) {
                                error = Some(e.to_string());
                                sink = None;
                                cap_stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                }
                hand_off_retired(&mut engine, &mut sink, &mut error);
                running.recycle(batch);
            }
            Event::Stats(_) => {}
            Event::Done(e) => {
                died = false;
                if let Some(e) = e {
                    error.get_or_insert(e.to_string());
                }
                break;
            }
        }
    }
    drop(running);
    let rest: Vec<(FlowSummary, Option<Box<TlsSummary>>)> = engine
        .summaries()
        .map(|f| {
            (
                f.clone(),
                engine.tls_summary(f.stream).cloned().map(Box::new),
            )
        })
        .collect();
    let frames = engine.counts().frames;
    if let Err(e) = export(&mut sink, rest.iter().map(|(f, t)| (f, t.as_deref()))) {
        error.get_or_insert(e.to_string());
        sink = None;
    }
    // Dropped, not forgotten as a single -r does at exit: the next capture needs the memory.
    drop(engine);
    if let Some(p) = sink.take() {
        if let Err(e) = p.finish() {
            error.get_or_insert(e.to_string());
        }
    }
    if want_reports {
        // Moved, in the engine's order: cloning each again (and its TLS box) cost as
        // much as tallying it.
        let mut rest = rest.into_iter();
        loop {
            let chunk: Vec<_> = rest.by_ref().take(4096).collect();
            if chunk.is_empty() || tx.send(Msg::Streams(chunk)).is_err() {
                break;
            }
        }
    }
    if died {
        error.get_or_insert(format!(
            "the capture thread stopped unexpectedly after {frames} packets"
        ));
    }
    match error {
        Some(e) => Err(e),
        None => Ok(frames),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(b"*.pcap", b"a.pcap"));
        assert!(!glob_match(b"*.pcap", b"a.pcapng"));
        assert!(glob_match(b"host-?.pcap*", b"host-1.pcapng"));
        assert!(glob_match(b"[ab]*", b"b1"));
        assert!(!glob_match(b"[!ab]*", b"b1"));
        assert!(glob_match(b"x[0-9]", b"x7"));
        assert!(glob_match(b"a*b*c", b"aXbYbc"));
        assert!(!glob_match(b"a*b*c", b"aXbYb"));
    }

    #[test]
    fn partition_names_are_clean_and_unique() {
        let files: Vec<PathBuf> = ["d1/web 1.pcap", "d2/web 1.pcap", "x/db.pcapng", "y/.pcap"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            partition_names(&files),
            ["web_1", "web_1-2", "db", "_.pcap"]
        );
    }
}
