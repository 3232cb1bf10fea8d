//! Which columns the flows and packets tables show, in what order (`C`
//! opens the chooser), and what is remembered between runs: the columns and
//! the filter history, in `tui.json` under the user's configuration
//! directory (`$HS_TUI_CONFIG_DIR`, else `$XDG_CONFIG_HOME/hs-tui`, else
//! `~/.config/hs-tui`), next to an optional `presets.txt` of filter presets.

use super::app::SortKey;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Columns of the packets table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketCol {
    No,
    Time,
    Dir,
    Flags,
    Seq,
    Ack,
    Len,
    Win,
    Step,
    Notes,
}

impl PacketCol {
    pub const ALL: [PacketCol; 10] = [
        PacketCol::No,
        PacketCol::Time,
        PacketCol::Dir,
        PacketCol::Flags,
        PacketCol::Seq,
        PacketCol::Ack,
        PacketCol::Len,
        PacketCol::Win,
        PacketCol::Step,
        PacketCol::Notes,
    ];
    pub fn key(self) -> &'static str {
        match self {
            PacketCol::No => "no",
            PacketCol::Time => "time",
            PacketCol::Dir => "direction",
            PacketCol::Flags => "flags",
            PacketCol::Seq => "seq",
            PacketCol::Ack => "ack",
            PacketCol::Len => "len",
            PacketCol::Win => "win",
            PacketCol::Step => "step",
            PacketCol::Notes => "notes",
        }
    }
}

/// The flows table's column keys (the sort keys, plus the service name).
pub fn flow_key(c: SortKey) -> &'static str {
    match c {
        SortKey::Stream => "stream",
        SortKey::Flow => "flow",
        SortKey::State => "state",
        SortKey::Irtt => "irtt",
        SortKey::SynRtx => "syn_rtx",
        SortKey::Packets => "packets",
        SortKey::Bytes => "bytes",
        SortKey::Duration => "duration",
        SortKey::LastSeen => "last_seen",
        SortKey::Service => "service",
        SortKey::Sni => "sni",
        SortKey::TlsVersion => "tls_version",
        SortKey::Failure => "failure",
    }
}

/// Columns in display order, each shown or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    pub flows: Vec<(SortKey, bool)>,
    pub packets: Vec<(PacketCol, bool)>,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            flows: SortKey::ALL
                .iter()
                .map(|&c| (c, c != SortKey::Service))
                .collect(),
            packets: PacketCol::ALL.iter().map(|&c| (c, true)).collect(),
        }
    }
}

impl Columns {
    pub fn shown_flows(&self) -> impl Iterator<Item = SortKey> + '_ {
        self.flows.iter().filter(|c| c.1).map(|c| c.0)
    }
    pub fn shown_packets(&self) -> impl Iterator<Item = PacketCol> + '_ {
        self.packets.iter().filter(|c| c.1).map(|c| c.0)
    }
}

/// The column chooser (`C`): which table, and the selected line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnPicker {
    pub packets: bool,
    pub selected: usize,
}

/// Move `i` one place earlier or later; returns its new place.
pub fn move_item<T>(v: &mut [T], i: usize, later: bool) -> usize {
    match later {
        true if i + 1 < v.len() => {
            v.swap(i, i + 1);
            i + 1
        }
        false if i > 0 => {
            v.swap(i, i - 1);
            i - 1
        }
        _ => i,
    }
}

/// TCP service names from `/etc/services` (never DNS), loaded once.
pub fn service(port: u16) -> Option<&'static str> {
    static MAP: OnceLock<HashMap<u16, String>> = OnceLock::new();
    MAP.get_or_init(|| {
        std::fs::read_to_string("/etc/services")
            .map(|t| parse_services(&t))
            .unwrap_or_default()
    })
    .get(&port)
    .map(String::as_str)
}

fn parse_services(text: &str) -> HashMap<u16, String> {
    let mut m = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut w = line.split_whitespace();
        let (Some(name), Some(pp)) = (w.next(), w.next()) else {
            continue;
        };
        if let Some((port, "tcp")) = pp.split_once('/') {
            if let Ok(p) = port.parse::<u16>() {
                m.entry(p).or_insert_with(|| name.to_string());
            }
        }
    }
    m
}

/// The user's configuration directory for hs-tui. After a live capture run as
/// root switched to another user, that user's; none if it has no home (`nobody`).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HS_TUI_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(home) = crate::capture::privileges::became_home() {
        return home.is_dir().then(|| home.join(".config/hs-tui"));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("hs-tui"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/hs-tui"))
}

/// What is remembered between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remembered {
    pub columns: Columns,
    pub history: Vec<String>,
}

/// Most filters the history keeps.
const HISTORY: usize = 100;

/// Columns from saved names: `shown` in order, then `hidden` in order, then the
/// columns neither list names with their default visibility (`hidden` absent: hidden).
fn restore<C: Copy + PartialEq>(
    defaults: &[(C, bool)],
    key: impl Fn(&C) -> &'static str,
    shown: &[String],
    hidden: Option<&[String]>,
) -> Vec<(C, bool)> {
    let find = |n: &String| defaults.iter().find(|(c, _)| key(c) == n).map(|d| d.0);
    let mut cols: Vec<(C, bool)> = Vec::new();
    for (names, on) in [(shown, true), (hidden.unwrap_or(&[]), false)] {
        for c in names.iter().filter_map(find) {
            if !cols.iter().any(|x| x.0 == c) {
                cols.push((c, on));
            }
        }
    }
    for &(c, on) in defaults {
        if !cols.iter().any(|x| x.0 == c) {
            cols.push((c, on && hidden.is_some()));
        }
    }
    cols
}

