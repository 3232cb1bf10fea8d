//! Key bindings as data: the event loop looks keys up here and the help
//! overlay is printed from the same table, so the two cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for. Context (the focused pane) decides the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Back,
    NextPane,
    PrevPane,
    Expand,
    Collapse,
    EditFilter,
    Pause,
    ToggleSeq,
    CycleTime,
    CycleSort,
    ReverseSort,
    ToggleLadder,
    Save,
    Presets,
    Servers,
    Alarms,
    Expert,
    GoTo,
    Find,
    FindNext,
    FindPrev,
    TimeRef,
    Timeline,
    FieldNames,
    Columns,
    ApplyAsFilter,
    PrepareFilter,
    Follow,
    Help,
}

/// A key as the table spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}
const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
}

/// Every binding of the normal mode, in help order.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[code(KeyCode::Up), k('k')],
        action: Action::Up,
        help: "move up",
    },
    Binding {
        keys: &[code(KeyCode::Down), k('j')],
        action: Action::Down,
        help: "move down",
    },
    Binding {
        keys: &[code(KeyCode::PageUp), ctrl('b')],
        action: Action::PageUp,
        help: "page up",
    },
    Binding {
        keys: &[code(KeyCode::PageDown)],
        action: Action::PageDown,
        help: "page down",
    },
    Binding {
        keys: &[k('g'), code(KeyCode::Home)],
        action: Action::Top,
        help: "first row",
    },
    Binding {
        keys: &[k('G'), code(KeyCode::End)],
        action: Action::Bottom,
        help: "last row, follow new",
    },
    Binding {
        keys: &[code(KeyCode::Enter)],
        action: Action::Enter,
        help: "drill in / fold node",
    },
    Binding {
        keys: &[code(KeyCode::Esc)],
        action: Action::Back,
        help: "back out",
    },
    Binding {
        keys: &[code(KeyCode::Tab)],
        action: Action::NextPane,
        help: "next pane",
    },
    Binding {
        keys: &[code(KeyCode::BackTab)],
        action: Action::PrevPane,
        help: "previous pane",
    },
    Binding {
        keys: &[code(KeyCode::Right), k('L')],
        action: Action::Expand,
        help: "details: unfold node",
    },
    Binding {
        keys: &[code(KeyCode::Left), k('H')],
        action: Action::Collapse,
        help: "details: fold node",
    },
    Binding {
        keys: &[k('/')],
        action: Action::EditFilter,
        help: "edit the filter",
    },
    Binding {
        keys: &[k('=')],
        action: Action::ApplyAsFilter,
        help: "filter on field value",
    },
    Binding {
        keys: &[k('+')],
        action: Action::PrepareFilter,
        help: "edit field as filter",
    },
    Binding {
        keys: &[k('C')],
        action: Action::Columns,
        help: "choose columns",
    },
    Binding {
        keys: &[k('v')],
        action: Action::FieldNames,
        help: "field names / labels",
    },
    Binding {
        keys: &[k(' '), k('p')],
        action: Action::Pause,
        help: "pause display",
    },
    Binding {
        keys: &[k('r')],
        action: Action::ToggleSeq,
        help: "relative/raw seq & ack",
    },
    Binding {
        keys: &[k('t')],
        action: Action::CycleTime,
        help: "cycle the time column",
    },
    Binding {
        keys: &[k('s')],
        action: Action::CycleSort,
        help: "sort by next column",
    },
    Binding {
        keys: &[k('S')],
        action: Action::ReverseSort,
        help: "reverse the sort order",
    },
    Binding {
        keys: &[k('l')],
        action: Action::ToggleLadder,
        help: "packets ↔ ladder",
    },
    Binding {
        keys: &[k('w')],
        action: Action::Save,
        help: "save shown packets",
    },
    Binding {
        keys: &[k('i')],
        action: Action::Servers,
        help: "servers: iRTT histogram",
    },
    Binding {
        keys: &[k('a')],
        action: Action::Alarms,
        help: "alarms, in full",
    },
    Binding {
        keys: &[k('e')],
        action: Action::Expert,
        help: "expert information",
    },
    Binding {
        keys: &[k('T')],
        action: Action::Timeline,
        help: "timeline: outcomes, iRTT",
    },
    Binding {
        keys: &[ctrl('g')],
        action: Action::GoTo,
        help: "go to packet number",
    },
    Binding {
        keys: &[ctrl('f')],
        action: Action::Find,
        help: "find: filter/string/hex",
    },
    Binding {
        keys: &[k('n')],
        action: Action::FindNext,
        help: "find the next match",
    },
    Binding {
        keys: &[k('N')],
        action: Action::FindPrev,
        help: "find the previous match",
    },
    Binding {
        keys: &[ctrl('t')],
        action: Action::TimeRef,
        help: "time reference on/off",
    },
    Binding {
        keys: &[k('f')],
        action: Action::Follow,
        help: "follow the flow's stream",
    },
    Binding {
        keys: &[k('F')],
        action: Action::Presets,
        help: "filter presets",
    },
    Binding {
        keys: &[k('?')],
        action: Action::Help,
        help: "this help",
    },
    Binding {
        keys: &[k('q'), ctrl('c')],
        action: Action::Quit,
        help: "quit",
    },
];

