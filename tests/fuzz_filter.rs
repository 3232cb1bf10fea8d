//! Grammar fuzzer over the display-filter language: random expressions built from the
//! grammar (every field, operator, literal kind, function, slice, set, quantifier and
//! nesting), some of them then mangled, are compiled and evaluated on real packets.
//! Compiling may fail, never panic; evaluating never panics; no case takes over 10 s or
//! grows the process past 1 GiB. A failing expression is saved as a reproducer
//! (`target/tmp/fuzz-repro/`, or `$HS_TUI_FUZZ_OUT`); the expression being tried is
//! kept in `filter-current.txt` there, so one that kills the process is not lost.
//!
//! CI runs `HS_TUI_FUZZ_CASES` cases (default 3,000) for at most `HS_TUI_FUZZ_SECS`
//! (default 60); `HS_TUI_FUZZ_SEED` repeats a run (by default the seed changes).

use hs_tui::decode::{decode, Frame, LinkType};
use hs_tui::engine::Engine;
use hs_tui::fields::{Field, FieldType, PacketView, FIELDS};
use hs_tui::filter::Filter;
use hs_tui::track::{Budget, FlowSummary, TcpMeta};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Packet {
    frame: Frame,
    bytes: Vec<u8>,
    meta: Option<TcpMeta>,
    flow: Option<FlowSummary>,
    app: Option<Option<hs_tui::filter::protocols::AppProto>>,
}

fn packets() -> Vec<Packet> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for f in [
        "sample-captures/http-get.pcap",
        "sample-captures/ipv6-http.pcap",
        "sample-captures/refused.pcap",
        "tests/conformance/zeek-tls-irc-starttls.pcap",
        "tests/conformance/zeek-http-vlan-0.pcap",
        "tests/conformance/ppa-tcp_dupack.pcapng",
    ] {
        let mut cap = pcap::Capture::from_file(root.join(f)).unwrap();
        let link = LinkType::from_linktype(cap.get_datalink().0);
        let mut engine = Engine::new(Budget::default());
        engine.dissect(hs_tui::engine::AppLayer::App);
        let mut n = 0;
        while let Ok(p) = cap.next_packet() {
            n += 1;
            let ts = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec * 1000;
            let frame = decode(link, n, ts, p.header.len, p.data);
            let v = engine.process(&frame, p.data);
            let (meta, flow, app) = (v.meta.copied(), v.flow.cloned(), v.app);
            out.push(Packet {
                frame,
                bytes: p.data.to_vec(),
                meta,
                flow,
                app,
            });
        }
    }
    out
}

const RELS: &[&str] = &[
    "==", "!=", "===", "!==", "~=", ">", ">=", "<", "<=", "eq", "ne", "gt", "ge", "lt", "le",
    "any_eq", "all_ne", "all_eq", "any_ne",
];
const FUNCS: &[&str] = &[
    "len", "count", "upper", "lower", "string", "max", "min", "abs", "nope",
];
const JOIN: &[&str] = &[
    " and ", " or ", " && ", " || ", " and ", " or ", " xor ", " ",
];

fn field(r: &mut Rng) -> String {
    let name = r.pick(FIELDS).name;
    if r.chance(5) {
        // Typos, prefixes and protocols.
        return r
            .pick(&[
                &name[..name.len() / 2],
                "tcp",
                "ip",
                "tls",
                "http",
                "frame",
                "TCP",
                "tcp.",
                "_ws.x",
            ])
            .to_string();
    }
    name.to_string()
}

fn literal(r: &mut Rng) -> String {
    match r.below(16) {
        0 => r.below(70_000).to_string(),
        1 => format!("0x{:x}", r.next() >> r.below(64)),
        2 => format!("-{}", r.below(1000)),
        3 => "340282366920938463463374607431768211456".into(),
        4 => format!(
            "{}.{}.{}.{}",
            r.below(256),
            r.below(300),
            r.below(256),
            r.below(256)
        ),
        5 => format!("10.0.0.0/{}", r.below(40)),
        6 => "::1".into(),
        7 => format!("fe80::{:x}/{}", r.next() as u16, r.below(130)),
        8 => "00:11:22:33:44:55".into(),
        9 => format!(
            "\"{}\"",
            r.pick(&["GET", "a\\x00b", "\\\"", "ünï", "", "\\777", "\\"])
        ),
        10 => format!("'{}'", r.pick(&["P", "\\n", "\\x41", "''", "ab"])),
        11 => r
            .pick(&["true", "false", "TRUE", "1.5", "1e9", ".5", "0b101"])
            .to_string(),
        12 => field(r),
        13 => "\"2023-11-14 22:13:20.5\"".into(),
        14 => format!("{}:{}", r.below(256), r.below(256)),
        _ => "0".into(),
    }
}

