//! Drawing. Everything here reads `&App` and builds only what is visible.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────┐
//! │ filter bar (1 line; 2 when the typed filter has an error)        │
//! ├ Flows ───────────────────────────────────────────────────────────┤
//! │ stream  client → server  state  iRTT  SYN rtx  pkts  bytes  ...  │
//! ├ Packets of the selected flow (or its ladder diagram, `l`) ───────┤
//! │ no. time dir flags seq ack len win step notes                    │
//! ├ Details: layer tree │ hex dump (side by side when wide) ─────────┤
//! │ ...                                                              │
//! ├──────────────────────────────────────────────────────────────────┤
//! │ status bar (+1 line for a capture error, +1 for a message)       │
//! └──────────────────────────────────────────────────────────────────┘
//! ```
//!
//! At 40 rows and more all three panes show. Below that two do, following
//! the focus: flows + packets, or packets + details. Under 80x24 only a
//! "terminal too small" message is drawn.

mod details;
mod filter_bar;
mod flows;
mod follow;
mod help;
mod ladder;
mod ladder_tls;
mod packets;
mod servers;
mod status;
pub mod theme;
mod timeline;
#[cfg(test)]
pub(crate) use packets::time_text;

use super::app::{Areas, Focus};
use super::App;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// From this height on, flows, packets and details all show.
const TALL: u16 = 40;
/// From this width on, the tree and the hex dump sit side by side.
const WIDE: u16 = 150;

/// Where everything goes for a screen of `area`, given the focus.
pub fn layout(area: Rect, app: &App) -> Areas {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Areas {
            too_small: true,
            ..Areas::default()
        };
    }
    let filter_h = if app.filter.editing && app.filter.check.is_err() {
        2
    } else {
        1
    };
    let status_h = 1 + app.message.is_some() as u16 + app.capture.error.is_some() as u16;
    let [filter, middle, status] = Layout::vertical([
        Constraint::Length(filter_h),
        Constraint::Fill(1),
        Constraint::Length(status_h),
    ])
    .areas(area);
    let mut a = Areas {
        filter,
        status,
        ..Areas::default()
    };
    if area.height >= TALL {
        let [f, p, d] = Layout::vertical([
            Constraint::Percentage(36),
            Constraint::Percentage(30),
            Constraint::Fill(1),
        ])
        .areas(middle);
        a.flows = f;
        a.packets = p;
        a.details = d;
    } else {
        match app.focus {
            Focus::Flows => {
                let [f, p] = Layout::vertical([Constraint::Percentage(55), Constraint::Fill(1)])
                    .areas(middle);
                a.flows = f;
                a.packets = p;
            }
            Focus::Packets => {
                let [f, p] = Layout::vertical([Constraint::Percentage(35), Constraint::Fill(1)])
                    .areas(middle);
                a.flows = f;
                a.packets = p;
            }
            Focus::Details | Focus::Bytes => {
                let [p, d] = Layout::vertical([Constraint::Percentage(35), Constraint::Fill(1)])
                    .areas(middle);
                a.packets = p;
                a.details = d;
            }
        }
    }
    if a.details.height > 0 {
        let d = a.details;
        let (tree_block, hex_block) = if d.width >= WIDE {
            let [t, h] = Layout::horizontal([
                Constraint::Fill(1),
                Constraint::Length(details::HEX_WIDTH + 2),
            ])
            .areas(d);
            (t, h)
        } else {
            let [t, h] =
                Layout::vertical([Constraint::Percentage(58), Constraint::Fill(1)]).areas(d);
            (t, h)
        };
        a.tree = super::app::pane_body(tree_block);
        a.hex = hex_block;
    }
    a
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let a = layout(area, app);
    if a.too_small {
        let msg = format!(
            "terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{})\nenlarge the window, or press q to quit",
            area.width, area.height
        );
        let y = area.height.saturating_sub(2) / 2;
        let r = Rect {
            x: area.x,
            y: area.y + y,
            width: area.width,
            height: area.height.saturating_sub(y),
        };
        frame.render_widget(
            Paragraph::new(msg)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            r,
        );
        return;
    }
    filter_bar::draw(frame, a.filter, app);
    if a.flows.height > 0 {
        flows::draw(frame, a.flows, app);
    }
    if a.packets.height > 0 {
        if app.ladder {
            ladder::draw(frame, a.packets, app);
        } else {
            packets::draw(frame, a.packets, app);
        }
    }
    if a.details.height > 0 {
        details::draw(frame, &a, app);
    }
    status::draw(frame, a.status, app);
    if app.help {
        help::draw(frame, area, app.help_scroll);
    }
    if let Some(p) = &app.picker {
        help::draw_picker(frame, area, p);
    }
    if let Some(v) = &app.servers {
        servers::draw(frame, area, v);
    }
    if app.alarms {
        status::draw_alarms(frame, area, app);
    }
    if let Some(sel) = app.expert {
        status::draw_expert(frame, area, app, sel);
    }
    if let Some(v) = &app.timeline {
        timeline::draw(frame, area, app, v);
    }
    if let Some(p) = app.column_picker {
        status::draw_columns(frame, area, app, p);
    }
    if app.follow.is_some() {
        follow::draw(frame, app);
    }
}

/// A centred overlay of `w`x`h` (clamped to `area`) with a titled border,
/// drawn over whatever is below; returns the inner area to fill.
pub(crate) fn overlay(frame: &mut Frame<'_>, area: Rect, w: u16, h: u16, title: &str) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(ratatui::widgets::Clear, r);
    let block = ratatui::widgets::Block::bordered()
        .title(title.to_string())
        .title_style(theme::title(true))
        .border_style(theme::border(true));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    inner
}

/// A pane title: ` Name ` plus details.
fn title(name: &str, extra: &str) -> Line<'static> {
    if extra.is_empty() {
        Line::from(format!(" {name} "))
    } else {
        Line::from(format!(" {name} · {extra} "))
    }
}
