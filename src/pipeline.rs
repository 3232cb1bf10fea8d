//! Batch mode: source -> (capture thread: decode) -> track -> filter -> print.
//! Everything read before an error is printed before the error is reported.

use crate::capture::{self, CaptureError, Event, LiveOptions, ReadOptions, SourceSpec};
use crate::cli::Args;
use crate::engine::{AppLayer, Engine};
use crate::fields;
use crate::filter::Filter;
use crate::follow::{self, FollowSpec, Follower};
use crate::output::parquet::ParquetError;
use crate::output::pcap_file::{Create, PcapWriter, WriteError};
use crate::output::report::{Reports, Stats};
use crate::output::ring::Export;
use crate::output::{FieldsOptions, Format, Printer};
use crate::track::Budget;
use anyhow::{anyhow, bail, Context};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Settings derived from the arguments before any capture opens (ripgrep's "high args").
pub struct Settings {
    pub source: SourceSpec,
    pub format: Format,
    pub fields: Vec<&'static fields::Field>,
    pub fields_opts: FieldsOptions,
    pub quiet: bool,
    pub stats: Stats,
    pub read: ReadOptions,
    pub budget: Budget,
    /// Wireshark's tcp.analyze_sequence_numbers (on by default).
    pub analyze: bool,
    pub write: Option<std::path::PathBuf>,
    /// Print packets although they are written (`-P`).
    pub print_with_write: bool,
    /// The display filter (`-Y`): packets that fail it are neither printed nor written.
    pub filter: Option<Filter>,
    /// `-z follow,...`, in the order given.
    pub follows: Vec<FollowSpec>,
    /// tshark's reports in the order of their `-z`: it prints them last first.
    pub tap_order: Vec<TapSlot>,
    /// `--parquet DIR`.
    pub parquet: Option<std::path::PathBuf>,
    /// `-b`: rotate the Parquet export.
    pub ring: Option<crate::output::ring::RingSpec>,
    /// Several captures (`-r` repeated, a directory or a glob): each read by its own worker.
    pub many: Vec<std::path::PathBuf>,
    /// `--jobs N`: workers for several captures (`None`: one per core).
    pub jobs: Option<usize>,
}

/// A report tshark prints in reverse order of its `-z` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapSlot {
    Conv,
    Expert,
    /// An index into `Settings::follows`.
    Follow(usize),
}

