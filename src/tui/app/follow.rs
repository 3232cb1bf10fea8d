//! `f`: Follow TCP Stream of the selected flow (see `tui::follow_view`).

use super::*;
use crate::tui::follow_view::{self, FollowJob, FollowJobSpec, FollowView};

impl App {
    /// Open the follow view on the selected flow and start reading its payload.
    pub(super) fn start_follow(&mut self) {
        let Some(stream) = self.packets.stream else {
            self.message = Some((Severity::Info, "select a flow to follow".into()));
            return;
        };
        let Some(entry) = self.store.flow(stream) else {
            return;
        };
        let ends = entry.sum.client_server();
        let last = entry.sum.last_frame;
        let Some((path, backed)) = self.store.backing_file() else {
            self.message = Some((Severity::Error, "nothing to follow yet".into()));
            return;
        };
        let is_file = self.source.path.is_some();
        let job = FollowJob::start(FollowJobSpec {
            path,
            frames: (!is_file).then_some(backed),
            // Once the file is in, nothing after the flow's last frame matters.
            until_frame: (is_file && self.loaded()).then_some(last),
            budget: self.store.budget,
            stream,
        });
        self.follow = Some(FollowView::new(stream, ends, job));
    }

    /// Rows of payload the follow view shows at once.
    pub fn follow_page(&self) -> usize {
        let top = self.areas.filter.y + self.areas.filter.height;
        (self.areas.status.y.saturating_sub(top) as usize)
            .saturating_sub(3)
            .max(1)
    }

    /// A key while the follow view is open.
    pub(super) fn on_follow_key(&mut self, ev: &KeyEvent, action: Option<Action>) {
        let page = self.follow_page();
        let Some(v) = self.follow.as_mut() else {
            return;
        };
        if ev.code == KeyCode::Char('x') && ev.modifiers.is_empty() {
            v.toggle_hex();
            return;
        }
        match action {
            Some(Action::Up) => v.scroll(-1, page),
            Some(Action::Down) => v.scroll(1, page),
            Some(Action::PageUp) => v.scroll(-(page as i64), page),
            Some(Action::PageDown) => v.scroll(page as i64, page),
            Some(Action::Top) => v.offset = 0,
            Some(Action::Bottom) => v.scroll(i64::MAX / 2, page),
            Some(Action::Save) => self.save_follow(),
            Some(Action::Back | Action::Quit | Action::Follow) => self.follow = None,
            _ => {}
        }
    }

    /// `w` in the follow view: the stream as `-z follow,tcp` prints it, to a new text file.
    fn save_follow(&mut self) {
        let Some(v) = self.follow.as_mut() else {
            return;
        };
        let Some(data) = v.data.clone() else {
            self.message = Some((Severity::Info, "the stream is still being read".into()));
            return;
        };
        if v.saving.is_some() {
            self.message = Some((Severity::Info, "a save is already running".into()));
            return;
        }
        let stem = std::path::Path::new(&self.source.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        let when = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let spec = v.spec();
        let name = format!(
            "hs-tui-{stem}-stream{}-follow-{}-{when}.txt",
            v.stream,
            spec.mode.name()
        );
        let dirs = save::save_dirs(&self.save_dir);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("follow-save".into())
            .spawn(move || {
                let _ = tx.send(follow_view::save(&data, &spec, &dirs, &name));
            });
        match spawned {
            Ok(_) => {
                v.saving = Some(rx);
                self.message = Some((Severity::Info, "saving the stream …".into()));
            }
            Err(e) => {
                self.message = Some((Severity::Error, format!("cannot save: {e}")));
            }
        }
    }

    /// The follow job and its save; true while either runs.
    pub(super) fn step_follow(&mut self) -> bool {
        let Some(v) = self.follow.as_mut() else {
            return false;
        };
        let mut more = v.poll();
        if let Some(rx) = &v.saving {
            match rx.try_recv() {
                Ok(r) => {
                    v.saving = None;
                    self.message = Some(match r {
                        Ok(path) => (Severity::Info, format!("saved the stream to {path}")),
                        Err(e) => (Severity::Error, e),
                    });
                }
                Err(crossbeam_channel::TryRecvError::Empty) => more = true,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    v.saving = None;
                    self.message = Some((Severity::Error, "saving the stream failed".into()));
                }
            }
        }
        more
    }
}
