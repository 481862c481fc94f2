//! The closeout report as Markdown, self-contained HTML (inline CSS with a print layout, inline SVG charts, every
//! value from the project escaped, no script and no external resource) and JSON. Both text formats are made from
//! one outline of sections, so they never say different things. Pure.

use super::criteria::Verdict;
use super::timeline::WriteOutcome;
use super::{CloseoutReport, MigrationSource, svg};
use crate::inventory::size::format_size;
use crate::plan::kickoff::{BASE_PRICE_USD, PER_MAILBOX_USD, format_usd};
use crate::report::render::{Format, html_escape, md_escape, when};
use crate::text::group_thousands;
use std::fmt::Write as _;

/// The report in `format`; CSV has no closeout layout and gets the JSON.
pub fn render(r: &CloseoutReport, format: Format) -> String {
    match format {
        Format::Markdown => markdown(r),
        Format::Html => html(r),
        Format::Csv | Format::Json => json(r),
    }
}

/// The formats the closeout report is written in.
pub const FORMATS: [Format; 3] = [Format::Markdown, Format::Html, Format::Json];

/// The sections every text format has, by their HTML id, in order.
pub const SECTIONS: [&str; 7] = ["status", "criteria", "outstanding", "budget", "migration", "timeline", "overrides"];

enum Block {
    Para(String),
    Heading(String),
    Items(Vec<String>),
    Table {
        headers: &'static [&'static str],
        rows: Vec<Row>,
    },
    /// An SVG (built escaped by [`svg`]) and what Markdown says in its place.
    Chart {
        svg: Option<String>,
        text: String,
    },
}

struct Row {
    cells: Vec<String>,
    attention: bool,
}

struct Section {
    id: &'static str,
    title: &'static str,
    blocks: Vec<Block>,
}

fn row(cells: Vec<String>) -> Row {
    Row { cells, attention: false }
}

fn usd(v: Option<u64>) -> String {
    v.map(format_usd).unwrap_or_else(|| "unknown".to_owned())
}

fn outline(r: &CloseoutReport) -> Vec<Section> {
    vec![status(r), criteria(r), outstanding(r), budget(r), migration(r), timeline(r), overrides(r)]
}

fn head_lines(r: &CloseoutReport) -> Vec<String> {
    let k = &r.kickoff;
    let or_none = |s: &str| if s.is_empty() { "not recorded".to_owned() } else { s.to_owned() };
    vec![
        format!("Customer: {}", or_none(&r.customer)),
        format!("Partner contact: {}", or_none(&k.partner)),
        format!("Client contact: {}", or_none(&k.client)),
        format!("Tenant: {}", k.tenant.as_deref().unwrap_or("not recorded")),
        format!(
            "Email domains: {}",
            if k.domains.is_empty() { "not recorded".to_owned() } else { k.domains.join(", ") }
        ),
        format!("Cutover date: {}", k.cutover.as_deref().unwrap_or("not recorded")),
        format!("Generated: {}", when(Some(r.generated_at))),
    ]
}

fn status(r: &CloseoutReport) -> Section {
    let open: Vec<String> =
        r.status.stages.iter().filter(|s| !s.status.starts_with("done")).map(|s| s.stage.to_string()).collect();
    let verdict = if r.status.complete {
        "Complete: every stage is done.".to_owned()
    } else {
        format!("Open: stage(s) {} not done.", open.join(", "))
    };
    let rows = r
        .status
        .stages
        .iter()
        .map(|s| Row {
            cells: vec![s.stage.to_string(), s.title.clone(), s.status.clone(), s.checks.clone()],
            attention: !s.status.starts_with("done"),
        })
        .collect();
    Section {
        id: "status",
        title: "Final project status",
        blocks: vec![Block::Para(verdict), Block::Table { headers: &["Stage", "Title", "Status", "Checks"], rows }],
    }
}