impl Settings {
    pub fn from_args(a: &Args) -> anyhow::Result<Settings> {
        let many = crate::many::expand(&a.read)?;
        let source = match (a.read.first(), &a.interface) {
            (Some(_), Some(_)) => bail!("use either -r FILE or -i IFACE, not both"),
            (Some(_), None) if !many.is_empty() => SourceSpec::File(many[0].clone()),
            (Some(r), None) if r == "-" => SourceSpec::Stdin,
            (Some(r), None) => SourceSpec::File(r.into()),
            (None, Some(i)) => SourceSpec::Live(LiveOptions {
                interface: i.clone(),
                promiscuous: !a.no_promiscuous,
                snaplen: a.snaplen,
                bpf: a.bpf(),
                buffer_mib: a.buffer_mib,
            }),
            (None, None) => bail!("nothing to read: give -r FILE (or -r - for standard input) or -i IFACE (see hs-tui -D)"),
        };
        if a.bpf().is_some() && !source.is_live() {
            bail!("a capture filter (-f or trailing words) applies to live capture only; use -Y for a display filter");
        }
        let mut fields = Vec::new();
        for name in &a.fields {
            match fields::by_name(name) {
                Some(f) => fields.push(f),
                None => match fields::nearest(name) {
                    Some(n) => bail!(
                        "unknown field '{name}' (did you mean '{n}'?); see hs-tui --list-fields"
                    ),
                    None => bail!("unknown field '{name}'; see hs-tui --list-fields"),
                },
            }
        }
        let format = a.format.unwrap_or(if fields.is_empty() {
            Format::Text
        } else {
            Format::Fields
        });
        if format == Format::Fields && fields.is_empty() {
            bail!("-T fields needs at least one -e FIELD (see hs-tui --list-fields)");
        }
        let mut fields_opts = FieldsOptions::default();
        for e in &a.field_options {
            fields_opts.set(e).map_err(|e| anyhow!(e))?;
        }
        let mut stats = Stats::default();
        let (mut follows, mut tap_order) = (Vec::new(), Vec::new());
        for z in &a.stats {
            if let Some(spec) = FollowSpec::parse(z) {
                follows.push(spec.map_err(|e| anyhow!(e))?);
                tap_order.push(TapSlot::Follow(follows.len() - 1));
                continue;
            }
            stats.parse(z).map_err(|e| anyhow!(e))?;
            if z.starts_with("conv,") {
                tap_order.retain(|t| *t != TapSlot::Conv);
                tap_order.push(TapSlot::Conv);
            }
            if z.starts_with("expert") {
                tap_order.retain(|t| *t != TapSlot::Expert);
                tap_order.push(TapSlot::Expert);
            }
        }
        stats.zeek_max_conns = a.max_streams.max(1);
        // With -q and nothing else asked for, the handshake summary; a follow is enough.
        if a.quiet && !stats.keeps_rows() && follows.is_empty() {
            stats.summary = true;
        }
        stats.json = a.quiet && a.format == Some(Format::Json);
        stats.alarms = crate::track::alarms::AlarmConfig {
            flood_min: a.synflood_min.max(1),
            flood_window_ns: (a.synflood_window.max(0.0) * 1e9) as i64,
            scan_min_ports: a.scan_min_ports.max(1),
            ..Default::default()
        };
        let mut analyze = true;
        for o in &a.prefs {
            let (k, v) = o
                .split_once(':')
                .ok_or_else(|| anyhow!("invalid -o '{o}': expected NAME:VALUE"))?;
            let on = match v {
                "TRUE" | "true" | "1" => true,
                "FALSE" | "false" | "0" => false,
                _ => bail!("invalid -o value '{v}' for {k}: use TRUE or FALSE"),
            };
            match k {
                "tcp.check_checksum" => {
                    crate::decode::checksum::set_enabled(on);
                    stats.zeek_checksums = Some(on);
                }
                "tcp.analyze_sequence_numbers" => analyze = on,
                _ => bail!("unsupported preference '{k}'; supported: tcp.check_checksum, tcp.analyze_sequence_numbers"),
            }
        }
        // A bad filter stops here, before any packet is read; its Display is tshark's multi-line message.
        let filter = match &a.display_filter {
            Some(text) => Some(Filter::from_arg(text)?),
            None => None,
        };
        let duration = a.duration().map_err(|e| anyhow!(e))?;
        let ring = crate::output::ring::RingSpec::parse(&a.ring).map_err(|e| anyhow!(e))?;
        if ring.is_some() && a.parquet.is_none() {
            bail!("-b rotates the --parquet export (give --parquet DIR); -w ring buffers are not supported");
        }
        Ok(Settings {
            source,
            format,
            fields,
            fields_opts,
            quiet: a.quiet,
            stats,
            read: ReadOptions {
                max_frames: a.count,
                duration: duration.map(Duration::from_secs_f64),
                offsets: false,
                queue_batches: None,
            },
            budget: Budget {
                max_streams: a.max_streams.max(1),
                idle_timeout_ns: a.idle_timeout.map(|s| (s * 1e9) as i64).unwrap_or(0),
            },
            write: a.write.clone(),
            print_with_write: a.print_with_write,
            analyze,
            filter,
            follows,
            tap_order,
            parquet: a.parquet.clone(),
            ring,
            many,
            jobs: a.jobs.map(usize::from),
        })
    }
}

/// Add a stream to the Parquet export; on an error keep it and stop exporting.
fn parquet_stream(
    sink: &mut Option<Export>,
    error: &mut Option<ParquetError>,
    f: &crate::track::FlowSummary,
    tls: Option<&crate::engine::tls::TlsSummary>,
) {
    if let Some(p) = sink.as_mut() {
        if let Err(e) = p.stream(f, tls) {
            *error = Some(e);
            *sink = None;
        }
    }
}

/// The export of a single capture: `DIR/{packets,streams}.parquet`, or with `-b` rotating
/// pairs under `DIR/capture=NAME/` (NAME: the file's name without its extension, or for a
/// live capture HOST-IFACE).
fn open_export(settings: &Settings, dir: &std::path::Path) -> Result<Export, ParquetError> {
    let label = settings.source.describe();
    match &settings.ring {
        None => Export::single(dir, &label),
        Some(spec) => {
            let name = match &settings.source {
                SourceSpec::File(p) => crate::many::partition_names(std::slice::from_ref(p))
                    .pop()
                    .unwrap_or_else(|| "capture".into()),
                SourceSpec::Stdin => "stdin".into(),
                SourceSpec::Live(l) => crate::output::ring::partition_value(&format!(
                    "{}-{}",
                    crate::output::ring::hostname(),
                    l.interface
                )),
            };
            Export::ring(&dir.join(format!("capture={name}")), &label, spec.clone())
        }
    }
}

