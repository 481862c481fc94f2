//! Stage 7, MX change: the records to set and remove (read by Show the DNS records to set) in the task's
//! details with the pre-flight, copied as a zone-file snippet with `y` (OSC 52); in a demo, `p` applies them at
//! the simulated registrar; Record the MX change starts the propagation watch, whose resolver × record table
//! opens with `d`.

use super::{DetailLine, Screen};
use crate::plan::TaskId;
use crate::plan::mx::propagation::{Cell, CellState, DnsView};
use crate::plan::mx::records::{Slot, zone_snippet};
use crate::plan::mx::{Check, STAGE, Task};
use crate::project::ProjectState;
use crate::protocol::Command;
use crate::tui::app::{Action, App, Effect, Focus, View};
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::DataTable;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row};

pub struct MxChange;

/// The records copied as a zone-file snippet, and the resolver table: keys of the stage in a demo or not.
const COPY: Binding = bind(
    &[Key::Char('y')],
    Action::Copy,
    "y",
    "copy records",
    2,
    "copy the DNS records as a zone-file snippet (OSC 52)",
);
const TABLE: Binding =
    bind(&[Key::Char('d')], Action::OpenTable, "d", "resolvers", 2, "the DNS propagation table: resolver × record");

static KEYS: &[Binding] = &[COPY, TABLE];

static DEMO_KEYS: &[Binding] = &[
    COPY,
    bind(
        &[Key::Char('p')],
        Action::Publish,
        "p",
        "DEMO apply",
        2,
        "demo only: apply the records at the simulated registrar",
    ),
    TABLE,
];

static TABLE_KEYS: &[Binding] = &[
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓ PgUp PgDn", "move", 1, "move in the table"),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
    bind(&[Key::PageUp], Action::PageUp, "", "", 0, ""),
    bind(&[Key::PageDown], Action::PageDown, "", "", 0, ""),
    bind(&[Key::Esc], Action::Cancel, "Esc", "back", 1, "back to the stage"),
];

/// Rows a page key moves in the resolver table.
const PAGE: usize = 10;

/// The selected resolver's detail under the table: its name, then a line per record.
const DETAIL_HEIGHT: u16 = 1 + Slot::ALL.len() as u16;

