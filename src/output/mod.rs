//! Batch output: per-packet printers (`-T text|fields|json|ek|ndjson`) and
//! end-of-run reports (`-z conv,tcp`, `-z hs`, the `-q` summary). The
//! pipeline calls `Printer::packet` for every displayed packet and never
//! matches on the format itself.

pub mod expert;
pub mod parquet;
pub mod pcap_file;
pub mod report;
pub mod report_job;
pub mod ring;
pub mod setup_report;

use crate::fields::{self, Field, FieldType, PacketView, Value};
use std::io::{self, Write};

/// `-T` formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One summary line per packet, like tshark's default.
    Text,
    /// The `-e` fields, one line per packet.
    Fields,
    /// A JSON array in tshark's `-T json` shape.
    Json,
    /// Elasticsearch bulk format, as tshark's `-T ek` (index line + document per packet).
    Ek,
    /// One compact JSON object per line, field names unchanged.
    Ndjson,
    /// The interactive terminal UI.
    Tui,
}

/// `-E` options of `-T fields`.
#[derive(Clone, Debug)]
pub struct FieldsOptions {
    pub header: bool,
    pub separator: String,
    pub aggregator: String,
    /// 'a' all, 'f' first, 'l' last.
    pub occurrence: char,
    /// None, or the quote character.
    pub quote: Option<char>,
}

impl Default for FieldsOptions {
    fn default() -> Self {
        FieldsOptions {
            header: false,
            separator: "\t".into(),
            aggregator: ",".into(),
            occurrence: 'a',
            quote: None,
        }
    }
}

impl FieldsOptions {
    /// Apply one `-E key=value`, tshark style.
    pub fn set(&mut self, kv: &str) -> Result<(), String> {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("invalid -E option '{kv}': expected key=value"))?;
        let unescape = |v: &str| match v {
            "/t" => "\t".to_string(),
            "/s" => " ".to_string(),
            other => other.to_string(),
        };
        match k {
            "header" => self.header = matches!(v, "y" | "Y"),
            "separator" => self.separator = unescape(v),
            "aggregator" => self.aggregator = unescape(v),
            "occurrence" => {
                self.occurrence = match v {
                    "a" => 'a',
                    "f" => 'f',
                    "l" => 'l',
                    _ => return Err(format!("invalid -E occurrence '{v}': use f, l or a")),
                }
            }
            "quote" => {
                self.quote = match v {
                    "d" => Some('"'),
                    "s" => Some('\''),
                    "n" => None,
                    _ => return Err(format!("invalid -E quote '{v}': use d, s or n")),
                }
            }
            "bom" | "escape" => {}
            _ => {
                return Err(format!(
                "invalid -E option '{k}': use header, separator, aggregator, occurrence or quote"
            ))
            }
        }
        Ok(())
    }
}

/// Prints packets in one format. Holds its scratch buffers so the hot loop allocates nothing.
pub struct Printer {
    format: Format,
    fields: Vec<&'static Field>,
    /// Per field, the numeric fast path when it has one (see `fields::fast_u64`).
    fast: Vec<Option<fields::FastU64>>,
    /// Every field has a fast getter: the whole line is numbers and separators.
    all_fast: bool,
    opts: FieldsOptions,
    line: String,
    vals: Vec<Value<'static>>,
    count: u64,
    /// Decimals of the text output's time column: the capture's timestamp precision.
    time_decimals: usize,
}

impl Printer {
    /// Decimals of the text output's time column (see `file_time_decimals`).
    pub fn set_time_decimals(&mut self, decimals: usize) {
        self.time_decimals = decimals;
    }

    pub fn new(format: Format, fields: Vec<&'static Field>, opts: FieldsOptions) -> Printer {
        // The fast path prints plain numbers; quoting and occurrence picking keep the generic path.
        let plain = opts.quote.is_none();
        let fast: Vec<Option<fields::FastU64>> = fields
            .iter()
            .map(|f| fields::fast_u64(f.name).filter(|_| plain))
            .collect();
        let all_fast = fast.iter().all(Option::is_some);
        Printer {
            format,
            fields,
            fast,
            all_fast,
            opts,
            line: String::with_capacity(256),
            vals: Vec::new(),
            time_decimals: 6,
            count: 0,
        }
    }