fn criteria(r: &CloseoutReport) -> Section {
    let mut blocks = vec![Block::Para(
        "Each success criterion of the service with the checks that prove it, their latest results and when they \
         were taken. A criterion is met only when every one of its checks has a verdict, none failed and one passed."
            .to_owned(),
    )];
    for c in &r.criteria {
        blocks.push(Block::Heading(format!("{}. {}: {}", c.number, c.text, c.verdict.label())));
        let rows = c
            .checks
            .iter()
            .map(|e| Row {
                cells: vec![
                    e.stage.to_string(),
                    format!("{} ({})", e.title, e.check),
                    e.outcome.label().to_owned(),
                    when(e.at),
                    e.evidence.clone().unwrap_or_default(),
                    e.r#override.as_ref().map(|o| format!("{}: {}", o.by, o.reason)).unwrap_or_default(),
                ],
                attention: !e.outcome.is_acceptable(),
            })
            .collect();
        blocks.push(Block::Table { headers: &["Stage", "Check", "Result", "Taken", "Evidence", "Override"], rows });
    }
    let met = r.criteria.iter().filter(|c| c.verdict == Verdict::Met).count();
    blocks.insert(1, Block::Para(format!("{met} of {} criteria met.", r.criteria.len())));
    Section { id: "criteria", title: "Success criteria", blocks }
}

fn outstanding(r: &CloseoutReport) -> Section {
    let o = &r.outstanding;
    let mut blocks = Vec::new();
    if o.is_empty() {
        blocks.push(Block::Para("No failed check, failed task or mailbox left behind.".to_owned()));
    }
    let checks = |issues: &[super::CheckIssue]| Block::Table {
        headers: &["Stage", "Check", "Evidence", "Taken", "Override by", "Reason"],
        rows: issues
            .iter()
            .map(|i| Row {
                cells: vec![
                    i.stage.to_string(),
                    format!("{} ({})", i.title, i.check),
                    i.evidence.clone(),
                    when(Some(i.at)),
                    i.by.clone().unwrap_or_default(),
                    i.reason.clone().unwrap_or_default(),
                ],
                attention: true,
            })
            .collect(),
    };
    if !o.failed_checks.is_empty() {
        blocks.push(Block::Heading("Failed checks".to_owned()));
        blocks.push(checks(&o.failed_checks));
    }
    if !o.overridden_checks.is_empty() {
        blocks.push(Block::Heading("Failed checks overridden".to_owned()));
        blocks.push(checks(&o.overridden_checks));
    }
    if !o.failed_tasks.is_empty() {
        blocks.push(Block::Heading("Failed tasks".to_owned()));
        blocks.push(Block::Table {
            headers: &["Stage", "Task", "When", "Detail"],
            rows: o
                .failed_tasks
                .iter()
                .map(|t| row(vec![t.stage.to_string(), t.task.clone(), when(Some(t.at)), t.detail.clone()]))
                .collect(),
        });
    }
    if !o.mailboxes.is_empty() {
        blocks.push(Block::Heading("Mailboxes not migrated".to_owned()));
        blocks.push(Block::Table {
            headers: &["Mailbox", "Status", "Reason", "Fix"],
            rows: o
                .mailboxes
                .iter()
                .map(|m| row(vec![m.address.clone(), m.status.clone(), m.reason.clone(), m.fix.clone()]))
                .collect(),
        });
    }
    if !o.skipped_items.is_empty() {
        blocks.push(Block::Heading("Skipped items".to_owned()));
        blocks.push(Block::Table {
            headers: &["Mailbox", "Items skipped"],
            rows: o.skipped_items.iter().map(|s| row(vec![s.address.clone(), group_thousands(s.items)])).collect(),
        });
    }
    blocks.push(Block::Heading("Transport rules".to_owned()));
    blocks.push(Block::Para(o.transport_rules.clone()));
    blocks.push(Block::Heading("For the customer to do".to_owned()));
    blocks.push(Block::Items(
        o.advice
            .iter()
            .map(|a| match &a.command {
                Some(c) => format!("{}: {} {c}", a.title, a.text),
                None => format!("{}: {}", a.title, a.text),
            })
            .collect(),
    ));
    Section { id: "outstanding", title: "Outstanding issues", blocks }
}

