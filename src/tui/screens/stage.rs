//! The main pane: the selected stage's help, its rows (the kickoff form for stage 1, then tasks and checks
//! with their last result), and a detail panel for the selected row or the field being edited.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row as TableRow, Wrap};

use super::{fit, outcome_glyph, wrapped_height};
use crate::plan::kickoff::{Field, format_usd};
use crate::plan::{Outcome, StageId, StageRecord, TaskStatus};
use crate::tui::app::{App, Focus, Row, rows};
use crate::tui::dialogs::Dialog;
use crate::tui::dialogs::edit::Edit;
use crate::tui::stages::{self, DetailLine};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::DataTable;

/// The width of the labels of a stage's form or settings: the longest, plus a space.
fn label_width(stage: StageId) -> usize {
    let label = |row: &Row| match row {
        Row::Field(f) => Some(f.label()),
        Row::Setting(s) => Some(s.label()),
        Row::Password => Some(strings::PASSWORD_LABEL),
        _ => None,
    };
    rows(stage).iter().filter_map(label).map(|l| l.chars().count()).max().unwrap_or(0) + 1
}

/// The detail panel's least height: enough for the start of a check's evidence at 80x24. It gets all the room
/// the list leaves.
const DETAIL_HEIGHT: u16 = 5;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let def = app.stage.def();
    let focused = app.focus == Focus::Main;
    let block = Block::bordered()
        .title(Span::styled(format!(" {} · {} ", def.id, def.title), theme.title))
        .border_style(if focused { theme.border_focused } else { theme.border });
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut help = vec![Line::from(Span::styled(def.help, theme.dim))];
    if !app.state.is_open(app.stage) {
        help.push(Line::from(Span::styled(strings::locked(app.stage), theme.warn)));
    }
    if !stages::of(app.stage).built() {
        help.push(Line::from(Span::styled(strings::not_available(app.stage), theme.warn)));
    }
    let help_height: u16 = help.iter().map(|l| wrapped_height(&line_text(l), inner.width)).sum();
    let all = rows(app.stage);
    let selected_row = app.selected_row();
    let record = app.state.stage(app.stage);
    let detail = match &app.dialog {
        Some(Dialog::Edit(Edit { target, input, error })) => {
            let label = format!("{}: ", target.label());
            let input_width = usize::from(inner.width).saturating_sub(label.chars().count() + 1);
            let mut spans = vec![Span::styled(label, theme.header)];
            spans.extend(input.line(input_width, theme).spans);
            let below = match error {
                Some(e) => Span::styled(e.clone(), theme.error),
                None => Span::styled(target.hint(), theme.dim),
            };
            vec![Line::from(spans), Line::from(below)]
        }
        _ => {
            let mut lines = detail_lines(app, selected_row, record, theme);
            let notes = stages::of(app.stage).notes(&app.state);
            if !notes.is_empty() {
                lines.push(Line::default());
            }
            lines.extend(notes.into_iter().map(|note| match note {
                DetailLine::Strong(text) => Line::from(Span::styled(text, theme.title)),
                DetailLine::Key(text) => Line::from(Span::styled(text, theme.key)),
                DetailLine::Text(text) => Line::from(Span::styled(text, theme.dim)),
            }));
            lines
        }
    };
    let help_height = help_height.min(5);
    let avail = inner.height.saturating_sub(help_height);
    let detail = Paragraph::new(detail).wrap(Wrap { trim: false });
    // One more for the panel's top border.
    let detail_needs = u16::try_from(detail.line_count(inner.width)).unwrap_or(u16::MAX).saturating_add(1);
    let list_needs = u16::try_from(all.len()).unwrap_or(u16::MAX);
    // The list takes the rows it has while they fit beside the details, else at least half the pane; the details
    // get the rest, never less than DETAIL_HEIGHT, and scroll when that is not enough.
    let list_height =
        list_needs.min(avail.saturating_sub(detail_needs).max(avail / 2)).min(avail.saturating_sub(DETAIL_HEIGHT));
    let [help_area, list_area, detail_area] =
        Layout::vertical([Constraint::Length(help_height), Constraint::Length(list_height), Constraint::Min(0)])
            .areas(inner);
    frame.render_widget(Paragraph::new(help).wrap(Wrap { trim: true }), help_area);

    let selected = selected_row.and_then(|s| all.iter().position(|r| *r == s));
    let width = list_area.width;
    DataTable {
        header: None,
        len: all.len(),
        selected,
        focused,
        widths: &[Constraint::Min(0)],
        row: |i| TableRow::new([row_line(all[i], app, record, width, theme)]),
    }
    .render(frame, list_area, theme);

    let mut detail_block = Block::default().borders(Borders::TOP).border_style(theme.border);
    let room = detail_area.height.saturating_sub(1);
    let total = detail_needs.saturating_sub(1);
    let scroll = app.detail_scroll.min(total.saturating_sub(room));
    let below = total.saturating_sub(room + scroll);
    if scroll > 0 || below > 0 {
        detail_block = detail_block
            .title_top(Line::from(Span::styled(strings::detail_scroll(scroll, below), theme.dim)).right_aligned());
    }
    let detail_inner = detail_block.inner(detail_area);
    frame.render_widget(detail_block, detail_area);
    frame.render_widget(detail.scroll((scroll, 0)), detail_inner);
}

