//! The key table: each binding says which keys mean which [`Action`], how the footer shows it and what the
//! help overlay says of it. The key map, the footer and the help are all read from these tables, so they
//! cannot disagree. A stage's own keys live in its screen file; a dialog's in the dialog's file.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::Action;
use super::widgets::input::EditKey;

/// A key as the tables name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Up,
    Down,
    Left,
    Right,
    Enter,
    Esc,
    Tab,
    BackTab,
    PageUp,
    PageDown,
    F(u8),
}

impl Key {
    fn of(event: KeyEvent) -> Option<Key> {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        Some(match event.code {
            KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::F(n) => Key::F(n),
            _ => return None,
        })
    }
}

/// One line of a key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    /// How the keys are written in the footer and the help ("↑↓", "Enter", "c").
    pub shown: &'static str,
    /// The footer's word for it; empty: not in the footer.
    pub footer: &'static str,
    /// Which footer entries stay when the terminal is narrow: 1 first, then 2, then 3.
    pub rank: u8,
    /// The help overlay's line; empty: not in the help.
    pub help: &'static str,
}

/// A binding, for the tables.
pub const fn bind(
    keys: &'static [Key],
    action: Action,
    shown: &'static str,
    footer: &'static str,
    rank: u8,
    help: &'static str,
) -> Binding {
    Binding { keys, action, shown, footer, rank, help }
}

/// The main pane's keys that come before a stage's own (moving and acting on the selected row).
pub static MAIN_LEAD: &[Binding] = &[
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓", "move", 1, "move within the focused pane"),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
    bind(&[Key::PageUp], Action::PageUp, "PgUp PgDn", "", 0, "move a page"),
    bind(&[Key::PageDown], Action::PageDown, "", "", 0, ""),
    bind(&[Key::Enter], Action::Activate, "Enter", "edit/run", 1, "edit the selected field, run the selected task"),
    bind(&[Key::Char('J')], Action::DetailDown, "J K", "", 0, "scroll the details below the list"),
    bind(&[Key::Char('K')], Action::DetailUp, "", "", 0, ""),
];

/// The main pane's keys that come after a stage's own.
pub static MAIN_TAIL: &[Binding] = &[
    bind(&[Key::Char('c')], Action::RunChecks, "c", "checks", 2, "run the checks of the stage"),
    bind(
        &[Key::Char('o')],
        Action::Override,
        "o",
        "override",
        3,
        "override the selected failed check, with a written reason",
    ),
    bind(
        &[Key::Char('x')],
        Action::CancelJob,
        "x",
        "stop",
        2,
        "stop the work running for this stage (a watch, a check run)",
    ),
    bind(&[Key::Tab, Key::BackTab], Action::FocusNext, "Tab", "stages", 3, "switch between the stages and the stage"),
    bind(&[Key::Left, Key::Char('h')], Action::FocusStages, "← →  h l", "", 0, "the stage list, the stage"),
    bind(&[Key::Right, Key::Char('l')], Action::FocusMain, "", "", 0, ""),
    bind(&[Key::Esc], Action::Cancel, "Esc", "", 0, "back to the stage list; cancel an edit or a dialog"),
    bind(&[Key::Char('?'), Key::F(1)], Action::ToggleHelp, "?", "help", 1, "this help"),
    bind(
        &[Key::Char('q'), Key::Ctrl('c')],
        Action::RequestQuit,
        "q",
        "quit",
        1,
        "quit (asks first; everything is already saved)",
    ),
];

/// Demo only: what plays the simulated time on, besides the screen's own keys.
pub static DEMO: &[Binding] = &[bind(
    &[Key::Char('+')],
    Action::SkipAhead,
    "+",
    "DEMO +6 h",
    2,
    "demo only: move the simulated clock 6 hours on (a day of incremental syncs in four keys)",
)];

/// The stage list's keys.
pub static STAGES: &[Binding] = &[
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓", "stage", 1, ""),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
    bind(
        &[Key::Enter, Key::Tab, Key::BackTab, Key::Right, Key::Char('l')],
        Action::FocusMain,
        "Enter/Tab",
        "open",
        1,
        "",
    ),
    bind(&[Key::Char('c')], Action::RunChecks, "c", "checks", 2, ""),
    bind(&[Key::Char('?'), Key::F(1)], Action::ToggleHelp, "?", "help", 1, ""),
    bind(&[Key::Char('q'), Key::Ctrl('c')], Action::RequestQuit, "q", "quit", 1, ""),
];

/// The keys of a table's search line (`/`); any other printable key types into it.
pub static SEARCH: &[Binding] = &[
    bind(&[Key::Enter], Action::Activate, "Enter", "keep", 1, ""),
    bind(&[Key::Esc, Key::Ctrl('c')], Action::Cancel, "Esc", "clear", 1, ""),
];

