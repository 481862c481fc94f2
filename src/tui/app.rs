//! The wizard's state and its pure update function: `App::update(Msg) -> Vec<Command>`. No I/O happens here;
//! what must happen outside is returned as [`Command`]s for the runner, or queued as [`Effect`]s of the
//! terminal (a clipboard copy). What is particular to a stage is its screen's (`tui/stages/`); what is
//! particular to a dialog is the dialog's (`tui/dialogs/`).

use crate::plan::kickoff::Field;
use crate::plan::settings::Setting;
use crate::plan::{Outcome, StageId, TaskId};
use crate::project::ProjectState;
use crate::protocol::{Command, Event, JobId, Snapshot};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::dialogs::edit::{Edit, EditTarget};
use super::dialogs::override_check::OverrideCheck;
use super::dialogs::password::Password;
use super::dialogs::removals::Removals;
use super::dialogs::report::Report;
use super::dialogs::sign_in::{DeviceCode, SignIn};
use super::dialogs::{Dialog, Reply};
use super::keys::{self, Binding};
use super::mailboxes::MailboxView;
use super::stages;
use super::strings;
use super::widgets::input::EditKey;

/// What a key means, once the key table has read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    MoveUp,
    MoveDown,
    FocusNext,
    FocusStages,
    FocusMain,
    Activate,
    Cancel,
    RunChecks,
    Override,
    ToggleHelp,
    RequestQuit,
    ConfirmYes,
    ConfirmNo,
    Edit(EditKey),
    PageUp,
    PageDown,
    Import,
    OpenMailboxes,
    /// Open the stage's live table (stage 7's resolvers).
    OpenTable,
    ToggleVip,
    Search,
    NextFilter,
    NextSort,
    /// Copy what the screen offers (the sign-in code, the TXT records) to the clipboard.
    Copy,
    /// Stop the work running for the stage on screen.
    CancelJob,
    /// Demo only: publish the verification records at the simulated registrar.
    Publish,
    /// Restart the selected failed mailbox (after a question).
    Retry,
    /// Approve the skipped items of the selected mailbox (stage 6) or those that block completion (stage 8),
    /// after a question.
    Approve,
    /// Demo only: move the simulated clock on.
    SkipAhead,
    /// Scroll the detail panel below the list.
    DetailDown,
    DetailUp,
}

/// Something the terminal does for the wizard, outside the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put a text on the engineer's clipboard (OSC 52).
    Copy(String),
    /// Ring the bell and ask the terminal for a desktop notification (OSC 9, OSC 777).
    Notify(String),
}

/// How far the demo's `+` moves the simulated clock: a quarter of the day between two incremental syncs.
const SKIP_AHEAD_SECS: u64 = 6 * 3600;

/// Rows a page key moves.
const PAGE: isize = 10;

/// Lines the detail panel scrolls per key.
const DETAIL_STEP: u16 = 3;

/// Everything `update` reacts to: the engineer's actions, the runner's events and the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Action(Action),
    Event(Event),
    /// A second passed while something on screen shows the time.
    Tick(DateTime<Utc>),
    /// Text pasted into the terminal (bracketed paste), whole.
    Paste(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Stages,
    Main,
}

/// One line of the main pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Header(&'static str),
    Field(Field),
    Budget,
    Setting(Setting),
    /// The source migration account's password: typed masked, kept in the OS keyring.
    Password,
    Task(usize),
    Check(usize),
}

impl Row {
    fn selectable(self) -> bool {
        !matches!(self, Row::Header(_) | Row::Budget)
    }
}

/// The lines of a stage's main pane, in order. A demo-only task has no row: its key (`p`) runs it.
pub fn rows(stage: StageId) -> Vec<Row> {
    let def = stage.def();
    let screen = stages::of(stage);
    let mut rows = screen.form();
    rows.push(Row::Header(strings::TASKS_HEADER));
    rows.extend((0..def.tasks.len()).filter(|&i| !def.tasks[i].demo_only).map(Row::Task));
    let settings = Setting::of_stage(stage);
    if !settings.is_empty() {
        rows.push(Row::Header(strings::SETTINGS_HEADER));
        rows.extend(settings.iter().copied().map(Row::Setting));
    }
    rows.extend(screen.after_settings());
    rows.push(Row::Header(strings::CHECKS_HEADER));
    rows.extend((0..def.checks.len()).map(Row::Check));
    rows
}

/// The rows the cursor can rest on.
pub fn selectable_rows(stage: StageId) -> Vec<Row> {
    rows(stage).into_iter().filter(|r| r.selectable()).collect()
}

/// A job the runner is doing, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningJob {
    pub label: String,
    /// The stage whose work it is; none for the sign-in.
    pub stage: Option<StageId>,
    pub started: DateTime<Utc>,
    /// The job's last word on how far it is: what it is doing, items done and the total when known.
    pub progress: Option<Progress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub label: String,
    pub done: u64,
    pub total: Option<u64>,
}

impl RunningJob {
    /// How far the job is, 0.0 to 1.0, when it knows its total.
    pub fn ratio(&self) -> Option<f64> {
        let p = self.progress.as_ref()?;
        let total = p.total.filter(|t| *t > 0)?;
        // Counts of mailboxes or domains: far below 2^52, so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        Some((p.done.min(total) as f64) / (total as f64))
    }
}

/// What the main pane shows: the stage's rows, or its table (stage 2's mailboxes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Stage,
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
    /// Where it was made; the app sets it when the notice is shown.
    pub place: Option<Place>,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Info, text: text.into(), place: None }
    }

    pub fn error(text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Error, text: text.into(), place: None }
    }
}

/// Where the engineer is: the stage and its view. A notice belongs to the place it was made in, so "Saved." of a
/// kickoff field or "Locked: …" of stage 5 does not stay up on another stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub stage: StageId,
    pub view: View,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The runner's latest copy of the project, shared with it.
    pub state: Snapshot,
    pub stage: StageId,
    pub focus: Focus,
    /// Index into [`selectable_rows`] of the selected stage.
    pub cursor: usize,
    pub view: View,
    pub mailboxes: MailboxView,
    /// The dialog over the screen, if one is open.
    pub dialog: Option<Dialog>,
    pub notice: Option<Notice>,
    /// A line shown above everything, e.g. that this is a demo.
    pub banner: Option<String>,
    pub should_quit: bool,
    /// Work in progress in the runner, newest last.
    pub jobs: BTreeMap<JobId, RunningJob>,
    /// What to ask for again once the sign-in that it needed is done.
    pub after_sign_in: Vec<Command>,
    /// Dialogs the runner asked for while another one was open, shown once the screen is free.
    pub pending: std::collections::VecDeque<Prompt>,
    /// What the terminal must do besides drawing; the event loop takes them.
    pub effects: Vec<Effect>,
    /// The time of the last tick, for "12 s" beside running work; none before the first.
    pub now: Option<DateTime<Utc>>,
    /// What the batch's watch last saw, shared with the runner.
    pub batch: Option<Arc<crate::plan::migrate::view::BatchView>>,
    /// Stage 5's live table: its filter and selected mailbox.
    pub batch_table: super::batch::BatchTable,
    /// What the DNS propagation watch (stage 7) last saw.
    pub dns: Option<Arc<crate::plan::mx::propagation::DnsView>>,
    /// The resolver table's selected row; drawing keeps it within the rows.
    pub dns_row: usize,
    /// Lines of the detail panel scrolled past; back to 0 when the selection moves. Drawing keeps it in range.
    pub detail_scroll: u16,
}