    pub fn begin(&mut self, w: &mut dyn Write) -> io::Result<()> {
        match self.format {
            Format::Fields if self.opts.header => {
                let names: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
                writeln!(w, "{}", names.join(&self.opts.separator))
            }
            Format::Json => write!(w, "["),
            _ => Ok(()),
        }
    }

    pub fn end(&mut self, w: &mut dyn Write) -> io::Result<()> {
        self.flush(w)?;
        match self.format {
            Format::Json if self.count > 0 => writeln!(w, "\n]\n"),
            Format::Json => writeln!(w, "]"),
            _ => Ok(()),
        }
    }

    /// Write out the lines held back (see `packet`).
    pub fn flush(&mut self, w: &mut dyn Write) -> io::Result<()> {
        let r = w.write_all(self.line.as_bytes());
        self.line.clear();
        r
    }

    pub fn packet(&mut self, p: &PacketView<'_>, w: &mut dyn Write) -> io::Result<()> {
        if self.all_fast && self.format == Format::Fields {
            // All-numeric lines are tiny: gather 64 KiB of them per write instead of
            // one write per line. `flush` and `end` write out the rest.
            self.fields_line(p);
            self.count += 1;
            if self.line.len() >= 1 << 16 {
                self.flush(w)?;
            }
            return Ok(());
        }
        self.line.clear();
        match self.format {
            Format::Fields => self.fields_line(p),
            Format::Text | Format::Tui => text_line_with(p, &mut self.line, self.time_decimals),
            Format::Json => self.json(p, false),
            Format::Ek => self.json(p, true),
            Format::Ndjson => self.ndjson(p),
        }
        self.count += 1;
        self.flush(w)
    }