/// The clock, nanoseconds since the epoch.
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Close the export's period if `ts_ns` is past it; on an error keep it and stop exporting.
fn rotate_if_due(
    sink: &mut Option<Export>,
    error: &mut Option<ParquetError>,
    engine: &Engine,
    ts_ns: i64,
) {
    if let Some(p) = sink.as_mut() {
        if p.due(ts_ns) {
            let streams = engine
                .summaries()
                .map(|s| (s, engine.tls_summary(s.stream)));
            if let Err(e) = p.rotate(streams) {
                *error = Some(e);
                *sink = None;
            }
        }
    }
}

/// Set by SIGINT/SIGTERM: stop capturing, print what we have.
pub fn install_signal_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}

/// Like [`install_signal_flag`], but remembers which signal came (0: none),
/// for the exit status shells expect after one (128 + the signal).
pub fn install_signal_number() -> Arc<std::sync::atomic::AtomicUsize> {
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_usize(sig, n.clone(), sig as usize);
    }
    n
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// `main` says whether descriptor 1 was closed when the process started
/// (`hs-tui ... >&-`). Rust's runtime opens /dev/null in its place before
/// `main`, so only a check that runs earlier can tell (see main.rs).
/// Output is then refused rather than lost.
pub fn set_stdout_closed(closed: bool) {
    STDOUT_CLOSED.store(closed, Ordering::Relaxed);
}

/// Was standard output closed when the process started?
pub fn stdout_is_closed() -> bool {
    stdout_closed()
}

fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Run batch mode. Returns the exit code; errors that stop before reading are `Err`.
pub fn run(mut settings: Settings) -> anyhow::Result<ExitCode> {
    if !settings.many.is_empty() {
        if settings.quiet || settings.parquet.is_some() {
            return crate::many::run(settings);
        }
        // Per-packet output of several captures: one after another, each as if read alone
        // (its own numbering, its own -z reports); `frame.file` tells them apart.
        if settings.write.is_some() {
            bail!("-w cannot be used with several captures");
        }
        let mut code = ExitCode::SUCCESS;
        for f in std::mem::take(&mut settings.many) {
            settings.source = SourceSpec::File(f);
            let c = run_one(&settings)?;
            if c != ExitCode::SUCCESS {
                code = c;
            }
        }
        return Ok(code);
    }
    run_one(&settings)
}

