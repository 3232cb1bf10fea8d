//! What the filter bar runs.
//!
//! The display-filter engine (`crate::filter`) plugs in through [`Compiler`]:
//! a function from the typed text to a [`CompiledFilter`] that tests one
//! packet through the field registry's [`PacketView`]. The TUI compiles on
//! every keystroke (green/red in the bar) and applies the filter on Enter,
//! as a background job over the store.
//!
//! Until an engine is plugged in, the bar is a *quick filter* on flows:
//! whitespace-separated terms, all of which must match; a number matches the
//! stream index or either port, any other word a substring of
//! "client → server" or the state name (`refused`, `half-open` …); a leading
//! `!` negates a term.

use super::store::Flow;
use crate::fields::PacketView;

/// A compiled display filter.
pub trait PacketFilter: Send + Sync {
    fn matches(&self, p: &PacketView<'_>) -> bool;
    /// Every field the filter tests is a property of the whole flow (its
    /// state, endpoints, Zeek state and history, handshake figures): the
    /// flows pane then selects flows by the summary the flows table shows
    /// (`flow_matches`), while the packet list keeps batch `-Y` semantics.
    fn flow_level(&self) -> bool {
        false
    }
}

/// Fields with one value per flow, as the flows table shows it: the
/// stream and the registry's flow fields ([`crate::fields::FLOW_FIELDS`]).
pub fn is_flow_field(name: &str) -> bool {
    name == "tcp.stream" || crate::fields::FLOW_FIELDS.contains(&name)
}

fn expr_is_flow_level(e: &crate::filter::ast::Expr) -> bool {
    use crate::filter::ast::{Expr, SetItem};
    match e {
        Expr::Or(v) | Expr::And(v) => v.iter().all(expr_is_flow_level),
        Expr::Not(a) => expr_is_flow_level(a),
        Expr::Test(o) => operand_is_flow_level(o),
        Expr::Compare { lhs, rhs, .. }
        | Expr::Contains { lhs, rhs, .. }
        | Expr::Matches { lhs, rhs, .. } => {
            operand_is_flow_level(lhs) && operand_is_flow_level(rhs)
        }
        Expr::In { lhs, items, .. } => {
            operand_is_flow_level(lhs)
                && items.iter().all(|i| match i {
                    SetItem::One(o) => operand_is_flow_level(o),
                    SetItem::Range(a, b) => operand_is_flow_level(a) && operand_is_flow_level(b),
                })
        }
    }
}

/// A field of the flow, or a literal (a word that names no field).
fn operand_is_flow_level(o: &crate::filter::ast::Operand) -> bool {
    use crate::filter::ast::Operand;
    match o {
        Operand::Word(w, _) => match crate::fields::by_name(w) {
            Some(f) => is_flow_field(f.name),
            None => crate::filter::protocols::lookup(w).is_none(),
        },
        Operand::Str(..) | Operand::Char(..) => true,
        Operand::Slice(a, _, _) => operand_is_flow_level(a),
        Operand::BitAnd(a, b, _) => operand_is_flow_level(a) && operand_is_flow_level(b),
        Operand::Call(_, args, _) => args.iter().all(operand_is_flow_level),
    }
}

/// Whether `f` matches the flow as the flows table shows it (its current
/// summary and state), for a [`PacketFilter::flow_level`] filter.
/// `first_ts` is the capture's first frame's time (`hs.start` counts from it).
pub fn flow_matches(
    f: &dyn PacketFilter,
    e: &Flow<'_>,
    link: crate::decode::LinkType,
    first_ts: i64,
) -> bool {
    let frame = crate::decode::Frame::new(e.sum.last_frame, e.sum.last_ts, 0, 0, link);
    let meta = crate::track::TcpMeta {
        stream: e.sum.stream,
        hs_state: e.sum.hs.state,
        ..Default::default()
    };
    let view = PacketView {
        frame: &frame,
        bytes: &[],
        meta: Some(&meta),
        flow: Some(&*e.sum),
        first_ts,
        prev_ts: e.sum.last_ts,
        app: None,
        diff: None,
        tls: None,
        tls_stream: e.tls.as_deref(),
    };
    f.matches(&view)
}

/// Shared with the background jobs that re-read the capture.
pub type CompiledFilter = std::sync::Arc<dyn PacketFilter>;

/// The engine's entry point: compile the typed text, or say what is wrong.
pub type Compiler = fn(&str) -> Result<CompiledFilter, String>;

/// The engine the TUI uses: Wireshark display filters (`crate::filter`),
/// including `@preset` names. Errors come back on one line with the column.
/// The bar then checks as you type, applies on Enter as a background job
/// with progress, and `w` saves what matches. Flow-level `hs.*` fields see
/// the flow's latest summary, so `hs.state == "refused"` selects whole flows.
pub fn default_compiler() -> Option<Compiler> {
    Some(|s| {
        crate::filter::Filter::from_arg(s)
            .map(|f| std::sync::Arc::new(f) as CompiledFilter)
            .map_err(|e| one_line_error(&e))
    })
}

/// `message (column N; did you mean 'x'?)`, for a one-line bar.
pub fn one_line_error(e: &crate::filter::FilterError) -> String {
    let mut s = e.message.trim_end_matches('.').to_string();
    let col = e
        .span
        .map(|(start, _)| e.filter.get(..start).map_or(start, |p| p.chars().count()) + 1);
    match (col, &e.suggestion) {
        (Some(c), Some(sug)) => s.push_str(&format!(" (column {c}; did you mean '{sug}'?)")),
        (Some(c), None) => s.push_str(&format!(" (column {c})")),
        (None, Some(sug)) => s.push_str(&format!(" (did you mean '{sug}'?)")),
        (None, None) => {}
    }
    s
}

impl PacketFilter for crate::filter::Filter {
    fn matches(&self, p: &PacketView<'_>) -> bool {
        crate::filter::Filter::matches(self, p)
    }
    fn flow_level(&self) -> bool {
        self.ast().is_some_and(expr_is_flow_level)
    }
}

/// One term of the quick filter.
#[derive(Clone, Debug, PartialEq)]
enum Term {
    Number(u64),
    Text(String),
}

/// The stand-in filter: flow-level terms, see the module doc.
#[derive(Clone, Debug, PartialEq)]
pub struct QuickFilter {
    terms: Vec<(bool, Term)>,
}

impl QuickFilter {
    pub fn parse(text: &str) -> QuickFilter {
        let terms = text
            .split_whitespace()
            .filter_map(|w| {
                let (neg, w) = match w.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, w),
                };
                if w.is_empty() {
                    return None;
                }
                let t = match w.parse::<u64>() {
                    Ok(n) => Term::Number(n),
                    Err(_) => Term::Text(w.to_lowercase()),
                };
                Some((neg, t))
            })
            .collect();
        QuickFilter { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches(&self, e: &Flow<'_>) -> bool {
        self.terms.iter().all(|(neg, t)| {
            let hit = match t {
                Term::Number(n) => {
                    e.sum.stream as u64 == *n || e.sum.a.1 as u64 == *n || e.sum.b.1 as u64 == *n
                }
                Term::Text(s) => {
                    e.label().contains(s.as_str()) || e.state_name().contains(s.as_str())
                }
            };
            hit != *neg
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms() {
        assert!(QuickFilter::parse("  ").is_empty());
        let q = QuickFilter::parse("3 Refused !::1");
        assert_eq!(
            q.terms,
            vec![
                (false, Term::Number(3)),
                (false, Term::Text("refused".into())),
                (true, Term::Text("::1".into()))
            ]
        );
    }
}