fn value(r: &mut Rng, depth: usize) -> String {
    let base = match r.below(10) {
        0 if depth < 3 => {
            let f = r.pick(FUNCS);
            format!("{f}({})", value(r, depth + 1))
        }
        1 => format!("{}[{}]", field(r), slice(r)),
        2 => format!("{} & {}", field(r), literal(r)),
        3 => literal(r),
        _ => field(r),
    };
    base
}

fn slice(r: &mut Rng) -> String {
    let one = |r: &mut Rng| match r.below(5) {
        0 => format!("{}", r.below(10) as i64 - 5),
        1 => format!("{}:{}", r.below(10), r.below(10)),
        2 => format!("{}-{}", r.below(10), r.below(10)),
        3 => format!("{}:", r.below(10) as i64 - 5),
        _ => format!(":{}", r.below(10)),
    };
    let n = 1 + r.below(3);
    (0..n).map(|_| one(r)).collect::<Vec<_>>().join(",")
}

/// A literal of the field's own type (most comparisons should compile and reach the
/// evaluator).
fn typed_literal(r: &mut Rng, f: &Field) -> String {
    match f.ty {
        FieldType::UInt { max, .. } => match r.below(4) {
            0 => (r.next() % max.saturating_add(1).max(1)).to_string(),
            1 => format!("0x{:x}", r.next() % max.saturating_add(1).max(1)),
            _ => r.below(3).to_string(),
        },
        FieldType::FrameNum => (1 + r.below(40)).to_string(),
        FieldType::Int => (r.below(200) as i64 - 100).to_string(),
        FieldType::Bool => r.pick(&["0", "1", "true", "false"]).to_string(),
        FieldType::RelTime => format!("{}.{}", r.below(3), r.below(1000)),
        FieldType::AbsTime => "\"2023-11-14 22:13:20\"".into(),
        FieldType::Ipv4 => match r.below(3) {
            0 => "127.0.0.1".into(),
            1 => format!("10.0.0.0/{}", r.below(33)),
            _ => format!(
                "{}.{}.{}.{}",
                r.below(256),
                r.below(256),
                r.below(256),
                r.below(256)
            ),
        },
        FieldType::Ipv6 => r.pick(&["::1", "fe80::/10", "2001:db8::1"]).to_string(),
        FieldType::Mac => "00:00:00:00:00:00".into(),
        FieldType::Str | FieldType::Bytes | FieldType::Protocol => r
            .pick(&["\"GET\"", "\"HTTP\"", "\"a\"", "47:45:54", "\"\\x16\\x03\""])
            .to_string(),
        FieldType::None => "1".into(),
    }
}

fn atom(r: &mut Rng, depth: usize) -> String {
    let quant = if r.chance(10) {
        *r.pick(&["any ", "all "])
    } else {
        ""
    };
    if r.chance(60) {
        // Well-typed: a field and a value of its type.
        let f = r.pick(FIELDS);
        return match (f.ty, r.below(5)) {
            (FieldType::None | FieldType::Protocol, _) | (_, 0) => {
                format!("{}{}", if r.chance(20) { "not " } else { "" }, f.name)
            }
            (FieldType::Str | FieldType::Bytes, 1) => {
                format!("{} contains {}", f.name, typed_literal(r, f))
            }
            (FieldType::Str | FieldType::Bytes, 2) => format!(
                "{} matches \"{}\"",
                f.name,
                r.pick(&["^GET", "(?i)host", "a|b", "\\\\d+", "[a-z]{2}"])
            ),
            (_, 3) => format!(
                "{} in {{{}, {}..{}}}",
                f.name,
                typed_literal(r, f),
                typed_literal(r, f),
                typed_literal(r, f)
            ),
            _ => format!("{quant}{} {} {}", f.name, r.pick(RELS), typed_literal(r, f)),
        };
    }
    match r.below(9) {
        0 => field(r),
        1..=3 => format!(
            "{quant}{} {} {}",
            value(r, depth),
            r.pick(RELS),
            value(r, depth)
        ),
        4 => {
            let n = r.below(5);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    if r.chance(30) {
                        format!("{}..{}", literal(r), literal(r))
                    } else {
                        literal(r)
                    }
                })
                .collect();
            let not = if r.chance(20) { "not " } else { "" };
            format!("{} {not}in {{{}}}", value(r, depth), items.join(", "))
        }
        5 => format!("{} contains {}", value(r, depth), literal(r)),
        6 => format!(
            "{} {} \"{}\"",
            value(r, depth),
            r.pick(&["matches", "~"]),
            r.pick(&["^GET", "(?i)host", "[", "a{99999}", "\\\\d+", "(a*)*b", ".*"])
        ),
        7 => format!("{} & {}", field(r), literal(r)),
        _ => literal(r),
    }
}

fn expr(r: &mut Rng, depth: usize) -> String {
    let n = 1 + r.below(if depth == 0 { 6 } else { 3 });
    let mut s = String::new();
    let join = *r.pick(&JOIN[..6]);
    for i in 0..n {
        if i > 0 {
            let other = *r.pick(JOIN);
            let j = if r.chance(95) { join } else { other };
            s.push_str(j);
        }
        if r.chance(15) {
            let not = *r.pick(&["not ", "!", "not not "]);
            s.push_str(not);
        }
        if depth < 4 && r.chance(20) {
            s.push('(');
            s.push_str(&expr(r, depth + 1));
            s.push(')');
        } else {
            s.push_str(&atom(r, depth));
        }
    }
    s
}

