//! End-of-run reports. Streams arrive here as the tracker retires them (port
//! reuse, budget) and at the end of the capture; per-stream rows are kept
//! only for the reports that list streams, in a compact form.

use crate::engine::servers::{push_sample, ranked, ServerTally};
use crate::track::alarms::{AlarmConfig, Alarms};
use crate::track::{Endpoint, FlowSummary};
use std::fmt::Write as _;
use std::io::{self, Write};

type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Which `-z` statistics were asked for.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// `-z conv,tcp[,FILTER]`: the filter text to show.
    pub conv_tcp: Option<String>,
    /// `-z hs`: per-stream handshake table.
    pub hs_flows: bool,
    /// The handshake summary (always with `-q`, or `-z hs,summary`).
    pub summary: bool,
    /// Print the summary as one JSON object (`-q -T json`).
    pub json: bool,
    pub alarms: AlarmConfig,
    /// `-z expert[,LEVEL][,FILTER]`: tshark's expert summary of the TCP items.
    pub expert: Option<crate::output::expert::ExpertOptions>,
    /// `-z hs,io[,SECONDS]`: handshake outcomes per interval (ns).
    pub hs_io: Option<i64>,
    /// `-z conn,zeek` / `-z conn,zeek-json`: Zeek's conn.log.
    pub zeek: Option<crate::zeek::ZeekFormat>,
    /// Connections the conn.log table may hold (`--max-streams`).
    pub zeek_max_conns: usize,
    /// `-o tcp.check_checksum:...` when given. conn.log verifies checksums only
    /// when told TRUE (Zeek without `-C`); by default it trusts them as tshark
    /// does, which is what Zeek's `-C` does: captures with checksum-offload
    /// garbage are the ones Zeek is run with `-C` on.
    pub zeek_checksums: Option<bool>,
}

impl Stats {
    pub fn parse(&mut self, z: &str) -> Result<(), String> {
        if z == "conv,tcp" {
            self.conv_tcp = Some(String::new());
        } else if let Some(f) = z.strip_prefix("conv,tcp,") {
            // As tshark: a filter that does not compile is an error before any packet.
            if let Err(e) = crate::filter::Filter::compile(f) {
                return Err(format!(
                    "Couldn't register conversations tap: Filter \"{f}\" is invalid - {e}"
                ));
            }
            self.conv_tcp = Some(f.to_string());
        } else if z == "hs" || z == "hs,flows" {
            self.hs_flows = true;
        } else if z == "hs,summary" {
            self.summary = true;
        } else if z == "hs,io" || z.starts_with("hs,io,") {
            let secs = z.strip_prefix("hs,io,").unwrap_or("1");
            match secs.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.001 => self.hs_io = Some((s * 1e9).round() as i64),
                _ => {
                    return Err(format!(
                        "invalid -z hs,io interval '{secs}': seconds, at least 0.001"
                    ))
                }
            }
        } else if let Some(e) = crate::output::expert::ExpertOptions::parse(z) {
            self.expert = Some(e?);
        } else if z == "conn,zeek" {
            self.zeek = Some(crate::zeek::ZeekFormat::Tsv);
        } else if z == "conn,zeek-json" {
            self.zeek = Some(crate::zeek::ZeekFormat::Json);
        } else {
            return Err(format!("invalid -z argument '{z}': supported are conv,tcp[,FILTER], expert[,LEVEL][,FILTER], follow,tcp|tls,ascii|hex|raw,STREAM (or ADDR:PORT,ADDR:PORT), hs (per-stream handshakes), hs,summary, hs,io[,SECONDS], conn,zeek, conn,zeek-json"));
        }
        Ok(())
    }
    pub fn keeps_rows(&self) -> bool {
        self.conv_tcp.is_some()
            || self.hs_flows
            || self.expert.is_some()
            || self.hs_io.is_some()
            || self.zeek.is_some()
    }
}