    /// Run a field's getter with the reused buffer; the values borrow `p` only for the call.
    fn with_values<'a, R>(
        vals: &mut Vec<Value<'static>>,
        f: &Field,
        p: &PacketView<'a>,
        k: impl FnOnce(&[Value<'a>]) -> R,
    ) -> R {
        let mut buf: Vec<Value<'a>> = relifetime(std::mem::take(vals));
        f.values(p, &mut buf);
        let r = k(&buf);
        *vals = relifetime(buf);
        r
    }

    /// The hot path of `-T fields`: one scratch buffer taken per packet, not per field.
    fn fields_line(&mut self, p: &PacketView<'_>) {
        let opts = &self.opts;
        let line = &mut self.line;
        if self.all_fast {
            // The common scripting case (`-e tcp.stream -e tcp.seq ...`): no value buffers at all.
            let one_byte = match opts.separator.as_bytes() {
                [b] if b.is_ascii() => Some(char::from(*b)),
                _ => None,
            };
            for (i, get) in self.fast.iter().flatten().enumerate() {
                if i > 0 {
                    match one_byte {
                        Some(c) => line.push(c),
                        None => line.push_str(&opts.separator),
                    }
                }
                if let Some(v) = get(p) {
                    push_u64(line, v);
                }
            }
            line.push('\n');
            return;
        }
        let mut vals: Vec<Value<'_>> = relifetime(std::mem::take(&mut self.vals));
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                line.push_str(&opts.separator);
            }
            if let Some(get) = self.fast[i] {
                if let Some(v) = get(p) {
                    line.push_str(itoa::Buffer::new().format(v));
                }
                continue;
            }
            f.values(p, &mut vals);
            let picked: &[Value<'_>] = match (opts.occurrence, vals.len()) {
                (_, 0) => &[],
                ('f', _) => &vals[..1],
                ('l', n) => &vals[n - 1..],
                _ => &vals,
            };
            // tshark quotes the whole field, not each of its values: "a,b".
            let quote = opts.quote.filter(|_| !picked.is_empty());
            if let Some(q) = quote {
                line.push(q);
            }
            for (j, v) in picked.iter().enumerate() {
                if j > 0 {
                    line.push_str(&opts.aggregator);
                }
                v.write(f.ty, line);
            }
            if let Some(q) = quote {
                line.push(q);
            }
        }
        line.push('\n');
        self.vals = relifetime(vals);
    }

    fn json(&mut self, p: &PacketView<'_>, ek: bool) {
        let date = chrono::DateTime::from_timestamp_nanos(p.frame.ts_ns)
            .format("%Y-%m-%d")
            .to_string();
        let mut layers = String::new();
        let fields: Vec<&'static Field> = if self.fields.is_empty() {
            fields::FIELDS.iter().filter(|f| !skip_in_json(f)).collect()
        } else {
            self.fields.clone()
        };
        let mut current_layer = "";
        let grouped = self.fields.is_empty();
        for f in fields {
            let mut text: Vec<String> = Vec::new();
            Self::with_values(&mut self.vals, f, p, |vals| {
                text = vals.iter().map(|v| v.to_text(f.ty)).collect()
            });
            if text.is_empty() {
                continue;
            }
            let name = if ek {
                f.name.replace('.', "_")
            } else {
                f.name.to_string()
            };
            if grouped {
                let layer = f.name.split('.').next().unwrap_or("");
                if layer != current_layer {
                    if !current_layer.is_empty() {
                        layers.push('}');
                        layers.push(',');
                    }
                    layers.push_str(&json_str(layer));
                    layers.push_str(":{");
                    current_layer = layer;
                } else {
                    layers.push(',');
                }
            } else if !layers.is_empty() {
                layers.push(',');
            }
            layers.push_str(&json_str(&name));
            layers.push(':');
            if grouped && text.len() == 1 {
                layers.push_str(&json_str(&text[0]));
            } else {
                layers.push('[');
                layers.push_str(
                    &text
                        .iter()
                        .map(|t| json_str(t))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                layers.push(']');
            }
        }
        if grouped && !current_layer.is_empty() {
            layers.push('}');
        }
        if ek {
            let ms = p.frame.ts_ns / 1_000_000;
            self.line.push_str(&format!(
                "{{\"index\":{{\"_index\":\"packets-{date}\",\"_type\":\"doc\"}}}}\n"
            ));
            self.line.push_str(&format!(
                "{{\"timestamp\":\"{ms}\",\"layers\":{{{layers}}}}}\n"
            ));
        } else {
            if self.count > 0 {
                self.line.push(',');
            }
            self.line.push_str(&format!(
                "\n  {{\n    \"_index\": \"packets-{date}\",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {{\n      \"layers\": {{{layers}}}\n    }}\n  }}"
            ));
        }
    }

    fn ndjson(&mut self, p: &PacketView<'_>) {
        let fields: Vec<&'static Field> = if self.fields.is_empty() {
            fields::FIELDS.iter().filter(|f| !skip_in_json(f)).collect()
        } else {
            self.fields.clone()
        };
        self.line.push('{');
        let mut first = true;
        for f in fields {
            let mut out = String::new();
            Self::with_values(&mut self.vals, f, p, |vals| {
                if vals.is_empty() {
                    return;
                }
                out.push_str(&json_str(f.name));
                out.push(':');
                let one = |v: &Value<'_>| json_value(v, f.ty);
                if vals.len() == 1 {
                    out.push_str(&one(&vals[0]));
                } else {
                    out.push('[');
                    out.push_str(&vals.iter().map(one).collect::<Vec<_>>().join(","));
                    out.push(']');
                }
            });
            if out.is_empty() {
                continue;
            }
            if !first {
                self.line.push(',');
            }
            first = false;
            self.line.push_str(&out);
        }
        self.line.push_str("}\n");
    }
}

/// Move an emptied buffer's allocation to another lifetime: the in-place
/// `collect` reuses it, and the closure never runs on an empty vector.
/// Small numbers (most stream indexes, relative seq/acks near the start) skip itoa's copy.
fn push_u64(line: &mut String, v: u64) {
    if v < 10 {
        line.push(char::from(b'0' + v as u8));
    } else {
        line.push_str(itoa::Buffer::new().format(v));
    }
}

