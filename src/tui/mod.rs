//! The interactive terminal UI (ratatui + crossterm).
//!
//! * `app`: all UI state and its transitions (`App`), no drawing;
//! * `store`: the packets and flows the UI holds, within a memory budget;
//! * `ui`: drawing from `&App`, one file per region;
//! * `keys`: the key table (also prints the help);
//! * `detail`: the packet detail tree, from the field registry;
//! * `filter`: the hook for the display-filter engine, and the quick filter.
//!
//! The event loop never blocks: it polls the keyboard with a short timeout,
//! takes capture batches for at most `INGEST_BUDGET` per turn, runs
//! background work (filter, save) for at most `WORK_BUDGET` (within
//! `TURN_BUDGET` of the turn), and redraws.
//! A key is therefore answered within one turn (~30 ms plus a frame).
//!
//! The terminal is restored on quit, Ctrl-C (a key in raw mode), SIGINT and
//! SIGTERM (checked every turn), and on a panic of the UI thread (a hook
//! restores it before the message prints).

pub mod app;
pub mod columns;
pub mod detail;
pub mod filter;
pub mod fmt;
pub mod follow_view;
pub mod jobs;
pub mod keys;
pub mod store;
pub mod ui;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_follow;
#[cfg(test)]
mod tests_legs;
#[cfg(test)]
mod tests_views;

pub use app::App;

