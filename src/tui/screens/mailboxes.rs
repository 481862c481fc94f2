//! Stage 2's mailbox table: every imported mailbox with its size, items, Recoverable Items and risk flags,
//! filtered, sorted and searched; the selected mailbox's details below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Wrap};

use super::fit;
use crate::inventory::Mailbox;
use crate::inventory::risk::{self, RiskFlag};
use crate::inventory::size::format_size;
use crate::plan::kickoff::group_thousands;
use crate::tui::app::{App, Focus};
use crate::tui::mailboxes::Sort;
use crate::tui::strings;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::DataTable;

const DETAIL_HEIGHT: u16 = 6;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let view = &app.mailboxes;
    let rows = app.mailbox_rows();
    let Some(inventory) = app.state.inventory.as_deref() else { return };
    let title = format!(
        " {} · {} of {} · filter {} · sort {} ",
        strings::MAILBOXES_TITLE,
        rows.len(),
        inventory.mailboxes.len(),
        view.filter.label(),
        view.sort.label()
    );
    let focused = app.focus == Focus::Main;
    let block = Block::bordered().title(Span::styled(title, theme.title)).border_style(if focused {
        theme.border_focused
    } else {
        theme.border
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let searching = view.search.is_some();
    let search_height = u16::from(searching || !view.query.is_empty());
    let [search_area, table_area, detail_area] =
        Layout::vertical([Constraint::Length(search_height), Constraint::Min(1), Constraint::Length(DETAIL_HEIGHT)])
            .areas(inner);
    if let Some(input) = &view.search {
        let mut spans = vec![Span::styled("/ ", theme.key)];
        spans.extend(input.line(usize::from(search_area.width.saturating_sub(2)), theme).spans);
        frame.render_widget(Paragraph::new(Line::from(spans)), search_area);
    } else if !view.query.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled(format!("/ {}", view.query), theme.dim)), search_area);
    }

    if rows.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled(strings::NO_MAILBOX_MATCHES, theme.dim)), table_area);
        return;
    }
    let wide = table_area.width >= 120;
    let thresholds = &app.state.source.thresholds;
    // Narrow, a third number shows only when the table is sorted by it (items, Recoverable Items): the room goes
    // to the names and the flags.
    let metric = match view.sort {
        _ if wide => None,
        Sort::ItemsDesc => Some(Metric::Items),
        Sort::RecoverableDesc => Some(Metric::Recoverable),
        Sort::SizeDesc | Sort::Name => None,
    };
    let flags_width = if metric.is_some() { FLAGS_WIDTH_BESIDE_METRIC } else { FLAGS_WIDTH };
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(2),
            Constraint::Percentage(22),
            Constraint::Percentage(28),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Min(10),
        ]
    } else {
        let mut widths = vec![Constraint::Length(2), Constraint::Min(12), Constraint::Length(9)];
        widths.extend(metric.map(|_| Constraint::Length(10)));
        widths.push(Constraint::Length(flags_width));
        widths
    };
    let header = match metric {
        _ if wide => Row::new(strings::MAILBOX_COLUMNS_WIDE.to_vec()),
        None => Row::new(strings::MAILBOX_COLUMNS.to_vec()),
        Some(Metric::Items) => Row::new(strings::MAILBOX_COLUMNS_ITEMS.to_vec()),
        Some(Metric::Recoverable) => Row::new(strings::MAILBOX_COLUMNS_RECOVERABLE.to_vec()),
    };
    DataTable {
        header: Some(header),
        len: rows.len(),
        selected: Some(view.cursor(&rows, &inventory.mailboxes)),
        focused,
        widths: &widths,
        row: |i| {
            let m = &inventory.mailboxes[rows[i]];
            let flags = risk::flags(m, app.state.vips.contains(&m.key()), thresholds);
            let (glyph, style) = flag_glyph(&flags, theme);
            let name = if m.display_name.is_empty() { m.primary_smtp.as_str() } else { m.display_name.as_str() };
            let labels: Vec<&str> = flags.iter().map(|f| f.label()).collect();
            let right = |s: String| Cell::from(Line::from(s).right_aligned());
            let mut cells = vec![Cell::from(Span::styled(glyph, style)), Cell::from(name.to_owned())];
            if wide {
                cells.push(Cell::from(m.primary_smtp.clone()));
            }
            cells.push(right(format_size(m.total_item_size)));
            if wide {
                cells.push(right(group_thousands(m.item_count)));
            }
            match metric {
                Some(Metric::Items) => cells.push(right(group_thousands(m.item_count))),
                Some(Metric::Recoverable) => cells.push(right(format_size(m.deleted_item_size))),
                None => {}
            }
            if wide {
                cells.push(right(format_size(m.deleted_item_size)));
                cells.push(Cell::from(m.recipient_type.label().to_owned()));
            }
            let labels = labels.join(", ");
            let labels = if wide { labels } else { fit(&labels, flags_width) };
            cells.push(Cell::from(Span::styled(labels, style)));
            Row::new(cells)
        },
    }
    .render(frame, table_area, theme);

    let detail_block = Block::default().borders(Borders::TOP).border_style(theme.border);
    let detail_inner = detail_block.inner(detail_area);
    frame.render_widget(detail_block, detail_area);
    let selected = rows.get(view.cursor(&rows, &inventory.mailboxes)).map(|&i| &inventory.mailboxes[i]);
    if let Some(m) = selected {
        let vip = app.state.vips.contains(&m.key());
        let lines = detail(m, &risk::flags(m, vip, thresholds), thresholds, detail_inner.width, theme);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail_inner);
    }
}