/// The compact per-stream row the listing reports need (~100 bytes).
#[derive(Clone, Debug)]
struct Row {
    stream: u32,
    a: Endpoint,
    b: Endpoint,
    /// The one notion of client and server (`FlowSummary::client_server`).
    client_is_a: bool,
    first_ts: i64,
    last_ts: i64,
    conv_frames: [u32; 2],
    state: &'static str,
    conn_state: &'static str,
    irtt: Option<i64>,
    syn_synack: Option<i64>,
    synack_ack: Option<i64>,
    syn_rtx: u32,
    setup: crate::output::setup_report::SetupRow,
}

const MAX_SERVERS: usize = 100_000;

/// One conversation of `-z conv,tcp,FILTER`, counted from the packets that match.
struct ConvRow {
    /// A is the source of the first matching packet (tshark's order).
    a: Endpoint,
    b: Endpoint,
    /// Frames and bytes sent by A, by B.
    frames: [u32; 2],
    bytes: [u64; 2],
    first_ts: i64,
    last_ts: i64,
}

/// Which per-stream tallies a [`Reports`] counts. Two threads count the two halves
/// side by side over the same streams in the same order (`report_job`), so each
/// half is exactly what one thread would count, and joining them needs no merge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamPart {
    #[default]
    All,
    /// Stream count, states, initial RTTs, alarms, `-z hs,io`.
    Outcomes,
    /// Servers, set-up legs, failures, reuse, `-z hs` rows.
    SetUp,
}

impl StreamPart {
    fn outcomes(self) -> bool {
        self != StreamPart::SetUp
    }
    fn set_up(self) -> bool {
        self != StreamPart::Outcomes
    }
}

/// Collects what the reports need from every stream.
#[derive(Default)]
pub struct Reports {
    stats: Stats,
    part: StreamPart,
    /// The filter of `-z conv,tcp,FILTER`: tshark counts only the packets it matches.
    conv_filter: Option<crate::filter::Filter>,
    /// The conversations of `-z conv,tcp`, in the order of their first counted packet,
    /// and their index by stream.
    conv_rows: Vec<ConvRow>,
    conv_index: FoldMap<u32, usize>,
    rows: Vec<Row>,
    by_state: FoldMap<&'static str, u64>,
    servers: FoldMap<Endpoint, ServerTally>,
    servers_dropped: u64,
    irtt: Vec<i64>,
    streams: u64,
    capture_first_ts: Option<i64>,
    alarms: Alarms,
    expert: crate::output::expert::ExpertTally,
    timeline: Option<crate::engine::timeline::Timeline>,
    expert_filter: Option<crate::filter::Filter>,
    /// Zeek's conn.log table, when asked for.
    zeek: Option<crate::zeek::ConnLog>,
    /// Set-up failures and connection reuse (the summary).
    setup: crate::output::setup_report::SetupTally,
}

impl Reports {
    pub fn new(stats: Stats) -> Reports {
        let alarms = Alarms::new(stats.alarms);
        // `Stats::parse` checked that the filter compiles.
        let conv_filter = stats
            .conv_tcp
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .and_then(|f| crate::filter::Filter::compile(f).ok());
        let expert_filter = stats
            .expert
            .as_ref()
            .and_then(|e| e.filter.as_deref())
            .and_then(|f| crate::filter::Filter::compile(f).ok());
        let zeek = stats.zeek.map(|f| {
            crate::zeek::ConnLog::new(
                f,
                stats.zeek_max_conns.max(1),
                stats.zeek_checksums.unwrap_or(false),
            )
        });
        Reports {
            stats,
            alarms,
            conv_filter,
            expert_filter,
            zeek,
            ..Reports::default()
        }
    }

    /// Does a report's filter test `tls`/`http` (the engine must follow them)?
    pub fn uses_app(&self) -> bool {
        self.conv_filter.as_ref().is_some_and(|f| f.uses_app())
            || self.expert_filter.as_ref().is_some_and(|f| f.uses_app())
    }

