//! The migration report as Markdown, self-contained HTML (inline CSS, prints well, every text escaped), CSV
//! (RFC 4180 quoting, spreadsheet formulas defused) and JSON. Pure: each renderer returns the file's text.

use super::migration::{MigrationReport, Row};
use crate::inventory::estimate::format_duration;
use crate::inventory::size::format_size;
use crate::text::group_thousands;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Csv,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// The report in `format`.
pub fn render(report: &MigrationReport, format: Format) -> String {
    match format {
        Format::Markdown => markdown(report),
        Format::Html => html(report),
        Format::Csv => csv(report),
        Format::Json => json(report),
    }
}

const HEADERS: [&str; 14] = [
    "Address",
    "Name",
    "Status",
    "Items synced",
    "Items skipped",
    "Source items (Exchange)",
    "Inventory items",
    "Transferred",
    "Size",
    "Initial sync",
    "Last sync",
    "Reason",
    "Fix",
    "Exchange error",
];

/// A row's cells as text, in [`HEADERS`] order.
fn cells(r: &Row) -> [String; 14] {
    let n = |v: Option<u64>| v.map(group_thousands).unwrap_or_default();
    let size = |v: Option<u64>| v.map(format_size).unwrap_or_default();
    let f = r.failure.as_ref();
    [
        r.address.clone(),
        r.display_name.clone().unwrap_or_default(),
        r.status.label().to_owned(),
        n(r.synced_items),
        n(r.skipped_items),
        n(r.source_items),
        n(r.inventory_items),
        size(r.bytes_transferred),
        size(r.size_bytes),
        r.initial_sync_secs.map(|s| format_duration(std::time::Duration::from_secs(s))).unwrap_or_default(),
        when(r.last_sync),
        f.map(|f| f.reason.clone()).unwrap_or_default(),
        f.map(|f| f.fix.clone()).unwrap_or_default(),
        f.and_then(|f| f.error.clone()).unwrap_or_default(),
    ]
}

pub(crate) fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// The summary lines every format but CSV opens with.
fn summary(r: &MigrationReport) -> Vec<String> {
    let t = &r.totals;
    let mut lines = vec![
        format!("Customer: {}", r.customer),
        format!("Generated: {}; batch last read: {}", when(Some(r.generated_at)), when(r.polled_at)),
    ];
    if let Some(b) = &r.batch {
        lines.push(format!("Batch: {} ({}), started {}", b.identity, b.status, when(b.started)));
    }
    lines.push(format!(
        "{} mailboxes: {} migrated, {} in progress, {} failed, {} stalled, {} not in the batch",
        t.mailboxes, t.migrated, t.in_progress, t.failed, t.stalled, t.not_in_batch
    ));
    lines.push(format!(
        "{} items synced, {} skipped, {} transferred",
        group_thousands(t.synced_items),
        group_thousands(t.skipped_items),
        format_size(t.bytes_transferred)
    ));
    lines
}

/// Markdown text: backslash before what Markdown reads (tables, emphasis, links, raw HTML), lines joined.
pub(crate) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn markdown(r: &MigrationReport) -> String {
    let mut out = format!("# Migration report: {}\n\n", md_escape(&r.project));
    for line in summary(r) {
        let _ = writeln!(out, "- {}", md_escape(&line));
    }
    let _ = writeln!(out, "\n| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADERS.len()));
    for row in &r.rows {
        let cells: Vec<String> = cells(row).iter().map(|c| md_escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// HTML text: the five characters that can open markup or end an attribute.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#111}\
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;font-size:.85em}\
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#eee}tr.attention td{background:#fdecea}\
@media print{body{margin:0}tr{page-break-inside:avoid}thead{display:table-header-group}}";

pub fn html(r: &MigrationReport) -> String {
    let mut out = String::new();
    let title = html_escape(&format!("Migration report: {}", r.project));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<ul>\n"
    );
    for line in summary(r) {
        let _ = writeln!(out, "<li>{}</li>", html_escape(&line));
    }
    out.push_str("</ul>\n<table>\n<thead><tr>");
    for h in HEADERS {
        let _ = write!(out, "<th>{}</th>", html_escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &r.rows {
        out.push_str(if row.failure.is_some() { "<tr class=\"attention\">" } else { "<tr>" });
        for c in cells(row) {
            let _ = write!(out, "<td>{}</td>", html_escape(&c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

/// One CSV field: a cell a spreadsheet would run as a formula gets a leading apostrophe, and a field with a
/// comma, quote or line break is quoted with its quotes doubled (RFC 4180).
pub fn csv_field(s: &str) -> String {
    let defused = match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    };
    if defused.contains([',', '"', '\n', '\r']) { format!("\"{}\"", defused.replace('"', "\"\"")) } else { defused }
}

/// The rows only, a header line first, CRLF line ends as RFC 4180 has them.
pub fn csv(r: &MigrationReport) -> String {
    let mut out = String::new();
    let line = |cells: &[String]| cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\r\n";
    out.push_str(&line(&HEADERS.map(str::to_owned)));
    for row in &r.rows {
        out.push_str(&line(&cells(row)));
    }
    out
}

pub fn json(r: &MigrationReport) -> String {
    // A report of plain data always serializes; the fallback keeps the signature free of an impossible error.
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string())) + "\n"
}

#[cfg(test)]
mod tests {
    use super::super::migration::tests::sample;
    use super::*;

    #[test]
    fn html_escapes_every_text() {
        let page = html(&sample());
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("Bob &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;b&gt;Weird&lt;/b&gt;, &quot;quoted&quot; &amp; broken"));
        assert!(page.contains("Contoso &lt;Ltd&gt; &amp; &quot;Sons&quot;"));
        assert!(page.contains("<style>") && !page.contains("<link") && !page.contains("src="), "self-contained");
        assert_eq!(html_escape("'x'"), "&#39;x&#39;");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        for attack in ["=1+1", "+1", "-1", "@SUM(A1)"] {
            assert_eq!(csv_field(attack), format!("'{attack}"));
        }
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        let text = csv(&sample());
        assert!(text.starts_with("Address,Name,Status,"));
        assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{text}");
        assert!(text.contains("\"<b>Weird</b>, \"\"quoted\"\" & broken\""), "{text}");
        assert_eq!(text.matches("\r\n").count(), 4, "a header and three rows");
    }

    #[test]
    fn markdown_and_json_carry_the_same_rows() {
        let r = sample();
        let md = markdown(&r);
        assert!(md.contains("Bob \\<script\\>alert(1)\\</script\\>"), "{md}");
        assert!(md.contains("3 mailboxes: 1 migrated"), "{md}");
        let value: serde_json::Value = serde_json::from_str(&json(&r)).expect("json");
        assert_eq!(value["rows"].as_array().map(Vec::len), Some(3));
        assert_eq!(value["totals"]["migrated"], 1);
        assert_eq!(render(&r, Format::Csv), csv(&r));
    }
}
