//! Drawing: a pure function of the [`App`] onto a frame. One file per part of the screen.

pub mod batch;
pub mod mailboxes;
mod overlay;
mod sidebar;
mod stage;
pub mod too_small;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, NoticeKind, View};
use super::keys;
use super::strings;
use super::theme::Theme;
use crate::plan::{Outcome, StageStatus};

/// Draws the whole wizard.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if too_small::is_too_small(area, app) {
        too_small::draw(frame, area, app, theme);
        return;
    }
    let banner_height = banner_height(app, area.width);
    let [banner, title, body, notice, footer] = Layout::vertical([
        Constraint::Length(banner_height),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if let Some(text) = &app.banner {
        frame.render_widget(Paragraph::new(text.as_str()).style(theme.banner).wrap(Wrap { trim: true }), banner);
    }
    draw_title(frame, title, app, theme);
    let sidebar_width = if area.width >= 120 { 34 } else { 26 };
    let [side, main] = Layout::horizontal([Constraint::Length(sidebar_width), Constraint::Min(0)]).areas(body);
    sidebar::draw(frame, side, app, theme);
    match app.view {
        View::Stage => stage::draw(frame, main, app, theme),
        View::Table => match crate::tui::stages::of(app.stage).table() {
            Some(table) => table(frame, main, app, theme),
            None => stage::draw(frame, main, app, theme),
        },
    }
    draw_notice(frame, notice, app, theme);
    draw_footer(frame, footer, app, theme);
    overlay::draw(frame, area, app, theme);
}

fn draw_title(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let stage = app.stage.def();
    let line = Line::from(vec![
        Span::styled(format!(" {} ", strings::APP_NAME), theme.title),
        Span::styled(format!("· {} ", app.state.name), theme.base),
        Span::styled(format!("· stage {} of 9: {}", stage.id, stage.title), theme.dim),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// A stage's table, drawn in the main pane.
pub type TableDraw = fn(&mut Frame, Rect, &App, &Theme);

fn draw_notice(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // Work with a known total shows as a bar, the newest job's; an error notice goes over it.
    let error = app.visible_notice().is_some_and(|n| n.kind == NoticeKind::Error);
    // Only the stage on screen's work: the batch's watch must not hide what stage 6's checks said.
    let bar = app
        .jobs
        .values()
        .rev()
        .find(|j| j.stage.is_none_or(|s| s == app.stage))
        .and_then(|j| j.ratio().map(|r| (j, r)))
        .filter(|_| !error);
    if let Some((job, ratio)) = bar {
        let text = job.progress.as_ref().map_or(job.label.as_str(), |p| p.label.as_str());
        let done = job.progress.as_ref().map_or(0, |p| p.done);
        let total = job.progress.as_ref().and_then(|p| p.total).unwrap_or(0);
        let label = format!(" {} {done}/{total} ", fit(text, area.width / 2));
        let gauge = ratatui::widgets::LineGauge::default()
            .ratio(ratio)
            .label(Span::styled(label, theme.base))
            .filled_style(theme.pass)
            .unfilled_style(theme.dim);
        frame.render_widget(gauge, area);
        return;
    }
    let Some(notice) = app.visible_notice() else { return };
    let style = if notice.kind == NoticeKind::Error { theme.error } else { theme.base };
    frame.render_widget(
        Paragraph::new(Span::styled(format!(" {}", fit(&notice.text, area.width.saturating_sub(1))), style)),
        area,
    );
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = area.width.saturating_sub(1);
    let keys = keys::footer(&app.key_tables(), usize::from(width));
    frame.render_widget(Paragraph::new(Span::styled(format!(" {}", fit(&keys, width)), theme.key)), area);
}

/// How many lines `text` takes when wrapped at `width`.
/// The rows the demo's banner takes at `width` (none in a real project).
fn banner_height(app: &App, width: u16) -> u16 {
    app.banner.as_ref().map_or(0, |b| wrapped_height(b, width).min(2))
}

fn wrapped_height(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    u16::try_from(text.chars().count().div_ceil(width).max(1)).unwrap_or(u16::MAX)
}

/// `text` cut to `width` characters, with an ellipsis where it was cut.
pub(crate) fn fit(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn stage_glyph(status: StageStatus, theme: &Theme) -> (&'static str, Style) {
    match status {
        StageStatus::NotStarted => ("○", theme.dim),
        StageStatus::InProgress => ("◐", theme.warn),
        StageStatus::Done => ("✓", theme.pass),
        StageStatus::Overridden => ("!", theme.warn),
        StageStatus::Failed => ("✗", theme.fail),
        // Dimmed like a stage not started, whatever it recorded: it cannot be worked on yet.
        StageStatus::Locked => ("○", theme.dim),
    }
}

fn outcome_glyph(outcome: Outcome, overridden: bool, theme: &Theme) -> (&'static str, Style) {
    match outcome {
        Outcome::Pass => ("✓", theme.pass),
        Outcome::Warn => ("!", theme.warn),
        Outcome::Fail if overridden => ("!", theme.warn),
        Outcome::Fail => ("✗", theme.fail),
        Outcome::NotRun => ("○", theme.dim),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("contoso.onmicrosoft.com", 10), "contoso.o…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("ab", 0), "…");
    }
}
