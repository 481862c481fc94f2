//! The left pane: the project at a glance, and the nine stages with their status.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row};

use super::{fit, stage_glyph};
use crate::plan::StageId;
use crate::plan::kickoff::format_usd;
use crate::tui::app::{App, Focus};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::DataTable;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Focus::Stages;
    let block = Block::bordered().title(format!(" {} ", strings::STAGES_TITLE)).border_style(if focused {
        theme.border_focused
    } else {
        theme.border
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let width = inner.width;
    let k = &app.state.kickoff;
    let value = |v: Option<String>| {
        let text = v.filter(|s| !s.is_empty());
        let style = if text.is_some() { theme.base } else { theme.dim };
        Line::from(Span::styled(
            format!(" {}", fit(text.as_deref().unwrap_or(strings::NOT_SET), width.saturating_sub(1))),
            style,
        ))
    };
    let budget = match (k.mailboxes, k.budget_usd()) {
        (Some(n), Some(total)) => Some(strings::budget_summary(n, &format_usd(total))),
        _ => None,
    };
    let summary = vec![
        Line::from(Span::styled(fit(&app.state.name, width), theme.title)),
        Line::from(Span::styled(strings::TENANT_LABEL, theme.dim)),
        value(k.tenant.as_ref().map(ToString::to_string)),
        Line::from(Span::styled(strings::CUTOVER_LABEL, theme.dim)),
        value(k.cutover.as_ref().map(ToString::to_string)),
        Line::from(Span::styled(strings::BUDGET_LABEL, theme.dim)),
        value(budget),
    ];
    let summary_height = u16::try_from(summary.len()).unwrap_or(u16::MAX);
    let [top, _, list] =
        Layout::vertical([Constraint::Length(summary_height), Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(summary), top);

    let stages: Vec<StageId> = StageId::all().collect();
    DataTable {
        header: None,
        len: stages.len(),
        selected: Some(app.stage.index()),
        focused,
        widths: &[Constraint::Min(0)],
        row: |i| {
            let id = stages[i];
            let (glyph, style) = stage_glyph(app.state.shown_status(id), theme);
            let title_style = if app.state.is_open(id) { theme.base } else { theme.dim };
            let title = fit(&format!("{id} {}", id.def().title), width.saturating_sub(2));
            Row::new([Line::from(vec![Span::styled(glyph, style), Span::raw(" "), Span::styled(title, title_style)])])
        },
    }
    .render(frame, list, theme);
}
