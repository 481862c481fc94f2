//! A one-line text input: its value and cursor (pure state, edited by `App::update`) and how it is drawn. A
//! masked input (a password) shows dots, prints `***` in debug output, and wipes its text when dropped.

use ratatui::text::{Line, Span};
use zeroize::Zeroizing;

use crate::secrets::Secret;
use crate::tui::theme::Theme;

/// An edit to a text input, as the key map produces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKey {
    Char(char),
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    Clear,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    value: Zeroizing<String>,
    /// Cursor position in characters, 0..=len.
    cursor: usize,
    masked: bool,
}

impl std::fmt::Debug for TextInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value: &str = if self.masked { "***" } else { &self.value };
        f.debug_struct("TextInput").field("value", &value).field("cursor", &self.cursor).finish()
    }
}

impl TextInput {
    pub fn new(value: &str) -> Self {
        TextInput { value: Zeroizing::new(value.to_owned()), cursor: value.chars().count(), masked: false }
    }

    /// An empty input for a password.
    pub fn masked() -> Self {
        TextInput { masked: true, ..TextInput::default() }
    }

    /// The typed text as a secret; the input is used up.
    pub fn into_secret(self) -> Secret {
        Secret::new(self.value.as_str())
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.value.char_indices().nth(char_index).map_or(self.value.len(), |(i, _)| i)
    }

    pub fn apply(&mut self, key: EditKey) {
        let len = self.value.chars().count();
        match key {
            EditKey::Char(c) if !c.is_control() => {
                let at = self.byte_at(self.cursor);
                self.value.insert(at, c);
                self.cursor += 1;
            }
            EditKey::Char(_) => {}
            EditKey::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            EditKey::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            EditKey::Backspace | EditKey::Delete => {}
            EditKey::Left => self.cursor = self.cursor.saturating_sub(1),
            EditKey::Right => self.cursor = (self.cursor + 1).min(len),
            EditKey::Home => self.cursor = 0,
            EditKey::End => self.cursor = len,
            EditKey::Clear => *self = TextInput { masked: self.masked, ..TextInput::default() },
        }
    }

    /// The value with the cursor shown as a reversed cell, scrolled so the cursor stays within `width`.
    pub fn line(&self, width: usize, theme: &Theme) -> Line<'static> {
        let chars: Vec<char> =
            if self.masked { vec!['•'; self.value.chars().count()] } else { self.value.chars().collect() };
        let width = width.max(1);
        let start = (self.cursor + 1).saturating_sub(width);
        let before: String = chars[start..self.cursor].iter().collect();
        let at: String = chars.get(self.cursor).map_or(" ".to_owned(), |c| c.to_string());
        let after: String =
            chars.iter().skip(self.cursor + 1).take(width.saturating_sub(before.chars().count() + 1)).collect();
        Line::from(vec![
            Span::styled(before, theme.base),
            Span::styled(at, theme.selected),
            Span::styled(after, theme.base),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> TextInput {
        let mut input = TextInput::default();
        s.chars().for_each(|c| input.apply(EditKey::Char(c)));
        input
    }

    #[test]
    fn a_masked_input_shows_dots_and_hides_its_value_from_debug() {
        let mut input = TextInput::masked();
        "s3cret".chars().for_each(|c| input.apply(EditKey::Char(c)));
        let shown: String = input.line(20, &Theme::new(false)).spans.iter().map(|s| s.content.to_string()).collect();
        assert_eq!(shown.trim_end(), "••••••");
        assert!(!format!("{input:?}").contains("s3cret"));
        input.apply(EditKey::Clear);
        input.apply(EditKey::Char('Q'));
        assert!(!format!("{input:?}").contains('Q'), "still masked after a clear");
        assert_eq!(input.into_secret().expose(), "Q");
    }

    #[test]
    fn typing_inserts_at_the_cursor() {
        let mut input = typed("Acme");
        input.apply(EditKey::Home);
        input.apply(EditKey::Char('_'));
        input.apply(EditKey::End);
        input.apply(EditKey::Backspace);
        assert_eq!(input.value(), "_Acm");
        input.apply(EditKey::Left);
        input.apply(EditKey::Delete);
        assert_eq!(input.value(), "_Ac");
    }

    #[test]
    fn multibyte_characters_are_edited_whole() {
        let mut input = typed("Müller × 2");
        input.apply(EditKey::Home);
        input.apply(EditKey::Right);
        input.apply(EditKey::Delete);
        assert_eq!(input.value(), "Mller × 2");
        input.apply(EditKey::Clear);
        assert_eq!((input.value(), input.cursor()), ("", 0));
    }

    #[test]
    fn the_line_keeps_the_cursor_in_view() {
        let input = typed("abcdefghij");
        let text: String = input.line(4, &Theme::new(false)).spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "hij ");
    }
}