impl Screen for MxChange {
    fn keys(&self, app: &App) -> &'static [Binding] {
        match app.view {
            View::Table => TABLE_KEYS,
            View::Stage if app.state.demo => DEMO_KEYS,
            View::Stage => KEYS,
        }
    }

    fn table(&self) -> Option<crate::tui::screens::TableDraw> {
        Some(draw)
    }

    fn on_action(&self, app: &mut App, action: Action) -> Option<Vec<Command>> {
        if app.view == View::Table && app.focus == Focus::Main {
            let last = app.dns.as_ref().map_or(0, |v| v.rows.len().saturating_sub(1));
            let row = app.dns_row.min(last);
            app.dns_row = match action {
                Action::MoveUp => row.saturating_sub(1),
                Action::MoveDown => (row + 1).min(last),
                Action::PageUp => row.saturating_sub(PAGE),
                Action::PageDown => (row + PAGE).min(last),
                Action::Cancel => {
                    app.view = View::Stage;
                    row
                }
                _ => return None,
            };
            return Some(Vec::new());
        }
        match action {
            Action::Copy if app.state.mx.records.is_empty() => app.info(strings::NO_MX_RECORDS),
            Action::Copy => {
                let at = app.state.mx.records_read_at.unwrap_or_else(Utc::now);
                app.effects.push(Effect::Copy(zone_snippet(&app.state.mx.records, at)));
                app.info(strings::MX_RECORDS_COPIED);
            }
            Action::Publish if app.state.demo && app.state.simulator.is_some() => {
                return Some(app.start_task(Task::ApplyRecords.into()));
            }
            Action::Publish => app.info(strings::PUBLISH_DEMO_ONLY),
            Action::OpenTable if app.dns.is_none() => app.info(strings::NO_DNS_VIEW),
            Action::OpenTable => {
                app.view = View::Table;
                app.focus = Focus::Main;
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        app.start_task(task)
    }

    fn task_detail(&self, state: &ProjectState, task: TaskId) -> Vec<DetailLine> {
        match task {
            TaskId::Mx(Task::ShowRecords | Task::ApplyRecords) => records_pane(state),
            TaskId::Mx(Task::RecordMxChange) => change_pane(state),
            _ => Vec::new(),
        }
    }
}

/// The records pane: per domain what to set and remove, the warnings, the pre-flight, the keys.
fn records_pane(state: &ProjectState) -> Vec<DetailLine> {
    let mut lines = Vec::new();
    for d in &state.mx.records {
        lines.push(DetailLine::Strong(format!("{}: set", d.domain)));
        lines.extend(d.set.iter().map(|r| DetailLine::Strong(format!("  {}", r.display()))));
        if !d.remove.is_empty() {
            lines.push(DetailLine::Strong(format!("{}: remove", d.domain)));
            lines.extend(d.remove.iter().map(|r| DetailLine::Strong(format!("  {}", r.display()))));
        }
        lines.extend(d.warnings.iter().map(|w| DetailLine::Strong(format!("  warning: {w}"))));
    }
    lines.extend(preflight_lines(state));
    if !state.mx.records.is_empty() {
        let hint = if state.demo { strings::MX_DEMO_KEYS_HINT } else { strings::MX_KEYS_HINT };
        lines.push(DetailLine::Key(hint.to_owned()));
    }
    lines
}

fn preflight_lines(state: &ProjectState) -> Vec<DetailLine> {
    let Some(result) = state.stage(STAGE).and_then(|r| r.result(Check::Preflight)) else { return Vec::new() };
    let mut lines = vec![DetailLine::Strong(format!("Pre-flight: {:?}", result.outcome))];
    lines.extend(result.evidence.lines().map(|l| DetailLine::Strong(format!("  {l}"))));
    lines
}

fn change_pane(state: &ProjectState) -> Vec<DetailLine> {
    let mut lines = preflight_lines(state);
    if let Some(at) = state.mx.changed_at {
        lines.push(DetailLine::Strong(format!("Changed at {}", stamp(at))));
        if let Some(slowest) = state.mx.slowest_switch() {
            lines.push(DetailLine::Strong(format!(
                "{} resolver(s) switched; the last at {}",
                state.mx.switched.len(),
                stamp(slowest)
            )));
        }
        lines.push(DetailLine::Key(strings::MX_KEYS_HINT.to_owned()));
    }
    lines
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The resolver table: a row per resolver (and domain when there are several), a column per record.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(view) = app.dns.as_deref() else { return };
    let now = app.now.or(view.polled_at).unwrap_or_else(Utc::now);
    let (new, all) = view.counts();
    let block = Block::bordered()
        .title(Span::styled(format!(" {} · {new} of {all} new ", strings::DNS_TITLE), theme.title))
        .border_style(theme.border_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The selected row's detail sits right under the table's rows, the room left over below it.
    let room = inner.height.saturating_sub(2 + DETAIL_HEIGHT);
    let table_height = u16::try_from(view.rows.len() + 1).unwrap_or(u16::MAX).min(room);
    let [head, table, detail, _] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(table_height),
        Constraint::Length(DETAIL_HEIGHT),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(header(view, &app.state, now)), head);
    let selected = (!view.rows.is_empty()).then(|| app.dns_row.min(view.rows.len() - 1));
    if let Some(row) = selected.map(|i| &view.rows[i]) {
        frame.render_widget(Paragraph::new(row_detail(row, usize::from(detail.width), theme)), detail);
    }
    let several = view.rows.iter().any(|r| r.domain != view.rows[0].domain);
    // Wide cells only when the resolver's name keeps its room beside them.
    let wide = table.width >= 150;
    // Narrow: just enough for "old 41m" and "error", so the resolver's and the domain's names keep their room.
    let cell_widths: [u16; 3] = if wide { [22, 22, 22] } else { [8, 8, 8] };
    let since_width = if wide { 23 } else { 0 };
    let cells = cell_widths.iter().map(|w| w + 1).sum::<u16>() + if wide { since_width + 1 } else { 0 };
    let room = table.width.saturating_sub(cells);
    // The domains share the room with the resolvers, up to the longest domain's length.
    let longest = view.rows.iter().map(|r| r.domain.chars().count()).max().unwrap_or(0);
    let domain_width = if several { u16::try_from(longest).unwrap_or(u16::MAX).min(room / 2).max(6) } else { 0 };
    let name_width = room.saturating_sub(if several { domain_width + 1 } else { 0 }).max(8);
    let mut widths = vec![Constraint::Length(name_width)];
    if several {
        widths.push(Constraint::Length(domain_width));
    }
    widths.extend(cell_widths.map(Constraint::Length));
    if wide {
        widths.push(Constraint::Length(since_width));
    }
    let mut titles = vec!["Resolver"];
    if several {
        titles.push("Domain");
    }
    titles.extend(Slot::ALL.iter().map(|s| s.label()));
    if wide {
        titles.push("MX new since");
    }
    let rows = &view.rows;
    DataTable {
        header: Some(Row::new(titles)),
        len: rows.len(),
        selected,
        focused: true,
        widths: &widths,
        row: |i: usize| {
            let r: &crate::plan::mx::propagation::Row = &rows[i];
            let mut cells = vec![Span::raw(fit_middle(&r.resolver, usize::from(name_width)))];
            if several {
                cells.push(Span::raw(fit_middle(&r.domain, usize::from(domain_width))));
            }
            for (slot, width) in Slot::ALL.into_iter().zip(cell_widths) {
                let text = r.cell(slot).map_or_else(|| "—".to_owned(), |c| cell_text(c, wide));
                let style = match r.cell(slot).map(|c| c.state) {
                    Some(CellState::New) => theme.pass,
                    Some(CellState::Error) => theme.fail,
                    Some(CellState::Old) => theme.warn,
                    _ => theme.dim,
                };
                cells.push(Span::styled(fit(&text, usize::from(width)), style));
            }
            if wide {
                let since = r.cell(Slot::Mx).and_then(|c| c.first_new).map_or_else(|| "—".to_owned(), stamp);
                cells.push(Span::raw(since));
            }
            Row::new(cells)
        },
    }
    .render(frame, table, theme);
}

/// The selected row in full: the resolver and domain, then each record as it answers, with its TTL or error.
fn row_detail(row: &crate::plan::mx::propagation::Row, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(fit(&format!("{} · {}", row.resolver, row.domain), width), theme.title)];
    for slot in Slot::ALL {
        let said = match row.cell(slot) {
            None => "not asked yet".to_owned(),
            Some(c) => {
                // The TTL before the answer, which may be long and is cut first.
                let mut said = c.state.label().to_owned();
                if let Some(ttl) = c.ttl {
                    said.push_str(&format!(" · TTL {}", ttl_text(ttl)));
                }
                if let Some(error) = &c.error {
                    said.push_str(&format!(": {error}"));
                }
                if !c.answer.is_empty() {
                    said.push_str(&format!(" · {}", c.answer.join(", ")));
                }
                said
            }
        };
        lines.push(Line::raw(fit(&format!("{:<13}{said}", slot.label()), width)));
    }
    lines
}

