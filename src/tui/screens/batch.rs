//! Stage 5's live table: a header with the batch's state, the mailboxes by status, the data moved, the rate
//! and the ETA, and when the view was read; one row per mailbox of the batch (only the visible rows are built);
//! the selected mailbox's statistics, error and its cause and fix below.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Wrap};

use super::fit;
use crate::inventory::size::format_size;
use crate::plan::kickoff::group_thousands;
use crate::plan::migrate::health::{Health, counts_line};
use crate::plan::migrate::view::{BatchView, MailboxView};
use crate::plan::verify::catalogue::explain;
use crate::tui::app::{App, Focus};
use crate::tui::batch::{Summary, TableRow};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::DataTable;

const HEADER_HEIGHT: u16 = 4;
const DETAIL_HEIGHT: u16 = 7;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Focus::Main;
    let Some(view) = app.batch.as_deref() else { return };
    let now = app.now.unwrap_or_else(Utc::now);
    let (rows, summary) = app.batch_table.rows(view, &app.state, now);
    let name = view.batch.as_ref().map_or("—", |b| b.identity.as_str());
    let table = &app.batch_table;
    let title = format!(
        " {} {name} · {} of {} · filter {} · sort {} ",
        strings::BATCH_TITLE,
        rows.len(),
        view.mailboxes.len(),
        table.filter.label(),
        table.sort.label()
    );
    let block = Block::bordered().title(Span::styled(title, theme.title)).border_style(if focused {
        theme.border_focused
    } else {
        theme.border
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [header_area, table_area, detail_area] =
        Layout::vertical([Constraint::Length(HEADER_HEIGHT), Constraint::Min(1), Constraint::Length(DETAIL_HEIGHT)])
            .areas(inner);
    // One line each, cut to the width: the header keeps its four lines at 80 columns.
    let width = header_area.width;
    let head_lines: Vec<Line> = header(view, &summary, now, theme)
        .into_iter()
        .map(|l| {
            let style = l.spans.first().map(|s| s.style).unwrap_or_default();
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            Line::from(Span::styled(fit(&text, width), style))
        })
        .collect();
    frame.render_widget(Paragraph::new(head_lines), header_area);

    let wide = table_area.width >= 120;
    // The address gets what the numbers leave (a quarter of a wide table), so it can end in "…" when cut.
    let name_width = if wide { table_area.width / 4 } else { table_area.width.saturating_sub(2 + 9 + 10 + 4 + 4) };
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(2),
            Constraint::Length(name_width),
            Constraint::Length(10),
            Constraint::Length(19),
            Constraint::Length(8),
            Constraint::Length(21),
            Constraint::Length(5),
            Constraint::Length(16),
            Constraint::Min(10),
        ]
    } else {
        vec![
            Constraint::Length(2),
            Constraint::Length(name_width),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(4),
        ]
    };
    let head: Vec<&str> = if wide { strings::BATCH_COLUMNS_WIDE.to_vec() } else { strings::BATCH_COLUMNS.to_vec() };
    let cursor = app.batch_table.cursor(&rows);
    DataTable {
        header: Some(Row::new(head)),
        len: rows.len(),
        selected: (!rows.is_empty()).then_some(cursor),
        focused,
        widths: &widths,
        row: |i: usize| {
            let TableRow { key, health, mark } = &rows[i];
            let Some(m) = view.mailboxes.get(key) else { return Row::new(Vec::<Cell>::new()) };
            let style = health_style(health, theme);
            let right = |s: String| Cell::from(Line::from(s).right_aligned());
            let mut cells = vec![Cell::from(*mark), Cell::from(fit(key, name_width))];
            cells.push(Cell::from(Span::styled(health.label().to_owned(), style)));
            if wide {
                cells.push(right(items(m)));
                cells.push(right(group_thousands(m.skipped_items())));
                cells.push(right(moved(m)));
                cells.push(right(percent(m)));
                cells.push(Cell::from(m.last_successful_sync().map_or_else(String::new, when)));
                cells.push(Cell::from(Span::styled(m.error().map(first_line).unwrap_or_default(), theme.fail)));
            } else {
                cells.push(right(m.bytes_transferred().map(format_size).unwrap_or_default()));
                cells.push(right(percent(m)));
            }
            Row::new(cells)
        },
    }
    .render(frame, table_area, theme);

    let detail_block = Block::default().borders(Borders::TOP).border_style(theme.border);
    let detail_inner = detail_block.inner(detail_area);
    frame.render_widget(detail_block, detail_area);
    if let Some(TableRow { key, health, .. }) = rows.get(cursor)
        && let Some(m) = view.mailboxes.get(key)
    {
        let lines = detail(key, health, m, app, now, theme);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail_inner);
    }
}