use crate::capture::{self, Event, SourceSpec};
use crate::cli::Args;
use crate::output::Format;
use crate::pipeline::Settings;
use anyhow::{bail, Context};
use crossbeam_channel::Receiver;
use crossterm::event::{
    self as cevent, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Batches of frames read ahead of the view from a file. The disk is never
/// the bottleneck there, so a short queue loads as fast and holds ~2 MB
/// instead of ~25 MB (16 batches, 32 kept for reuse) of decoded frames.
pub const FILE_QUEUE_BATCHES: usize = 3;

/// Longest time a turn spends taking in packets.
pub const INGEST_BUDGET: Duration = Duration::from_millis(20);
/// Longest time a turn spends on background work (filter, save, re-sort).
pub const WORK_BUDGET: Duration = Duration::from_millis(10);
/// Taking in packets and background work together, so a turn whose intake
/// ran long (a batch that set off the tracker's budget sweep) leaves its
/// background work to the next turn and still answers a key within 50 ms.
pub const TURN_BUDGET: Duration = Duration::from_millis(30);

/// When a turn that began at `start` must end its background work.
pub fn work_deadline(start: Instant) -> Instant {
    (Instant::now() + WORK_BUDGET).min(start + TURN_BUDGET)
}
/// Keyboard poll timeout when there is nothing else to do.
const IDLE_POLL: Duration = Duration::from_millis(30);
/// Redraw at most this often while data streams in (input redraws at once).
const BUSY_FRAME: Duration = Duration::from_millis(50);
const IDLE_FRAME: Duration = Duration::from_millis(500);

/// TUI-only settings.
pub struct Options {
    pub limits: store::Limits,
    pub compiler: Option<filter::Compiler>,
}

impl Options {
    pub fn from_args(a: &Args) -> Options {
        Options {
            limits: store::Limits {
                spool_bytes: a.tui_spool_mb.max(1) << 20,
                ..store::Limits::for_packets(a.tui_max_packets)
            },
            compiler: filter::default_compiler(),
        }
    }
}

/// Whether these arguments ask for the TUI: `-T tui`, or no output option
/// at all (`-T`, `-q`, `-e`, `-z`, `-w`) with a terminal on standard output.
pub fn wanted(a: &Args) -> bool {
    match a.format {
        Some(Format::Tui) => true,
        Some(_) => false,
        None => {
            !a.quiet
                && a.fields.is_empty()
                && a.stats.is_empty()
                && a.write.is_none()
                && a.parquet.is_none()
                && a.read.len() <= 1
                && io::stdout().is_terminal()
        }
    }
}

/// Open the source, run the TUI until the user quits, restore the terminal,
/// then report a capture error on stderr (exit status 2).
pub fn run(settings: Settings, opts: Options) -> anyhow::Result<ExitCode> {
    if !io::stdout().is_terminal() {
        bail!("-T tui needs a terminal on standard output");
    }
    let opened = capture::open(&settings.source)?;
    if settings.source.is_live() {
        capture::privileges::drop_to_invoking_user()?;
    } else {
        capture::privileges::drop_for_file()?;
    }
    let file_size = match &settings.source {
        SourceSpec::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        _ => None,
    };
    let source = app::SourceInfo {
        name: settings.source.describe(),
        live: settings.source.is_live(),
        file_size,
        path: match &settings.source {
            SourceSpec::File(p) => Some(p.clone()),
            _ => None,
        },
    };
    let mut app = App::new(
        source,
        opened.link,
        settings.budget,
        opts.limits,
        opts.compiler,
    );
    app.alarm_cfg = settings.stats.alarms;
    // Columns and filter history from the last run, of the user the view runs as
    // (a user without a home, such as nobody, has none and keeps none).
    let (remembered, problem) = columns::Remembered::load();
    app.columns = remembered.columns;
    app.filter.history = remembered.history;
    app.config_enabled = columns::config_dir().is_some();
    if let Some(p) = problem {
        app.message = Some((app::Severity::Error, format!("settings not read: {p}")));
    }
    // -Y applies from the start (it was already checked, so a bad filter never opens the TUI).
    if let Some(f) = &settings.filter {
        app.apply_filter(f.text());
    }
    // Frame bytes stay in the file: the capture thread tells where each one is.
    let read = capture::ReadOptions {
        offsets: true,
        queue_batches: (!settings.source.is_live()).then_some(FILE_QUEUE_BATCHES),
        ..settings.read.clone()
    };
    let running = capture::spawn(opened, read);
    let signal = crate::pipeline::install_signal_number();

    let mut term = Term::enter().context("cannot set up the terminal")?;
    let result = event_loop(&mut term.terminal, &mut app, &running.events, &signal);
    drop(term);
    // Don't wait for the capture thread: on Linux, libpcap's read timeout
    // does not make a read return on an idle interface, so joining could
    // hang until the next packet. Ask it to stop and let the exit end it.
    running.stop();
    std::mem::forget(running);
    // The filter history is kept for the next run; a failure is said, not fatal.
    if let Err(e) = app.remember() {
        eprintln!("hs-tui: {e}");
    }
    result.context("terminal error")?;
    if let Some(e) = &app.capture.error {
        eprintln!("hs-tui: {e}");
        return Ok(ExitCode::from(2));
    }
    // As shells expect: 130 after Ctrl-C or SIGINT, 143 after SIGTERM.
    let sig = match signal.load(Ordering::Relaxed) {
        0 => app.quit_signal,
        n => Some(n as i32),
    };
    Ok(sig.map_or(ExitCode::SUCCESS, |s| ExitCode::from(128 + s as u8)))
}

/// The terminal in raw mode on the alternate screen, with mouse reporting;
/// dropping it restores everything.
struct Term {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
}

static UI_THREAD: OnceLock<std::thread::ThreadId> = OnceLock::new();

impl Term {
    fn enter() -> io::Result<Term> {
        install_panic_hook();
        abort_guard::install();
        enable_raw_mode()?;
        let setup = (|| {
            execute!(
                io::stdout(),
                EnterAlternateScreen,
                EnableMouseCapture,
                crossterm::event::EnableBracketedPaste
            )?;
            Terminal::new(CrosstermBackend::new(io::stdout()))
        })();
        match setup {
            Ok(terminal) => Ok(Term { terminal }),
            Err(e) => {
                restore_terminal();
                Err(e)
            }
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Undo raw mode, mouse reporting and the alternate screen. Idempotent.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        crossterm::event::DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// An abort (a stack overflow ends in one, as does `panic = "abort"`) runs no
/// Rust code that could restore the terminal: a SIGABRT handler puts back the
/// terminal settings saved before raw mode and leaves the alternate screen
/// and mouse reporting, with async-signal-safe calls only.
mod abort_guard {
    use std::sync::OnceLock;

    static SAVED: OnceLock<libc::termios> = OnceLock::new();
    /// Mouse reporting off (all modes), main screen, cursor shown.
    const RESTORE: &[u8] =
        b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1049l\x1b[?25h";

    extern "C" fn on_abort(_: libc::c_int) {
        // SAFETY: tcsetattr and write are async-signal-safe; SAVED is only read.
        unsafe {
            if let Some(t) = SAVED.get() {
                libc::tcsetattr(1, libc::TCSANOW, t);
            }
            libc::write(1, RESTORE.as_ptr().cast(), RESTORE.len());
            // The default action now (SA_RESETHAND restored it): abort() would
            // re-raise by itself, a SIGABRT sent by kill would not.
            libc::raise(libc::SIGABRT);
        }
    }

    pub fn install() {
        // SAFETY: plain libc calls on our own descriptors and signal table;
        // the handler is installed once, with SA_RESETHAND so a second abort is the default.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(1, &mut t) == 0 && SAVED.set(t).is_ok() {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_abort as *const () as usize;
                sa.sa_flags = libc::SA_RESETHAND | libc::SA_ONSTACK;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(libc::SIGABRT, &sa, std::ptr::null_mut());
            }
        }
    }
}

/// A panic on the UI thread restores the terminal before the message prints.
fn install_panic_hook() {
    if UI_THREAD.set(std::thread::current().id()).is_err() {
        return;
    }
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if UI_THREAD.get() == Some(&std::thread::current().id()) {
            restore_terminal();
        }
        prev(info);
    }));
}