/// A text of several lines (evidence, a task's detail) as lines, so its line breaks are kept.
fn text_lines(text: &str, style: ratatui::style::Style) -> impl Iterator<Item = Line<'static>> + '_ {
    text.lines().map(move |line| Line::from(Span::styled(line.to_owned(), style)))
}

fn line_text(line: &Line) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

fn row_line<'a>(row: Row, app: &App, record: Option<&StageRecord>, width: u16, theme: &Theme) -> Line<'a> {
    let k = &app.state.kickoff;
    let label_width = label_width(app.stage);
    match row {
        Row::Header(title) => Line::from(Span::styled(title, theme.header)),
        Row::Field(field) => {
            let mark = if field.required() { strings::REQUIRED_MARK } else { " " };
            let label = format!("  {:<label_width$}{mark} ", field.label());
            let room = width.saturating_sub(u16::try_from(label.chars().count()).unwrap_or(u16::MAX));
            let value = field.current(k);
            let value = if value.is_empty() {
                Span::styled(fit(field.hint(), room), theme.dim)
            } else {
                Span::styled(fit(&value, room), theme.base)
            };
            Line::from(vec![Span::styled(label, theme.base), value])
        }
        Row::Setting(setting) => {
            let label = format!("  {:<label_width$}  ", setting.label());
            let value = setting.current(app.state.settings());
            let value = if value.is_empty() {
                Span::styled(
                    fit(setting.hint(), width.saturating_sub(u16::try_from(label_width + 4).unwrap_or(u16::MAX))),
                    theme.dim,
                )
            } else {
                Span::styled(value, theme.base)
            };
            Line::from(vec![Span::styled(label, theme.base), value])
        }
        Row::Password => {
            let label = format!("  {:<label_width$}  ", strings::PASSWORD_LABEL);
            Line::from(vec![Span::styled(label, theme.base), Span::styled(strings::PASSWORD_ROW, theme.dim)])
        }
        Row::Budget => {
            let label = format!("  {:<label_width$}  ", strings::BUDGET_LABEL);
            let value = match (k.mailboxes, k.budget_usd()) {
                (Some(n), Some(total)) => Span::styled(strings::budget_line(n, &format_usd(total)), theme.title),
                _ => Span::styled(strings::budget_pending(Field::Mailboxes.hint()), theme.dim),
            };
            Line::from(vec![Span::styled(label, theme.base), value])
        }
        Row::Task(i) => {
            let task = &app.stage.def().tasks[i];
            let status = stages::of(app.stage)
                .task_status(&app.state, task.id)
                .or_else(|| record.and_then(|r| r.task(task.id)).map(|t| t.status))
                .unwrap_or(TaskStatus::NotStarted);
            let (glyph, style) = match status {
                TaskStatus::Done => ("✓", theme.pass),
                TaskStatus::Running => ("◐", theme.warn),
                TaskStatus::Failed => ("✗", theme.fail),
                TaskStatus::NotStarted => ("○", theme.dim),
            };
            Line::from(vec![Span::raw("  "), Span::styled(glyph, style), Span::raw(" "), Span::raw(task.title)])
        }
        Row::Check(i) => {
            let check = &app.stage.def().checks[i];
            let outcome = record.map_or(Outcome::NotRun, |r| r.outcome(check.id));
            let overridden = record.and_then(|r| r.active_override(check.id)).is_some();
            let (glyph, style) = outcome_glyph(outcome, overridden, theme);
            let label = if overridden { strings::OVERRIDDEN.to_uppercase() } else { outcome.label().to_owned() };
            let head = format!("  {glyph} {label:<10} {}", check.title);
            let mut spans = vec![
                Span::raw("  "),
                Span::styled(glyph, style),
                Span::raw(" "),
                Span::styled(format!("{label:<10} "), style),
                Span::raw(check.title),
            ];
            let room = width.saturating_sub(u16::try_from(head.chars().count() + 2).unwrap_or(u16::MAX));
            if let Some(result) = record.and_then(|r| r.result(check.id)).filter(|_| room > 20) {
                // The first line only: the details below show the whole evidence.
                let first = result.evidence.lines().next().unwrap_or_default();
                spans.push(Span::styled(format!("  {}", fit(first, room)), theme.dim));
            }
            Line::from(spans)
        }
    }
}

