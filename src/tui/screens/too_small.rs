//! A terminal smaller than the wizard's screen: a notice of the size it needs instead of a squeezed, unreadable
//! layout, and only the quit keys go through (any other key would act on a screen the engineer cannot see).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::{Action, App};
use crate::tui::dialogs::Dialog;
use crate::tui::strings;
use crate::tui::theme::Theme;

/// The smallest terminal the wizard draws in: every stage of the list beside a form with its labels and
/// values, and the footer. The demo's banner takes rows above that.
pub const MIN_COLS: u16 = 70;
pub const MIN_ROWS: u16 = 22;

pub fn is_too_small(area: Rect, app: &App) -> bool {
    area.width < MIN_COLS || area.height < min_rows(app, area.width)
}

fn min_rows(app: &App, width: u16) -> u16 {
    MIN_ROWS + super::banner_height(app, width)
}

/// Whether `action` may act while the screen is hidden behind the notice: asking to quit, and answering that
/// question. A question already open (a write to confirm) waits for the full screen.
pub fn passes(app: &App, action: &Action) -> bool {
    match &app.dialog {
        None => matches!(action, Action::RequestQuit),
        Some(Dialog::Quit) => matches!(action, Action::ConfirmYes | Action::ConfirmNo | Action::Cancel),
        Some(_) => false,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut lines = vec![
        Line::styled(strings::too_small(area.width, area.height, MIN_COLS, min_rows(app, MIN_COLS)), theme.warn),
        Line::from(strings::TOO_SMALL_FIX),
    ];
    lines.push(Line::from(match &app.dialog {
        None => strings::TOO_SMALL_QUIT,
        Some(Dialog::Quit) => strings::TOO_SMALL_QUIT_ASKED,
        Some(_) => strings::TOO_SMALL_QUESTION_WAITS,
    }));
    frame.render_widget(Paragraph::new(lines).style(theme.base).wrap(Wrap { trim: true }), area);
}
