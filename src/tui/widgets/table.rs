//! The one table widget for every list in the wizard. It builds only the rows that fit on screen, and scrolls
//! so that the selected row stays visible.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};
use std::ops::Range;

use crate::tui::theme::Theme;

/// The rows of `len` that fit in `height` lines with `selected` visible: from the top while it fits, else with
/// the selected row last.
pub fn visible_window(len: usize, selected: Option<usize>, height: usize) -> Range<usize> {
    if height == 0 || len == 0 {
        return 0..0;
    }
    let start = selected.map_or(0, |s| (s.min(len - 1) + 1).saturating_sub(height));
    start..(start + height).min(len)
}

/// A list of `len` rows, each built on demand by `row(index)`, under an optional header.
pub struct DataTable<'a, F> {
    pub header: Option<Row<'a>>,
    pub len: usize,
    pub selected: Option<usize>,
    pub focused: bool,
    pub widths: &'a [Constraint],
    pub row: F,
}

impl<'a, F> DataTable<'a, F>
where
    F: Fn(usize) -> Row<'a>,
{
    pub fn render(self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let header_height = usize::from(self.header.is_some());
        let window = visible_window(self.len, self.selected, usize::from(area.height).saturating_sub(header_height));
        let highlight = if self.focused { theme.selected } else { theme.selected_unfocused };
        let rows: Vec<Row> = window
            .clone()
            .map(|i| {
                let row = (self.row)(i);
                if Some(i) == self.selected { row.style(highlight) } else { row }
            })
            .collect();
        let mut table = Table::new(rows, self.widths.iter().copied()).column_spacing(1);
        if let Some(header) = self.header {
            table = table.header(header.style(theme.header));
        }
        frame.render_widget(table, area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_selection() {
        assert_eq!(visible_window(30, Some(0), 10), 0..10);
        assert_eq!(visible_window(30, Some(9), 10), 0..10);
        assert_eq!(visible_window(30, Some(10), 10), 1..11);
        assert_eq!(visible_window(30, Some(29), 10), 20..30);
        assert_eq!(visible_window(5, Some(4), 10), 0..5);
        assert_eq!(visible_window(5, None, 10), 0..5);
        assert_eq!(visible_window(0, Some(3), 10), 0..0);
        assert_eq!(visible_window(5, Some(99), 2), 3..5);
    }
}
