//! The `hs-tui` binary: parse arguments, run, report one-line errors.
//! Exit codes: 0 success, 2 bad input (arguments, file, filter, capture).

use clap::Parser;
use hs_tui::cli::Args;
use hs_tui::{capture, fields, pipeline};
use std::io::Write;
use std::process::ExitCode;

/// Was descriptor 1 closed at exec? Set by `probe_stdout`, which the C
/// runtime calls from `.init_array` before Rust's runtime reopens closed
/// standard descriptors on /dev/null (after which a closed stdout and
/// `> /dev/null` look alike).
static STDOUT_CLOSED_AT_START: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

extern "C" fn probe_stdout() {
    // SAFETY: F_GETFD only inspects the descriptor table.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED_AT_START.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[used]
#[link_section = ".init_array"]
static PROBE_STDOUT: extern "C" fn() = probe_stdout;

fn main() -> ExitCode {
    pipeline::set_stdout_closed(STDOUT_CLOSED_AT_START.load(std::sync::atomic::Ordering::Relaxed));
    // `hs-tui diff A B ...` has arguments of its own; everything else is tshark-style.
    if std::env::args_os().nth(1).is_some_and(|a| a == "diff") {
        let words = std::env::args_os().skip(1);
        return match hs_tui::diff::run::main(words) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("hs-tui: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe is how `hs-tui ... | head` ends: quietly, with success.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("hs-tui: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.list_fields {
        let mut out = std::io::stdout().lock();
        for f in fields::FIELDS {
            writeln!(out, "{}\t{}\t{}", f.name, f.ty.name(), f.desc)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_filters {
        // name, expression, description, where it came from (see filters/README.md).
        let (presets, warnings) = hs_tui::filter::presets::all();
        for w in warnings {
            eprintln!("hs-tui: warning: {w}");
        }
        let mut out = std::io::stdout().lock();
        for p in presets {
            writeln!(out, "{}\t{}\t{}\t{}", p.name, p.expr, p.desc, p.source)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_interfaces {
        let mut out = std::io::stdout().lock();
        for (i, d) in capture::interfaces()?.iter().enumerate() {
            let addrs: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
            let desc = d.desc.clone().unwrap_or_default();
            let extra = match (desc.is_empty(), addrs.is_empty()) {
                (true, true) => String::new(),
                (true, false) => format!(" ({})", addrs.join(", ")),
                (false, true) => format!(" ({desc})"),
                (false, false) => format!(" ({desc}: {})", addrs.join(", ")),
            };
            writeln!(out, "{}. {}{}", i + 1, d.name, extra)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    capture::privileges::set_run_as(args.run_as.clone());
    let settings = pipeline::Settings::from_args(args)?;
    if hs_tui::tui::wanted(args) {
        if !settings.many.is_empty() || settings.parquet.is_some() {
            anyhow::bail!("the interactive view reads one capture, without --parquet");
        }
        return hs_tui::tui::run(settings, hs_tui::tui::Options::from_args(args));
    }
    pipeline::run(settings)
}