impl Remembered {
    /// Read `tui.json`; a missing file gives the defaults, a bad one an error to show.
    pub fn load() -> (Remembered, Option<String>) {
        let Some(path) = config_dir().map(|d| d.join("tui.json")) else {
            return (Remembered::default(), None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match Remembered::from_json(&text) {
                Ok(r) => (r, None),
                Err(e) => (
                    Remembered::default(),
                    Some(format!("{}: {e}", path.display())),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Remembered::default(), None),
            Err(e) => (
                Remembered::default(),
                Some(format!("{}: {e}", path.display())),
            ),
        }
    }

    pub fn from_json(text: &str) -> Result<Remembered, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut r = Remembered::default();
        let names = |k: &str| -> Option<Vec<String>> {
            v.get(k)?.as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
        };
        // Listed columns show in that order, then the listed hidden ones; a column the
        // file does not know (added by a later version) takes its default place and look.
        // Files written before the hidden lists existed hide every unlisted column.
        let defaults = Columns::default();
        if let Some(list) = names("flows") {
            r.columns.flows = restore(
                &defaults.flows,
                |&c| flow_key(c),
                &list,
                names("flows_hidden").as_deref(),
            );
        }
        if let Some(list) = names("packets") {
            r.columns.packets = restore(
                &defaults.packets,
                |c| c.key(),
                &list,
                names("packets_hidden").as_deref(),
            );
        }
        if let Some(h) = names("filter_history") {
            r.history = h;
        }
        Ok(r)
    }

    pub fn to_json(&self) -> String {
        let start = self.history.len().saturating_sub(HISTORY);
        let v = serde_json::json!({
            "flows": self.columns.shown_flows().map(flow_key).collect::<Vec<_>>(),
            "flows_hidden": self.columns.flows.iter().filter(|c| !c.1).map(|c| flow_key(c.0)).collect::<Vec<_>>(),
            "packets": self.columns.shown_packets().map(|c| c.key()).collect::<Vec<_>>(),
            "packets_hidden": self.columns.packets.iter().filter(|c| !c.1).map(|c| c.0.key()).collect::<Vec<_>>(),
            "filter_history": &self.history[start..],
        });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }

    /// Write `tui.json` atomically (a new file renamed over the old one; a
    /// symlink in its place is replaced, never followed).
    pub fn save(&self) -> Result<(), String> {
        let dir = config_dir().ok_or("no configuration directory (HOME is not set)")?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join("tui.json");
        let tmp = dir.join(format!(".tui.json.{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .custom_flags(libc::O_NOFOLLOW)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(self.to_json().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{}: {e}", path.display())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_from_etc_services_format() {
        let m = parse_services(
            "http 80/tcp www # WorldWideWeb\nhttp 80/udp\ndomain 53/udp\nssh\t22/tcp\n",
        );
        assert_eq!(m.get(&80).map(String::as_str), Some("http"));
        assert_eq!(m.get(&22).map(String::as_str), Some("ssh"));
        assert_eq!(m.get(&53), None, "udp only");
    }

    #[test]
    fn remembered_round_trips_and_tolerates_unknown_names() {
        let mut r = Remembered::default();
        r.columns.flows.retain(|c| c.0 != SortKey::Bytes);
        r.columns.flows.insert(0, (SortKey::Bytes, true));
        r.columns.packets[9].1 = false;
        r.history = vec!["tcp.port == 80".into(), "tls".into()];
        let back = Remembered::from_json(&r.to_json()).unwrap();
        assert_eq!(
            back.columns.shown_flows().collect::<Vec<_>>(),
            r.columns.shown_flows().collect::<Vec<_>>()
        );
        assert_eq!(back.columns.shown_packets().count(), 9);
        assert_eq!(back.history, r.history);
        let odd = Remembered::from_json(r#"{"flows": ["nonsense", "state"], "other": 1}"#).unwrap();
        assert_eq!(
            odd.columns.shown_flows().collect::<Vec<_>>(),
            vec![SortKey::State]
        );
        assert!(Remembered::from_json("not json").is_err());
        // A column the file does not name (added since it was written) keeps its default
        // look; one it lists as hidden stays hidden.
        let newer = Remembered::from_json(
            r#"{"flows": ["state"], "flows_hidden": ["failure", "stream"], "packets": ["no"], "packets_hidden": []}"#,
        )
        .unwrap();
        let shown: Vec<SortKey> = newer.columns.shown_flows().collect();
        assert_eq!(shown[0], SortKey::State);
        assert!(!shown.contains(&SortKey::Failure) && !shown.contains(&SortKey::Stream));
        assert!(!shown.contains(&SortKey::Service), "hidden by default");
        assert!(shown.contains(&SortKey::Irtt) && shown.contains(&SortKey::Sni));
        assert_eq!(newer.columns.flows.len(), SortKey::ALL.len());
        assert_eq!(newer.columns.shown_packets().count(), PacketCol::ALL.len());
    }

    #[test]
    fn move_item_stays_in_bounds() {
        let mut v = [1, 2, 3];
        assert_eq!(move_item(&mut v, 0, false), 0);
        assert_eq!(move_item(&mut v, 0, true), 1);
        assert_eq!(v, [2, 1, 3]);
        assert_eq!(move_item(&mut v, 2, true), 2);
    }
}