fn header<'a>(view: &BatchView, summary: &Summary, now: DateTime<Utc>, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let state = match &view.batch {
        Some(b) => {
            // The start is on Exchange's clock: the time since is measured on it too.
            let since = |s| ago(view.service_time(now) - s);
            let started = b.start.map(|s| format!(" · started {} ({} ago)", when(s), since(s))).unwrap_or_default();
            format!("{} {}{started}", b.identity, b.status)
        }
        None => strings::NO_BATCH_YET.to_owned(),
    };
    lines.push(Line::from(Span::styled(state, theme.header)));
    lines.push(Line::from(counts_line(&summary.counts)));
    let (_, done, total) = summary.volume;
    let mut progress = format!("moved {} of {}", format_size(done), format_size(total));
    if let Some(rate) = summary.rate_mb_per_min {
        progress.push_str(&format!(" · {rate:.1} MB/min {}", spark(&summary.spark)));
    }
    if let Some(e) = &summary.eta {
        progress.push_str(&format!(
            " · initial sync ends in {}–{} ({})",
            ago_std(e.low),
            ago_std(e.high),
            e.assumption
        ));
    }
    lines.push(Line::from(progress));
    let mut polled = view.age(now).map_or_else(|| "not read yet".to_owned(), |a| format!("read {} ago", ago(a)));
    if let Some(gone) = view.gone_at {
        polled = format!("{polled}; {} {} ago: this is its last view", strings::BATCH_GONE, ago(now - gone));
    }
    match &view.last_error {
        Some(e) => lines.push(Line::from(Span::styled(
            format!("{polled}; the last poll failed {} ago: {}", ago(now - e.at), e.message),
            theme.warn,
        ))),
        None => lines.push(Line::from(Span::styled(polled, theme.dim))),
    }
    lines
}

fn detail<'a>(
    key: &str,
    health: &Health,
    m: &MailboxView,
    app: &App,
    now: DateTime<Utc>,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(vec![
        Span::styled(key.to_owned(), theme.header),
        Span::styled(format!(" · {}", health.label()), health_style(health, theme)),
    ])];
    let total = m.statistics.as_ref().and_then(|s| s.total_items_in_source);
    let mut facts = format!("{} items · {} skipped", items(m), group_thousands(m.skipped_items()));
    let moved = moved(m);
    if !moved.is_empty() {
        facts.push_str(&format!(" · {moved} moved"));
    }
    if let Some(t) = total {
        facts.push_str(&format!(" · {} in the source", group_thousands(t)));
    }
    if let Some(last) = m.last_successful_sync() {
        facts.push_str(&format!(" · last sync {}", when(last)));
    }
    lines.push(Line::from(facts));
    if let Some(e) = explain(m, &app.state.migrate, now) {
        lines.push(Line::from(Span::styled(e.line(), theme.warn)));
        if let Some(error) = &e.error {
            lines.extend(error.lines().map(|l| Line::from(Span::styled(l.to_owned(), theme.fail))));
        }
    }
    lines
}

/// Bars of eight heights, scaled to the largest bucket.
fn spark(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values.iter().map(|v| BARS[usize::try_from(v.saturating_mul(7) / max).unwrap_or(7).min(7)]).collect()
}

fn health_style(h: &Health, theme: &Theme) -> ratatui::style::Style {
    match h {
        Health::Failed | Health::Stalled => theme.fail,
        Health::Synced | Health::Completed => theme.pass,
        Health::Unknown(_) | Health::CompletedWithWarnings | Health::Stopped => theme.warn,
        _ => theme.base,
    }
}

fn items(m: &MailboxView) -> String {
    let total = m.statistics.as_ref().and_then(|s| s.total_items_in_source);
    match total {
        Some(t) => format!("{}/{}", group_thousands(m.synced_items()), group_thousands(t)),
        None => group_thousands(m.synced_items()),
    }
}

fn moved(m: &MailboxView) -> String {
    match (m.bytes_transferred(), m.estimated_total()) {
        (Some(done), Some(total)) => format!("{} / {}", format_size(done), format_size(total)),
        (Some(done), None) => format_size(done),
        _ => String::new(),
    }
}

fn percent(m: &MailboxView) -> String {
    m.statistics.as_ref().and_then(|s| s.percentage_complete).map(|p| format!("{p}%")).unwrap_or_default()
}

fn first_line(text: &str) -> String {
    fit(text.lines().next().unwrap_or_default(), 60)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%m-%d %H:%M UTC").to_string()
}

fn ago(d: chrono::Duration) -> String {
    ago_std(d.to_std().unwrap_or_default())
}

/// "12 s", "5 min", "2 h 05 min".
fn ago_std(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}
