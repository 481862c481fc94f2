//! Wizard benchmarks: importing a 2,000-mailbox inventory, and what one key press in the mailbox table costs
//! (filtering and sorting 2,000 mailboxes, then drawing the screen). Figures go in BENCHMARKS.md.

use chrono::DateTime;
use criterion::{Criterion, criterion_group, criterion_main};
use cutover::inventory::{Inventory, csv};
use cutover::project::ProjectState;
use cutover::tui::app::{Action, Msg, View};
use cutover::tui::{App, Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::fmt::Write;

/// An export as the inventory script writes it: 2,000 mailboxes of varied sizes, a few hidden.
fn export() -> String {
    let mut csv = String::from(
        "\"DisplayName\",\"PrimarySmtpAddress\",\"UserPrincipalName\",\"EmailAddresses\",\"RecipientTypeDetails\",\
         \"TotalItemSizeBytes\",\"ItemCount\",\"TotalDeletedItemSizeBytes\",\"ArchiveState\",\
         \"HiddenFromAddressListsEnabled\",\"ForwardingSmtpAddress\",\"LastLogonTime\",\"Database\"\n",
    );
    for i in 0..2_000u64 {
        let size = (i * 7_919 % 60_000 + 100) * 1_048_576;
        let kind = if i % 50 == 0 { "SharedMailbox" } else { "UserMailbox" };
        let hidden = if i % 400 == 0 { "True" } else { "False" };
        writeln!(
            csv,
            "\"User {i}\",\"user{i}@contoso.com\",\"user{i}@contoso.local\",\"SMTP:user{i}@contoso.com;smtp:u{i}@contoso.mail.onmicrosoft.com\",\
             \"{kind}\",\"{size}\",\"{}\",\"{}\",\"None\",\"{hidden}\",\"\",\"2026-11-{:02}T08:00:00Z\",\"DB{:02}\"",
            size / 90_000,
            size / 20,
            i % 28 + 1,
            i % 8 + 1
        )
        .expect("write to a string");
    }
    csv
}

fn import(c: &mut Criterion) {
    let text = export();
    c.bench_function("import a 2,000-mailbox inventory CSV", |b| {
        b.iter(|| csv::parse(text.as_bytes()).expect("parses").mailboxes.len())
    });
}

fn table(c: &mut Criterion) {
    let mailboxes = csv::parse(export().as_bytes()).expect("parses").mailboxes;
    let at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
    let mut state = ProjectState::new("bench", at, false);
    state.inventory =
        Some(std::sync::Arc::new(Inventory { imported_at: at, file_name: "bench.csv".into(), mailboxes }));
    let mut app = App::new(state, None);
    app.view = View::Table;
    let theme = Theme::new(true);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    c.bench_function("mailbox table, 2,000 mailboxes: next filter and draw at 200x50", |b| {
        b.iter(|| {
            app.update(Msg::Action(Action::NextFilter));
            terminal.draw(|frame| draw(frame, &app, &theme)).expect("draw");
        })
    });
    c.bench_function("mailbox table, 2,000 mailboxes: move down and draw at 200x50", |b| {
        b.iter(|| {
            app.update(Msg::Action(Action::MoveDown));
            terminal.draw(|frame| draw(frame, &app, &theme)).expect("draw");
        })
    });
}

criterion_group!(benches, import, table);
criterion_main!(benches);
