//! Named display filters (`-Y @name`), read from `filters/presets.txt`
//! files: one `name: expression` per line, `#` comments, the comment lines
//! directly above a preset being its description. `${NAME}` placeholders are
//! filled from the argument (`@host-only-tcp:HOST=10.0.0.1`), `${NAME:-x}`
//! has a default. See `filters/README.md` for where presets are looked up.

use super::FilterError;
use std::path::{Path, PathBuf};

/// The presets shipped with hs-tui, compiled in so `@name` works anywhere.
pub const BUILTIN: &str = include_str!("../../filters/presets.txt");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub expr: String,
    pub desc: String,
    /// The file it came from, or `built-in`.
    pub source: String,
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parse a presets file. Lines that are not `name: expression` are reported.
pub fn parse_file(text: &str, source: &str) -> Result<Vec<Preset>, String> {
    let mut out = Vec::new();
    let mut desc: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            desc.clear();
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            desc.push(c.trim());
            continue;
        }
        match line.split_once(':') {
            Some((name, expr)) if valid_name(name.trim()) && !expr.trim().is_empty() => {
                out.push(Preset {
                    name: name.trim().to_string(),
                    expr: expr.trim().to_string(),
                    desc: desc.join(" "),
                    source: source.to_string(),
                });
                desc.clear();
            }
            _ => {
                return Err(format!(
                    "{source}:{}: expected 'name: expression', found '{line}'",
                    i + 1
                ))
            }
        }
    }
    Ok(out)
}

/// Directories searched for presets, in order (see `filters/README.md`).
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("HS_TUI_FILTERS") {
        dirs.push(PathBuf::from(d));
    }
    // The user's own presets.txt, beside the TUI's remembered settings.
    if let Some(d) = crate::tui::columns::config_dir() {
        dirs.push(d);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(d) = exe
            .ancestors()
            .skip(1)
            .take(5)
            .map(|a| a.join("filters"))
            .find(|d| d.join("presets.txt").is_file())
        {
            dirs.push(d);
        }
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("filters");
    if !dirs.contains(&manifest) {
        dirs.push(manifest);
    }
    dirs
}

/// The files of one directory that hold presets: `presets.txt` first, then
/// (for `$HS_TUI_FILTERS`) every other `*.txt`, sorted.
fn files_in(dir: &Path, all_txt: bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let main = dir.join("presets.txt");
    if main.is_file() {
        files.push(main.clone());
    }
    if all_txt {
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut extra: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt") && *p != main)
                .collect();
            extra.sort();
            files.extend(extra);
        }
    }
    files
}

/// Every preset, the first definition of a name winning; the built-in ones last.
/// Unreadable or malformed files are reported as warnings beside the list.
pub fn all() -> (Vec<Preset>, Vec<String>) {
    let mut out: Vec<Preset> = Vec::new();
    let mut warnings = Vec::new();
    let env_dir = std::env::var_os("HS_TUI_FILTERS").map(PathBuf::from);
    let add = |list: Vec<Preset>, out: &mut Vec<Preset>| {
        for p in list {
            if !out.iter().any(|q| q.name == p.name) {
                out.push(p);
            }
        }
    };
    for dir in search_dirs() {
        let all_txt = env_dir.as_deref() == Some(dir.as_path());
        for file in files_in(&dir, all_txt) {
            match std::fs::read_to_string(&file) {
                Ok(text) => match parse_file(&text, &file.display().to_string()) {
                    Ok(list) => add(list, &mut out),
                    Err(e) => warnings.push(e),
                },
                Err(e) => warnings.push(format!("{}: {e}", file.display())),
            }
        }
    }
    match parse_file(BUILTIN, "built-in") {
        Ok(list) => add(list, &mut out),
        Err(e) => warnings.push(e),
    }
    (out, warnings)
}

/// Fill `${NAME}` / `${NAME:-default}` placeholders.
pub fn substitute(
    name: &str,
    expr: &str,
    args: &[(String, String)],
) -> Result<String, FilterError> {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    let mut used = vec![false; args.len()];
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let Some(close) = rest[at..].find('}') else {
            return Err(FilterError::new(format!(
                "preset '{name}' has an unclosed '${{' in: {expr}"
            )));
        };
        let inner = &rest[at + 2..at + close];
        let (key, default) = match inner.split_once(":-") {
            Some((k, d)) => (k, Some(d)),
            None => (inner, None),
        };
        match args.iter().position(|(k, _)| k == key) {
            Some(i) => {
                used[i] = true;
                out.push_str(&args[i].1);
            }
            None => match default {
                Some(d) => out.push_str(d),
                None => {
                    return Err(FilterError::new(format!(
                        "preset '{name}' needs a value for ${{{key}}}: use -Y @{name}:{key}=VALUE (expression: {expr})"
                    )))
                }
            },
        }
        rest = &rest[at + close + 1..];
    }
    out.push_str(rest);
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(FilterError::new(format!(
            "preset '{name}' has no placeholder ${{{}}} (expression: {expr})",
            args[i].0
        )));
    }
    Ok(out)
}

