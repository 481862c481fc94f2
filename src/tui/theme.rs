//! Colours and emphasis. With `NO_COLOR` set, everything is told apart by bold, dim and reverse only.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub base: Style,
    pub title: Style,
    pub banner: Style,
    pub dim: Style,
    pub header: Style,
    pub selected: Style,
    pub selected_unfocused: Style,
    pub border: Style,
    pub border_focused: Style,
    pub pass: Style,
    pub warn: Style,
    pub fail: Style,
    pub error: Style,
    pub key: Style,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let dim = Style::new().add_modifier(Modifier::DIM);
        let reversed = Style::new().add_modifier(Modifier::REVERSED);
        if !color {
            return Theme {
                base: Style::new(),
                title: bold,
                banner: bold,
                dim,
                header: bold,
                selected: reversed.add_modifier(Modifier::BOLD),
                selected_unfocused: reversed,
                border: dim,
                border_focused: Style::new(),
                pass: Style::new(),
                warn: bold,
                fail: bold,
                error: bold,
                key: bold,
            };
        }
        Theme {
            base: Style::new(),
            title: bold.fg(Color::Cyan),
            banner: bold.fg(Color::Black).bg(Color::Yellow),
            dim: Style::new().fg(Color::DarkGray),
            header: bold.fg(Color::Cyan),
            selected: bold.fg(Color::Black).bg(Color::Cyan),
            selected_unfocused: Style::new().bg(Color::DarkGray),
            border: Style::new().fg(Color::DarkGray),
            border_focused: Style::new().fg(Color::Cyan),
            pass: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            fail: bold.fg(Color::Red),
            error: bold.fg(Color::Red),
            key: bold.fg(Color::Cyan),
        }
    }

    /// Colour unless the `NO_COLOR` convention asks for none.
    pub fn from_env() -> Theme {
        Theme::new(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_colour_no_style_sets_a_colour() {
        let t = Theme::new(false);
        let styles = [
            t.base,
            t.title,
            t.banner,
            t.dim,
            t.header,
            t.selected,
            t.selected_unfocused,
            t.border,
            t.border_focused,
            t.pass,
            t.warn,
            t.fail,
            t.error,
            t.key,
        ];
        assert!(styles.iter().all(|s| s.fg.is_none() && s.bg.is_none()));
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED), "the selection stays visible");
        assert_ne!(Theme::new(true), t);
    }
}
