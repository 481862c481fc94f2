//! The key map: which [`Action`] a key press means in the current mode.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{Action, Mode};
use super::widgets::input::EditKey;

pub fn action_for(mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match mode {
        Mode::Editing { .. }
        | Mode::Overriding { .. }
        | Mode::Importing { .. }
        | Mode::Searching { .. }
        | Mode::Password { .. } => text_entry(key.code, ctrl),
        Mode::Report { .. } => match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::MoveUp),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::MoveDown),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::PageDown),
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Some(Action::Cancel),
            _ => None,
        },
        Mode::ConfirmQuit => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Action::ConfirmYes),
            KeyCode::Char('c') if ctrl => Some(Action::ConfirmYes),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::ConfirmNo),
            _ => None,
        },
        Mode::SignIn { .. } => match key.code {
            KeyCode::Char('c') if ctrl => Some(Action::Cancel),
            KeyCode::Char('c' | 'y') => Some(Action::Copy),
            KeyCode::Esc | KeyCode::Char('x') => Some(Action::Cancel),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter => Some(Action::Cancel),
            _ => None,
        },
        Mode::Normal => match key.code {
            KeyCode::Char('c') if ctrl => Some(Action::RequestQuit),
            KeyCode::Char('q') => Some(Action::RequestQuit),
            KeyCode::Char('?') | KeyCode::F(1) => Some(Action::ToggleHelp),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::MoveUp),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::MoveDown),
            KeyCode::Left | KeyCode::Char('h') => Some(Action::FocusStages),
            KeyCode::Right | KeyCode::Char('l') => Some(Action::FocusMain),
            KeyCode::Tab | KeyCode::BackTab => Some(Action::FocusNext),
            KeyCode::Enter => Some(Action::Activate),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char('c') => Some(Action::RunChecks),
            KeyCode::Char('o') => Some(Action::Override),
            KeyCode::Char('i') => Some(Action::Import),
            KeyCode::Char('m') => Some(Action::OpenMailboxes),
            KeyCode::Char('v') => Some(Action::ToggleVip),
            KeyCode::Char('/') => Some(Action::Search),
            KeyCode::Char('f') => Some(Action::NextFilter),
            KeyCode::Char('s') => Some(Action::NextSort),
            KeyCode::Char('x') => Some(Action::CancelJob),
            KeyCode::Char('y') => Some(Action::Copy),
            KeyCode::Char('p') => Some(Action::Publish),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            _ => None,
        },
    }
}

fn text_entry(code: KeyCode, ctrl: bool) -> Option<Action> {
    let edit = |k| Some(Action::Edit(k));
    match code {
        KeyCode::Enter => Some(Action::Activate),
        KeyCode::Esc => Some(Action::Cancel),
        KeyCode::Char('c') if ctrl => Some(Action::Cancel),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kickoff::Field;
    use crate::tui::app::EditTarget;
    use crate::tui::widgets::input::TextInput;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_are_commands_outside_an_edit_and_text_inside_one() {
        assert_eq!(action_for(&Mode::Normal, press(KeyCode::Char('q'))), Some(Action::RequestQuit));
        assert_eq!(action_for(&Mode::Normal, press(KeyCode::Char('j'))), Some(Action::MoveDown));
        let editing =
            Mode::Editing { target: EditTarget::Kickoff(Field::Customer), input: TextInput::default(), error: None };
        assert_eq!(action_for(&editing, press(KeyCode::Char('q'))), Some(Action::Edit(EditKey::Char('q'))));
        assert_eq!(action_for(&editing, press(KeyCode::Esc)), Some(Action::Cancel));
    }

    #[test]
    fn ctrl_c_never_types_and_always_leads_out() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&Mode::Normal, ctrl_c), Some(Action::RequestQuit));
        assert_eq!(action_for(&Mode::ConfirmQuit, ctrl_c), Some(Action::ConfirmYes));
        let editing =
            Mode::Editing { target: EditTarget::Kickoff(Field::Customer), input: TextInput::default(), error: None };
        assert_eq!(action_for(&editing, ctrl_c), Some(Action::Cancel));
    }
}