/// Split `name:KEY=VALUE,KEY=VALUE` into the name and its arguments.
/// `KEY=VALUE` arguments of a preset.
type Args = Vec<(String, String)>;

fn split_spec(spec: &str) -> Result<(&str, Args), FilterError> {
    let (name, rest) = match spec.split_once(':') {
        Some((n, r)) => (n, Some(r)),
        None => (spec, None),
    };
    let mut args = Vec::new();
    if let Some(rest) = rest {
        for kv in rest.split(',').filter(|s| !s.is_empty()) {
            match kv.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    args.push((k.trim().to_string(), v.trim().to_string()))
                }
                _ => {
                    return Err(FilterError::new(format!(
                        "preset argument '{kv}' is not KEY=VALUE (in @{spec})"
                    )))
                }
            }
        }
    }
    Ok((name, args))
}

/// Expand `name[:KEY=VALUE,...]` (the part after `@`) to filter text.
pub fn expand(spec: &str) -> Result<String, FilterError> {
    expand_in(spec, &all().0)
}

pub fn expand_in(spec: &str, presets: &[Preset]) -> Result<String, FilterError> {
    let (name, args) = split_spec(spec)?;
    match presets.iter().find(|p| p.name == name) {
        Some(p) => substitute(name, &p.expr, &args),
        None => {
            let mut msg =
                format!("no display filter preset named '{name}' (see hs-tui --list-filters)");
            if let Some(n) = presets
                .iter()
                .map(|p| (crate::fields::edit_distance(name, &p.name), &p.name))
                .filter(|(d, _)| *d <= 3)
                .min_by_key(|(d, _)| *d)
            {
                msg = format!("no display filter preset named '{name}'; did you mean '{}'? (see hs-tui --list-filters)", n.1);
            }
            Err(FilterError::new(msg))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;

    #[test]
    fn builtin_presets_parse_and_compile() {
        let list = parse_file(BUILTIN, "built-in").unwrap();
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "handshakes-only",
                "failed-handshakes",
                "resets",
                "slow-handshakes",
                "retransmissions",
                "host-only-tcp"
            ]
        );
        for p in &list {
            assert!(!p.desc.is_empty(), "{} has no description", p.name);
            let args = [("HOST".to_string(), "10.0.0.1".to_string())];
            let args: &[(String, String)] = if p.expr.contains("${HOST}") {
                &args
            } else {
                &[]
            };
            let text = substitute(&p.name, &p.expr, args).unwrap();
            Filter::compile(&text).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
    }

    #[test]
    fn placeholders() {
        let list = parse_file(BUILTIN, "built-in").unwrap();
        assert_eq!(
            expand_in("host-only-tcp:HOST=1.2.3.4", &list).unwrap(),
            "ip.addr == 1.2.3.4 and not udp and not arp and not snmp and not icmp and not ssl"
        );
        assert_eq!(expand_in("slow-handshakes", &list).unwrap(), "hs.rtt > 0.2");
        assert_eq!(
            expand_in("slow-handshakes:RTT=1", &list).unwrap(),
            "hs.rtt > 1"
        );
        let e = expand_in("host-only-tcp", &list).unwrap_err();
        assert!(
            e.message.contains("needs a value for ${HOST}"),
            "{}",
            e.message
        );
        let e = expand_in("resets:HOST=1", &list).unwrap_err();
        assert!(
            e.message.contains("no placeholder ${HOST}"),
            "{}",
            e.message
        );
        let e = expand_in("reset", &list).unwrap_err();
        assert!(e.message.contains("did you mean 'resets'"), "{}", e.message);
        assert!(expand_in("resets:junk", &list).is_err());
    }

    #[test]
    fn file_format() {
        let list = parse_file(
            "# one\n# two\na-b: tcp\n\n# lost\n\nc_d:  udp or arp \n",
            "x",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].desc, "one two");
        assert_eq!(list[1].desc, "");
        assert_eq!(list[1].expr, "udp or arp");
        assert!(parse_file("no colon here\n", "x").is_err());
        assert!(parse_file("bad name: tcp\n", "x").is_err());
    }
}