/// A dialog the runner asks the engineer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    SignIn,
    /// The source password, then `retry`.
    Password(Command),
    /// A running task's consent code, shown once no other dialog is open.
    Consent(SignIn),
}

impl App {
    pub fn new(state: impl Into<Snapshot>, banner: Option<String>) -> App {
        App {
            state: state.into(),
            stage: StageId::first(),
            focus: Focus::Main,
            cursor: 0,
            view: View::Stage,
            mailboxes: MailboxView::default(),
            dialog: None,
            notice: None,
            banner,
            should_quit: false,
            jobs: BTreeMap::new(),
            after_sign_in: Vec::new(),
            pending: std::collections::VecDeque::new(),
            effects: Vec::new(),
            now: None,
            batch: None,
            batch_table: super::batch::BatchTable::default(),
            dns: None,
            dns_row: 0,
            detail_scroll: 0,
        }
    }

    /// The project for changing in a test or a benchmark (the runner's copy is not touched).
    pub fn state_mut(&mut self) -> &mut ProjectState {
        Arc::make_mut(&mut self.state)
    }

    /// The row under the cursor.
    pub fn selected_row(&self) -> Option<Row> {
        selectable_rows(self.stage).get(self.cursor).copied()
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.set_notice(Notice::info(text));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.set_notice(Notice::error(text));
    }

    fn set_notice(&mut self, notice: Notice) {
        self.notice = Some(Notice { place: Some(self.place()), ..notice });
    }

    pub fn place(&self) -> Place {
        Place { stage: self.stage, view: self.view }
    }

    /// Whether a running job's words belong on the screen: it is of the stage on screen, or of none. The batch's
    /// watch must not talk over what stage 6's checks and tasks said.
    fn job_on_screen(&self, id: JobId) -> bool {
        self.jobs.get(&id).is_some_and(|j| j.stage.is_none_or(|s| s == self.stage))
    }

    /// The notice of the place on screen, if any.
    pub fn visible_notice(&self) -> Option<&Notice> {
        self.notice.as_ref().filter(|n| n.place.is_none_or(|p| p == self.place()))
    }

    /// Whether something on screen shows the time, so the loop must tick.
    pub fn needs_tick(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// The key tables in force, most particular first: the dialog's, else the stage's and the shared ones.
    pub fn key_tables(&self) -> Vec<&'static [Binding]> {
        match &self.dialog {
            Some(dialog) => vec![dialog.keys()],
            None => self.screen_key_tables(),
        }
    }