    /// Every packet, before the display filter. `-z conv,tcp[,FILTER]` counts what
    /// tshark's TCP tap sees (that its filter matches): not ICMP-quoted headers, and not
    /// headers whose options were cut by the snaplen (the dissector stops before the tap).
    /// A conversation's first side, start and duration are those of its counted packets.
    pub fn packet(&mut self, v: &crate::fields::PacketView<'_>) {
        if self.capture_first_ts.is_none() {
            self.capture_first_ts = Some(v.first_ts);
        }
        if self.stats.expert.is_some() && self.expert_filter.as_ref().is_none_or(|f| f.matches(v)) {
            self.expert.packet(v);
        }
        if let Some(z) = self.zeek.as_mut() {
            z.packet(v.frame, v.bytes);
        }
        if self.stats.conv_tcp.is_none() {
            return;
        }
        let (Some(meta), Some(flow), Some(tcp)) = (v.meta, v.flow, v.frame.tcp.as_ref()) else {
            return;
        };
        if tcp.quoted
            || tcp.options.truncated
            || self.conv_filter.as_ref().is_some_and(|f| !f.matches(v))
        {
            return;
        }
        let (src, dst) = if meta.dir == 0 {
            (flow.a, flow.b)
        } else {
            (flow.b, flow.a)
        };
        let ts = v.frame.ts_ns;
        let n = self.conv_rows.len();
        let i = *self.conv_index.entry(meta.stream).or_insert(n);
        if i == n {
            self.conv_rows.push(ConvRow {
                a: src,
                b: dst,
                frames: [0; 2],
                bytes: [0; 2],
                first_ts: ts,
                last_ts: ts,
            });
        }
        let r = &mut self.conv_rows[i];
        let d = usize::from(r.a != src);
        r.frames[d] += 1;
        r.bytes[d] += v.frame.wire_len as u64;
        r.last_ts = ts;
    }

    /// Only the tallies of `part` ([`StreamPart`]), for a thread that counts one half.
    pub fn new_part(stats: Stats, part: StreamPart) -> Reports {
        Reports {
            part,
            ..Reports::new(stats)
        }
    }

    /// The per-stream tallies of `other` (a [`crate::output::report_job::StreamReportJob`]'s,
    /// fed every stream that this one was not), those of its [`StreamPart`]: states,
    /// servers, set-up, reuse, alarms, `-z hs` rows and the handshake timeline. The
    /// per-packet reports stay this one's.
    pub fn take_streams_from(&mut self, other: Reports) {
        if other.part.outcomes() {
            self.by_state = other.by_state;
            self.irtt = other.irtt;
            self.streams = other.streams;
            self.alarms = other.alarms;
            self.timeline = other.timeline;
        }
        if other.part.set_up() {
            self.rows = other.rows;
            self.servers = other.servers;
            self.servers_dropped = other.servers_dropped;
            self.setup = other.setup;
        }
    }

    pub fn set_capture_start(&mut self, ts: i64) {
        self.capture_first_ts.get_or_insert(ts);
    }

    pub fn wanted(&self) -> bool {
        self.stats.keeps_rows() || self.stats.summary
    }

    /// Does a report need the TLS dissection (set-up legs, SNIs, failures)?
    pub fn wants_tls(&self) -> bool {
        self.stats.summary || self.stats.hs_flows
    }

    pub fn add(&mut self, f: &FlowSummary) {
        self.add_tls(f, None)
    }

    /// A stream and what its TLS negotiated (`None`: not TLS, or not dissected).
    pub fn add_tls(&mut self, f: &FlowSummary, t: Option<&crate::engine::tls::TlsSummary>) {
        if self.part.outcomes() {
            self.add_outcome(f);
        }
        if self.part.set_up() {
            self.add_set_up(f, t);
        }
    }

    fn add_outcome(&mut self, f: &FlowSummary) {
        self.streams += 1;
        if let Some(width) = self.stats.hs_io {
            let start = self.capture_first_ts.unwrap_or(f.first_ts);
            self.timeline
                .get_or_insert_with(|| crate::engine::timeline::Timeline::new(start, width))
                .add(f);
        }
        self.alarms.add(f);
        *self.by_state.entry(f.hs.final_name()).or_default() += 1;
        if let Some(r) = f.irtt_ns {
            push_sample(&mut self.irtt, r);
        }
    }