/// A grammatical expression, sometimes mangled (a character dropped, doubled or
/// replaced, a chunk repeated, deep nesting or a long chain).
fn case(r: &mut Rng) -> String {
    let mut s = expr(r, 0);
    match r.below(12) {
        0 if !s.is_empty() => {
            let i = r.below(s.len());
            if s.is_char_boundary(i) && s.is_char_boundary(i + 1) {
                s.remove(i);
            }
        }
        1 if !s.is_empty() => {
            let i = r.below(s.len());
            if s.is_char_boundary(i) {
                let c = *r.pick(&[
                    '(', ')', '"', '[', ']', '{', '}', '\\', '.', ',', '!', '=', '\0', 'é',
                ]);
                s.insert(i, c);
            }
        }
        2 => {
            let d = *r.pick(&[150usize, 199, 200, 201, 5_000]);
            s = format!("{}{s}{}", "(".repeat(d), ")".repeat(d));
        }
        3 => {
            let n = *r.pick(&[100usize, 3_000]);
            s = vec![s.as_str(); n].join(*r.pick(&[" or ", " and "]));
        }
        4 => s = format!("{}{s}", "not ".repeat(r.below(300))),
        _ => {}
    }
    s
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn generated_filters_compile_or_fail_cleanly_and_evaluate() {
    let cases = env_num("HS_TUI_FUZZ_CASES", 3_000);
    let secs = env_num("HS_TUI_FUZZ_SECS", 60);
    let seed = env_num(
        "HS_TUI_FUZZ_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    ) | 1;
    let out_dir: PathBuf = std::env::var_os("HS_TUI_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-repro"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let current = out_dir.join(format!("filter-current-{seed}.txt"));
    eprintln!("fuzz_filter: seed {seed}, up to {cases} cases or {secs} s");
    let packets = packets();
    assert!(packets.len() > 100);
    let deadline = Instant::now() + Duration::from_secs(secs);

    // A watchdog: a case running over 10 s aborts the process (the expression is
    // already in `current`).
    static STARTED_MS: AtomicU64 = AtomicU64::new(0);
    let epoch = Instant::now();
    let watched = current.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        let s = STARTED_MS.load(Ordering::Relaxed);
        if s > 0 && epoch.elapsed().as_millis() as u64 > s + 10_000 {
            eprintln!(
                "fuzz_filter: a case hangs (over 10 s): {}",
                watched.display()
            );
            std::process::abort();
        }
    });

    let (mut compiled, mut rejected, mut matched) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    let mut n = 0;
    while n < cases && Instant::now() < deadline {
        let mut r = Rng(seed ^ (n + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next();
        let text = case(&mut r);
        std::fs::write(&current, &text).unwrap();
        STARTED_MS.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        let outcome = std::panic::catch_unwind(|| match Filter::compile(&text) {
            Err(e) => {
                // The error renders (with its caret line) without panicking.
                let _ = e.to_string();
                None
            }
            Ok(f) => {
                let first = packets[0].frame.ts_ns;
                Some(
                    packets
                        .iter()
                        .filter(|p| {
                            f.matches(&PacketView {
                                frame: &p.frame,
                                bytes: &p.bytes,
                                meta: p.meta.as_ref(),
                                flow: p.flow.as_ref(),
                                first_ts: first,
                                prev_ts: first,
                                app: p.app,
                                diff: None,
                                tls: None,
                                tls_stream: None,
                            })
                        })
                        .count(),
                )
            }
        });
        STARTED_MS.store(0, Ordering::Relaxed);
        match outcome {
            Ok(None) => rejected += 1,
            Ok(Some(m)) => {
                compiled += 1;
                matched += (m > 0) as u64;
            }
            Err(_) => {
                let repro = out_dir.join(format!("filter-{seed}-{n}.txt"));
                std::fs::write(&repro, &text).unwrap();
                failures.push(format!("panic: {}", repro.display()));
            }
        }
        if rss_kib() > 1 << 20 {
            let repro = out_dir.join(format!("filter-{seed}-{n}.txt"));
            std::fs::write(&repro, &text).unwrap();
            failures.push(format!("memory over 1 GiB after {}", repro.display()));
            break;
        }
        n += 1;
    }
    let _ = std::fs::remove_file(&current);
    eprintln!(
        "fuzz_filter: {n} cases: {compiled} compiled ({matched} matched some packet), {rejected} rejected, {} failures",
        failures.len()
    );
    assert!(n >= cases.min(100), "only {n} cases ran");
    // The generator must reach the evaluator, not only the error paths.
    assert!(compiled * 10 >= n, "{compiled} of {n} compiled");
    assert!(matched > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
