//! The set-up parts of the reports: per-server legs (p50/p90/p99) and SNIs,
//! set-up failures in plain words, and connection reuse per client→server
//! pair (`-q`), and the per-stream legs of `-z hs`. The numbers come from
//! [`crate::engine::legs`] and [`crate::engine::servers`].

use crate::engine::legs::{failure, Legs, LEG_NAMES};
use crate::engine::servers::{pair_of, ranked, ranked_pairs, PairMap, ServerTally};
use crate::engine::tls::TlsSummary;
use crate::output::report::{endpoint, percentiles};
use crate::track::{Endpoint, FlowSummary};
use std::fmt::Write as _;

type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Client→server pairs held for the reuse table.
pub const MAX_PAIRS: usize = 100_000;
/// Distinct failure texts counted (a text carries an alert name: few in practice).
const MAX_FAILURE_KINDS: usize = 64;

/// What `-q` adds about set-up: failures and reuse (the per-server legs are in [`ServerTally`]).
#[derive(Default)]
pub struct SetupTally {
    /// Failure text → (connections, first stream).
    pub failures: FoldMap<String, (u64, u32)>,
    pub pairs: PairMap,
    pub pairs_dropped: u64,
}

impl SetupTally {
    pub fn add(&mut self, f: &FlowSummary, setup: Option<i64>, failure: Option<&str>) {
        if let Some(text) = failure {
            let n = self.failures.len();
            if n < MAX_FAILURE_KINDS || self.failures.contains_key(text) {
                match self.failures.get_mut(text) {
                    Some(e) => e.0 += 1,
                    None => {
                        self.failures.insert(text.to_string(), (1, f.stream));
                    }
                }
            }
        }
        if let Some(p) = pair_of(f) {
            if let Some(t) = self.pairs.tally(p, MAX_PAIRS) {
                t.add(f, setup);
            } else {
                self.pairs_dropped += 1;
            }
        }
    }

    /// The `-q` sections: legs per server, failures, reuse.
    pub fn write(&self, s: &mut String, servers: &FoldMap<Endpoint, ServerTally>) {
        let servers = ranked(servers);
        if servers
            .iter()
            .any(|(_, t)| t.legs.iter().any(|v| !v.is_empty()))
        {
            let _ = writeln!(
                s,
                "Set-up legs per server, ms as p50/p90/p99 (top 20; README: set-up legs):"
            );
            let _ = writeln!(s, "  {:<28} {:<6} p50/p90/p99", "Server", "Leg");
            for (ep, st) in servers.iter().take(20) {
                let mut first = true;
                for (i, name) in LEG_NAMES.iter().enumerate() {
                    let Some(p) = percentiles(&mut st.legs[i].clone()) else {
                        continue;
                    };
                    let _ = writeln!(
                        s,
                        "  {:<28} {:<6} {:.3}/{:.3}/{:.3}  (n={})",
                        if first { endpoint(*ep) } else { String::new() },
                        name,
                        p[0] as f64 / 1e6,
                        p[1] as f64 / 1e6,
                        p[2] as f64 / 1e6,
                        st.legs[i].len()
                    );
                    first = false;
                }
                if !st.snis.is_empty() {
                    let _ = writeln!(s, "  {:<28} {:<6} {}", "", "SNI", st.sni_text());
                }
            }
        }
        let mut fails: Vec<(&String, &(u64, u32))> = self.failures.iter().collect();
        fails.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        if fails.is_empty() {
            let _ = writeln!(s, "Set-up failures: none");
        } else {
            let _ = writeln!(s, "Set-up failures:");
            for (text, (n, first)) in fails {
                let _ = writeln!(s, "  {n:>8}  {text} (first: stream {first})");
            }
        }
        let pairs = ranked_pairs(self.pairs.iter(), 10);
        if !pairs.is_empty() {
            let _ = writeln!(
                s,
                "Connection reuse (top 10 client -> server by connections):"
            );
            let _ = writeln!(
                s,
                "  {:<39} {:<22} {:>7} {:>10} {:>10} {:>7}",
                "Client", "Server", "Conns", "Life p50 s", "Life max s", "Set-up%"
            );
            for ((client, server), t) in pairs {
                let (med, max) = t.life_median_max().unwrap_or((0, 0));
                let _ = writeln!(
                    s,
                    "  {:<39} {:<22} {:>7} {:>10.3} {:>10.3} {:>7}",
                    client.to_string(),
                    endpoint(server),
                    t.conns,
                    med as f64 / 1e9,
                    max as f64 / 1e9,
                    t.setup_percent()
                        .map_or("-".to_string(), |p| format!("{p:.1}%"))
                );
            }
            if self.pairs_dropped > 0 {
                let _ = writeln!(
                    s,
                    "  ({} connections of pairs beyond the first {MAX_PAIRS} not counted)",
                    self.pairs_dropped
                );
            }
        }
    }