fn detail_lines(app: &App, row: Option<Row>, record: Option<&StageRecord>, theme: &Theme) -> Vec<Line<'static>> {
    match row {
        Some(Row::Field(field)) => {
            let need = if field.required() { strings::REQUIRED } else { strings::OPTIONAL };
            vec![
                Line::from(vec![
                    Span::styled(field.label(), theme.header),
                    Span::styled(format!(" ({need})"), theme.dim),
                ]),
                Line::from(Span::styled(field.hint(), theme.dim)),
            ]
        }
        Some(Row::Setting(setting)) => vec![
            Line::from(Span::styled(setting.label(), theme.header)),
            Line::from(Span::styled(setting.hint(), theme.dim)),
        ],
        Some(Row::Password) => vec![
            Line::from(Span::styled(strings::PASSWORD_LABEL, theme.header)),
            Line::from(Span::styled(strings::PASSWORD_HELP, theme.dim)),
        ],
        Some(Row::Task(i)) => {
            let task = &app.stage.def().tasks[i];
            let mut lines = vec![Line::from(Span::styled(task.title, theme.header))];
            if let Some(done) = record.and_then(|r| r.task(task.id)) {
                lines.push(Line::from(Span::styled(done.at.format("%Y-%m-%d %H:%M UTC").to_string(), theme.dim)));
                lines.extend(text_lines(&done.detail, theme.base));
            }
            for line in stages::of(app.stage).task_detail(&app.state, task.id) {
                lines.push(match line {
                    DetailLine::Strong(text) => Line::from(Span::styled(text, theme.title)),
                    DetailLine::Key(text) => Line::from(Span::styled(text, theme.key)),
                    DetailLine::Text(text) => Line::from(Span::styled(text, theme.base)),
                });
            }
            lines.push(Line::from(Span::styled(task.help, theme.dim)));
            lines
        }
        Some(Row::Check(i)) => {
            let check = &app.stage.def().checks[i];
            // Evidence first: at 80x24 the panel has four lines and the evidence is what the engineer acts on.
            let result = record.and_then(|r| r.result(check.id));
            let mut title = vec![Span::styled(check.title, theme.header)];
            if let Some(result) = result {
                title.push(Span::styled(format!(" ({})", strings::checked_at(&result.at)), theme.dim));
            }
            let mut lines = vec![Line::from(title)];
            if let Some(result) = result {
                lines.extend(text_lines(&result.evidence, theme.base));
            }
            if let Some(o) = record.and_then(|r| r.active_override(check.id)) {
                lines.extend(text_lines(&strings::overridden_by(&o.by, &o.reason), theme.warn));
            }
            lines.push(Line::from(Span::styled(check.help, theme.dim)));
            lines
        }
        Some(Row::Header(_) | Row::Budget) | None => Vec::new(),
    }
}
