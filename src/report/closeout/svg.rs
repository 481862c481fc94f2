//! The closeout report's charts as inline SVG (no script, no external resource, every text escaped): mailboxes
//! by outcome as bars, data moved over time as a line. Pure: each returns the `<svg>` element's text.

use crate::inventory::size::format_size;
use crate::plan::migrate::view::Sample;
use crate::report::render::html_escape;
use std::fmt::Write as _;

const WIDTH: u32 = 560;
const LABEL: u32 = 120;
const ROW: u32 = 26;

/// One horizontal bar per `(label, count)`, scaled to the largest, each with its count.
pub fn bars(items: &[(String, usize)], title: &str) -> String {
    let height = ROW * u32::try_from(items.len()).unwrap_or(0) + 8;
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let room = f64::from(WIDTH - LABEL - 60);
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">\
         <title>{}</title>",
        html_escape(title)
    );
    for (i, (label, n)) in items.iter().enumerate() {
        let y = 4 + ROW * u32::try_from(i).unwrap_or(0);
        let w = (room * (*n as f64) / (max as f64)).round();
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"{}\" class=\"bar-{}\"></rect>\
             <text x=\"{}\" y=\"{}\">{n}</text>",
            LABEL - 8,
            y + 16,
            html_escape(label),
            ROW - 8,
            css_class(label),
            f64::from(LABEL) + w + 6.0,
            y + 16,
        );
    }
    out.push_str("</svg>");
    out
}

/// A class name from a label: letters and digits, the rest as '-'.
fn css_class(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// Bytes moved over time, from the first sample to the last; `None` with fewer than two samples or no time
/// between them (nothing to draw a line through).
pub fn data_moved(samples: &[Sample], title: &str) -> Option<String> {
    let (first, last) = (samples.first()?, samples.last()?);
    let span = (last.at - first.at).num_seconds();
    if samples.len() < 2 || span <= 0 {
        return None;
    }
    let (height, left, right, top, bottom) = (220.0, 70.0, 16.0, 12.0, 30.0);
    let plot_w = f64::from(WIDTH) - left - right;
    let plot_h = height - top - bottom;
    let max = samples.iter().map(|s| s.bytes).max().unwrap_or(0).max(1) as f64;
    let points: Vec<String> = samples
        .iter()
        .map(|s| {
            let x = left + plot_w * ((s.at - first.at).num_seconds() as f64) / (span as f64);
            let y = top + plot_h * (1.0 - s.bytes as f64 / max);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M UTC").to_string();
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">\
         <title>{}</title>",
        html_escape(title)
    );
    let _ = write!(
        out,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y0}\" class=\"axis\"></line>\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" class=\"axis\"></line>\
         <polyline points=\"{}\" class=\"line\"></polyline>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{y0}\" text-anchor=\"end\">0</text>\
         <text x=\"{left}\" y=\"{}\">{}</text>\
         <text x=\"{x1}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        points.join(" "),
        left - 6.0,
        top + 10.0,
        html_escape(&format_size(max as u64)),
        left - 6.0,
        height - 8.0,
        html_escape(&time(first.at)),
        height - 8.0,
        html_escape(&time(last.at)),
        y0 = top + plot_h,
        x1 = left + plot_w,
    );
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn bars_scale_to_the_largest_and_escape_their_labels() {
        let svg = bars(&[("migrated".into(), 10), ("<b>x</b>".into(), 5)], "Mailboxes");
        assert!(svg.contains("width=\"380\""), "the largest fills the room: {svg}");
        assert!(svg.contains("width=\"190\""), "half of it: {svg}");
        assert!(svg.contains("&lt;b&gt;x&lt;/b&gt;") && !svg.contains("<b>"));
    }

    #[test]
    fn the_line_needs_two_samples_apart_in_time() {
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).expect("valid");
        assert_eq!(data_moved(&[Sample { at: at(0), bytes: 5, items: 1 }], "t"), None);
        let svg = data_moved(
            &[Sample { at: at(0), bytes: 0, items: 0 }, Sample { at: at(600), bytes: 1000, items: 9 }],
            "Data moved",
        )
        .expect("a line");
        assert!(svg.contains("points=\"70.0,190.0 544.0,12.0\""), "{svg}");
    }
}