    /// The JSON of the same (`-q -T json`).
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let mut fails: Vec<(&String, &(u64, u32))> = self.failures.iter().collect();
        fails.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        let pairs: Vec<serde_json::Value> = ranked_pairs(self.pairs.iter(), 100)
            .into_iter()
            .map(|((c, sv), t)| {
                let (med, max) = t.life_median_max().unwrap_or((0, 0));
                json!({"client": c.to_string(), "server": endpoint(sv), "connections": t.conns,
                       "lifetime_s": {"p50": med as f64 / 1e9, "max": max as f64 / 1e9},
                       "setup_percent": t.setup_percent()})
            })
            .collect();
        json!({
            "failures": fails.into_iter().map(|(t, (n, first))| json!({"text": t, "connections": n, "first_stream": first})).collect::<Vec<_>>(),
            "reuse": pairs,
        })
    }
}

/// A server's legs as JSON: `{"tcp": {"p50":..}, ...}` in ms.
pub fn legs_json(st: &ServerTally) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (i, name) in LEG_NAMES.iter().enumerate() {
        if let Some(p) = percentiles(&mut st.legs[i].clone()) {
            m.insert(
                name.to_string(),
                serde_json::json!({"p50": p[0] as f64 / 1e6, "p90": p[1] as f64 / 1e6, "p99": p[2] as f64 / 1e6, "n": st.legs[i].len()}),
            );
        }
    }
    serde_json::Value::Object(m)
}

/// One stream's legs, SNI and failure for `-z hs`.
#[derive(Clone, Debug)]
pub struct SetupRow {
    pub legs: Legs,
    pub sni: Option<Box<str>>,
    /// Borrowed for the fixed words (most failures): no allocation per stream.
    pub failure: Option<std::borrow::Cow<'static, str>>,
}

impl SetupRow {
    pub fn of(f: &FlowSummary, t: Option<&TlsSummary>) -> SetupRow {
        SetupRow {
            legs: Legs::of(f, t),
            sni: t.and_then(|t| t.sni.as_deref()).map(Into::into),
            failure: failure(f, t, true),
        }
    }
}

/// `-z hs`'s second table: the set-up legs of every stream.
pub fn write_rows<'a>(s: &mut String, rows: impl Iterator<Item = (u32, &'a SetupRow)>) {
    let rule = "=".repeat(120);
    let _ = writeln!(
        s,
        "{rule}\nConnection set-up (per stream, ms; README: set-up legs)"
    );
    let _ = writeln!(
        s,
        "{:>6}  {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}  {:<24} Failure",
        "Stream", "TCP", "CH", "SH", "Flight", "TLS", "TTFB", "Total", "SNI"
    );
    let ms = |v: Option<i64>| v.map_or("-".to_string(), |x| format!("{:.3}", x as f64 / 1e6));
    for (stream, r) in rows {
        let l = &r.legs;
        let _ = writeln!(
            s,
            "{:>6}  {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}  {:<24} {}",
            stream,
            ms(l.tcp),
            ms(l.ch),
            ms(l.sh),
            ms(l.flight),
            ms(l.tls),
            ms(l.ttfb),
            ms(l.total),
            r.sni.as_deref().unwrap_or("-"),
            r.failure.as_deref().unwrap_or("-"),
        );
    }
    let _ = writeln!(s, "{rule}");
}