/// The narrow table's flags column: most lists whole ("over limit, needs licence"); longer ones end in "…" and
/// the details below name them all. Beside a third number it is narrower.
const FLAGS_WIDTH: u16 = 22;
const FLAGS_WIDTH_BESIDE_METRIC: u16 = 15;

/// The number the narrow table adds when sorted by it.
#[derive(Clone, Copy)]
enum Metric {
    Items,
    Recoverable,
}

/// Two marks: a star for a VIP, then the most serious risk (✗ blocks the migration, ! needs care).
fn flag_glyph(flags: &[RiskFlag], theme: &Theme) -> (String, ratatui::style::Style) {
    let vip = if flags.contains(&RiskFlag::Vip) { '★' } else { ' ' };
    let (risk, style) = if flags.iter().any(|f| f.blocks_migration()) {
        ('✗', theme.fail)
    } else if flags.iter().any(|f| *f != RiskFlag::Vip) {
        ('!', theme.warn)
    } else {
        (' ', if vip == '★' { theme.warn } else { theme.base })
    };
    (format!("{vip}{risk}"), style)
}

fn detail<'a>(m: &Mailbox, flags: &[RiskFlag], t: &risk::Thresholds, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let archive = strings::archive(&m.archive);
    let logon = m.last_logon.as_ref().map_or_else(|| strings::NEVER_LOGGED_ON.to_owned(), strings::last_logon);
    let mut lines = vec![
        Line::from(vec![Span::styled(fit(&format!("{} <{}>", m.display_name, m.primary_smtp), width), theme.header)]),
        Line::from(Span::styled(
            format!(
                "{} · {} · {} items · Recoverable Items {} · {archive} · {logon} · {}",
                m.recipient_type.label(),
                format_size(m.total_item_size),
                group_thousands(m.item_count),
                format_size(m.deleted_item_size),
                if m.database.is_empty() { strings::DATABASE_UNKNOWN } else { m.database.as_str() },
            ),
            theme.dim,
        )),
    ];
    if let Some(fwd) = &m.forwarding {
        lines.push(Line::from(Span::styled(strings::forwards_to(fwd), theme.warn)));
    }
    lines.extend(flags.iter().map(|f| {
        let style = if f.blocks_migration() { theme.fail } else { theme.warn };
        Line::from(Span::styled(f.reason(t), style))
    }));
    lines
}