fn relifetime<'a, 'b>(mut v: Vec<Value<'a>>) -> Vec<Value<'b>> {
    v.clear();
    v.into_iter().map(|_| Value::Present).collect()
}

fn skip_in_json(f: &Field) -> bool {
    // frame.file is hs-tui's own (tshark's JSON has no such key): asked for with -e only.
    matches!(f.ty, FieldType::Protocol)
        || f.name.starts_with("_ws.")
        || f.name == "tcp.payload"
        || f.name == "frame.file"
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Typed JSON for `-T ndjson`: numbers as numbers, times as seconds.
fn json_value(v: &Value<'_>, ty: FieldType) -> String {
    match v {
        Value::UInt(x) => match ty {
            FieldType::UInt { hex, .. } if hex > 0 => json_str(&v.to_text(ty)),
            _ => x.to_string(),
        },
        Value::Int(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Time(_) if ty == FieldType::RelTime => v.to_text(ty),
        Value::Present => "true".into(),
        _ => json_str(&v.to_text(ty)),
    }
}

/// tshark's default line, with the handshake phase appended for TCP (microsecond times).
pub fn text_line(p: &PacketView<'_>, s: &mut String) {
    text_line_with(p, s, 6)
}

/// The time column with `decimals` places: 9 for a nanosecond capture, as tshark.
fn rel_time(ns: i64, decimals: usize) -> String {
    if decimals == 9 {
        // From the integer: an f64 has too few digits for nanoseconds of a long capture.
        let sign = if ns < 0 { "-" } else { "" };
        let a = ns.unsigned_abs();
        format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
    } else {
        format!("{:.*}", decimals, ns as f64 / 1e9)
    }
}

/// The timestamp precision of a capture file, as decimals (6 or 9) for the time column:
/// tshark prints what the file records. Standard input and unreadable files: 6.
pub fn file_time_decimals(path: &std::path::Path) -> usize {
    use std::io::Read as _;
    let mut head = [0u8; 4096];
    // `read` may return less than asked: read until full or the end of the file.
    let mut n = 0;
    if let Ok(mut f) = std::fs::File::open(path) {
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
    }
    time_decimals_of(&head[..n])
}

/// See `file_time_decimals`: from the first bytes of the file.
pub fn time_decimals_of(head: &[u8]) -> usize {
    match head.get(..4) {
        Some([0xa1, 0xb2, 0x3c, 0x4d]) | Some([0x4d, 0x3c, 0xb2, 0xa1]) => 9,
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => pcapng_decimals(head).unwrap_or(6),
        _ => 6,
    }
}

/// 9 when a pcapng file's first interface has nanosecond `if_tsresol`; `None` when
/// absent (microseconds), another resolution, or not within `head`.
fn pcapng_decimals(head: &[u8]) -> Option<usize> {
    let le = match head.get(8..12)? {
        [0x4d, 0x3c, 0x2b, 0x1a] => true,
        [0x1a, 0x2b, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let u32_at = |i: usize| -> Option<usize> {
        let b: [u8; 4] = head.get(i..i + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        } as usize)
    };
    let u16_at = |i: usize| -> Option<usize> {
        let b: [u8; 2] = head.get(i..i + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        } as usize)
    };
    // Skip blocks to the first Interface Description Block (type 1).
    let mut at = 0;
    loop {
        let (kind, len) = (u32_at(at)?, u32_at(at + 4)?);
        if len < 12 || len % 4 != 0 {
            return None;
        }
        if kind == 1 {
            // Options after link type (2), reserved (2) and snaplen (4).
            let (mut o, end) = (at + 16, at + len - 4);
            while o + 4 <= end {
                let (code, olen) = (u16_at(o)?, u16_at(o + 2)?);
                if code == 0 {
                    return None;
                }
                if code == 9 && olen >= 1 {
                    let r = *head.get(o + 4)?;
                    // Nanoseconds (10^-9) give 9 decimals; anything else is printed as
                    // microseconds here.
                    return (r == 9).then_some(9);
                }
                o += 4 + olen.div_ceil(4) * 4;
            }
            return None;
        }
        at += len;
    }
}

/// `text_line` with the time column's decimals given.
pub fn text_line_with(p: &PacketView<'_>, s: &mut String, decimals: usize) {
    use std::fmt::Write as _;
    let f = p.frame;
    let rel = rel_time(f.ts_ns - p.first_ts, decimals);
    let (src, dst) = endpoints(f);
    let info = fields::info::info(p);
    let _ = write!(
        s,
        "{:>5} {:>10} {:>12} → {:<12} {} {} {}",
        f.number,
        rel,
        src,
        dst,
        fields::info::protocol_column(f),
        f.wire_len,
        info
    );
    if let Some(m) = p.meta.filter(|m| m.analyzed) {
        let _ = write!(s, "  [stream {}: {}", m.stream, m.phase.name());
        if m.phase.step() > 0 {
            let _ = write!(s, " {}/3", m.phase.step());
        }
        if m.phase == crate::track::Phase::Rst || m.phase == crate::track::Phase::Fin {
            let _ = write!(s, ", {}", m.hs_state.name());
        }
        s.push(']');
    }
    s.push('\n');
}

/// Source and destination as tshark's columns show them.
pub fn endpoints(f: &crate::decode::Frame) -> (String, String) {
    if let Some(ip) = &f.ip {
        return (ip.src.to_string(), ip.dst.to_string());
    }
    if let Some(a) = &f.arp {
        let mut s = String::new();
        let mut d = String::new();
        fields::write_mac(&mut s, &a.sender_mac);
        fields::write_mac(&mut d, &f.eth_dst.unwrap_or([0xff; 6]));
        return (s, d);
    }
    match (f.eth_src, f.eth_dst) {
        (Some(a), Some(b)) => {
            let (mut s, mut d) = (String::new(), String::new());
            fields::write_mac(&mut s, &a);
            fields::write_mac(&mut d, &b);
            (s, d)
        }
        _ => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time column's decimals follow the file's timestamp precision, as tshark's
    /// (its answers: 9 decimals for exactly these two files of the corpus).
    #[test]
    fn time_decimals_from_the_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
        let mut nine = Vec::new();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if file_time_decimals(&e.path()) == 9 {
                nine.push(name);
            }
        }
        nine.sort();
        assert_eq!(
            nine,
            ["lo-tshark-http.pcapng", "tcpdump-tcp-handshake-nano.pcap"]
        );
        assert_eq!(time_decimals_of(&[]), 6);
        assert_eq!(time_decimals_of(&[0x4d, 0x3c, 0xb2, 0xa1, 0, 0]), 9);
        assert_eq!(rel_time(1_500_000_001, 9), "1.500000001");
        assert_eq!(rel_time(-1_500_000_001, 9), "-1.500000001");
        assert_eq!(rel_time(1_500_000_001, 6), "1.500000");
    }

    #[test]
    fn e_options() {
        let mut o = FieldsOptions::default();
        o.set("separator=/s").unwrap();
        o.set("header=y").unwrap();
        o.set("occurrence=f").unwrap();
        o.set("quote=d").unwrap();
        assert_eq!(o.separator, " ");
        assert!(o.header);
        assert_eq!(o.occurrence, 'f');
        assert_eq!(o.quote, Some('"'));
        assert!(o.set("nonsense").is_err());
        assert!(o.set("occurrence=x").is_err());
    }

    /// The all-numeric path gathers lines and writes them in 64 KiB pieces: the
    /// output must be exactly the generic path's, across piece boundaries and at the end.
    #[test]
    fn gathered_numeric_lines_equal_the_generic_path() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/http-get.pcap");
        let mut cap = pcap::Capture::from_file(path).unwrap();
        let mut frames = Vec::new();
        while let Ok(p) = cap.next_packet() {
            frames.push((p.header.len, p.data.to_vec()));
        }
        assert!(!frames.is_empty());
        let names = [
            "frame.number",
            "tcp.stream",
            "tcp.seq",
            "tcp.ack",
            "tcp.len",
        ];
        let fields: Vec<&'static Field> =
            names.iter().map(|n| fields::by_name(n).unwrap()).collect();
        let run = |opts: FieldsOptions| {
            let mut printer = Printer::new(Format::Fields, fields.clone(), opts);
            let mut tracker = crate::track::Tracker::default();
            let mut out: Vec<u8> = Vec::new();
            // 300 passes over the capture: several 64 KiB pieces.
            for n in 0..300u64 {
                for (i, (len, data)) in frames.iter().enumerate() {
                    let number = n * frames.len() as u64 + i as u64 + 1;
                    let link = crate::decode::LinkType::Ethernet;
                    let f = crate::decode::decode(link, number, 0, *len, data);
                    let tracked = tracker.process(&f);
                    let view = PacketView {
                        frame: &f,
                        bytes: data,
                        meta: tracked.map(|t| t.0),
                        flow: tracked.map(|t| t.1),
                        first_ts: 0,
                        prev_ts: 0,
                        app: None,
                        diff: None,
                        tls: None,
                        tls_stream: None,
                    };
                    printer.packet(&view, &mut out).unwrap();
                }
            }
            printer.end(&mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let fast = run(FieldsOptions::default());
        let mut quoted = FieldsOptions::default();
        quoted.set("quote=s").unwrap();
        let generic = run(quoted).replace('\'', "");
        assert!(fast.len() > 2 << 16, "{} bytes only", fast.len());
        assert_eq!(fast.lines().count(), 300 * frames.len());
        assert!(
            fast == generic,
            "the gathered output differs from the generic path"
        );
    }
}