/// Read one capture (a file, standard input or an interface).
fn run_one(settings: &Settings) -> anyhow::Result<ExitCode> {
    let stop = install_signal_flag();
    match &settings.source {
        SourceSpec::File(p) => fields::set_capture_file(Some(&p.to_string_lossy())),
        _ => fields::set_capture_file(None),
    }
    let opened = capture::open(&settings.source)?;
    if settings.source.is_live() {
        capture::privileges::drop_to_invoking_user()?;
    } else {
        capture::privileges::drop_for_file()?;
    }
    let mut writer = match &settings.write {
        Some(p) => Some(PcapWriter::create(
            p,
            opened.link.to_linktype() as u32,
            Create::Replace,
        )?),
        None => None,
    };
    let mut parquet = match &settings.parquet {
        Some(dir) => Some(open_export(settings, dir)?),
        None => None,
    };
    let mut parquet_error: Option<ParquetError> = None;
    let running = capture::spawn(opened, settings.read.clone());
    let cap_stop = running.stop_flag();

    let stdout = io::stdout();
    let flush_each_batch = settings.source.is_live()
        || matches!(settings.source, capture::SourceSpec::Stdin)
        || std::io::IsTerminal::is_terminal(&stdout);
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    // As tshark: -w prints nothing unless -P; nor does --parquet.
    let print_packets = !settings.quiet
        && ((settings.write.is_none() && settings.parquet.is_none()) || settings.print_with_write);
    let mut write_error: Option<WriteError> = None;
    let mut printer = Printer::new(
        settings.format,
        settings.fields.clone(),
        settings.fields_opts.clone(),
    );
    if let SourceSpec::File(path) = &settings.source {
        printer.set_time_decimals(crate::output::file_time_decimals(path));
    }
    let mut reports = Reports::new(settings.stats.clone());
    let mut engine = Engine::new(settings.budget);
    engine.set_analysis(settings.analyze);
    // Printing a `tls.*` field (or every field, as JSON does without -e) needs the TLS dissection too.
    let print_tls = settings.fields.iter().any(|f| fields::needs_tls(f))
        || matches!(settings.format, Format::Json | Format::Ek | Format::Ndjson)
            && settings.fields.is_empty();
    let uses_app =
        settings.filter.as_ref().is_some_and(Filter::uses_app) || reports.uses_app() || print_tls;
    engine.dissect(AppLayer::App.when(uses_app));
    // The export's TLS columns need the TLS dissection (only); the reports' set-up
    // legs make do with the cheaper one that follows streams which begin with TLS.
    engine.dissect(AppLayer::Tls.when(parquet.is_some()));
    engine.dissect(AppLayer::TlsLite.when(reports.wants_tls()));
    let want_reports = reports.wanted();
    // The streams' tallies run beside the engine (see `report_job`); the per-packet
    // reports stay here, in packet order.
    let mut stream_job = if want_reports {
        Some(crate::output::report_job::StreamReportJob::spawn(
            settings.stats.clone(),
        )?)
    } else {
        None
    };
    // TLS follows print no payload (no keys): only TCP ones are fed.
    let mut followers: Vec<Follower> = settings
        .follows
        .iter()
        .map(|_| Follower::default())
        .collect();
    let follow_tcp = settings
        .follows
        .iter()
        .any(|s| s.proto == follow::Proto::Tcp);
    // Rust's standard output swallows writes to a closed descriptor: say it instead of losing everything.
    if (print_packets || want_reports || !followers.is_empty()) && stdout_closed() {
        bail!("standard output is closed: nothing could be printed (-w FILE saves packets without printing)");
    }
    let mut error: Option<CaptureError> = None;
    let mut thread_died = false;
    let mut stats: Option<capture::Stats> = None;

    let result: io::Result<()> = (|| {
        if print_packets {
            printer.begin(&mut out)?;
        }
        loop {
            if stop.load(Ordering::Relaxed) {
                cap_stop.store(true, Ordering::Relaxed);
            }
            let ev = match running.events.recv_timeout(Duration::from_millis(200)) {
                Ok(ev) => ev,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    // A live capture's period ends by the clock too, packets or not.
                    if settings.source.is_live() {
                        rotate_if_due(&mut parquet, &mut parquet_error, &engine, now_ns());
                    }
                    continue;
                }
                // The capture thread always says Done: gone without it, it crashed.
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    thread_died = true;
                    break;
                }
            };
            match ev {
                Event::Batch(batch) => {
                    for (i, (f, bytes)) in batch.iter().enumerate() {
                        engine.prefetch(&batch.frames, i);
                        if parquet.as_ref().is_some_and(|p| p.due(f.ts_ns)) {
                            rotate_if_due(&mut parquet, &mut parquet_error, &engine, f.ts_ns);
                            if parquet.is_none() {
                                cap_stop.store(true, Ordering::Relaxed);
                            }
                        }
                        let view = engine.process(f, bytes);
                        reports.packet(&view);
                        if follow_tcp {
                            feed_follows(&settings.follows, &mut followers, &view);
                        }
                        // The engine saw the packet; the filter decides only what is shown and written.
                        if settings
                            .filter
                            .as_ref()
                            .is_none_or(|flt| flt.matches(&view))
                        {
                            if print_packets {
                                printer.packet(&view, &mut out)?;
                            }
                            if let Some(p) = parquet.as_mut() {
                                if let Err(e) = p.packet(&view) {
                                    parquet_error = Some(e);
                                    parquet = None;
                                    cap_stop.store(true, Ordering::Relaxed);
                                }
                            }
                            if let Some(w) = writer.as_mut() {
                                if let Err(e) = w.write(f.ts_ns, f.wire_len, bytes) {
                                    // Stop reading: nothing more can be saved.
                                    write_error = Some(e);
                                    writer = None;
                                    cap_stop.store(true, Ordering::Relaxed);
                                }
                            }
                        }
                        if (want_reports || parquet.is_some()) && engine.has_retired() {
                            if let (Some(job), Some(t)) =
                                (stream_job.as_mut(), engine.counts().first_ts)
                            {
                                job.set_capture_start(t);
                            }
                            for (s, tls) in engine.take_retired_with_tls() {
                                parquet_stream(
                                    &mut parquet,
                                    &mut parquet_error,
                                    &s,
                                    tls.as_deref(),
                                );
                                if let Some(job) = stream_job.as_mut() {
                                    job.add(s, tls);
                                }
                            }
                        }
                    }
                    if !want_reports && parquet.is_none() && engine.has_retired() {
                        engine.take_retired();
                    }
                    if let Some(t) = engine.counts().first_ts {
                        reports.set_capture_start(t);
                    }
                    running.recycle(batch);
                    // Someone is watching (a terminal, a live capture, a pipe that may be
                    // live): show each batch as it comes, not when 1 MiB has piled up.
                    if flush_each_batch {
                        printer.flush(&mut out)?;
                        out.flush()?;
                    }
                }
                Event::Stats(s) => {
                    stats = Some(s);
                    if settings.source.is_live() {
                        rotate_if_due(&mut parquet, &mut parquet_error, &engine, now_ns());
                    }
                }
                Event::Done(e) => {
                    error = e;
                    break;
                }
            }
        }
        if print_packets {
            printer.end(&mut out)?;
        }
        if let (Some(job), Some(t)) = (stream_job.as_mut(), engine.counts().first_ts) {
            job.set_capture_start(t);
        }
        // The streams the engine still holds, in its order, counted where they lie.
        let live: Vec<_> = engine
            .summaries()
            .map(|s| (s, engine.tls_summary(s.stream)))
            .collect();
        if parquet.is_some() {
            for (i, (s, tls)) in live.iter().enumerate() {
                // The streams lie apart in the engine's slab: fetch a few ahead, as the
                // tallies do (each row waited on memory).
                if let Some((next, _)) = live.get(i + 4) {
                    crate::prefetch::value(*next);
                }
                parquet_stream(&mut parquet, &mut parquet_error, s, *tls);
            }
        }
        if let Some(p) = parquet.take() {
            if let Err(e) = p.finish() {
                parquet_error = Some(e);
            }
        }
        if let Some(job) = stream_job.take() {
            match job.finish_with(&live) {
                Ok(parts) => parts
                    .into_iter()
                    .for_each(|part| reports.take_streams_from(part)),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        drop(live);
        if want_reports {
            reports.write_head(&mut out)?;
        }
        // tshark prints its reports in reverse order of their -z.
        for slot in settings.tap_order.iter().rev() {
            match *slot {
                TapSlot::Conv if want_reports => reports.write_conv_report(&mut out)?,
                TapSlot::Conv => {}
                TapSlot::Expert if want_reports => reports.write_expert_report(&mut out)?,
                TapSlot::Expert => {}
                TapSlot::Follow(i) => {
                    follow::render(&settings.follows[i], &followers[i], &mut out)?
                }
            }
        }
        if want_reports {
            reports.write_tail(&mut out)?;
        }
        out.flush()
    })();
    drop(running);
    let counts = *engine.counts();
    // Hundreds of thousands of streams: let the OS reclaim them at exit.
    std::mem::forget(engine);
    if let Some(w) = writer.take() {
        if let Err(e) = w.finish() {
            write_error = Some(e);
        }
    }
    if let Some(e) = write_error {
        eprintln!("hs-tui: {e}");
        return Ok(ExitCode::from(2));
    }
    if let Some(e) = parquet_error {
        eprintln!("hs-tui: {e}");
        return Ok(ExitCode::from(2));
    }
    match result {
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("writing output"),
        Ok(()) => {}
    }
    if settings.source.is_live() {
        let dropped = stats.map(|s| s.dropped + s.if_dropped).unwrap_or(0);
        eprintln!(
            "{} packets captured, {dropped} dropped by the kernel, {} malformed",
            counts.frames, counts.malformed
        );
    }
    if let Some(e) = error {
        eprintln!("hs-tui: {e}");
        return Ok(ExitCode::from(2));
    }
    if thread_died {
        eprintln!(
            "hs-tui: the capture thread stopped unexpectedly after {} packets; what was read is above",
            counts.frames
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Give a packet to every TCP follow whose filter it matches.
fn feed_follows(
    specs: &[FollowSpec],
    followers: &mut [Follower],
    view: &crate::fields::PacketView<'_>,
) {
    let Some(seg) = follow::segment_of(view) else {
        return;
    };
    for (spec, f) in specs.iter().zip(followers.iter_mut()) {
        if spec.proto == follow::Proto::Tcp && spec.matches(view) {
            f.segment(&seg);
        }
    }
}
