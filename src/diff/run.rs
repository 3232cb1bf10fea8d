//! `hs-tui diff A B`: read both captures, match them, then print per-packet
//! rows (`-T fields|json|ek|ndjson|text`, `-Y`), the per-connection report
//! (all connections; `-q`: only those with a problem, and the totals), a
//! per-connection TSV (`--summary FILE`), or open the two-lane ladder.

use super::conns::percentile;
use super::matching::{self, Diff, Options};
use super::{human, load, ms, Capture, Conn, DiffView, HsResult, Side};
use crate::capture::{self, Event, ReadOptions, SourceSpec};
use crate::engine::Engine;
use crate::fields;
use crate::filter::Filter;
use crate::output::{FieldsOptions, Format, Printer};
use crate::track::Budget;
use anyhow::{anyhow, bail, Context};
use clap::Parser;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

/// `hs-tui diff`: the arguments after the word `diff`.
#[derive(Parser, Debug, Clone, Default)]
#[command(
    name = "hs-tui diff",
    bin_name = "hs-tui diff",
    about = "Compare two captures of the same traffic taken at two points of a path",
    long_about = "Compare two captures of the same TCP traffic taken at two points of a path (A usually at \
the client, B at the server). Every packet is matched with its copy at the other point by what does not change \
in flight (raw seq/ack, flags, payload length, IPv4 ID, TCP timestamps, window; addresses and ports through any \
NAT between the points). The clock offset between the captures is estimated from the one-way delays of both \
directions, assuming the minimum delay is the same each way.\n\n\
With a terminal and no -T/-q/-e it opens the two-lane ladder; otherwise it prints a verdict per connection.",
    after_help = "Examples:\n  hs-tui diff client.pcap server.pcap\n  hs-tui diff client.pcap server.pcap -q\n  \
hs-tui diff a.pcap b.pcap -T fields -e hs.diff.side -e frame.number -e hs.diff.peer_frame -e hs.diff.lost -e hs.diff.owd\n  \
hs-tui diff a.pcap b.pcap -Y 'hs.diff.lost == 1'\n  tcpdump -w - ... | hs-tui diff - server.pcap -q"
)]
pub struct DiffArgs {
    /// Capture at the first point, usually the client side ("-": standard input)
    #[arg(value_name = "A")]
    pub a: String,
    /// Capture at the second point, usually the server side ("-": standard input)
    #[arg(value_name = "B")]
    pub b: String,
    /// Display filter on the per-packet rows (hs.diff.* fields included)
    #[arg(short = 'Y', long = "display-filter", value_name = "FILTER")]
    pub display_filter: Option<String>,
    /// Per-packet output format (A's packets, then B's)
    #[arg(short = 'T', value_name = "FORMAT", value_enum)]
    pub format: Option<Format>,
    /// A field to print with -T fields/json/ek/ndjson (repeat for more)
    #[arg(short = 'e', value_name = "FIELD")]
    pub fields: Vec<String>,
    /// -T fields option, as tshark's -E
    #[arg(short = 'E', value_name = "KEY=VALUE")]
    pub field_options: Vec<String>,
    /// Only the connections with a problem, and the totals
    #[arg(short = 'q')]
    pub quiet: bool,
    /// B's clock minus A's in seconds, when known (otherwise estimated)
    #[arg(long = "offset", value_name = "SECONDS", allow_hyphen_values = true)]
    pub offset: Option<f64>,
    /// A copy arriving more than this many seconds after its packet is another packet
    #[arg(long = "max-owd", value_name = "SECONDS", default_value_t = 0.5)]
    pub max_owd: f64,
    /// Write one row per connection (tab-separated, summary.tsv's columns) to this file
    #[arg(long = "summary", value_name = "FILE")]
    pub summary: Option<std::path::PathBuf>,
}

/// Both captures read and matched.
pub struct Loaded {
    pub a: Capture,
    pub b: Capture,
    pub diff: Diff,
}