/// Feed one terminal event to the app. Returns true if the screen should change.
pub fn handle_event(app: &mut App, ev: TermEvent) -> bool {
    match ev {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => {
            app.on_key(k);
            true
        }
        TermEvent::Mouse(m) => {
            app.on_mouse(m);
            true
        }
        TermEvent::Paste(text) => {
            app.on_paste(&text);
            true
        }
        TermEvent::Resize(..) => true,
        _ => false,
    }
}

/// Lay out for the current size, then draw.
pub fn render<B: Backend>(terminal: &mut Terminal<B>, app: &mut App) -> Result<(), B::Error> {
    app.filter.refresh_check();
    let size = terminal.size()?;
    let areas = ui::layout(Rect::new(0, 0, size.width, size.height), app);
    app.set_areas(areas);
    terminal.draw(|f| ui::draw(f, app))?;
    Ok(())
}

fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Event>,
    signal: &AtomicUsize,
) -> io::Result<()>
where
    B::Error: Into<io::Error>,
{
    let mut redraw = true;
    let mut last_draw: Option<Instant> = None;
    // For the end-to-end test of the panic hook: panic once the screen is up.
    let test_panic = std::env::var_os("HS_TUI_TEST_PANIC").is_some();
    loop {
        if test_panic && last_draw.is_some() {
            panic!("HS_TUI_TEST_PANIC is set");
        }
        while cevent::poll(Duration::ZERO)? {
            redraw |= handle_event(app, cevent::read()?);
            if app.quit {
                return Ok(());
            }
        }
        if app.quit || signal.load(Ordering::Relaxed) != 0 {
            return Ok(());
        }
        let before = (
            app.store.counts.frames,
            app.filter.job.as_ref().map(|j| j.position()),
            app.capture.done,
            app.pending_packets,
        );
        let start = Instant::now();
        let more_input = app.pump(rx, start + INGEST_BUDGET);
        let more_work = app.work(work_deadline(start));
        let changed = before
            != (
                app.store.counts.frames,
                app.filter.job.as_ref().map(|j| j.position()),
                app.capture.done,
                app.pending_packets,
            );
        let since = last_draw.map(|t| t.elapsed()).unwrap_or(Duration::MAX);
        if redraw || (changed && since >= BUSY_FRAME) || since >= IDLE_FRAME {
            render(terminal, app).map_err(Into::into)?;
            last_draw = Some(Instant::now());
            redraw = false;
        }
        let timeout = if more_input || more_work || changed {
            Duration::ZERO
        } else {
            IDLE_POLL
        };
        if cevent::poll(timeout)? {
            redraw |= handle_event(app, cevent::read()?);
        }
    }
}
