//! Colours: handshake states and Wireshark's TCP colouring rules.

use crate::track::analysis::flag;
use crate::track::HsState;
use ratatui::style::{Color, Modifier, Style};

/// The flows table's state colours.
pub fn state(s: HsState) -> Style {
    let c = match s {
        HsState::Established => Color::Green,
        HsState::Refused => Color::Red,
        HsState::SynSent | HsState::SynReceived => Color::Yellow,
        HsState::Reset => Color::Magenta,
        HsState::Closing | HsState::Closed => Color::Gray,
        HsState::MidStream => Color::Blue,
    };
    Style::new().fg(c)
}

/// Wireshark's default rules, first match wins: "Bad TCP" (analysis
/// flags other than window updates and keep-alives), "TCP RST", "TCP SYN/FIN".
pub fn packet(flags: u16, analysis: u32) -> Style {
    use crate::decode::tcp::flags as fl;
    if flag::is_bad(analysis) {
        Style::new().fg(Color::LightRed).bg(Color::Black)
    } else if flags & fl::RST != 0 {
        Style::new().fg(Color::LightYellow).bg(Color::Red)
    } else if flags & (fl::SYN | fl::FIN) != 0 {
        Style::new().fg(Color::Black).bg(Color::Gray)
    } else {
        Style::new()
    }
}

/// The selected row: reversed in the focused pane, underlined elsewhere.
pub fn selected(focused: bool) -> Style {
    if focused {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }
}

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

pub fn title(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

pub const HEADER: Style = Style::new().add_modifier(Modifier::BOLD);
pub const DIM: Style = Style::new().fg(Color::DarkGray);
pub const ERROR: Style = Style::new()
    .fg(Color::LightRed)
    .add_modifier(Modifier::BOLD);
pub const OK: Style = Style::new().fg(Color::Green);
pub const HIGHLIGHT: Style = Style::new().fg(Color::Black).bg(Color::Cyan);
pub const HANDSHAKE: Style = Style::new().fg(Color::Green);
