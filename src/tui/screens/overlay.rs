//! Boxes drawn over the screen: help, the quit question, and the override reason.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::app::{App, Mode};
use crate::tui::strings;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    match &app.mode {
        Mode::Help => {
            let lines: Vec<Line> = strings::HELP_LINES
                .iter()
                .map(|(keys, what)| Line::from(vec![Span::styled(format!(" {keys:<14}"), theme.key), Span::raw(*what)]))
                .collect();
            let height = u16::try_from(lines.len()).unwrap_or(u16::MAX) + 2;
            boxed(
                frame,
                area,
                strings::HELP_TITLE,
                76,
                height,
                Paragraph::new(lines).wrap(Wrap { trim: false }),
                theme,
            );
        }
        Mode::SignIn { code, .. } => {
            let width = area.width.saturating_sub(4).min(76);
            let mut text = Vec::new();
            match code {
                None => text.push(Line::from(strings::SIGN_IN_WAITING)),
                Some(code) => {
                    text.push(Line::from(strings::SIGN_IN_OPEN));
                    text.push(Line::from(Span::styled(code.verification_uri.clone(), theme.header)));
                    text.push(Line::from(strings::SIGN_IN_ENTER));
                    text.push(Line::from(""));
                    text.push(Line::from(Span::styled(spaced(&code.user_code), theme.title)).centered());
                    text.push(Line::from(""));
                    text.push(Line::from(strings::expires_in(code.expires_in_secs)));
                }
            }
            text.push(Line::from(strings::SIGN_IN_ACCOUNT));
            text.push(Line::from(strings::SIGN_IN_CONTINUES));
            text.push(Line::from(Span::styled(strings::FOOTER_SIGN_IN, theme.key)));
            boxed(
                frame,
                area,
                strings::SIGN_IN_TITLE,
                width,
                15,
                Paragraph::new(text).wrap(Wrap { trim: false }),
                theme,
            );
        }
        Mode::ConfirmQuit => {
            let text = vec![
                Line::from(strings::QUIT_QUESTION),
                Line::from(""),
                Line::from(Span::styled(strings::FOOTER_DIALOG, theme.key)),
            ];
            boxed(frame, area, strings::QUIT_TITLE, 44, 5, Paragraph::new(text).centered(), theme);
        }
        Mode::Overriding { stage, check, input, error } => {
            let def = stage.def().check(check);
            let evidence = app.state.stage(*stage).and_then(|r| r.checks.get(*check)).map(|r| r.evidence.clone());
            let width = area.width.saturating_sub(4).min(76);
            let mut text = vec![
                Line::from(Span::styled(def.map_or(*check, |d| d.title), theme.header)),
                Line::from(Span::styled(evidence.unwrap_or_default(), theme.fail)),
                Line::from(strings::OVERRIDE_PROMPT),
                input.line(usize::from(width.saturating_sub(4)), theme),
            ];
            if let Some(e) = error {
                text.push(Line::from(Span::styled(e.clone(), theme.error)));
            }
            boxed(
                frame,
                area,
                strings::OVERRIDE_TITLE,
                width,
                12,
                Paragraph::new(text).wrap(Wrap { trim: false }),
                theme,
            );
        }
        Mode::Password { input, error, .. } => {
            let width = area.width.saturating_sub(4).min(76);
            let mut text =
                vec![Line::from(strings::PASSWORD_PROMPT), input.line(usize::from(width.saturating_sub(2)), theme)];
            if let Some(e) = error {
                text.push(Line::from(Span::styled(e.clone(), theme.error)));
            }
            text.push(Line::from(Span::styled(strings::PASSWORD_HELP, theme.dim)));
            boxed(
                frame,
                area,
                strings::PASSWORD_TITLE,
                width,
                10,
                Paragraph::new(text).wrap(Wrap { trim: false }),
                theme,
            );
        }
        Mode::Importing { input, error } => {
            let width = area.width.saturating_sub(4).min(76);
            let mut text =
                vec![Line::from(strings::IMPORT_PROMPT), input.line(usize::from(width.saturating_sub(2)), theme)];
            if let Some(e) = error {
                text.push(Line::from(Span::styled(e.clone(), theme.error)));
            }
            boxed(frame, area, strings::IMPORT_TITLE, width, 8, Paragraph::new(text).wrap(Wrap { trim: false }), theme);
        }
        Mode::Report { report, scroll } => {
            let lines: Vec<Line> = report.lines().into_iter().skip(*scroll).map(Line::from).collect();
            let width = area.width.saturating_sub(4).min(100);
            let height = area.height.saturating_sub(4);
            boxed(
                frame,
                area,
                strings::REPORT_TITLE,
                width,
                height,
                Paragraph::new(lines).wrap(Wrap { trim: false }),
                theme,
            );
        }
        Mode::Normal | Mode::Editing { .. } | Mode::Searching { .. } => {}
    }
}

fn boxed(frame: &mut Frame, area: Rect, title: &str, width: u16, height: u16, body: Paragraph, theme: &Theme) {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(Span::styled(title.to_owned(), theme.title)).border_style(theme.border_focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    frame.render_widget(body, inner);
}

/// The code with a space between its characters, so it reads large and is easy to type from the screen.
fn spaced(code: &str) -> String {
    let chars: Vec<String> = code.chars().map(String::from).collect();
    chars.join(" ")
}
