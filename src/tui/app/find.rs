//! Go to packet (Ctrl-G) and Find (Ctrl-F, then `n` / `N`), Wireshark's way
//! of moving to a packet without hiding the others. A find re-reads the
//! whole capture through a fresh engine on a background thread (the same
//! scan as a filter), so it answers exactly what `-Y` would, also for packets
//! whose records left memory; the view jumps as soon as the answer is known.

use super::*;

/// What the find prompt's text is (Tab cycles, as Wireshark's "Find by").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindMode {
    /// A display filter.
    Filter,
    /// Text anywhere in the frame's bytes, ASCII case ignored.
    String,
    /// Hex bytes anywhere in the frame, e.g. `16 03 01` or `160301`.
    Hex,
}

impl FindMode {
    pub fn name(self) -> &'static str {
        match self {
            FindMode::Filter => "display filter",
            FindMode::String => "string",
            FindMode::Hex => "hex bytes",
        }
    }
    fn next(self) -> FindMode {
        match self {
            FindMode::Filter => FindMode::String,
            FindMode::String => FindMode::Hex,
            FindMode::Hex => FindMode::Filter,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    GoTo,
    Find(FindMode),
}

/// The one-line prompt of Ctrl-G and Ctrl-F, drawn in the filter bar's place.
#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

/// Frames whose bytes contain a pattern.
struct BytesFind(regex::bytes::Regex);

impl PacketFilter for BytesFind {
    fn matches(&self, p: &crate::fields::PacketView<'_>) -> bool {
        self.0.is_match(p.bytes)
    }
}

/// Most matches a find remembers (frame numbers, 8 bytes each).
const MAX_MATCHES: usize = 1_000_000;

/// The last find: its matches as the scan finds them, and a jump waiting for them.
pub struct FindState {
    pub text: String,
    pub mode: FindMode,
    matches: Vec<u64>,
    read: u64,
    pub done: bool,
    truncated: bool,
    scan: Option<Scan>,
    /// (forward, from frame number): a jump waiting for the scan.
    pending: Option<(bool, u64)>,
}

impl FindState {
    pub fn matches_so_far(&self) -> usize {
        self.matches.len()
    }
}

/// Compile what the find prompt holds.
fn compile(
    mode: FindMode,
    text: &str,
    compiler: Option<Compiler>,
) -> Result<CompiledFilter, String> {
    let pattern = match mode {
        FindMode::Filter => {
            let c = compiler.ok_or("find by display filter needs the display filter engine")?;
            return c(text);
        }
        FindMode::String => format!("(?i-u){}", regex::escape(text)),
        FindMode::Hex => {
            let digits: String = text
                .chars()
                .filter(|c| !matches!(c, ' ' | ':' | '-' | '.'))
                .collect();
            let digits = digits.strip_prefix("0x").unwrap_or(&digits);
            if digits.is_empty()
                || digits.len() % 2 != 0
                || !digits.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err(format!(
                    "'{text}' is not hex bytes (like 16 03 01 or 160301)"
                ));
            }
            let mut p = String::from("(?-u)");
            for i in (0..digits.len()).step_by(2) {
                p.push_str("\\x");
                p.push_str(&digits[i..i + 2]);
            }
            p
        }
    };
    if text.is_empty() {
        return Err("nothing to find".into());
    }
    regex::bytes::Regex::new(&pattern)
        .map(|r| Arc::new(BytesFind(r)) as CompiledFilter)
        .map_err(|e| e.to_string())
}

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        let input = match (kind, &self.find) {
            (PromptKind::Find(_), Some(f)) => f.text.clone(),
            _ => String::new(),
        };
        let kind = match (kind, &self.find) {
            (PromptKind::Find(_), Some(f)) => PromptKind::Find(f.mode),
            _ => kind,
        };
        self.prompt = Some(Prompt { kind, input });
    }

    #[allow(clippy::collapsible_match)] // a GoTo prompt ignores a non-digit; it must not fall to the next arm
    pub(super) fn on_prompt_key(&mut self, ev: KeyEvent) {
        let Some(p) = self.prompt.as_mut() else {
            return;
        };
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match ev.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Char('c') if ctrl => self.prompt = None,
            KeyCode::Char('u') if ctrl => p.input.clear(),
            KeyCode::Backspace => {
                p.input.pop();
            }
            KeyCode::Tab => {
                if let PromptKind::Find(m) = p.kind {
                    p.kind = PromptKind::Find(m.next());
                }
            }
            KeyCode::Char(c) if !ctrl && (p.kind != PromptKind::GoTo || c.is_ascii_digit()) => {
                p.input.push(c);
            }
            KeyCode::Enter => {
                let Some(p) = self.prompt.take() else { return };
                match p.kind {
                    PromptKind::GoTo => match p.input.trim().parse::<u64>() {
                        Ok(n) => {
                            self.go_to(n);
                        }
                        Err(_) => {
                            self.message =
                                Some((Severity::Error, "go to: type a packet number".into()))
                        }
                    },
                    PromptKind::Find(mode) => self.start_find(mode, p.input.trim()),
                }
            }
            _ => {}
        }
    }

    /// The frame number of the selected packet (0 before any).
    fn current_number(&self) -> u64 {
        self.packets
            .selected()
            .and_then(|g| self.store.get(g))
            .map_or(0, |r| r.number())
    }

    /// Select packet `number` in its flow, without changing the filter. True when shown.
    pub fn go_to(&mut self, number: u64) -> bool {
        let base = self.store.base();
        let Some((lo, rec)) = self
            .store
            .find_number(number)
            .and_then(|g| Some((g, self.store.get(g)?)))
        else {
            let why = if number == 0 || number > self.store.counts.frames {
                format!(
                    "no packet {number}: the capture has {} so far",
                    self.store.counts.frames
                )
            } else if base > 0 && self.store.get(base).is_some_and(|r| number < r.number()) {
                format!("packet {number} left memory (--tui-max-packets); a filter or w still reaches it")
            } else {
                format!("packet {number} is not a TCP packet")
            };
            self.message = Some((Severity::Error, why));
            return false;
        };
        let stream = rec.meta.stream;
        let Some(row) = self.flows.rows.iter().position(|&s| s == stream) else {
            self.message = Some((
                Severity::Error,
                format!("packet {number} is hidden by the filter (its flow {stream} is not shown)"),
            ));
            return false;
        };
        self.flows.follow = false;
        self.select_flow_row(row);
        let Some(i) = self.packets.rows.iter().position(|&x| x == lo) else {
            self.message = Some((
                Severity::Error,
                format!("packet {number} is hidden by the filter"),
            ));
            return false;
        };
        self.packets.list.sel = i;
        let h = self.page(Focus::Packets);
        self.packets.list.keep_in_view(h, self.packets.rows.len());
        self.focus = Focus::Packets;
        true
    }

    fn start_find(&mut self, mode: FindMode, text: &str) {
        let filter = match compile(mode, text, self.filter.compiler) {
            Ok(f) => f,
            Err(e) => {
                self.message = Some((Severity::Error, format!("find: {e}")));
                return;
            }
        };
        let Some((path, _)) = self.store.backing_file() else {
            self.message = Some((Severity::Error, "find: no file to search yet".into()));
            return;
        };
        let scan = Scan::start(ScanSpec {
            path,
            frames: Some(self.store.counts.frames),
            budget: self.store.budget,
            filter: Some(filter),
            streams: None,
            save: None,
        });
        self.find = Some(FindState {
            text: text.to_string(),
            mode,
            matches: Vec::new(),
            read: 0,
            done: false,
            truncated: false,
            scan: Some(scan),
            pending: Some((true, self.current_number())),
        });
        self.message = Some((
            Severity::Info,
            format!("finding {} '{text}' …", mode.name()),
        ));
    }

    /// `n` / `N`: the next or previous match of the last find.
    pub(super) fn find_again(&mut self, forward: bool) {
        let from = self.current_number();
        match self.find.as_mut() {
            Some(f) => f.pending = Some((forward, from)),
            None => {
                self.message = Some((Severity::Info, "nothing to find again: Ctrl-F finds".into()));
                return;
            }
        }
        self.resolve_find();
    }

    /// Take the scan's news until `deadline`; true while it runs.
    pub(super) fn step_find(&mut self, deadline: Instant) -> bool {
        let Some(f) = self.find.as_mut() else {
            return false;
        };
        if let Some(scan) = &f.scan {
            while let Some(msg) = scan.next() {
                match msg {
                    ScanMsg::Kept(numbers, read) => {
                        let room = MAX_MATCHES.saturating_sub(f.matches.len());
                        f.truncated |= numbers.len() > room;
                        f.matches.extend(numbers.into_iter().take(room));
                        f.read = read;
                    }
                    ScanMsg::Done { error, .. } => {
                        f.done = true;
                        if let Some(e) = error {
                            self.message = Some((Severity::Error, format!("find: {e}")));
                        }
                        break;
                    }
                }
                if Instant::now() >= deadline {
                    break;
                }
            }
        }
        if f.done {
            f.scan = None;
        }
        let running = !f.done;
        self.resolve_find();
        running
    }

    /// Jump if the matches known so far answer the waiting jump.
    fn resolve_find(&mut self) {
        let Some(f) = self.find.as_mut() else { return };
        let Some((forward, from)) = f.pending else {
            return;
        };
        let target = if forward {
            match f.matches.iter().find(|&&n| n > from) {
                Some(&n) => Some((n, false)),
                None if f.done || f.truncated => f.matches.first().map(|&n| (n, true)),
                None => return,
            }
        } else {
            if !(f.done || f.read >= from) {
                return;
            }
            match f.matches.iter().rev().find(|&&n| n < from) {
                Some(&n) => Some((n, false)),
                None if f.done => f.matches.last().map(|&n| (n, true)),
                None => return,
            }
        };
        f.pending = None;
        let (text, mode, truncated) = (f.text.clone(), f.mode, f.truncated);
        match target {
            Some((n, wrapped)) => {
                if self.go_to(n) {
                    let mut m = format!("found {} '{text}' in packet {n}", mode.name());
                    if wrapped {
                        m.push_str(" (search wrapped)");
                    }
                    if truncated {
                        m.push_str(&format!("; only the first {MAX_MATCHES} matches are kept"));
                    }
                    self.message = Some((Severity::Info, m));
                }
            }
            None => {
                self.message = Some((
                    Severity::Error,
                    format!("no packet matches {} '{text}'", mode.name()),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_string_patterns() {
        let hex = compile(FindMode::Hex, "16 03:01", None);
        assert!(hex.is_ok());
        assert!(compile(FindMode::Hex, "1", None).is_err());
        assert!(compile(FindMode::Hex, "zz", None).is_err());
        assert!(compile(FindMode::String, "", None).is_err());
        assert!(
            compile(FindMode::String, "GET (", None).is_ok(),
            "escaped, not a regex"
        );
        assert!(compile(FindMode::Filter, "tcp", None).is_err(), "no engine");
    }
}