    fn add_set_up(&mut self, f: &FlowSummary, t: Option<&crate::engine::tls::TlsSummary>) {
        // One stream's legs and failure words, computed once for every table.
        let setup_row = (self.stats.summary || self.stats.hs_flows)
            .then(|| crate::output::setup_report::SetupRow::of(f, t));
        if let Some(r) = setup_row.as_ref().filter(|_| self.stats.summary) {
            self.setup.add(f, r.legs.setup(f, t), r.failure.as_deref());
        }
        if let Some(server) = f.server() {
            let n = self.servers.len();
            if n < MAX_SERVERS || self.servers.contains_key(&server) {
                let st = self.servers.entry(server).or_default();
                st.add(f);
                if let Some(r) = setup_row.as_ref().filter(|_| self.stats.summary) {
                    st.add_setup(&r.legs, r.sni.as_deref(), r.failure.is_some());
                }
            } else {
                self.servers_dropped += 1;
            }
        }
        // Only `-z hs` lists streams from these rows (`-z conv,tcp` counts per packet).
        if self.stats.hs_flows {
            self.rows.push(Row {
                stream: f.stream,
                a: f.a,
                b: f.b,
                client_is_a: f.client_server().0 == f.a,
                first_ts: f.first_ts,
                last_ts: f.last_ts,
                conv_frames: [f.conv_frames[0] as u32, f.conv_frames[1] as u32],
                state: f.hs.final_name(),
                conn_state: f.zeek.conn_state(),
                irtt: f.irtt_ns,
                syn_synack: f.hs.syn_to_synack(),
                synack_ack: f.hs.synack_to_ack(),
                syn_rtx: f.hs.syn_retransmissions(),
                setup: setup_row.unwrap_or_else(|| crate::output::setup_report::SetupRow::of(f, t)),
            });
        }
    }

    pub fn write(&mut self, w: &mut dyn Write) -> io::Result<()> {
        self.write_head(w)?;
        self.write_conv_report(w)?;
        self.write_expert_report(w)?;
        self.write_tail(w)
    }

    /// The reports before tshark's (`-z hs`).
    pub fn write_head(&mut self, w: &mut dyn Write) -> io::Result<()> {
        self.rows.sort_by_key(|r| r.stream);
        if self.stats.hs_flows {
            self.write_hs_flows(w)?;
        }
        Ok(())
    }

    /// `-z conv,tcp`, when asked for (tshark orders it among its other taps).
    pub fn write_conv_report(&mut self, w: &mut dyn Write) -> io::Result<()> {
        if let Some(filter) = self.stats.conv_tcp.clone() {
            self.write_conv(w, &filter)?;
        }
        Ok(())
    }

    /// `-z expert`, when asked for (a tshark tap, ordered as the others).
    pub fn write_expert_report(&mut self, w: &mut dyn Write) -> io::Result<()> {
        if let Some(e) = &self.stats.expert {
            self.expert.write(w, e.min)?;
        }
        Ok(())
    }

    /// The reports after tshark's (`-z hs,io`, the handshake summary).
    pub fn write_tail(&mut self, w: &mut dyn Write) -> io::Result<()> {
        if let Some(z) = self.zeek.as_mut() {
            z.write(w)?;
            if z.evicted > 0 {
                eprintln!(
                    "hs-tui: conn,zeek: {} connections logged before Zeek would have ended them, to hold at most {} at once (--max-streams)",
                    z.evicted, self.stats.zeek_max_conns
                );
            }
        }
        if let Some(width) = self.stats.hs_io {
            self.write_hs_io(w, width)?;
        }
        if self.stats.summary && self.stats.json {
            self.write_summary_json(w)?;
        } else if self.stats.summary {
            self.write_summary(w)?;
        }
        Ok(())
    }

