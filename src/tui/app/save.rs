//! `w`: the shown packets re-read from the capture and written to a new file.

use super::*;

/// `w` running: the capture re-read and the kept frames written.
pub(super) struct SaveJob {
    pub(super) path: PathBuf,
    pub(super) scan: Scan,
    /// What the saved file lacks, said when it is done (a spool that stopped).
    pub(super) lacks: Option<String>,
}

impl App {
    // ---------------------------------------------------------------- saving

    /// `w`: the packets shown, re-read from the capture (the whole file,
    /// also during the load) and written to a new file. In the packets or
    /// details pane, the selected flow's shown packets only.
    pub(super) fn start_save(&mut self) {
        if self.save.is_some() {
            self.message = Some((Severity::Info, "a save is already running".into()));
            return;
        }
        let stream = match self.focus {
            Focus::Packets | Focus::Details | Focus::Bytes => self.packets.stream,
            Focus::Flows => None,
        };
        let (filter, streams) = match (&self.filter.active, stream) {
            (Active::Compiled(f), s) => (Some(f.clone()), s.map(StreamSet::one)),
            (_, Some(s)) => (None, Some(StreamSet::one(s))),
            // The quick filter judges flows: decided here, even while its job runs.
            (Active::Quick(q), None) => (
                None,
                Some(
                    self.store
                        .all_flows()
                        .filter(|e| q.matches(e))
                        .map(|e| e.sum.stream)
                        .collect(),
                ),
            ),
            (Active::None, None) => (None, None),
        };
        let Some((backing, backed)) = self.store.backing_file() else {
            self.message = Some((Severity::Error, "nothing to save yet".into()));
            return;
        };
        let is_file = self.source.path.is_some();
        let lacks = match self.store.spool_stopped() {
            Some(why) => Some(format!(
                "it lacks {} packets the spool could not keep ({why})",
                self.store.counts.frames.saturating_sub(backed)
            )),
            None => None,
        };
        let stem = std::path::Path::new(&self.source.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        let when = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let scope = stream.map(|s| format!("-stream{s}")).unwrap_or_default();
        let name = format!("hs-tui-{stem}{scope}-{when}.pcap");
        let link = self.store.link.to_linktype() as u32;
        let mut tried = Vec::new();
        let mut writer = None;
        for dir in save_dirs(&self.save_dir) {
            let path = dir.join(&name);
            match PcapWriter::create(&path, link, Create::Exclusive) {
                Ok(w) => {
                    writer = Some(w);
                    break;
                }
                Err(e) => tried.push(format!("{}: {}", dir.display(), e.cause)),
            }
        }
        let Some(writer) = writer else {
            // Say every place tried: after dropping root (-Z), none may be writable.
            self.message = Some((
                Severity::Error,
                format!(
                    "cannot save {name} in any of: {}; start hs-tui where its user can write, or set XDG_STATE_HOME",
                    tried.join("; ")
                ),
            ));
            return;
        };
        let path = writer.path().to_path_buf();
        self.message = Some((Severity::Info, format!("saving to {} …", path.display())));
        self.save = Some(SaveJob {
            path,
            scan: Scan::start(ScanSpec {
                path: backing,
                // A file is read whole; a spool as far as it goes now.
                frames: (!is_file).then_some(backed),
                budget: self.store.budget,
                filter,
                streams: streams.map(Arc::new),
                save: Some(writer),
            }),
            lacks,
        });
    }

    pub(super) fn step_save(&mut self, _deadline: Instant) -> bool {
        let Some(job) = self.save.take() else {
            return false;
        };
        while let Some(msg) = job.scan.next() {
            if let ScanMsg::Done { kept, error, .. } = msg {
                let mut text = format!("saved {kept} packets to {}", job.path.display());
                if let Some(l) = &job.lacks {
                    text.push_str(&format!("; {l}"));
                }
                self.message = Some(match error {
                    None => (Severity::Info, text),
                    Some(e) => (
                        Severity::Error,
                        format!("saving to {} failed: {e}", job.path.display()),
                    ),
                });
                return false;
            }
        }
        self.save = Some(job);
        true
    }
}

/// Where `w` tries to create its file: the chosen directory (the current
/// one by default), then `$XDG_STATE_HOME/hs-tui`, then `$HOME`. Never a
/// shared directory such as /tmp, where a name can be guessed.
pub(super) fn save_dirs(first: &std::path::Path) -> Vec<PathBuf> {
    let mut v = vec![first.to_path_buf()];
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        let d = PathBuf::from(x).join("hs-tui");
        let _ = std::fs::create_dir_all(&d);
        v.push(d);
    }
    if let Some(h) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        v.push(PathBuf::from(h));
    }
    v
}