fn budget(r: &CloseoutReport) -> Section {
    let b = &r.budget;
    let count = |n: Option<u32>| n.map_or_else(|| "unknown".to_owned(), |n| group_thousands(u64::from(n)));
    let difference = match b.difference_usd {
        Some(d) if d > 0 => format!("{} over the estimate", format_usd(d.unsigned_abs())),
        Some(d) if d < 0 => format!("{} under the estimate", format_usd(d.unsigned_abs())),
        Some(_) => "as estimated".to_owned(),
        None => "unknown".to_owned(),
    };
    Section {
        id: "budget",
        title: "Final budget",
        blocks: vec![
            Block::Para(format!(
                "{} + {} per mailbox migrated, the rule of the kickoff estimate.",
                format_usd(BASE_PRICE_USD),
                format_usd(PER_MAILBOX_USD)
            )),
            Block::Table {
                headers: &["", "Mailboxes", "Budget"],
                rows: vec![
                    row(vec!["Kickoff estimate".into(), count(b.estimated_mailboxes), usd(b.estimate_usd)]),
                    row(vec!["Final".into(), count(b.migrated_mailboxes), usd(b.final_usd)]),
                    row(vec!["Difference".into(), String::new(), difference]),
                ],
            },
        ],
    }
}

fn migration(r: &CloseoutReport) -> Section {
    let Some(m) = &r.migration else {
        return Section {
            id: "migration",
            title: "Migration",
            blocks: vec![Block::Para(
                "The project kept no migration facts: the batch was never watched and stage 6 wrote no migration \
                 report."
                    .to_owned(),
            )],
        };
    };
    let t = &m.totals;
    let source = match m.source {
        MigrationSource::BatchView => "the batch watch's last view",
        MigrationSource::Stage6Report => "stage 6's migration report (the batch is removed)",
    };
    let by_outcome = m.by_outcome.iter().map(|(l, n)| format!("{l}: {n}")).collect::<Vec<_>>().join(", ");
    let line_text = match (r.data_moved.first(), r.data_moved.last()) {
        (Some(a), Some(b)) if r.data_moved.len() > 1 => format!(
            "Data moved: {} at {}, {} at {} (Exchange Online's clock; {} samples; the watch keeps about the last hour).",
            format_size(a.bytes),
            when(Some(a.at)),
            format_size(b.bytes),
            when(Some(b.at)),
            r.data_moved.len()
        ),
        _ => "Data moved over time: too few samples kept to draw (the watch keeps about the last hour of polls)."
            .to_owned(),
    };
    Section {
        id: "migration",
        title: "Migration",
        blocks: vec![
            Block::Para(format!("From {source}, as of {}.", when(m.as_of))),
            Block::Items(vec![
                format!("{} mailboxes: {by_outcome}", t.mailboxes),
                format!(
                    "{} items synced, {} skipped, {} transferred",
                    group_thousands(t.synced_items),
                    group_thousands(t.skipped_items),
                    format_size(t.bytes_transferred)
                ),
            ]),
            Block::Chart {
                svg: Some(svg::bars(&m.by_outcome, "Mailboxes by outcome")),
                text: format!("Mailboxes by outcome: {by_outcome}."),
            },
            Block::Chart {
                svg: svg::data_moved(&r.data_moved, "Data moved over time (Exchange Online's clock)"),
                text: line_text,
            },
        ],
    }
}