    /// `-z conv,tcp`, in tshark 4.0.17's exact layout (SEMANTICS.md §8).
    fn write_conv(&mut self, w: &mut dyn Write, filter: &str) -> io::Result<()> {
        let rule = "=".repeat(80);
        let mut s = String::new();
        let _ = writeln!(s, "{rule}\nTCP Conversations");
        let _ = writeln!(
            s,
            "Filter:{}",
            if filter.is_empty() {
                "<No Filter>"
            } else {
                filter
            }
        );
        let pad = " ".repeat(59);
        let _ = writeln!(s, "{pad}|       <-      | |       ->      | |     Total     |    Relative    |   Duration   |");
        let _ = writeln!(s, "{pad}| Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |");
        let mut rows = std::mem::take(&mut self.conv_rows);
        // Sorted by total frames, descending; ties keep first-seen order.
        rows.sort_by_key(|r| std::cmp::Reverse(r.frames[0] as u64 + r.frames[1] as u64));
        let start = self.capture_first_ts.unwrap_or(0);
        for r in rows {
            let (to_a, from_a) = ((r.frames[1], r.bytes[1]), (r.frames[0], r.bytes[0]));
            let _ = writeln!(
                s,
                "{:<26} <-> {:<26}  {:>6} {:<9}  {:>6} {:<9}  {:>6} {:<9}  {:>14.9}   {:>12.4}",
                endpoint(r.a),
                endpoint(r.b),
                to_a.0,
                size_text(to_a.1),
                from_a.0,
                size_text(from_a.1),
                to_a.0 + from_a.0,
                size_text(to_a.1 + from_a.1),
                (r.first_ts - start) as f64 / 1e9,
                (r.last_ts - r.first_ts) as f64 / 1e9,
            );
        }
        let _ = writeln!(s, "{rule}");
        w.write_all(s.as_bytes())
    }

    /// `-z hs,io,SECONDS`: per interval (by each stream's first packet), how
    /// many handshakes began and how they ended, and their initial RTTs.
    fn write_hs_io(&mut self, w: &mut dyn Write, width: i64) -> io::Result<()> {
        let mut s = String::new();
        let rule = "=".repeat(104);
        let _ = writeln!(
            s,
            "{rule}\nHandshakes over time (interval {} s, by each stream's first packet)",
            width as f64 / 1e9
        );
        let _ = writeln!(
            s,
            "{:<25} {:>8} {:>9} {:>8} {:>7} {:>9} {:>9} {:>11} {:>11}",
            "Interval",
            "Opened",
            "Completed",
            "Refused",
            "Reset",
            "HalfOpen",
            "MidStream",
            "iRTT p50 ms",
            "iRTT p99 ms"
        );
        let ms = |v: Option<i64>| v.map_or("-".to_string(), |x| format!("{:.3}", x as f64 / 1e6));
        if let Some(t) = self.timeline.as_mut() {
            let n = t.buckets.len();
            for i in 0..n {
                let (from, to) = (t.offset(i), t.offset(i + 1));
                let b = &mut t.buckets[i];
                let p = percentiles(&mut b.irtt);
                let _ = writeln!(
                    s,
                    "{:<25} {:>8} {:>9} {:>8} {:>7} {:>9} {:>9} {:>11} {:>11}",
                    format!("{:.3} <> {:.3}", from as f64 / 1e9, to as f64 / 1e9),
                    b.attempts,
                    b.completed,
                    b.refused,
                    b.reset,
                    b.half_open,
                    b.mid_stream,
                    ms(p.map(|p| p[0])),
                    ms(p.map(|p| p[2])),
                );
            }
            if t.clamped > 0 {
                let _ = writeln!(
                    s,
                    "({} streams after the last interval counted in it: at most {} intervals)",
                    t.clamped,
                    crate::engine::timeline::MAX_BUCKETS
                );
            }
        }
        let _ = writeln!(s, "{rule}");
        w.write_all(s.as_bytes())
    }

    fn write_hs_flows(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        let rule = "=".repeat(120);
        let _ = writeln!(s, "{rule}\nTCP Handshakes (per stream)");
        let _ = writeln!(
            s,
            "{:>6}  {:<28} {:<28} {:<12} {:>10} {:>10} {:>10} {:>4} {:>7} {:>10} {:<6}",
            "Stream",
            "Client",
            "Server",
            "State",
            "iRTT ms",
            "SYN>SA ms",
            "SA>ACK ms",
            "SYN+",
            "Frames",
            "Duration s",
            "Zeek"
        );
        for r in &self.rows {
            let (c, sv) = if r.client_is_a {
                (r.a, r.b)
            } else {
                (r.b, r.a)
            };
            let _ = writeln!(
                s,
                "{:>6}  {:<28} {:<28} {:<12} {:>10} {:>10} {:>10} {:>4} {:>7} {:>10.6} {:<6}",
                r.stream,
                c.to_string(),
                sv.to_string(),
                r.state,
                ms(r.irtt),
                ms(r.syn_synack),
                ms(r.synack_ack),
                r.syn_rtx,
                r.conv_frames[0] + r.conv_frames[1],
                (r.last_ts - r.first_ts) as f64 / 1e9,
                r.conn_state,
            );
        }
        let _ = writeln!(s, "{rule}");
        crate::output::setup_report::write_rows(
            &mut s,
            self.rows.iter().map(|r| (r.stream, &r.setup)),
        );
        w.write_all(s.as_bytes())
    }