/// Keys of the filter bar while editing, for the help overlay.
pub const FILTER_KEYS: &[(&str, &str)] = &[
    ("Enter", "apply the filter"),
    ("Esc", "cancel editing"),
    ("↑ ↓", "filter history"),
    ("← → Home End", "move the cursor"),
    ("Ctrl-U", "clear the line"),
];

/// Keys of the follow view (`f`), for the help overlay.
pub const FOLLOW_KEYS: &[(&str, &str)] = &[
    ("j k PgUp/Dn", "scroll the stream"),
    ("g G", "first / last row"),
    ("x", "ASCII ↔ hex"),
    ("w", "save it as text"),
    ("Esc f", "back"),
];

/// Mouse actions, for the help overlay.
pub const MOUSE: &[(&str, &str)] = &[
    ("click", "select row, focus pane"),
    ("wheel", "scroll pane under it"),
];

/// The action bound to a key event, if any.
pub fn action_for(ev: &KeyEvent) -> Option<Action> {
    let is_ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    // Shifted letters arrive as upper case, sometimes with SHIFT set; compare the character only.
    BINDINGS
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|key| key.code == ev.code && key.ctrl == is_ctrl)
        })
        .map(|b| b.action)
}

/// How a key is written in the help.
pub fn key_name(key: &Key) -> String {
    let base = match key.code {
        KeyCode::Up => "↑".to_string(),
        KeyCode::Down => "↓".to_string(),
        KeyCode::Left => "←".to_string(),
        KeyCode::Right => "→".to_string(),
        KeyCode::PageUp => "PgUp".to_string(),
        KeyCode::PageDown => "PgDn".to_string(),
        KeyCode::Home => "Home".to_string(),
        KeyCode::End => "End".to_string(),
        KeyCode::Enter => "Enter".to_string(),
        KeyCode::Esc => "Esc".to_string(),
        KeyCode::Tab => "Tab".to_string(),
        KeyCode::BackTab => "S-Tab".to_string(),
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    };
    if key.ctrl {
        format!("Ctrl-{}", base.to_uppercase())
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn lookups() {
        assert_eq!(
            action_for(&ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            action_for(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(&ev(KeyCode::Char('c'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            action_for(&ev(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Action::Pause)
        );
        assert_eq!(action_for(&ev(KeyCode::F(5), KeyModifiers::NONE)), None);
    }

    #[test]
    fn no_key_is_bound_twice() {
        let mut all: Vec<Key> = BINDINGS
            .iter()
            .flat_map(|b| b.keys.iter().copied())
            .collect();
        let n = all.len();
        all.dedup_by(|a, b| a == b);
        for (i, a) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(a), "{a:?} bound twice");
        }
        assert_eq!(all.len(), n);
    }
}