fn header(view: &DnsView, state: &ProjectState, now: DateTime<Utc>) -> Vec<Line<'static>> {
    let changed = view.changed_at.or(state.mx.changed_at).map_or_else(
        || "MX change not recorded".to_owned(),
        |at| format!("MX changed {}, {} min ago", at.format("%Y-%m-%d %H:%M UTC"), (now - at).num_minutes().max(0)),
    );
    let polled =
        view.polled_at.map_or_else(String::new, |t| format!("; polled {} s ago", (now - t).num_seconds().max(0)));
    vec![Line::from(format!("{changed}{polled}")), Line::from(strings::DNS_TABLE_HINT)]
}

/// A cell as the table shows it: new, old with the TTL still to run, or error.
fn cell_text(cell: &Cell, wide: bool) -> String {
    match (cell.state, cell.ttl) {
        (CellState::Old, Some(ttl)) if wide => format!("old · TTL {}", ttl_text(ttl)),
        (CellState::Old, Some(ttl)) => format!("old {}", ttl_text(ttl).replace(' ', "").replace("min", "m")),
        (CellState::Error, _) if wide => format!("error: {}", cell.error.as_deref().unwrap_or("")),
        (state, _) => state.label().to_owned(),
    }
}

fn ttl_text(ttl: u32) -> String {
    if ttl >= 3_600 && ttl.is_multiple_of(3_600) {
        format!("{} h", ttl / 3_600)
    } else if ttl >= 60 {
        format!("{} min", ttl / 60)
    } else {
        format!("{ttl} s")
    }
}

/// `text` cut in the middle to `width` characters: a resolver's label ends with what tells it apart (its delay,
/// kept whole when it is in parentheses), a domain with its suffix.
fn fit_middle(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 5 {
        return fit(text, width);
    }
    let suffix = text.ends_with(')').then(|| text.rfind('(')).flatten().map(|i| text[i..].chars().count());
    let tail = suffix.filter(|n| *n + 2 <= width).unwrap_or(width / 2);
    let head = width - tail - 1;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `text` cut to `width` characters, with "…" when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_say_old_with_the_ttl_to_run() {
        let cell = Cell {
            slot: Slot::Mx,
            state: CellState::Old,
            answer: vec![],
            ttl: Some(3_600),
            error: None,
            first_new: None,
        };
        assert_eq!(cell_text(&cell, false), "old 1h");
        assert_eq!(cell_text(&cell, true), "old · TTL 1 h");
        assert_eq!(ttl_text(300), "5 min");
        assert_eq!(fit("sim 127.0.0.1:53000 (+900 s)", 10), "sim 127.0…");
        assert_eq!(fit_middle("sim 127.0.0.1:53000 (+900 s)", 16), "sim 127…(+900 s)");
        assert_eq!(fit_middle("sim 127.0.0.1:53000 (+1800 s)", 12), "si…(+1800 s)", "the delay kept whole");
        assert_ne!(
            fit_middle("fabrikam-eng.com", 12),
            fit_middle("fabrikam-eng.co.uk", 12),
            "the suffix tells them apart"
        );
    }
}