    fn write_summary(&mut self, w: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        let rule = "=".repeat(80);
        let _ = writeln!(s, "{rule}\nTCP Handshake Summary");
        let _ = writeln!(s, "Streams: {}", self.streams);
        let mut states: Vec<(&str, u64)> = self.by_state.iter().map(|(k, v)| (*k, *v)).collect();
        states.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (k, v) in states {
            let _ = writeln!(s, "  {k:<14} {v:>10}");
        }
        let p = percentiles(&mut self.irtt);
        let _ = writeln!(
            s,
            "Initial RTT (ms): {}",
            p.map(fmt_percentiles)
                .unwrap_or_else(|| "no completed handshakes".into())
        );
        let servers = ranked(&self.servers);
        if !servers.is_empty() {
            let _ = writeln!(s, "Servers (top 20 by handshakes):");
            let _ = writeln!(
                s,
                "  {:<28} {:>8} {:>9} {:>8} {:>9} {:>6}  Initial RTT ms (p50 p90 p99 max)",
                "Server", "Attempts", "Completed", "Refused", "Half-open", "Reset",
            );
            for (ep, st) in servers.into_iter().take(20) {
                let p = percentiles(&mut st.irtt.clone())
                    .map(fmt_percentiles)
                    .unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    s,
                    "  {:<28} {:>8} {:>9} {:>8} {:>9} {:>6}  {}",
                    endpoint(ep),
                    st.attempts,
                    st.completed,
                    st.refused,
                    st.half_open,
                    st.reset,
                    p
                );
            }
            if self.servers_dropped > 0 {
                let _ = writeln!(
                    s,
                    "  ({} streams to servers beyond the first {MAX_SERVERS} not broken down)",
                    self.servers_dropped
                );
            }
        }
        self.setup.write(&mut s, &self.servers);
        let alarms = self.alarms.raised();
        if alarms.is_empty() {
            let _ = writeln!(s, "Alarms: none");
        } else {
            let _ = writeln!(s, "Alarms:");
            for a in alarms {
                let _ = writeln!(s, "  {a}");
            }
        }
        let _ = writeln!(s, "{rule}");
        w.write_all(s.as_bytes())
    }

    /// The summary as one JSON object, for scripts and CI.
    fn write_summary_json(&mut self, w: &mut dyn Write) -> io::Result<()> {
        use serde_json::json;
        let ms = |p: Option<[i64; 4]>| {
            p.map(|p| json!({"p50": p[0] as f64 / 1e6, "p90": p[1] as f64 / 1e6, "p99": p[2] as f64 / 1e6, "max": p[3] as f64 / 1e6}))
        };
        let states: serde_json::Map<String, serde_json::Value> = self
            .by_state
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let servers: Vec<serde_json::Value> = ranked(&self.servers)
            .into_iter()
            .map(|(ep, st)| {
                json!({"server": endpoint(ep), "attempts": st.attempts, "completed": st.completed, "refused": st.refused,
                       "half_open": st.half_open, "reset": st.reset, "initial_rtt_ms": ms(percentiles(&mut st.irtt.clone())),
                       "setup_ms": crate::output::setup_report::legs_json(st), "sni": st.snis.iter().map(|(n, c)| json!({"name": n, "connections": c})).collect::<Vec<_>>(),
                       "failed": st.failed})
            })
            .collect();
        let alarms: Vec<serde_json::Value> = self
            .alarms
            .raised()
            .into_iter()
            .map(|a| match &a {
                crate::track::alarms::Alarm::SynFlood { server, peak, incomplete, completed, top_sources, .. } => json!({
                    "kind": "syn_flood", "server": endpoint(*server), "peak_in_window": peak, "incomplete": incomplete,
                    "completed": completed, "top_sources": top_sources.iter().map(|(a, n)| json!({"source": a.to_string(), "count": n})).collect::<Vec<_>>(),
                    "text": a.to_string()}),
                crate::track::alarms::Alarm::PortScan { source, target, ports, failed, open_ports, .. } => json!({
                    "kind": "port_scan", "source": source.to_string(), "target": target.to_string(), "ports": ports,
                    "failed": failed, "open_ports": open_ports, "text": a.to_string()}),
            })
            .collect();
        let v = json!({
            "streams": self.streams,
            "states": states,
            "initial_rtt_ms": ms(percentiles(&mut self.irtt)),
            "servers": servers,
            "alarms": alarms,
            "setup": self.setup.json(),
        });
        writeln!(
            w,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        )
    }
}

