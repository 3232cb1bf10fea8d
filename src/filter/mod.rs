//! Wireshark display filters, as tshark 4.0.17 reads and applies them
//! (SEMANTICS.md §7): `ip.addr == 10.0.0.1 and not udp and not ssl`.
//!
//! Text goes through three stages: `lexer` (tokens with byte spans),
//! `parser` (a syntax tree, `ast`, that prints back to equivalent text) and
//! `compile` (names resolved against the one field registry, literals
//! converted to the field's type, every type error reported here with
//! tshark's wording). The result, a [`Filter`], is evaluated per packet by
//! `eval` with Wireshark 4.0's multi-value semantics: `==` is "any
//! occurrence", `!=` is "the field exists and no occurrence is equal",
//! `===` is "all", `!==`/`~=` is "some occurrence differs", and a relation
//! on an absent field is false.
//!
//! Protocol names test for a layer: the registry's (`eth`, `ip`, `tcp`, ...)
//! and the application protocols of [`protocols`] (`tls`/`ssl`, `http`,
//! `dns`, `snmp`, `ssh`, `dhcp`, `ntp`, `quic`). Named presets (`-Y @name`)
//! live in [`presets`].
//!
//! Known differences from tshark 4.0.17, all deliberate:
//! - fields and protocols outside hs-tui's registry are unknown names, and
//!   hs-tui's own (`hs.*`, `frame.malformed`, the `_ws.col.*` columns) can be
//!   filtered on, which tshark 4.0 cannot do for columns;
//! - hostnames are never resolved (`ip.addr == example.com` is an error);
//! - arithmetic (`+ - * / %`), the layer operator `#`, `{...}` grouping on a
//!   value, and the functions `string`, `max`, `min`, `abs` are not
//!   supported (`len`, `count`, `upper`, `lower` are);
//! - the right side of `contains` must be a literal;
//! - `matches` uses the `regex` crate in bytes mode (caseless, like PCRE2
//!   without UTF), so PCRE-only syntax such as back-references is an error;
//! - carets are placed by characters, not bytes, when the filter holds
//!   non-ASCII text;
//! - application protocols follow TCP reassembly only approximately (see
//!   [`protocols`]).

pub mod ast;
mod compile;
mod eval;
mod lexer;
mod parser;
pub mod presets;
pub mod protocols;

pub use parser::parse;

use crate::fields::PacketView;
use std::fmt;

/// A byte range `[start, end)` in the filter text.
///
/// Spans never take part in equality: two syntax trees are equal when they
/// mean the same, wherever their parts were written. That is what lets a
/// printed and re-parsed tree compare equal to the original.
#[derive(Clone, Copy, Debug, Default, Eq)]
pub struct Span(pub usize, pub usize);

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

/// A filter that does not compile, as data: the CLI renders it like tshark
/// (`Display`), the TUI can underline `span` in its filter bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// tshark's message, e.g. `"xor" was unexpected in this context.`
    pub message: String,
    /// Byte range `(start, end)` of the offending text in `filter`, when the
    /// error has a position (tshark prints no caret line otherwise).
    pub span: Option<(usize, usize)>,
    /// The filter text the span refers to.
    pub filter: String,
    /// The nearest known field or protocol name, for a misspelt one.
    pub suggestion: Option<String>,
}

impl FilterError {
    pub(crate) fn new(message: impl Into<String>) -> FilterError {
        FilterError {
            message: message.into(),
            span: None,
            filter: String::new(),
            suggestion: None,
        }
    }
    pub(crate) fn at(message: impl Into<String>, span: Span) -> FilterError {
        FilterError {
            message: message.into(),
            span: Some((span.0, span.1)),
            filter: String::new(),
            suggestion: None,
        }
    }
    fn in_filter(mut self, text: &str) -> FilterError {
        self.filter = text.to_string();
        self
    }
}

impl fmt::Display for FilterError {
    /// tshark's layout: the message; then, when there is a position, the
    /// filter indented by 4 spaces and a marker line, `^` under the first
    /// character of the offending token and `~` under the rest. hs-tui adds
    /// a `did you mean` line for a misspelt name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some((start, end)) = self.span {
            let start = start.min(self.filter.len());
            let end = end.clamp(start, self.filter.len());
            let col = self
                .filter
                .get(..start)
                .map_or(start, |s| s.chars().count());
            let len = self
                .filter
                .get(start..end)
                .map_or(end - start, |s| s.chars().count())
                .max(1);
            write!(
                f,
                "\n    {}\n    {}^{}",
                self.filter,
                " ".repeat(col),
                "~".repeat(len - 1)
            )?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, "\n    did you mean '{s}'?")?;
        }
        Ok(())
    }
}

impl std::error::Error for FilterError {}

/// A compiled display filter. Compile once, then call [`Filter::matches`]
/// for each packet; it allocates nothing in the common cases.
pub struct Filter {
    text: String,
    ast: Option<ast::Expr>,
    root: Option<eval::Node>,
    /// The filter tests `tls`/`http`: whoever feeds it should have the engine follow them.
    uses_app: bool,
    /// Some node collects values (is not one of the fast forms).
    needs_pool: bool,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter").field("text", &self.text).finish()
    }
}

impl Filter {
    /// Compile filter text. An empty filter matches every packet.
    pub fn compile(text: &str) -> Result<Filter, FilterError> {
        Filter::compile_with(text, true)
    }

    /// `specialize: false` keeps every test in its generic form (the reference the fast forms are tested against).
    fn compile_with(text: &str, specialize: bool) -> Result<Filter, FilterError> {
        let ast = parse(text).map_err(|e| e.in_filter(text))?;
        let root = match &ast {
            Some(e) => {
                let node = compile::Compiler { src: text }
                    .expr(e)
                    .map_err(|e| e.in_filter(text))?;
                Some(if specialize { node.specialize() } else { node })
            }
            None => None,
        };
        let uses_app = root.as_ref().is_some_and(eval::Node::uses_app);
        Ok(Filter {
            text: text.to_string(),
            ast,
            needs_pool: root.as_ref().is_some_and(eval::Node::needs_pool),
            root,
            uses_app,
        })
    }

    /// Compile a `-Y` argument: filter text, or `@name[:KEY=VALUE,...]` for a preset.
    pub fn from_arg(arg: &str) -> Result<Filter, FilterError> {
        match arg.strip_prefix('@') {
            Some(spec) => Filter::compile(&presets::expand(spec)?),
            None => Filter::compile(arg),
        }
    }

    /// Does this packet pass the filter? A pure function of the view: the
    /// filter holds no state, so any order of evaluation gives the same answers.
    ///
    /// `tls`/`ssl` and `http` read the view's `app`, which the engine fills
    /// in capture order following records and messages across segments, as
    /// Wireshark's reassembly does, when [`Filter::uses_app`] asked it to.
    #[inline]
    pub fn matches(&self, p: &PacketView<'_>) -> bool {
        let Some(n) = &self.root else { return true };
        let app = p.app;
        if self.needs_pool {
            eval::with_pool(app, |pool| n.eval(p, pool))
        } else {
            n.eval_fast(p)
                .unwrap_or_else(|| n.eval(p, &mut eval::Pool::empty(app)))
        }
    }

    /// Does the filter test `tls`/`http` (so the engine must follow them, see `Engine::dissect`)?
    pub fn uses_app(&self) -> bool {
        self.uses_app
    }

    /// The filter text as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The syntax tree (`None` for the empty filter).
    pub fn ast(&self) -> Option<&ast::Expr> {
        self.ast.as_ref()
    }
}

#[cfg(test)]
mod tests;