    /// The key tables of the screen under any dialog: what the help lists.
    pub fn screen_key_tables(&self) -> Vec<&'static [Binding]> {
        if self.focus == Focus::Stages {
            return vec![keys::STAGES];
        }
        let screen = stages::of(self.stage);
        let (stage, more) = (screen.keys(self), screen.more_keys(self));
        let demo: &'static [Binding] = if self.state.demo && self.state.simulator.is_some() { keys::DEMO } else { &[] };
        if self.view == View::Table {
            return vec![stage, more, demo, keys::MAIN_TAIL];
        }
        vec![keys::MAIN_LEAD, stage, more, demo, keys::MAIN_TAIL]
    }

    /// Whether printable keys type text now (a dialog's field, or the table's search).
    pub fn takes_text(&self) -> bool {
        self.dialog.as_ref().is_some_and(Dialog::takes_text)
            || self.mailboxes.search.is_some()
            || self.batch_table.search.is_some()
    }

    /// Takes what the terminal must do.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        let mut commands = match msg {
            Msg::Event(event) => self.on_event(event),
            Msg::Action(action) => self.on_action(action),
            Msg::Tick(now) => {
                self.now = Some(now);
                Vec::new()
            }
            Msg::Paste(text) => self.paste(&text),
        };
        commands.extend(self.open_pending());
        let now = self.now.unwrap_or_else(Utc::now);
        self.batch_table.refresh(self.batch.as_ref(), &self.state, now);
        commands
    }

    /// A paste goes into the field being typed in, and nowhere else: pasted lines must never run as keys. A field
    /// holds one line, so of several the first that is not blank is kept, and the notice says so.
    fn paste(&mut self, text: &str) -> Vec<Command> {
        if !self.takes_text() {
            self.info(strings::PASTE_NOWHERE);
            return Vec::new();
        }
        let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
        let Some(first) = lines.first() else { return Vec::new() };
        let mut commands = Vec::new();
        for c in first.chars() {
            let c = if c == '\t' { ' ' } else { c };
            commands.extend(self.on_action(Action::Edit(EditKey::Char(c))));
        }
        if lines.len() > 1 {
            self.info(strings::pasted_first_line(lines.len()));
        }
        commands
    }

    /// Opens the next dialog the runner asked for, once nothing else is open.
    fn open_pending(&mut self) -> Vec<Command> {
        if self.dialog.is_some() {
            return Vec::new();
        }
        match self.pending.pop_front() {
            Some(Prompt::SignIn) => {
                self.dialog = Some(Dialog::SignIn(SignIn::default()));
                vec![Command::SignIn]
            }
            Some(Prompt::Password(retry)) => {
                self.dialog = Some(Dialog::Password(Password::new(Some(retry))));
                Vec::new()
            }
            Some(Prompt::Consent(dialog)) => {
                self.dialog = Some(Dialog::SignIn(dialog));
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn on_event(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::StateChanged { state, note } => {
                self.state = state;
                self.info(note.unwrap_or_else(|| strings::SAVED.to_owned()));
            }
            Event::Refused { what, reason } => self.error(strings::refused(&what, &reason)),
            Event::Resumed { writes } => {
                let text = strings::resumed(&writes);
                // A write that could not be read back wants the engineer's eye before its task runs again.
                if writes.iter().any(|w| w.found == crate::protocol::Found::Unknown) {
                    self.error(text);
                } else {
                    self.info(text);
                }
            }
            Event::Failed { what, error } => self.error(strings::failed(&what, &error)),
            Event::NotAvailable { stage } => {
                self.info(strings::not_available(stage));
            }
            Event::JobStarted { id, label, stage, at } => {
                self.info(strings::progress(&label, 0, None));
                self.jobs.insert(id, RunningJob { label, stage, started: at, progress: None });
            }
            Event::JobProgress { id, label, done, total } => {
                if self.job_on_screen(id) {
                    self.info(strings::progress(&label, done, total));
                }
                if let Some(job) = self.jobs.get_mut(&id) {
                    job.progress = Some(Progress { label, done, total });
                }
            }
            // A late word from a job already over is not news.
            Event::JobNote { id, note } => {
                if self.job_on_screen(id) {
                    self.info(note);
                }
            }
            Event::JobEnded { id } => {
                self.jobs.remove(&id);
                // A sign-in job that ended without its own word (it failed), or a task whose consent was given
                // (or refused), must not leave the dialog up.
                if matches!(&self.dialog, Some(Dialog::SignIn(SignIn { job: Some(j), .. })) if *j == id) {
                    self.dialog = None;
                }
                self.pending.retain(|p| !matches!(p, Prompt::Consent(SignIn { job: Some(j), .. }) if *j == id));
            }
            Event::BatchWatched { state, view } => {
                self.state = state;
                let settings = self.state.migrate;
                // Only what changed while watching: a reopened wizard does not ring for the night before.
                if settings.notify
                    && let Some(before) = &self.batch
                {
                    let now = view.polled_at.unwrap_or_else(Utc::now);
                    let lines = crate::plan::migrate::health::worth_waking(before, &view, &settings, now);
                    if !lines.is_empty() {
                        self.effects.push(Effect::Notify(format!("cutover: {}", lines.join("; "))));
                    }
                }
                self.batch = Some(view);
            }
            Event::DnsWatched { state, view } => {
                self.state = state;
                self.dns = Some(view);
            }
            Event::ImportRemoves { path, file_name, refused } => {
                self.dialog = Some(Dialog::Removals(Removals { path, file_name, refused, scroll: 0 }));
            }
            Event::InventoryImported { state, report } => {
                self.state = state;
                self.info(report.summary());
                self.dialog = Some(Dialog::Report(Report { report, scroll: 0 }));
            }
            Event::SignInNeeded { retry, reason } => {
                self.after_sign_in.extend(retry.map(|c| *c));
                self.info(reason);
                let asked = matches!(&self.dialog, Some(Dialog::SignIn(d)) if d.consent.is_none())
                    || self.pending.contains(&Prompt::SignIn);
                if !asked {
                    self.pending.push_back(Prompt::SignIn);
                }
            }
            Event::SignInStarted { job } => match &mut self.dialog {
                Some(Dialog::SignIn(dialog)) if dialog.consent.is_none() => dialog.job = Some(job),
                // The engineer closed the dialog before the sign-in began: stop it.
                _ => return vec![Command::CancelJob { id: job }],
            },
            Event::DeviceCode { job, user_code, verification_uri, expires_in_secs } => {
                if let Some(Dialog::SignIn(dialog)) = &mut self.dialog
                    && dialog.consent.is_none()
                {
                    dialog.job = Some(job);
                    dialog.code = Some(DeviceCode { user_code, verification_uri, expires_in_secs });
                }
            }
            Event::ConsentCode { job, permission, user_code, verification_uri, expires_in_secs } => {
                // A dialog open (a sign-in, a question) stays; the consent's opens once it is closed.
                self.info(strings::consent_waiting(&permission, &user_code, &verification_uri));
                self.pending.push_back(Prompt::Consent(SignIn {
                    job: Some(job),
                    code: Some(DeviceCode { user_code, verification_uri, expires_in_secs }),
                    consent: Some(permission),
                }));
            }
            Event::SignedIn { account } => {
                self.close_sign_in();
                self.info(strings::signed_in(account.as_deref()));
                return std::mem::take(&mut self.after_sign_in);
            }
            Event::Cancelled { what } => self.info(strings::cancelled(&what)),
            Event::PasswordNeeded { retry } => {
                self.info(strings::PASSWORD_NEEDED);
                self.pending.push_back(Prompt::Password(*retry));
            }
            Event::TaskDone { state, summary } => {
                self.state = state;
                self.info(summary);
            }
            Event::TaskFailed { state, error } => {
                self.state = state;
                self.error(error);
            }
            Event::SignInEnded { error } => {
                self.close_sign_in();
                self.after_sign_in.clear();
                match error {
                    Some(error) => self.error(strings::sign_in_failed(&error)),
                    None => self.info(strings::SIGN_IN_CANCELLED),
                }
            }
        }
        Vec::new()
    }

    /// Closes the sign-in's dialog; a task's consent dialog stays until its task ends.
    fn close_sign_in(&mut self) {
        if matches!(&self.dialog, Some(Dialog::SignIn(d)) if d.consent.is_none()) {
            self.dialog = None;
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Command> {
        let Some(dialog) = self.dialog.as_mut() else { return self.normal(action) };
        let reply = dialog.on_action(action, &self.state);
        self.apply(reply)
    }

    /// Carries out what a dialog asked for.
    fn apply(&mut self, reply: Reply) -> Vec<Command> {
        let Reply { close, commands, notice, effects, forget_retries, quit, next_row } = reply;
        if close {
            self.dialog = None;
        }
        if let Some(notice) = notice {
            self.set_notice(notice);
        } else if next_row {
            self.notice = None;
        }
        if next_row {
            self.move_cursor(1);
        }
        if forget_retries {
            self.after_sign_in.clear();
        }
        self.should_quit |= quit;
        self.effects.extend(effects);
        commands
    }

    fn normal(&mut self, action: Action) -> Vec<Command> {
        if self.focus == Focus::Main
            && let Some(commands) = stages::of(self.stage).on_action(self, action)
        {
            return commands;
        }
        match action {
            Action::MoveUp | Action::MoveDown | Action::PageUp | Action::PageDown => {
                let delta = match action {
                    Action::MoveUp => -1,
                    Action::MoveDown => 1,
                    Action::PageUp => -PAGE,
                    _ => PAGE,
                };
                match self.focus {
                    Focus::Stages => self.move_stage(delta.signum()),
                    Focus::Main => self.move_cursor(delta),
                }
            }
            Action::DetailDown => self.detail_scroll = self.detail_scroll.saturating_add(DETAIL_STEP),
            Action::DetailUp => self.detail_scroll = self.detail_scroll.saturating_sub(DETAIL_STEP),
            Action::FocusNext => {
                self.focus = if self.focus == Focus::Stages { Focus::Main } else { Focus::Stages };
            }
            Action::FocusStages | Action::Cancel => self.focus = Focus::Stages,
            Action::FocusMain => self.focus = Focus::Main,
            Action::Activate if self.focus == Focus::Stages => self.focus = Focus::Main,
            Action::Activate => return self.activate_row(),
            Action::RunChecks => {
                if !self.state.is_open(self.stage) {
                    self.error(strings::locked(self.stage));
                    return Vec::new();
                }
                return vec![Command::RunChecks { stage: self.stage }];
            }
            Action::Override => self.start_override(),
            Action::ToggleHelp => self.dialog = Some(Dialog::Help),
            Action::RequestQuit => self.dialog = Some(Dialog::Quit),
            Action::CancelJob => {
                let job = self.jobs.iter().rev().find(|(_, j)| j.stage == Some(self.stage));
                match job {
                    Some((&id, job)) => {
                        self.info(strings::cancelling(&job.label));
                        return vec![Command::CancelJob { id }];
                    }
                    None => self.info(strings::NOTHING_RUNNING),
                }
            }
            Action::Copy => self.info(strings::NOTHING_TO_COPY),
            Action::Publish => self.info(strings::PUBLISH_DEMO_ONLY),
            // Offered in a demo project only; the runner refuses it elsewhere too.
            Action::SkipAhead if self.state.demo => return vec![Command::SkipAhead { seconds: SKIP_AHEAD_SECS }],
            Action::SkipAhead => self.info(strings::SKIP_AHEAD_DEMO_ONLY),
            Action::Import
            | Action::OpenMailboxes
            | Action::OpenTable
            | Action::ToggleVip
            | Action::Search
            | Action::NextFilter
            | Action::NextSort
            | Action::Retry
            | Action::Approve
            | Action::ConfirmYes
            | Action::ConfirmNo
            | Action::Edit(_) => {}
        }
        Vec::new()
    }

    /// The rows the mailbox table shows, as indices into the inventory.
    pub fn mailbox_rows(&self) -> Vec<usize> {
        self.state.inventory.as_ref().map_or_else(Vec::new, |inv| {
            self.mailboxes.rows(&inv.mailboxes, &self.state.vips, &self.state.source.thresholds)
        })
    }

    fn move_stage(&mut self, delta: isize) {
        let next = i8::try_from(delta).ok().and_then(|d| self.stage.number().checked_add_signed(d));
        if let Some(stage) = next.and_then(StageId::new) {
            self.stage = stage;
            self.cursor = 0;
            self.view = View::Stage;
            self.detail_scroll = 0;
        }
    }

    fn move_cursor(&mut self, delta: isize) {
        self.detail_scroll = 0;
        let len = selectable_rows(self.stage).len();
        self.cursor = self.cursor.saturating_add_signed(delta).min(len.saturating_sub(1));
    }

    fn activate_row(&mut self) -> Vec<Command> {
        match self.selected_row() {
            Some(Row::Field(field)) => self.start_edit(EditTarget::Kickoff(field)),
            Some(Row::Setting(setting)) => self.start_edit(EditTarget::Setting(setting)),
            Some(Row::Task(i)) => {
                let task = self.stage.def().tasks[i].id;
                return stages::of(self.stage).on_task(self, task);
            }
            Some(Row::Password) => self.dialog = Some(Dialog::Password(Password::new(None))),
            Some(Row::Check(i)) if self.outcome(i) == Outcome::Fail => self.start_override(),
            Some(Row::Check(_)) => return self.normal(Action::RunChecks),
            Some(Row::Header(_) | Row::Budget) | None => {}
        }
        Vec::new()
    }

    /// Asks the runner for a task, unless its stage is locked.
    pub fn start_task(&mut self, task: TaskId) -> Vec<Command> {
        if !self.state.is_open(task.stage()) {
            self.error(strings::locked(task.stage()));
            return Vec::new();
        }
        vec![Command::RunTask { task }]
    }

    /// Opens the editor on a field or setting, unless the stage is locked.
    pub fn start_edit(&mut self, target: EditTarget) {
        if !self.state.is_open(self.stage) {
            self.error(strings::locked(self.stage));
            return;
        }
        self.dialog = Some(Dialog::Edit(Edit::new(target, &self.state)));
    }

    fn outcome(&self, check: usize) -> Outcome {
        let id = self.stage.def().checks[check].id;
        self.state.stage(self.stage).map_or(Outcome::NotRun, |r| r.outcome(id))
    }

    fn start_override(&mut self) {
        let Some(Row::Check(i)) = self.selected_row() else {
            self.info(strings::SELECT_FAILED_CHECK);
            return;
        };
        let check = self.stage.def().checks[i].id;
        let record = self.state.stage(self.stage);
        if self.outcome(i) != Outcome::Fail {
            self.info(strings::SELECT_FAILED_CHECK);
        } else if record.and_then(|r| r.active_override(check)).is_some() {
            self.info(strings::ALREADY_OVERRIDDEN);
        } else {
            let evidence = record.and_then(|r| r.result(check)).map(|r| r.evidence.clone()).unwrap_or_default();
            self.dialog = Some(Dialog::Override(OverrideCheck::new(check, evidence)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::CheckResult;
    use crate::plan::users::Provisioning;
    use chrono::DateTime;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
    }

    fn app() -> App {
        let created = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        App::new(ProjectState::new("acme", created, false), None)
    }

    fn act(app: &mut App, actions: &[Action]) -> Vec<Command> {
        actions.iter().flat_map(|a| app.update(Msg::Action(*a))).collect()
    }

    fn typing(s: &str) -> Vec<Action> {
        s.chars().map(|c| Action::Edit(EditKey::Char(c))).collect()
    }

    #[test]
    fn enter_edits_the_selected_field_and_enter_again_saves_it() {
        let mut app = app();
        assert_eq!(app.selected_row(), Some(Row::Field(Field::Customer)));
        let mut actions = vec![Action::Activate];
        actions.extend(typing("Acme Corp"));
        actions.push(Action::Activate);
        let commands = act(&mut app, &actions);
        assert_eq!(commands, vec![Command::SetKickoffField { field: Field::Customer, value: "Acme Corp".into() }]);
        assert_eq!(app.dialog, None);
        assert_eq!(app.selected_row(), Some(Row::Field(Field::PartnerName)), "the cursor moves on to the next field");
    }

    #[test]
    fn an_invalid_value_stays_in_the_editor_with_its_reason() {
        let mut app = app();
        app.cursor = selectable_rows(crate::plan::kickoff::STAGE)
            .iter()
            .position(|r| *r == Row::Field(Field::Tenant))
            .expect("row");
        let mut actions = vec![Action::Activate];
        actions.extend(typing("contoso"));
        actions.push(Action::Activate);
        assert!(act(&mut app, &actions).is_empty());
        let Some(Dialog::Edit(Edit { input, error: Some(error), .. })) = &app.dialog else {
            panic!("still editing: {:?}", app.dialog)
        };
        assert_eq!(input.value(), "contoso", "nothing typed is lost");
        assert!(error.contains("onmicrosoft.com"), "{error}");
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.dialog, None);
    }

    #[test]
    fn a_paste_of_several_lines_goes_into_the_field_as_its_first_line_and_runs_no_key() {
        let mut app = app();
        act(&mut app, &[Action::Activate]);
        let commands = app.update(Msg::Paste("Acme Corp\r\nq\ny\n".into()));
        assert!(commands.is_empty(), "no line ran as keys: {commands:?}");
        assert!(!app.should_quit);
        let Some(Dialog::Edit(Edit { input, .. })) = &app.dialog else { panic!("still editing: {:?}", app.dialog) };
        assert_eq!(input.value(), "Acme Corp");
        assert!(app.visible_notice().is_some_and(|n| n.text.contains("first of 3 lines")));
        let saved = act(&mut app, &[Action::Activate]);
        assert_eq!(saved, vec![Command::SetKickoffField { field: Field::Customer, value: "Acme Corp".into() }]);
    }

    #[test]
    fn a_paste_outside_a_field_types_nothing() {
        let mut app = app();
        assert!(app.update(Msg::Paste("qy".into())).is_empty());
        assert!(!app.should_quit && app.dialog.is_none());
        assert_eq!(app.visible_notice().map(|n| n.text.as_str()), Some(strings::PASTE_NOWHERE));
    }

    #[test]
    fn a_notice_stays_where_it_was_made() {
        let mut app = app();
        app.info("Saved.");
        assert!(app.visible_notice().is_some());
        act(&mut app, &[Action::FocusStages, Action::MoveDown]);
        assert_eq!(app.visible_notice(), None, "the kickoff's notice is not shown on stage 2");
        act(&mut app, &[Action::MoveUp]);
        assert!(app.visible_notice().is_some(), "and is still there back on stage 1");
    }

    #[test]
    fn a_reimport_that_removes_mailboxes_asks_before_it_is_done_again_with_removals_allowed() {
        let mut app = app();
        let path = std::path::PathBuf::from("/tmp/inv.csv");
        let refused =
            crate::inventory::merge::TooManyRemovals { removed: vec!["a@contoso.example".into()], previous: 3 };
        app.update(Msg::Event(Event::ImportRemoves { path: path.clone(), file_name: "inv.csv".into(), refused }));
        assert!(matches!(app.dialog, Some(Dialog::Removals(_))), "{:?}", app.dialog);
        assert!(act(&mut app, &[Action::RequestQuit]).is_empty(), "q does nothing here");
        let commands = act(&mut app, &[Action::ConfirmYes]);
        assert_eq!(commands, vec![Command::ImportInventory { path, allow_removals: true }]);
        assert_eq!(app.dialog, None);
    }

    #[test]
    fn a_watch_of_another_stage_does_not_talk_over_the_stage_on_screen() {
        let mut app = app();
        let at = Utc::now();
        app.update(Msg::Event(Event::JobStarted {
            id: 7,
            label: "watch".into(),
            stage: Some(crate::plan::migrate::STAGE),
            at,
        }));
        app.info("Restarted 1 failed mailbox.");
        app.update(Msg::Event(Event::JobNote { id: 7, note: "next poll in 3 s".into() }));
        assert_eq!(app.visible_notice().map(|n| n.text.as_str()), Some("Restarted 1 failed mailbox."));
        app.stage = crate::plan::migrate::STAGE;
        app.update(Msg::Event(Event::JobNote { id: 7, note: "next poll in 3 s".into() }));
        assert_eq!(
            app.visible_notice().map(|n| n.text.as_str()),
            Some("next poll in 3 s"),
            "on its own stage it speaks"
        );
    }

    #[test]
    fn quitting_asks_first() {
        let mut app = app();
        act(&mut app, &[Action::RequestQuit, Action::ConfirmNo]);
        assert!(!app.should_quit);
        assert_eq!(app.dialog, None);
        act(&mut app, &[Action::RequestQuit, Action::MoveDown]);
        assert_eq!(app.dialog, Some(Dialog::Quit), "other keys keep the question open");
        act(&mut app, &[Action::ConfirmYes]);
        assert!(app.should_quit);
    }

    #[test]
    fn help_opens_and_closes() {
        let mut app = app();
        act(&mut app, &[Action::ToggleHelp]);
        assert_eq!(app.dialog, Some(Dialog::Help));
        act(&mut app, &[Action::MoveDown]);
        assert_eq!(app.dialog, Some(Dialog::Help));
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.dialog, None);
    }

    #[test]
    fn the_stage_list_moves_and_stays_within_the_plan() {
        let mut app = app();
        act(&mut app, &[Action::FocusStages, Action::MoveUp]);
        assert_eq!(app.stage, crate::plan::kickoff::STAGE);
        act(&mut app, &[Action::MoveDown, Action::MoveDown]);
        assert_eq!(app.stage, crate::plan::users::STAGE);
        act(&mut app, &[Action::MoveDown; 20]);
        assert_eq!(app.stage, crate::plan::post::STAGE);
        act(&mut app, &[Action::Activate]);
        assert_eq!(app.focus, Focus::Main);
    }

    #[test]
    fn checks_of_a_locked_stage_are_not_run() {
        let mut app = app();
        act(&mut app, &[Action::FocusStages, Action::MoveDown]);
        assert!(act(&mut app, &[Action::RunChecks]).is_empty());
        assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("opens when stage 1")));
        act(&mut app, &[Action::MoveUp]);
        assert_eq!(
            act(&mut app, &[Action::RunChecks]),
            vec![Command::RunChecks { stage: crate::plan::kickoff::STAGE }]
        );
    }

    #[test]
    fn a_failed_check_is_overridden_with_a_written_reason() {
        let mut app = app();
        let at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        app.state_mut()
            .stage_mut(crate::plan::kickoff::STAGE)
            .checks
            .insert("cutover-limits".into(), CheckResult::new(Outcome::Fail, "2,500", at));
        app.cursor =
            selectable_rows(crate::plan::kickoff::STAGE).iter().position(|r| *r == Row::Check(1)).expect("row");
        act(&mut app, &[Action::Override]);
        assert!(
            matches!(&app.dialog, Some(Dialog::Override(o)) if o.check == crate::plan::kickoff::Check::CutoverLimits.into())
        );
        act(&mut app, &typing("too short"));
        assert!(act(&mut app, &[Action::Activate]).is_empty());
        assert!(matches!(&app.dialog, Some(Dialog::Override(o)) if o.error.is_some()));
        let mut actions = typing(" - customer signed off");
        actions.push(Action::Activate);
        assert_eq!(
            act(&mut app, &actions),
            vec![Command::Override {
                check: crate::plan::kickoff::Check::CutoverLimits.into(),
                reason: "too short - customer signed off".into()
            }]
        );
    }

    #[test]
    fn override_needs_a_failed_check_under_the_cursor() {
        let mut app = app();
        act(&mut app, &[Action::Override]);
        assert_eq!(app.dialog, None);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::SELECT_FAILED_CHECK));
    }

    #[test]
    fn runner_events_update_the_state_and_the_notice() {
        let mut app = app();
        let mut next = ProjectState::clone(&app.state);
        next.kickoff.customer = "Acme".into();
        app.update(Msg::Event(Event::StateChanged { state: Arc::new(next), note: None }));
        assert_eq!(app.state.kickoff.customer, "Acme");
        app.update(Msg::Event(Event::Failed { what: "Customer".into(), error: "disk full".into() }));
        assert_eq!(app.notice.as_ref().map(|n| n.kind), Some(NoticeKind::Error));
        app.update(Msg::Event(Event::NotAvailable { stage: crate::plan::post::STAGE }));
        assert!(
            app.notice.as_ref().is_some_and(|n| n.text == strings::not_available(crate::plan::post::STAGE)),
            "the notice names the stage without the work"
        );
    }

    #[test]
    fn writes_read_back_after_a_crash_are_told_and_one_that_could_not_be_checked_is_an_error() {
        let mut app = app();
        let write = |action: &str, found| crate::protocol::Resumed {
            at: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
            stage: Some(crate::plan::prepare::STAGE),
            action: action.into(),
            detail: r#"{"domain":"contoso.com"}"#.into(),
            found,
            evidence: "the tenant has the domain contoso.com".into(),
            recorded: true,
        };
        let done = vec![write("add-domain", crate::protocol::Found::Done)];
        assert_eq!(app.update(Msg::Event(Event::Resumed { writes: done })), vec![]);
        let notice = app.notice.clone().expect("a notice");
        assert_eq!(notice.kind, NoticeKind::Info);
        assert!(notice.text.starts_with("After a crash, read back: add-domain (stage 4) done."), "{}", notice.text);
        let mixed = vec![
            write("add-domain", crate::protocol::Found::NotDone),
            write("launch-rocket", crate::protocol::Found::Unknown),
        ];
        app.update(Msg::Event(Event::Resumed { writes: mixed }));
        let notice = app.notice.clone().expect("a notice");
        assert_eq!(notice.kind, NoticeKind::Error, "a write not checked wants the engineer's eye");
        assert!(notice.text.contains("add-domain (stage 4) not done; launch-rocket (stage 4) could not be checked"));
    }

    fn with_inventory() -> App {
        let mut app = app();
        let csv = "DisplayName,PrimarySmtpAddress,TotalItemSizeBytes,HiddenFromAddressListsEnabled\n\
            Amy,amy@c.com,300,False\nBob,bob@c.com,200,False\nGhost,ghost@c.com,100,True\n";
        let mailboxes = crate::inventory::csv::parse(csv.as_bytes()).expect("parse").mailboxes;
        let imported_at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        app.state_mut().inventory =
            Some(Arc::new(crate::inventory::Inventory { imported_at, file_name: "i.csv".into(), mailboxes }));
        app.stage = crate::plan::source::STAGE;
        app
    }

    #[test]
    fn import_asks_for_a_path_and_sends_it() {
        let mut app = app();
        app.stage = crate::plan::source::STAGE;
        act(&mut app, &[Action::Import]);
        assert!(app.dialog.is_none(), "stage 2 is locked until stage 1 is done");
        app.state_mut().stage_mut(crate::plan::kickoff::STAGE).checks = crate::plan::kickoff::run_checks(
            &{
                let mut k = app.state.kickoff.clone();
                k.mailboxes = Some(10);
                k
            },
            DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
        )
        .into_iter()
        .map(|(id, mut r)| {
            r.outcome = Outcome::Pass;
            (id.as_str().to_owned(), r)
        })
        .collect();
        act(&mut app, &[Action::Import, Action::Activate]);
        assert!(matches!(&app.dialog, Some(Dialog::Import(d)) if d.error.is_some()), "an empty path is refused");
        let mut keys = typing(" \"/tmp/inv.csv\" ");
        keys.push(Action::Activate);
        assert_eq!(
            act(&mut app, &keys),
            vec![Command::ImportInventory { path: std::path::PathBuf::from("/tmp/inv.csv"), allow_removals: false }]
        );
    }

    #[test]
    fn the_mailbox_view_moves_filters_searches_and_marks_vips() {
        let mut app = with_inventory();
        act(&mut app, &[Action::OpenMailboxes]);
        assert_eq!(app.view, View::Table);
        act(&mut app, &[Action::MoveDown, Action::MoveDown, Action::MoveDown]);
        assert_eq!(app.mailboxes.selected.as_deref(), Some("ghost@c.com"), "the cursor stops at the last row");
        assert_eq!(act(&mut app, &[Action::ToggleVip]), vec![Command::SetVip { key: "ghost@c.com".into(), vip: true }]);
        act(&mut app, &[Action::NextFilter]);
        assert_eq!(app.mailbox_rows().len(), 1, "high-risk: only the hidden mailbox");
        act(&mut app, &[Action::NextFilter, Action::NextFilter, Action::NextFilter, Action::NextFilter]);
        let mut keys = vec![Action::Search];
        keys.extend(typing("bo"));
        act(&mut app, &keys);
        assert_eq!(app.mailbox_rows().len(), 1);
        act(&mut app, &[Action::Activate]);
        assert_eq!(app.dialog, None);
        assert_eq!(app.mailboxes.query, "bo", "Enter keeps the search");
        act(&mut app, &[Action::Search, Action::Cancel]);
        assert_eq!(app.mailbox_rows().len(), 3, "Esc clears it");
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.view, View::Stage);
    }

    #[test]
    fn the_mailbox_view_needs_an_inventory() {
        let mut app = app();
        app.stage = crate::plan::source::STAGE;
        act(&mut app, &[Action::OpenMailboxes]);
        assert_eq!(app.view, View::Stage);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::NO_INVENTORY));
    }

    #[test]
    fn every_stage_has_rows_and_the_cursor_stays_on_them() {
        let mut app = app();
        for stage in StageId::all() {
            app.stage = stage;
            app.cursor = 0;
            act(&mut app, &[Action::MoveDown; 40]);
            assert_eq!(app.cursor, selectable_rows(stage).len() - 1);
            assert!(app.selected_row().is_some());
        }
    }

    fn event(app: &mut App, event: Event) -> Vec<Command> {
        app.update(Msg::Event(event))
    }

    #[test]
    fn a_needed_sign_in_shows_the_code_and_retries_the_work_once_signed_in() {
        let mut app = app();
        let retry = Command::RunChecks { stage: crate::plan::users::STAGE };
        let asked = event(
            &mut app,
            Event::SignInNeeded { retry: Some(Box::new(retry.clone())), reason: "not signed in".into() },
        );
        assert_eq!(asked, vec![Command::SignIn]);
        assert_eq!(app.dialog, Some(Dialog::SignIn(SignIn { job: None, code: None, consent: None })));
        assert_eq!(act(&mut app, &[Action::Copy]), vec![], "nothing to copy before the code comes");
        let second = Command::RunChecks { stage: crate::plan::prepare::STAGE };
        let again = event(&mut app, Event::SignInNeeded { retry: Some(Box::new(second.clone())), reason: "x".into() });
        assert_eq!(again, vec![], "one sign-in serves both");
        event(&mut app, Event::SignInStarted { job: 4 });
        let code = DeviceCode {
            user_code: "GHJK-7Q2M".into(),
            verification_uri: "https://x/devicelogin".into(),
            expires_in_secs: 900,
        };
        event(
            &mut app,
            Event::DeviceCode {
                job: 4,
                user_code: code.user_code.clone(),
                verification_uri: code.verification_uri.clone(),
                expires_in_secs: 900,
            },
        );
        assert_eq!(app.dialog, Some(Dialog::SignIn(SignIn { job: Some(4), code: Some(code), consent: None })));
        assert_eq!(act(&mut app, &[Action::Copy]), vec![]);
        assert_eq!(app.take_effects(), vec![Effect::Copy("GHJK-7Q2M".into())]);
        assert_eq!(act(&mut app, &[Action::MoveDown, Action::Import]), vec![], "other keys do nothing in the dialog");
        event(&mut app, Event::JobEnded { id: 4 });
        assert_eq!(app.dialog, None, "the dialog closes with its job");
        let resumed = event(&mut app, Event::SignedIn { account: Some("admin@contoso.onmicrosoft.com".into()) });
        assert_eq!(resumed, vec![retry, second]);
        assert_eq!(app.dialog, None);
        assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("admin@contoso.onmicrosoft.com")));
        assert!(app.after_sign_in.is_empty());
    }

    #[test]
    fn a_cancelled_sign_in_closes_the_dialog_and_forgets_the_retry() {
        let mut app = app();
        let retry = Some(Box::new(Command::RunChecks { stage: crate::plan::prepare::STAGE }));
        event(&mut app, Event::SignInNeeded { retry: retry.clone(), reason: "not signed in".into() });
        assert_eq!(act(&mut app, &[Action::Cancel]), vec![], "no job to cancel yet");
        assert_eq!(app.dialog, None, "Esc closes the dialog at once");
        assert!(app.after_sign_in.is_empty());
        assert_eq!(event(&mut app, Event::SignInStarted { job: 8 }), vec![Command::CancelJob { id: 8 }]);
        event(&mut app, Event::SignInNeeded { retry, reason: "not signed in".into() });
        let code = Event::DeviceCode {
            job: 9,
            user_code: "A".into(),
            verification_uri: "https://x".into(),
            expires_in_secs: 60,
        };
        event(&mut app, code);
        assert_eq!(act(&mut app, &[Action::Cancel]), vec![Command::CancelJob { id: 9 }]);
        assert_eq!(app.dialog, None);
        assert_eq!(event(&mut app, Event::SignInEnded { error: None }), vec![]);
        assert!(app.after_sign_in.is_empty());
        event(&mut app, Event::SignInEnded { error: Some("the sign-in was declined".into()) });
        assert!(app.notice.as_ref().is_some_and(|n| n.kind == NoticeKind::Error && n.text.contains("declined")));
    }

    #[test]
    fn a_tasks_consent_code_opens_the_dialog_esc_stops_the_task_and_its_end_closes_it() {
        let mut app = app();
        let consent = |job| Event::ConsentCode {
            job,
            permission: "Mail.Send".into(),
            user_code: "B".into(),
            verification_uri: "https://x".into(),
            expires_in_secs: 900,
        };
        event(&mut app, consent(5));
        let Some(Dialog::SignIn(dialog)) = &app.dialog else { panic!("the consent dialog: {:?}", app.dialog) };
        assert_eq!(dialog.consent.as_deref(), Some("Mail.Send"));
        assert_eq!(dialog.job, Some(5));
        event(&mut app, Event::JobEnded { id: 5 });
        assert_eq!(app.dialog, None, "consented (or not): the task's end closes the dialog");
        event(&mut app, consent(6));
        assert_eq!(act(&mut app, &[Action::Cancel]), vec![Command::CancelJob { id: 6 }], "Esc stops the task");
        assert_eq!(app.dialog, None);
        assert!(app.notice.as_ref().is_some_and(|n| n.text == strings::CONSENT_CANCELLED));
        // A sign-in's dialog open: the consent waits for it, and the sign-in's end leaves the consent up.
        event(&mut app, Event::SignInNeeded { retry: None, reason: "not signed in".into() });
        event(&mut app, consent(7));
        assert!(matches!(&app.dialog, Some(Dialog::SignIn(d)) if d.consent.is_none()), "{:?}", app.dialog);
        event(&mut app, Event::SignedIn { account: None });
        assert!(matches!(&app.dialog, Some(Dialog::SignIn(d)) if d.job == Some(7) && d.consent.is_some()));
        event(&mut app, Event::SignedIn { account: None });
        assert!(app.dialog.is_some(), "only its task's end closes the consent");
        event(&mut app, Event::JobEnded { id: 7 });
        assert_eq!(app.dialog, None);
    }

    #[test]
    fn running_jobs_are_tracked_and_x_stops_the_newest_of_the_stage_on_screen() {
        let mut app = app();
        assert_eq!(act(&mut app, &[Action::CancelJob]), vec![]);
        event(
            &mut app,
            Event::JobStarted { id: 1, label: "Checking stage 2".into(), stage: Some(StageId::first()), at: at() },
        );
        event(
            &mut app,
            Event::JobStarted { id: 2, label: "Verifying domains".into(), stage: Some(StageId::first()), at: at() },
        );
        event(&mut app, Event::JobStarted { id: 3, label: "Signing in".into(), stage: None, at: at() });
        event(&mut app, Event::JobProgress { id: 2, label: "Verifying domains".into(), done: 1, total: Some(3) });
        assert_eq!(app.jobs[&2].ratio(), Some(1.0 / 3.0));
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some("Verifying domains: 1 of 3…"));
        assert_eq!(
            act(&mut app, &[Action::CancelJob]),
            vec![Command::CancelJob { id: 2 }],
            "the newest job of the stage on screen, not the sign-in"
        );
        event(&mut app, Event::JobEnded { id: 2 });
        assert_eq!(app.jobs.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
        app.stage = StageId::first().next().expect("stage 2");
        assert_eq!(act(&mut app, &[Action::CancelJob]), vec![], "nothing runs for stage 2");
        assert!(app.needs_tick(), "a running job shows its time");
    }

    /// Marks every check of the stages before `stage` as passed, so `stage` is open.
    fn open_up_to(app: &mut App, stage: StageId) {
        let at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        for n in 1..stage.number() {
            let id = StageId::new(n).expect("stage");
            for check in id.def().checks {
                app.state_mut().stage_mut(id).record_check(check.id, CheckResult::new(Outcome::Pass, "ok", at));
            }
        }
        app.stage = stage;
        app.focus = Focus::Main;
        app.cursor = 0;
    }

    fn select_task(app: &mut App, id: &str) {
        let index = app.stage.def().tasks.iter().position(|t| t.id.as_str() == id).expect("task");
        app.cursor = selectable_rows(app.stage).iter().position(|r| *r == Row::Task(index)).expect("row");
    }

    #[test]
    fn stage_3_pre_creates_accounts_only_when_chosen() {
        let mut app = app();
        app.stage = crate::plan::users::STAGE;
        select_task(&mut app, "create-users");
        assert_eq!(act(&mut app, &[Action::Activate]), vec![], "locked");
        open_up_to(&mut app, crate::plan::users::STAGE);
        select_task(&mut app, "create-users");
        assert_eq!(act(&mut app, &[Action::Activate]), vec![]);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::BATCH_PROVISIONS));
        app.state_mut().users.provisioning = Provisioning::PreCreate;
        assert_eq!(
            act(&mut app, &[Action::Activate]),
            vec![Command::RunTask { task: crate::plan::users::Task::CreateUsers.into() }]
        );
        select_task(&mut app, "choose-provisioning");
        act(&mut app, &[Action::Activate]);
        assert!(matches!(&app.dialog, Some(Dialog::Edit(e)) if e.target == EditTarget::Setting(Setting::Provisioning)));
    }

    #[test]
    fn stage_4_tasks_start_jobs_and_the_records_can_be_copied() {
        let mut app = app();
        open_up_to(&mut app, crate::plan::prepare::STAGE);
        for (id, task) in [
            ("add-domains", crate::plan::prepare::Task::AddDomains),
            ("verify-domains", crate::plan::prepare::Task::VerifyDomains),
            ("create-endpoint", crate::plan::prepare::Task::CreateEndpoint),
        ] {
            select_task(&mut app, id);
            assert_eq!(act(&mut app, &[Action::Activate]), vec![Command::RunTask { task: task.into() }], "{id}");
        }
        assert_eq!(act(&mut app, &[Action::Copy]), vec![], "no records known yet");
        app.state_mut().verification.insert("contoso.com".into(), "MS=ms12345678".into());
        assert_eq!(act(&mut app, &[Action::Copy]), vec![]);
        let copied = app.take_effects();
        assert!(
            matches!(&copied[..], [Effect::Copy(text)] if text.contains("contoso.com  TXT  \"MS=ms12345678\"")),
            "{copied:?}"
        );
        assert_eq!(act(&mut app, &[Action::Publish]), vec![], "a real project publishes nothing");
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::PUBLISH_DEMO_ONLY));
        app.state_mut().demo = true;
        app.state_mut().simulator =
            Some(crate::project::SimulatorLink { control_url: "http://127.0.0.1:1".into(), inventory: None });
        assert_eq!(
            act(&mut app, &[Action::Publish]),
            vec![Command::RunTask { task: crate::plan::prepare::Task::PublishVerification.into() }]
        );
    }

    #[test]
    fn a_needed_password_is_typed_masked_then_stored_before_the_retry() {
        let mut app = app();
        let retry = Command::RunTask { task: crate::plan::prepare::Task::CreateEndpoint.into() };
        app.dialog = Some(Dialog::Help);
        event(&mut app, Event::PasswordNeeded { retry: Box::new(retry.clone()) });
        assert_eq!(app.dialog, Some(Dialog::Help), "an open dialog is not overwritten");
        act(&mut app, &[Action::Cancel]);
        assert!(matches!(app.dialog, Some(Dialog::Password(_))), "the prompt follows once the help is closed");
        let mut keys = typing("Tr0ub4dor&3");
        assert_eq!(act(&mut app, &[Action::Activate]), vec![], "empty is refused");
        keys.push(Action::Activate);
        let debug = format!("{app:?}");
        assert!(!debug.contains("Tr0ub4dor"), "nothing typed yet");
        let sent = act(&mut app, &keys[..keys.len() - 1]);
        assert!(sent.is_empty());
        assert!(!format!("{app:?}").contains("Tr0ub4dor&3"), "the typed password is masked in debug output");
        let sent = act(&mut app, &[Action::Activate]);
        assert_eq!(sent.len(), 2);
        assert!(matches!(&sent[0], Command::StoreSourcePassword(secret) if secret.expose() == "Tr0ub4dor&3"));
        assert_eq!(sent[1], retry);
        assert!(!format!("{sent:?}").contains("Tr0ub4dor"), "commands print the secret as ***");
        assert_eq!(app.dialog, None);
    }

    #[test]
    fn the_password_row_opens_the_masked_prompt_and_esc_stores_nothing() {
        let mut app = app();
        open_up_to(&mut app, crate::plan::source::STAGE);
        app.cursor = selectable_rows(crate::plan::source::STAGE).iter().position(|r| *r == Row::Password).expect("row");
        act(&mut app, &[Action::Activate]);
        assert!(matches!(&app.dialog, Some(Dialog::Password(p)) if p.retry.is_none()));
        assert_eq!(act(&mut app, &[Action::Edit(EditKey::Char('x')), Action::Cancel]), vec![]);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::PASSWORD_NOT_STORED));
    }
}