/// Nearest-rank p50, p90, p99 and max of `v` (nanoseconds), which is left reordered. Found by
/// selection, each in the part below the last, not by a sort: `-q` takes these of
/// up to 100,000 samples per leg and server at the end, while the user waits.
pub fn percentiles(v: &mut [i64]) -> Option<[i64; 4]> {
    let n = v.len();
    let rank = |p: f64| ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    let max = *v.iter().max()?;
    let mut out = [0, 0, 0, max];
    let mut below = n;
    for (slot, p) in [(2, 0.99), (1, 0.90), (0, 0.50)] {
        let i = rank(p);
        out[slot] = *v[..below].select_nth_unstable(i).1;
        below = i + 1;
    }
    Some(out)
}

fn fmt_percentiles(p: [i64; 4]) -> String {
    format!(
        "p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        p[0] as f64 / 1e6,
        p[1] as f64 / 1e6,
        p[2] as f64 / 1e6,
        p[3] as f64 / 1e6
    )
}

fn ms(v: Option<i64>) -> String {
    v.map(|x| format!("{:.3}", x as f64 / 1e6))
        .unwrap_or_else(|| "-".into())
}

/// `addr:port` as tshark's conversation table prints it (no brackets for IPv6).
pub fn endpoint(e: Endpoint) -> String {
    e.text(false, &mut String::new(), str::to_string)
}

/// tshark's conversation size text: floor-divided SI units (§8).
pub fn size_text(n: u64) -> String {
    if n < 10_000 {
        format!("{n} bytes")
    } else if n < 10_000_000 {
        format!("{} kB", n / 1000)
    } else if n < 10_000_000_000 {
        format!("{} MB", n / 1_000_000)
    } else {
        format!("{} GB", n / 1_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_tshark() {
        assert_eq!(size_text(9999), "9999 bytes");
        assert_eq!(size_text(10_000), "10 kB");
        assert_eq!(size_text(19_999), "19 kB");
        assert_eq!(size_text(9_999_999), "9999 kB");
        assert_eq!(size_text(10_000_000), "10 MB");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentiles(&mut v), Some([50, 90, 99, 100]));
        assert_eq!(percentiles(&mut []), None);
        assert_eq!(percentiles(&mut [7]), Some([7, 7, 7, 7]));
    }

    proptest::proptest! {
        /// Selection finds what a sort and the nearest-rank rule find.
        #[test]
        fn percentiles_by_selection_equal_a_sort(mut v in proptest::collection::vec(-50i64..50, 0..300)) {
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let n = sorted.len();
            let rank = |p: f64| sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
            let want = (n > 0).then(|| [rank(0.50), rank(0.90), rank(0.99), sorted[n - 1]]);
            proptest::prop_assert_eq!(percentiles(&mut v), want);
        }
    }

    #[test]
    fn z_arguments() {
        let mut s = Stats::default();
        s.parse("conv,tcp").unwrap();
        s.parse("hs").unwrap();
        assert_eq!(s.conv_tcp.as_deref(), Some(""));
        assert!(s.hs_flows);
        assert!(s.parse("io,stat,1").is_err());
    }
}