/// Read and match two captures.
pub fn load_pair(a: &str, b: &str, opts: &Options) -> anyhow::Result<Loaded> {
    if a == "-" && b == "-" {
        bail!("only one of the two captures can be standard input");
    }
    let (ca, cb) = std::thread::scope(|s| {
        let ha = s.spawn(|| load::load(a, Side::A));
        let rb = load::load(b, Side::B);
        let ra = ha.join().map_err(|_| anyhow!("reading {a} failed"));
        (ra, rb)
    });
    let ca = ca?.with_context(|| format!("capture A ({a})"))?;
    let cb = cb.with_context(|| format!("capture B ({b})"))?;
    let diff = matching::diff(&ca, &cb, opts);
    Ok(Loaded { a: ca, b: cb, diff })
}

/// Parse `hs-tui diff ...` (the words after `hs-tui`) and run it.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> anyhow::Result<ExitCode> {
    let d = match DiffArgs::try_parse_from(args) {
        Ok(d) => d,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    run(&d)
}

pub fn run(d: &DiffArgs) -> anyhow::Result<ExitCode> {
    let mut flds = Vec::new();
    for name in &d.fields {
        match fields::by_name(name) {
            Some(f) => flds.push(f),
            None => bail!("unknown field '{name}'; see hs-tui --list-fields"),
        }
    }
    let mut fopts = FieldsOptions::default();
    for e in &d.field_options {
        fopts.set(e).map_err(|e| anyhow!(e))?;
    }
    let filter = match &d.display_filter {
        Some(t) => Some(Filter::from_arg(t)?),
        None => None,
    };
    if !(d.max_owd.is_finite() && d.max_owd > 0.0) {
        bail!("--max-owd must be a positive number of seconds");
    }
    if d.offset.is_some_and(|o| !o.is_finite()) {
        bail!("--offset must be a number of seconds");
    }
    let opts = Options {
        max_owd_ns: (d.max_owd.min(1e6) * 1e9) as i64,
        offset_ns: d.offset.map(|o| (o.clamp(-1e9, 1e9) * 1e9).round() as i64),
    };
    let format = match (d.format, flds.is_empty()) {
        (Some(f), _) => Some(f),
        (None, false) => Some(Format::Fields),
        (None, true) => None,
    };
    let tui = format == Some(Format::Tui)
        || (format.is_none() && !d.quiet && d.summary.is_none() && io::stdout().is_terminal());
    if format == Some(Format::Fields) && flds.is_empty() {
        bail!("-T fields needs at least one -e FIELD (see hs-tui --list-fields)");
    }
    let loaded = load_pair(&d.a, &d.b, &opts)?;
    if let Some(path) = &d.summary {
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut w = BufWriter::new(f);
        write_summary(&mut w, &loaded)?;
        w.flush()?;
    }
    if tui {
        return super::tui::run(&loaded);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let r = match format {
        Some(f) if f != Format::Tui => rows(&mut out, &loaded, f, flds, fopts, filter.as_ref()),
        _ if d.summary.is_some() && !d.quiet => Ok(()),
        _ => report(&mut out, &loaded, d.quiet),
    };
    let r = r.and_then(|_| out.flush());
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing output"),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

/// Per-packet rows: every TCP packet of A, then of B, through the engine, so
/// every other field works as with `-r`.
fn rows(
    out: &mut dyn Write,
    l: &Loaded,
    format: Format,
    flds: Vec<&'static fields::Field>,
    fopts: FieldsOptions,
    filter: Option<&Filter>,
) -> io::Result<()> {
    let mut printer = Printer::new(format, flds, fopts);
    printer.begin(out)?;
    for c in [&l.a, &l.b] {
        printer.set_time_decimals(crate::output::file_time_decimals(&c.path));
        let opened = match capture::open(&SourceSpec::File(c.path.clone())) {
            Ok(o) => o,
            Err(e) => return Err(io::Error::other(e.to_string())),
        };
        let running = capture::spawn(opened, ReadOptions::default());
        let mut engine = Engine::new(Budget::default());
        engine.dissect(crate::engine::AppLayer::App.when(filter.is_some_and(Filter::uses_app)));
        let rows = l.diff.rows(c.side);
        let mut k = 0usize;
        while let Ok(ev) = running.events.recv() {
            let batch = match ev {
                Event::Batch(b) => b,
                Event::Done(_) => break,
                Event::Stats(_) => continue,
            };
            for (f, bytes) in batch.iter() {
                while k < c.pkts.len() && (c.pkts[k].frame as u64) < f.number {
                    k += 1;
                }
                let hit = c
                    .pkts
                    .get(k)
                    .filter(|p| p.frame as u64 == f.number)
                    .is_some();
                let mut view = engine.process(f, bytes);
                if !hit {
                    continue;
                }
                let peers = l.diff.peer_frames(&l.a, &l.b, c.side, k as u32);
                let row = &rows[k];
                let dv = DiffView {
                    side: c.side,
                    row,
                    peer_frames: &peers,
                    clock_offset_ns: l.diff.clock.offset_ns,
                    conn: l.diff.conns.get(row.conn as usize),
                };
                view.diff = Some(&dv);
                if filter.is_none_or(|flt| flt.matches(&view)) {
                    printer.packet(&view, out)?;
                }
            }
            running.recycle(batch);
        }
    }
    printer.end(out)
}

fn owd_line(v: &[i64]) -> String {
    let p = |q: f64| percentile(v, q).map(ms).unwrap_or_else(|| "-".into());
    format!(
        "min {} p50 {} p90 {} p99 {} max {} ms ({} packets)",
        p(0.0),
        p(50.0),
        p(90.0),
        p(99.0),
        p(100.0),
        v.len()
    )
}

/// What the captures say about the clocks.
pub fn clock_line(l: &Loaded) -> String {
    let c = &l.diff.clock;
    let off = format!("{:+.3} ms", c.offset_ns as f64 / 1e6);
    if c.given {
        return format!("clock offset B − A = {off} (given)");
    }
    match c.bound_ns {
        Some(b) => format!(
            "clock offset B − A = {off}, estimated from {} + {} packets; assumes the minimum one-way delay \
is the same each way: the captures alone only bound it to ±{} (half the minimum round trip), and it is off by \
half the difference of the two minimum delays",
            c.pairs_ab,
            c.pairs_ba,
            human(b)
        ),
        None => format!(
            "clock offset B − A = {off}: only one direction was matched, so this assumes a zero one-way delay"
        ),
    }
}

/// The report: header, totals, and the connections (all, or only those with a problem).
pub fn report(w: &mut dyn Write, l: &Loaded, only_problems: bool) -> io::Result<()> {
    let (a, b, d) = (&l.a, &l.b, &l.diff);
    writeln!(
        w,
        "Two-point diff: A = {} ({} TCP packets), B = {} ({} TCP packets)",
        a.name,
        a.pkts.len(),
        b.name,
        b.pkts.len()
    )?;
    writeln!(w, "  {}", clock_line(l))?;
    match &d.nat.example {
        Some((ka, kb)) => writeln!(
            w,
            "  NAT between the points: {} of {} flows rewritten, e.g. {} → {} seen at B as {} → {}",
            d.nat.flows_rewritten, d.nat.flows_matched, ka.src, ka.dst, kb.src, kb.dst
        )?,
        None => writeln!(
            w,
            "  no NAT: the {} flows seen at both points have the same addresses and ports",
            d.nat.flows_matched
        )?,
    }
    if d.ipid_ignored {
        writeln!(
            w,
            "  IPv4 IDs differ between the points (rewritten on the way): packets matched without them"
        )?;
    }
    // Totals per direction (A→B, B→A).
    let mut sent = [0u64; 2];
    let mut lost = [0u64; 2];
    let mut dup = [0u64; 2];
    let mut reord = [0u64; 2];
    let mut unseen = [0u64; 2];
    let mut owds: [Vec<i64>; 2] = [Vec::new(), Vec::new()];
    for rows in [&d.a, &d.b] {
        for r in rows {
            let k = if r.dir_ab { 0 } else { 1 };
            if r.sender {
                sent[k] += 1;
                lost[k] += (r.copies == 0) as u64;
                dup[k] += (r.copies > 1) as u64;
                reord[k] += r.reordered as u64;
                if r.owd != matching::NO_OWD {
                    owds[k].push(r.owd);
                }
            } else if r.peer == matching::NONE {
                unseen[k] += 1;
            }
        }
    }
    for (k, name) in [(0, "a→b"), (1, "b→a")] {
        owds[k].sort_unstable();
        let pct = if sent[k] > 0 {
            100.0 * lost[k] as f64 / sent[k] as f64
        } else {
            0.0
        };
        writeln!(
            w,
            "  {name}: {} sent, {} lost ({pct:.1}%), {} duplicated, {} reordered, {} seen only at the receiver (capture drops at the sender's point); one-way delay {}",
            sent[k],
            lost[k],
            dup[k],
            reord[k],
            unseen[k],
            owd_line(&owds[k])
        )?;
    }
    let n = d.conns.len();
    let problems = d.conns.iter().filter(|c| c.problem).count();
    let count = |f: &dyn Fn(&Conn) -> bool| d.conns.iter().filter(|c| f(c)).count();
    writeln!(
        w,
        "  {n} connections: {} established, {} refused, {} half-open, {} unanswered; {problems} with a problem: {} lost a SYN, {} lost a SYN-ACK, {} lost the handshake ACK",
        count(&|c| c.result == HsResult::Established),
        count(&|c| c.result == HsResult::Refused),
        count(&|c| c.result == HsResult::HalfOpen),
        count(&|c| c.result == HsResult::NoAnswer && c.syn_sent > 0),
        count(&|c| c.syn_lost > 0),
        count(&|c| c.synack_lost > 0),
        count(&|c| c.hs_ack_lost == Some(true)),
    )?;
    writeln!(w)?;
    for c in &d.conns {
        if only_problems && !c.problem {
            continue;
        }
        conn_block(w, c)?;
    }
    Ok(())
}

/// One connection's verdict, a few lines.
pub fn conn_block(w: &mut dyn Write, c: &Conn) -> io::Result<()> {
    let fam = if c.v4 { "IPv4" } else { "IPv6" };
    write!(
        w,
        "conn {} {} → {} ({fam}) {}",
        c.id,
        c.client,
        c.server,
        c.result.name()
    )?;
    if let Some((cl, sv)) = c.nat {
        write!(w, " [at the other point {cl} → {sv}]")?;
    }
    writeln!(w)?;
    writeln!(w, "  handshake: {}", c.handshake)?;
    writeln!(w, "  verdict: {}", c.verdict)?;
    for (k, c2s) in [(0, true), (1, false)] {
        let ds = &c.dirs[k];
        writeln!(
            w,
            "  {}: {} sent, {} lost{}, one-way delay {}",
            c.leg(c2s),
            ds.sent,
            ds.lost,
            if ds.lost > 0 {
                format!(" (frames {})", ds.lost_list())
            } else {
                String::new()
            },
            owd_line(&ds.owds)
        )?;
    }
    Ok(())
}

/// One row per connection, with summary.tsv's columns (those the captures can tell) and the verdict.
pub fn write_summary(w: &mut dyn Write, l: &Loaded) -> io::Result<()> {
    writeln!(
        w,
        "conn\tfamily\tclient\tserver\thandshake_result\tstart_time\tsyn_sent\tsyn_lost\tsynack_sent\tsynack_lost\t\
handshake\tc2s_sent\tc2s_lost\tc2s_dup\tc2s_reordered\ts2c_sent\ts2c_lost\ts2c_dup\ts2c_reordered\t\
c2s_owd_min_ms\tc2s_owd_median_ms\ts2c_owd_min_ms\ts2c_owd_median_ms\tc2s_lost_frames\ts2c_lost_frames\t\
client_wait_ms\tserver_wait_ms\tverdict"
    )?;
    let o = |v: Option<i64>| v.map(ms).unwrap_or_else(|| "-".into());
    for c in &l.diff.conns {
        let [x, y] = &c.dirs;
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{}\t{:.6}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.id,
            if c.v4 { 4 } else { 6 },
            c.client,
            c.server,
            c.result.name(),
            c.start as f64 / 1e9,
            c.syn_sent,
            c.syn_lost,
            c.synack_sent,
            c.synack_lost,
            c.handshake,
            x.sent,
            x.lost,
            x.dup,
            x.reordered,
            y.sent,
            y.lost,
            y.dup,
            y.reordered,
            o(x.owds.first().copied()),
            o(x.median()),
            o(y.owds.first().copied()),
            o(y.median()),
            x.lost_list(),
            y.lost_list(),
            o(c.client_wait),
            o(c.server_wait),
            c.verdict
        )?;
    }
    Ok(())
}