/// The keys of a one-line text field; any other printable key types itself.
pub static TEXT: &[Binding] = &[
    bind(&[Key::Enter], Action::Activate, "Enter", "save", 1, ""),
    bind(&[Key::Esc, Key::Ctrl('c')], Action::Cancel, "Esc", "cancel", 1, ""),
    bind(&[], Action::Edit(EditKey::Left), "←→ Home End", "move", 2, ""),
    bind(&[Key::Ctrl('u')], Action::Edit(EditKey::Clear), "Ctrl-U", "clear", 3, ""),
];

/// The action `event` means under `tables` (searched in order), or for a text field when `text` is set.
pub fn action_for(tables: &[&[Binding]], text: bool, event: KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    if text && let Some(action) = text_entry(event) {
        return Some(action);
    }
    let key = Key::of(event)?;
    tables.iter().flat_map(|t| t.iter()).find(|b| b.keys.contains(&key)).map(|b| b.action)
}

/// A key in a text field: editing keys and printable characters edit; Enter, Esc and Ctrl-C are the table's.
fn text_entry(event: KeyEvent) -> Option<Action> {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let edit = |k| Some(Action::Edit(k));
    match event.code {
        KeyCode::Enter | KeyCode::Esc => None,
        KeyCode::Char('u') if ctrl => edit(EditKey::Clear),
        KeyCode::Char('a') if ctrl => edit(EditKey::Home),
        KeyCode::Char('e') if ctrl => edit(EditKey::End),
        KeyCode::Char(_) if ctrl => None,
        KeyCode::Char(c) => edit(EditKey::Char(c)),
        KeyCode::Backspace => edit(EditKey::Backspace),
        KeyCode::Delete => edit(EditKey::Delete),
        KeyCode::Left => edit(EditKey::Left),
        KeyCode::Right => edit(EditKey::Right),
        KeyCode::Home => edit(EditKey::Home),
        KeyCode::End => edit(EditKey::End),
        _ => None,
    }
}

/// The footer of `tables` in `width` columns: the most important entries that fit, in table order.
pub fn footer(tables: &[&[Binding]], width: usize) -> String {
    let entries: Vec<(u8, String)> = tables
        .iter()
        .flat_map(|t| t.iter())
        .filter(|b| !b.footer.is_empty())
        .map(|b| (b.rank, format!("{} {}", b.shown, b.footer)))
        .collect();
    let mut keep = vec![false; entries.len()];
    let mut used = 0;
    for rank in 1..=3 {
        for (i, (r, text)) in entries.iter().enumerate() {
            let cost = text.chars().count() + if used == 0 { 0 } else { 2 };
            if *r == rank && used + cost <= width {
                keep[i] = true;
                used += cost;
            }
        }
    }
    entries.iter().zip(keep).filter(|(_, k)| *k).map(|((_, t), _)| t.as_str()).collect::<Vec<_>>().join("  ")
}

/// The help overlay's lines for `tables`: (keys, what they do).
pub fn help(tables: &[&[Binding]]) -> Vec<(&'static str, &'static str)> {
    tables.iter().flat_map(|t| t.iter()).filter(|b| !b.help.is_empty()).map(|b| (b.shown, b.help)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    const MAIN: &[&[Binding]] = &[MAIN_LEAD, MAIN_TAIL];

    #[test]
    fn letters_are_commands_outside_a_text_field_and_text_inside_one() {
        assert_eq!(action_for(MAIN, false, press(KeyCode::Char('q'))), Some(Action::RequestQuit));
        assert_eq!(action_for(MAIN, false, press(KeyCode::Char('j'))), Some(Action::MoveDown));
        assert_eq!(action_for(&[TEXT], true, press(KeyCode::Char('q'))), Some(Action::Edit(EditKey::Char('q'))));
        assert_eq!(action_for(&[TEXT], true, press(KeyCode::Esc)), Some(Action::Cancel));
    }

    #[test]
    fn ctrl_c_never_types_and_always_leads_out() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(MAIN, false, ctrl_c), Some(Action::RequestQuit));
        assert_eq!(action_for(&[TEXT], true, ctrl_c), Some(Action::Cancel));
    }

    #[test]
    fn the_footer_keeps_the_first_ranks_when_narrow_and_the_table_order() {
        let wide = footer(MAIN, 200);
        assert_eq!(wide, "↑↓ move  Enter edit/run  c checks  o override  x stop  Tab stages  ? help  q quit");
        let narrow = footer(MAIN, 40);
        assert_eq!(narrow, "↑↓ move  Enter edit/run  ? help  q quit");
    }

    #[test]
    fn every_key_of_a_table_is_bound_once_and_the_help_names_each_shown_key() {
        for table in [MAIN_LEAD, MAIN_TAIL, STAGES, TEXT] {
            let mut seen = Vec::new();
            for b in table {
                for k in b.keys {
                    assert!(!seen.contains(k), "{k:?} twice");
                    seen.push(*k);
                }
            }
        }
        assert!(help(MAIN).iter().any(|(k, _)| *k == "x"));
    }
}