/// A time of the audit log, to the second: writes follow each other within a minute.
fn at_second(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn timeline(r: &CloseoutReport) -> Section {
    let t = &r.timeline;
    let mut blocks = vec![Block::Table {
        headers: &["Stage", "First record", "Last record", "Records"],
        rows: t
            .stages
            .iter()
            .map(|s| {
                row(vec![
                    s.stage.to_string(),
                    when(Some(s.first)),
                    when(Some(s.last)),
                    group_thousands(s.records as u64),
                ])
            })
            .collect(),
    }];
    if !t.torn_lines.is_empty() {
        let lines: Vec<String> = t.torn_lines.iter().map(ToString::to_string).collect();
        blocks.push(Block::Para(format!(
            "Audit log lines {} could not be read (torn by a crash or a full disk) and are left out.",
            lines.join(", ")
        )));
    }
    blocks.push(Block::Heading("Writes".to_owned()));
    blocks.push(Block::Table {
        headers: &["When", "Stage", "Action", "By", "Outcome", "Detail"],
        rows: t
            .writes
            .iter()
            .map(|w| {
                let at = match w.until {
                    Some(u) => format!("{} to {} ({}×)", at_second(w.at), at_second(u), w.count),
                    None => at_second(w.at),
                };
                let outcome = match &w.error {
                    Some(e) => format!("{}: {e}", w.outcome.label()),
                    None => w.outcome.label().to_owned(),
                };
                Row {
                    cells: vec![
                        at,
                        w.stage.map(|s| s.to_string()).unwrap_or_default(),
                        w.action.clone(),
                        w.actor.clone(),
                        outcome,
                        w.detail.clone(),
                    ],
                    attention: w.outcome != WriteOutcome::Done,
                }
            })
            .collect(),
    });
    Section { id: "timeline", title: "Timeline", blocks }
}

fn overrides(r: &CloseoutReport) -> Section {
    let blocks = if r.overrides.is_empty() {
        vec![Block::Para("No check was overridden.".to_owned())]
    } else {
        vec![Block::Table {
            headers: &["When", "Stage", "Check", "By", "Reason", "Still counts"],
            rows: r
                .overrides
                .iter()
                .map(|o| Row {
                    cells: vec![
                        when(Some(o.at)),
                        o.stage.to_string(),
                        o.check.clone(),
                        o.by.clone(),
                        o.reason.clone(),
                        if o.active { "yes: the check still fails".into() } else { "no: the check passes now".into() },
                    ],
                    attention: o.active,
                })
                .collect(),
        }]
    };
    Section { id: "overrides", title: "Overrides", blocks }
}

pub fn markdown(r: &CloseoutReport) -> String {
    let mut out = format!("# Closeout report: {}\n\n", md_escape(&r.project));
    for line in head_lines(r) {
        let _ = writeln!(out, "- {}", md_escape(&line));
    }
    for section in outline(r) {
        let _ = write!(out, "\n## {}\n", section.title);
        for block in section.blocks {
            match block {
                Block::Para(text) => {
                    let _ = write!(out, "\n{}\n", md_escape(&text));
                }
                Block::Heading(text) => {
                    let _ = write!(out, "\n### {}\n", md_escape(&text));
                }
                Block::Items(items) => {
                    out.push('\n');
                    for i in items {
                        let _ = writeln!(out, "- {}", md_escape(&i));
                    }
                }
                Block::Table { headers, rows } => {
                    let _ = write!(out, "\n| {} |\n|{}\n", headers.join(" | "), "---|".repeat(headers.len()));
                    for r in rows {
                        let cells: Vec<String> = r.cells.iter().map(|c| md_escape(c)).collect();
                        let _ = writeln!(out, "| {} |", cells.join(" | "));
                    }
                }
                Block::Chart { text, .. } => {
                    let _ = write!(out, "\n{}\n", md_escape(&text));
                }
            }
        }
    }
    out
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#111;max-width:70em}\
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.6em}h3{font-size:1em}\
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}\
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#eee}tr.attention td{background:#fdecea}\
.chart{display:block;margin:.5em 0;font-size:12px}.chart rect{fill:#3a6ea5}.chart rect.bar-migrated{fill:#2e7d32}\
.chart rect.bar-failed,.chart rect.bar-stalled{fill:#c62828}.chart .axis{stroke:#555}\
.chart .line{fill:none;stroke:#3a6ea5;stroke-width:2}\
@media print{body{margin:0;max-width:none}section{page-break-inside:avoid}tr{page-break-inside:avoid}\
thead{display:table-header-group}h2{page-break-after:avoid}}";

pub fn html(r: &CloseoutReport) -> String {
    let title = html_escape(&format!("Closeout report: {}", r.project));
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n<ul>\n"
    );
    for line in head_lines(r) {
        let _ = writeln!(out, "<li>{}</li>", html_escape(&line));
    }
    out.push_str("</ul>\n</header>\n");
    for section in outline(r) {
        let _ = writeln!(out, "<section id=\"{}\">\n<h2>{}</h2>", section.id, html_escape(section.title));
        for block in section.blocks {
            match block {
                Block::Para(text) => {
                    let _ = writeln!(out, "<p>{}</p>", html_escape(&text));
                }
                Block::Heading(text) => {
                    let _ = writeln!(out, "<h3>{}</h3>", html_escape(&text));
                }
                Block::Items(items) => {
                    out.push_str("<ul>\n");
                    for i in items {
                        let _ = writeln!(out, "<li>{}</li>", html_escape(&i));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table { headers, rows } => {
                    out.push_str("<table>\n<thead><tr>");
                    for h in headers {
                        let _ = write!(out, "<th>{}</th>", html_escape(h));
                    }
                    out.push_str("</tr></thead>\n<tbody>\n");
                    for r in rows {
                        out.push_str(if r.attention { "<tr class=\"attention\">" } else { "<tr>" });
                        for c in &r.cells {
                            let _ = write!(out, "<td>{}</td>", html_escape(c));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</tbody>\n</table>\n");
                }
                Block::Chart { svg: Some(svg), text } => {
                    let _ =
                        writeln!(out, "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>", html_escape(&text));
                }
                Block::Chart { svg: None, text } => {
                    let _ = writeln!(out, "<p>{}</p>", html_escape(&text));
                }
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

pub fn json(r: &CloseoutReport) -> String {
    // A report of plain data always serializes; the fallback keeps the signature free of an impossible error.
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string())) + "\n"
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    /// A strict check of the page's markup: every element closed in order (void elements and `/>` aside), every
    /// attribute quoted, every `&` an entity, no `<` in text. Returns the sections' ids in order.
    pub(crate) fn well_formed(page: &str) -> Result<Vec<String>, String> {
        const VOID: [&str; 2] = ["meta", "br"];
        let mut open: Vec<String> = Vec::new();
        let mut ids = Vec::new();
        let mut rest = page;
        while let Some(lt) = rest.find('<') {
            check_text(&rest[..lt])?;
            let gt = rest[lt..].find('>').ok_or("a tag is never closed")? + lt;
            let tag = &rest[lt + 1..gt];
            rest = &rest[gt + 1..];
            if tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(top) if top == name => continue,
                    top => return Err(format!("</{name}> closes {top:?}")),
                }
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("bad tag <{tag}>"));
            }
            for (key, value) in attributes(attrs)? {
                if name == "section" && key == "id" {
                    ids.push(value.to_owned());
                }
            }
            if name == "style" {
                let end = rest.find("</style>").ok_or("<style> never closed")?;
                if rest[..end].contains('<') {
                    return Err("markup inside <style>".into());
                }
                rest = &rest[end + "</style>".len()..];
                continue;
            }
            if !self_closing && !VOID.contains(&name) {
                open.push(name.to_owned());
            }
        }
        check_text(rest)?;
        if open.is_empty() { Ok(ids) } else { Err(format!("never closed: {open:?}")) }
    }

    fn check_text(text: &str) -> Result<(), String> {
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            let after = &rest[amp + 1..];
            let semi = after.find(';').ok_or_else(|| format!("a bare & in {text:?}"))?;
            let entity = &after[..semi];
            let named = ["amp", "lt", "gt", "quot"].contains(&entity);
            let numeric =
                entity.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            if !named && !numeric {
                return Err(format!("unknown entity &{entity}; in {text:?}"));
            }
            rest = &after[semi..];
        }
        if text.contains('>') {
            return Err(format!("a bare > in {text:?}"));
        }
        Ok(())
    }

    /// `key="value"` pairs, each quoted.
    fn attributes(mut text: &str) -> Result<Vec<(&str, &str)>, String> {
        let mut out = Vec::new();
        loop {
            text = text.trim_start();
            if text.is_empty() {
                return Ok(out);
            }
            let eq = text.find('=').ok_or_else(|| format!("attribute without a value: {text}"))?;
            let key = &text[..eq];
            let value = text[eq + 1..].strip_prefix('"').ok_or_else(|| format!("unquoted attribute {key}"))?;
            let end = value.find('"').ok_or_else(|| format!("attribute {key} never closed"))?;
            check_text(&value[..end])?;
            out.push((key, &value[..end]));
            text = &value[end + 1..];
        }
    }

    #[test]
    fn the_checker_refuses_broken_markup() {
        assert!(well_formed("<p>a</p>").is_ok());
        assert!(well_formed("<p><b>a</p></b>").is_err());
        assert!(well_formed("<p>a & b</p>").is_err());
        assert!(well_formed("<p>a</p><div>").is_err());
        assert!(well_formed("<p class=x>a</p>").is_err());
        assert!(well_formed("<p>&bogus;</p>").is_err());
    }

    #[test]
    fn the_html_is_well_formed_self_contained_and_has_every_section() {
        let page = html(&sample());
        let ids = well_formed(&page).unwrap_or_else(|e| panic!("{e}\n{page}"));
        assert_eq!(ids, SECTIONS);
        for external in ["http://", "https://", "<script", "<link", "src=", "url(", "@import"] {
            assert!(!page.contains(external), "{external} in the page");
        }
        assert!(page.contains("@media print"));
        assert_eq!(page.matches("<svg").count(), 2, "two charts");
        assert!(page.contains("<polyline"), "data moved drawn as a line");
    }

    #[test]
    fn every_value_from_the_project_comes_out_inert() {
        let page = html(&sample());
        assert!(page.contains("Contoso &lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons"), "{page}");
        assert!(page.contains("Pat &lt;b&gt;Partner&lt;/b&gt;"));
        assert!(page.contains("Bob&#39;s mailbox is retired &lt;today&gt;"));
        assert!(page.contains("{&quot;field&quot;:&quot;&lt;script&gt;&quot;}"), "audit details escaped too");
        assert!(!page.contains("<script") && !page.contains("<b>") && !page.contains("<i>"));
        let md = markdown(&sample());
        assert!(md.contains("Contoso \\<script\\>alert(1)\\</script\\>"), "{md}");
    }

    #[test]
    fn markdown_and_json_carry_the_same_facts() {
        let r = sample();
        let md = markdown(&r);
        for title in [
            "## Final project status",
            "## Success criteria",
            "## Outstanding issues",
            "## Final budget",
            "## Migration",
            "## Timeline",
            "## Overrides",
        ] {
            assert!(md.contains(title), "{title} missing:\n{md}");
        }
        assert!(md.contains("| Final | 1 | $325 |"), "{md}");
        assert!(md.contains("### 2. Your Exchange Server successfully migrated"), "{md}");
        let v: serde_json::Value = serde_json::from_str(&json(&r)).expect("json");
        assert_eq!(v["budget"]["final_usd"], 325);
        assert_eq!(v["criteria"].as_array().map(Vec::len), Some(5));
        assert_eq!(v["criteria"][1]["verdict"], "not-met");
        assert_eq!(v["overrides"][0]["by"], "eng@contoso.com");
        assert_eq!(render(&r, Format::Markdown), md);
    }
}
