//! The dialogs drawn over the screen: help, the quit question, the override reason, the sign-in code, the
//! password, the import path and its report. What each dialog does with keys is its own file's (`dialogs/`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::dialogs::{Dialog, boxed};
use crate::tui::keys;
use crate::tui::strings;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(dialog) = &app.dialog else { return };
    match dialog {
        Dialog::Help => {
            let tables = app.screen_key_tables();
            let mut lines: Vec<Line> = keys::help(&tables)
                .into_iter()
                .chain(strings::HELP_LEGEND.iter().copied())
                .map(|(keys, what)| Line::from(vec![Span::styled(format!(" {keys:<14}"), theme.key), Span::raw(what)]))
                .collect();
            lines.push(Line::from(Span::styled(
                format!(" {}", keys::footer(&[crate::tui::dialogs::help::KEYS], 60)),
                theme.key,
            )));
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
        Dialog::SignIn(crate::tui::dialogs::sign_in::SignIn { code, consent, .. }) => {
            let width = area.width.saturating_sub(4).min(76);
            let mut text = Vec::new();
            if let Some(permission) = consent {
                text.push(Line::from(strings::consent_asked(permission)));
            }
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
            let title = if consent.is_some() {
                text.push(Line::from(strings::CONSENT_CONTINUES));
                strings::CONSENT_TITLE
            } else {
                text.push(Line::from(strings::SIGN_IN_ACCOUNT));
                text.push(Line::from(strings::SIGN_IN_CONTINUES));
                strings::SIGN_IN_TITLE
            };
            let footer = keys::footer(&[crate::tui::dialogs::sign_in::KEYS], usize::from(width));
            text.push(Line::from(Span::styled(footer, theme.key)));
            boxed(
                frame,
                area,
                title,
                width,
                if consent.is_some() { 16 } else { 15 },
                Paragraph::new(text).wrap(Wrap { trim: false }),
                theme,
            );
        }
        Dialog::Confirm(crate::tui::dialogs::confirm::Confirm { title, question, .. }) => {
            let text = vec![
                Line::from(question.clone()),
                Line::from(""),
                Line::from(Span::styled(keys::footer(&[crate::tui::dialogs::confirm::KEYS], 60), theme.key)),
            ];
            let width = area.width.saturating_sub(4).min(72);
            boxed(frame, area, title, width, 9, Paragraph::new(text).wrap(Wrap { trim: false }), theme);
        }
        Dialog::Quit => {
            let text = vec![
                Line::from(strings::QUIT_QUESTION),
                Line::from(""),
                Line::from(Span::styled(keys::footer(&[crate::tui::dialogs::quit::KEYS], 40), theme.key)),
            ];
            boxed(frame, area, strings::QUIT_TITLE, 44, 5, Paragraph::new(text).centered(), theme);
        }
        Dialog::Override(crate::tui::dialogs::override_check::OverrideCheck { check, evidence, input, error }) => {
            let width = area.width.saturating_sub(4).min(76);
            let mut text = vec![
                Line::from(Span::styled(check.def().title, theme.header)),
                Line::from(Span::styled(evidence.clone(), theme.fail)),
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
        Dialog::Password(crate::tui::dialogs::password::Password { input, error, .. }) => {
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
        Dialog::Import(crate::tui::dialogs::import::Import { input, error }) => {
            let width = area.width.saturating_sub(4).min(76);
            let mut text =
                vec![Line::from(strings::IMPORT_PROMPT), input.line(usize::from(width.saturating_sub(2)), theme)];
            if let Some(e) = error {
                text.push(Line::from(Span::styled(e.clone(), theme.error)));
            }
            boxed(frame, area, strings::IMPORT_TITLE, width, 8, Paragraph::new(text).wrap(Wrap { trim: false }), theme);
        }
        Dialog::Report(crate::tui::dialogs::report::Report { report, scroll }) => {
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
        Dialog::Removals(dialog) => {
            // Its keys are in the footer: the list may be longer than the box.
            let lines: Vec<Line> = dialog.lines().into_iter().map(Line::from).collect();
            let width = area.width.saturating_sub(4).min(90);
            let height = area.height.saturating_sub(4).min(24);
            boxed(
                frame,
                area,
                strings::REMOVALS_TITLE,
                width,
                height,
                Paragraph::new(lines).wrap(Wrap { trim: false }),
                theme,
            );
        }
        // Drawn in place, in the stage's detail panel.
        Dialog::Edit(_) => {}
    }
}

/// The code with a space between its characters, so it reads large and is easy to type from the screen.
fn spaced(code: &str) -> String {
    let chars: Vec<String> = code.chars().map(String::from).collect();
    chars.join(" ")
}
