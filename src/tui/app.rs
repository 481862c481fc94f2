//! The wizard's state and its pure update function: `App::update(Msg) -> Vec<Command>`. No I/O happens here;
//! what must happen outside is returned as [`Command`]s for the runner.

use crate::inventory::report::ImportReport;
use crate::plan::kickoff::{Field, ValidationError};
use crate::plan::settings::Setting;
use crate::plan::users::Provisioning;
use crate::plan::{Outcome, StageId};
use crate::project::ProjectState;
use crate::runner::jobs::JobId;
use crate::runner::{Command, Event, Task};
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::mailboxes::MailboxView;
use super::strings;
use super::widgets::input::{EditKey, TextInput};

/// What a key means, once the key map has read it.
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
    ToggleVip,
    Search,
    NextFilter,
    NextSort,
    /// Copy what the dialog offers (the sign-in code) to the clipboard.
    Copy,
    /// Cancel the newest running job.
    CancelJob,
    /// Demo only: publish the verification records at the simulated registrar.
    Publish,
}

/// Rows a page key moves.
const PAGE: isize = 10;

/// Everything `update` reacts to: the engineer's actions and the runner's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Action(Action),
    Event(Event),
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

/// The lines of a stage's main pane, in order.
pub fn rows(stage: StageId) -> Vec<Row> {
    let def = stage.def();
    let mut rows = Vec::new();
    if stage == StageId::KICKOFF {
        rows.push(Row::Header(strings::FORM_HEADER));
        rows.extend(Field::ALL.into_iter().map(Row::Field));
        rows.push(Row::Budget);
    }
    rows.push(Row::Header(strings::TASKS_HEADER));
    rows.extend((0..def.tasks.len()).map(Row::Task));
    let settings = Setting::of_stage(stage);
    if !settings.is_empty() {
        rows.push(Row::Header(strings::SETTINGS_HEADER));
        rows.extend(settings.iter().copied().map(Row::Setting));
    }
    if stage == StageId::SOURCE {
        rows.push(Row::Password);
    }
    rows.push(Row::Header(strings::CHECKS_HEADER));
    rows.extend((0..def.checks.len()).map(Row::Check));
    rows
}

/// The rows the cursor can rest on.
pub fn selectable_rows(stage: StageId) -> Vec<Row> {
    rows(stage).into_iter().filter(|r| r.selectable()).collect()
}

/// What a one-line edit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditTarget {
    Kickoff(Field),
    Setting(Setting),
}

impl EditTarget {
    pub fn label(self) -> &'static str {
        match self {
            EditTarget::Kickoff(f) => f.label(),
            EditTarget::Setting(s) => s.label(),
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            EditTarget::Kickoff(f) => f.hint(),
            EditTarget::Setting(s) => s.hint(),
        }
    }

    fn current(self, state: &ProjectState) -> String {
        match self {
            EditTarget::Kickoff(f) => f.current(&state.kickoff),
            EditTarget::Setting(s) => s.current(state.settings()),
        }
    }

    /// Validates on a copy, so a typo is shown at once and the input kept for correcting.
    fn validate(self, state: &ProjectState, value: &str) -> Result<(), ValidationError> {
        match self {
            EditTarget::Kickoff(f) => f.apply(&mut state.kickoff.clone(), value),
            EditTarget::Setting(s) => s.apply(state.clone().settings_mut(), value),
        }
    }

    fn command(self, value: String) -> Command {
        match self {
            EditTarget::Kickoff(field) => Command::SetKickoffField { field, value },
            EditTarget::Setting(setting) => Command::SetSetting { setting, value },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Editing {
        target: EditTarget,
        input: TextInput,
        error: Option<String>,
    },
    Overriding {
        stage: StageId,
        check: &'static str,
        input: TextInput,
        error: Option<String>,
    },
    /// Asking for the inventory file's path.
    Importing {
        input: TextInput,
        error: Option<String>,
    },
    /// The result of an import, scrolled by `scroll` lines.
    Report {
        report: Box<ImportReport>,
        scroll: usize,
    },
    /// Typing the mailbox view's search text.
    Searching {
        input: TextInput,
    },
    /// Typing the source migration account's password; `retry` is sent once it is stored.
    Password {
        input: TextInput,
        error: Option<String>,
        retry: Option<Command>,
    },
    /// Signing in to Microsoft 365: the code to enter once the identity platform gave it.
    SignIn {
        job: Option<JobId>,
        code: Option<DeviceCode>,
    },
    Help,
    ConfirmQuit,
}

/// A device code to show: the engineer enters `user_code` at `verification_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in_secs: u64,
}

/// A job the runner is doing, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningJob {
    pub label: String,
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

/// What the main pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Stage,
    Mailboxes,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The runner's latest copy of the project.
    pub state: ProjectState,
    pub stage: StageId,
    pub focus: Focus,
    /// Index into [`selectable_rows`] of the selected stage.
    pub cursor: usize,
    pub view: View,
    pub mailboxes: MailboxView,
    pub mode: Mode,
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
}

/// A dialog the runner asks the engineer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    SignIn,
    /// The source password, then `retry`.
    Password(Command),
}

impl App {
    pub fn new(state: ProjectState, banner: Option<String>) -> App {
        App {
            state,
            stage: StageId::KICKOFF,
            focus: Focus::Main,
            cursor: 0,
            view: View::Stage,
            mailboxes: MailboxView::default(),
            mode: Mode::Normal,
            notice: None,
            banner,
            should_quit: false,
            jobs: BTreeMap::new(),
            after_sign_in: Vec::new(),
            pending: std::collections::VecDeque::new(),
        }
    }

    /// The row under the cursor.
    pub fn selected_row(&self) -> Option<Row> {
        selectable_rows(self.stage).get(self.cursor).copied()
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { kind: NoticeKind::Info, text: text.into() });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { kind: NoticeKind::Error, text: text.into() });
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        let mut commands = match msg {
            Msg::Event(event) => self.on_event(event),
            Msg::Action(action) => self.on_action(action),
        };
        commands.extend(self.open_pending());
        commands
    }

    /// Opens the next dialog the runner asked for, once nothing else is open.
    fn open_pending(&mut self) -> Vec<Command> {
        if self.mode != Mode::Normal {
            return Vec::new();
        }
        match self.pending.pop_front() {
            Some(Prompt::SignIn) => {
                self.mode = Mode::SignIn { job: None, code: None };
                vec![Command::SignIn]
            }
            Some(Prompt::Password(retry)) => {
                self.mode = Mode::Password { input: TextInput::masked(), error: None, retry: Some(retry) };
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn on_event(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::StateChanged(state) => {
                self.state = *state;
                self.info(strings::SAVED);
            }
            Event::Refused { what, reason } => self.error(strings::refused(&what, &reason)),
            Event::Failed { what, error } => self.error(strings::failed(&what, &error)),
            Event::NotAvailable { stage } => self.info(strings::not_available(stage)),
            Event::JobStarted { id, label } => {
                self.info(strings::progress(&label, 0, None));
                self.jobs.insert(id, RunningJob { label, progress: None });
            }
            Event::JobProgress { id, label, done, total } => {
                self.info(strings::progress(&label, done, total));
                if let Some(job) = self.jobs.get_mut(&id) {
                    job.progress = Some(Progress { label, done, total });
                }
            }
            Event::JobEnded { id } => {
                self.jobs.remove(&id);
                // A sign-in job that ended without its own word (it failed) must not leave the dialog up.
                if matches!(&self.mode, Mode::SignIn { job: Some(j), .. } if *j == id) {
                    self.mode = Mode::Normal;
                }
            }
            Event::InventoryImported { state, report } => {
                self.state = *state;
                self.info(report.summary());
                self.mode = Mode::Report { report, scroll: 0 };
            }
            Event::SignInNeeded { retry, reason } => {
                self.after_sign_in.extend(retry.map(|c| *c));
                self.info(reason);
                let asked = matches!(self.mode, Mode::SignIn { .. }) || self.pending.contains(&Prompt::SignIn);
                if !asked {
                    self.pending.push_back(Prompt::SignIn);
                }
            }
            Event::SignInStarted { job } => match &mut self.mode {
                Mode::SignIn { job: slot, .. } => *slot = Some(job),
                // The engineer closed the dialog before the sign-in began: stop it.
                _ => return vec![Command::CancelJob { id: job }],
            },
            Event::DeviceCode { job, user_code, verification_uri, expires_in_secs } => {
                if let Mode::SignIn { job: slot, code } = &mut self.mode {
                    *slot = Some(job);
                    *code = Some(DeviceCode { user_code, verification_uri, expires_in_secs });
                }
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
                self.state = *state;
                self.info(summary);
            }
            Event::TaskFailed { state, error } => {
                self.state = *state;
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

    fn close_sign_in(&mut self) {
        if matches!(self.mode, Mode::SignIn { .. }) {
            self.mode = Mode::Normal;
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Command> {
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal(action),
            Mode::Password { mut input, error, retry } => match action {
                Action::Edit(key) => {
                    input.apply(key);
                    self.mode = Mode::Password { input, error, retry };
                    Vec::new()
                }
                Action::Cancel => {
                    self.info(strings::PASSWORD_NOT_STORED);
                    Vec::new()
                }
                Action::Activate if input.value().is_empty() => {
                    self.mode = Mode::Password { input, error: Some(strings::PASSWORD_EMPTY.to_owned()), retry };
                    Vec::new()
                }
                Action::Activate => {
                    self.info(strings::PASSWORD_STORED);
                    let mut commands = vec![Command::StoreSourcePassword(input.into_secret())];
                    commands.extend(retry);
                    commands
                }
                _ => {
                    self.mode = Mode::Password { input, error, retry };
                    Vec::new()
                }
            },
            Mode::SignIn { job, code } => {
                match (action, &code) {
                    (Action::Copy, Some(code)) => {
                        let text = code.user_code.clone();
                        self.info(strings::CODE_COPIED);
                        self.mode = Mode::SignIn { job, code: Some(code.clone()) };
                        return vec![Command::CopyToClipboard(text)];
                    }
                    (Action::Cancel, _) => {
                        // Closed at once; a sign-in that has not begun yet is stopped when it does.
                        self.after_sign_in.clear();
                        self.info(strings::SIGN_IN_CANCELLED);
                        return job.map(|id| Command::CancelJob { id }).into_iter().collect();
                    }
                    (Action::Copy, None) => {
                        self.info(strings::SIGN_IN_WAITING);
                        self.mode = Mode::SignIn { job, code };
                    }
                    _ => self.mode = Mode::SignIn { job, code },
                }
                Vec::new()
            }
            Mode::Help => {
                if !matches!(action, Action::ToggleHelp | Action::Cancel | Action::RequestQuit | Action::Activate) {
                    self.mode = Mode::Help;
                }
                Vec::new()
            }
            Mode::ConfirmQuit => {
                match action {
                    Action::ConfirmYes => self.should_quit = true,
                    Action::ConfirmNo | Action::Cancel => {}
                    _ => self.mode = Mode::ConfirmQuit,
                }
                Vec::new()
            }
            Mode::Editing { target, mut input, error } => match action {
                Action::Edit(key) => {
                    input.apply(key);
                    self.mode = Mode::Editing { target, input, error };
                    Vec::new()
                }
                Action::Cancel => {
                    self.info(strings::EDIT_CANCELLED);
                    Vec::new()
                }
                Action::Activate => match target.validate(&self.state, input.value()) {
                    Ok(()) => {
                        self.notice = None;
                        self.move_cursor(1);
                        vec![target.command(input.value().to_owned())]
                    }
                    Err(e) => {
                        self.mode = Mode::Editing { target, input, error: Some(e.to_string()) };
                        Vec::new()
                    }
                },
                _ => {
                    self.mode = Mode::Editing { target, input, error };
                    Vec::new()
                }
            },
            Mode::Importing { mut input, error } => match action {
                Action::Edit(key) => {
                    input.apply(key);
                    self.mode = Mode::Importing { input, error };
                    Vec::new()
                }
                Action::Cancel => Vec::new(),
                Action::Activate => match import_path(input.value()) {
                    Some(path) => {
                        self.info(strings::IMPORTING);
                        vec![Command::ImportInventory { path }]
                    }
                    None => {
                        self.mode = Mode::Importing { input, error: Some(strings::IMPORT_PATH_NEEDED.to_owned()) };
                        Vec::new()
                    }
                },
                _ => {
                    self.mode = Mode::Importing { input, error };
                    Vec::new()
                }
            },
            Mode::Report { report, scroll } => {
                let scroll = match action {
                    Action::MoveUp => scroll.saturating_sub(1),
                    Action::MoveDown => scroll + 1,
                    Action::PageUp => scroll.saturating_sub(PAGE.unsigned_abs()),
                    Action::PageDown => scroll + PAGE.unsigned_abs(),
                    Action::Cancel | Action::Activate | Action::RequestQuit => return Vec::new(),
                    _ => scroll,
                };
                let last = report.lines().len().saturating_sub(1);
                self.mode = Mode::Report { report, scroll: scroll.min(last) };
                Vec::new()
            }
            Mode::Searching { mut input } => {
                match action {
                    Action::Edit(key) => {
                        input.apply(key);
                        self.mailboxes.query = input.value().to_owned();
                        self.mailboxes.cursor = 0;
                        self.mode = Mode::Searching { input };
                    }
                    Action::Cancel => {
                        self.mailboxes.query.clear();
                        self.mailboxes.cursor = 0;
                    }
                    Action::Activate => {}
                    _ => self.mode = Mode::Searching { input },
                }
                Vec::new()
            }
            Mode::Overriding { stage, check, mut input, error } => match action {
                Action::Edit(key) => {
                    input.apply(key);
                    self.mode = Mode::Overriding { stage, check, input, error };
                    Vec::new()
                }
                Action::Cancel => Vec::new(),
                Action::Activate => {
                    let reason = input.value().trim().to_owned();
                    if reason.chars().count() < crate::runner::MIN_OVERRIDE_REASON {
                        let error = Some(format!(
                            "Write at least {} characters: this reason goes into the closeout report.",
                            crate::runner::MIN_OVERRIDE_REASON
                        ));
                        self.mode = Mode::Overriding { stage, check, input, error };
                        return Vec::new();
                    }
                    vec![Command::Override { stage, check: check.to_owned(), reason }]
                }
                _ => {
                    self.mode = Mode::Overriding { stage, check, input, error };
                    Vec::new()
                }
            },
        }
    }

    fn normal(&mut self, action: Action) -> Vec<Command> {
        if self.view == View::Mailboxes
            && self.focus == Focus::Main
            && let Some(commands) = self.mailbox_view(action)
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
            Action::ToggleHelp => self.mode = Mode::Help,
            Action::RequestQuit => self.mode = Mode::ConfirmQuit,
            Action::Import if self.stage == StageId::SOURCE => self.start_import(),
            Action::OpenMailboxes if self.stage == StageId::SOURCE => self.open_mailboxes(),
            Action::Import | Action::OpenMailboxes => self.info(strings::ONLY_IN_STAGE_2),
            Action::ToggleVip | Action::Search | Action::NextFilter | Action::NextSort => {
                self.info(strings::ONLY_IN_MAILBOXES);
            }
            Action::CancelJob => match self.jobs.last_key_value() {
                Some((&id, job)) => {
                    self.info(strings::cancelling(&job.label));
                    return vec![Command::CancelJob { id }];
                }
                None => self.info(strings::NOTHING_RUNNING),
            },
            Action::Copy if self.stage == StageId::PREPARE && !self.state.verification.is_empty() => {
                let records: Vec<String> =
                    self.state.verification.iter().map(|(d, txt)| strings::txt_record(d, txt)).collect();
                self.info(strings::RECORDS_COPIED);
                return vec![Command::CopyToClipboard(records.join("\n"))];
            }
            Action::Publish if self.state.demo && self.state.simulator.is_some() && self.stage == StageId::PREPARE => {
                return self.start_task(Task::PublishVerification);
            }
            Action::Publish => self.info(strings::PUBLISH_DEMO_ONLY),
            Action::Copy => self.info(strings::NOTHING_TO_COPY),
            Action::ConfirmYes | Action::ConfirmNo | Action::Edit(_) => {}
        }
        Vec::new()
    }

    fn start_import(&mut self) {
        if !self.state.is_open(StageId::SOURCE) {
            self.error(strings::locked(StageId::SOURCE));
            return;
        }
        // A demo offers the simulated server's inventory; a real project starts from an empty path.
        let offered = self.state.simulator.as_ref().and_then(|s| s.inventory.as_ref());
        let input = offered.map_or_else(TextInput::default, |p| TextInput::new(&p.display().to_string()));
        self.mode = Mode::Importing { input, error: None };
    }

    fn open_mailboxes(&mut self) {
        if self.state.inventory.is_none() {
            self.info(strings::NO_INVENTORY);
            return;
        }
        self.view = View::Mailboxes;
        self.focus = Focus::Main;
    }

    /// The rows the mailbox view shows, as indices into the inventory.
    pub fn mailbox_rows(&self) -> Vec<usize> {
        self.state.inventory.as_ref().map_or_else(Vec::new, |inv| {
            self.mailboxes.rows(&inv.mailboxes, &self.state.vips, &self.state.source.thresholds)
        })
    }

    /// Keys of the mailbox view; `None` hands the action on to the stage keys.
    fn mailbox_view(&mut self, action: Action) -> Option<Vec<Command>> {
        let len = self.mailbox_rows().len();
        let step = |cursor: usize, delta: isize| cursor.saturating_add_signed(delta).min(len.saturating_sub(1));
        match action {
            Action::MoveUp => self.mailboxes.cursor = step(self.mailboxes.cursor, -1),
            Action::MoveDown => self.mailboxes.cursor = step(self.mailboxes.cursor, 1),
            Action::PageUp => self.mailboxes.cursor = step(self.mailboxes.cursor, -PAGE),
            Action::PageDown => self.mailboxes.cursor = step(self.mailboxes.cursor, PAGE),
            Action::Cancel => self.view = View::Stage,
            Action::NextFilter => {
                self.mailboxes.filter = self.mailboxes.filter.next();
                self.mailboxes.cursor = 0;
            }
            Action::NextSort => {
                self.mailboxes.sort = self.mailboxes.sort.next();
                self.mailboxes.cursor = 0;
            }
            Action::Search => {
                self.mode = Mode::Searching { input: TextInput::new(&self.mailboxes.query) };
            }
            Action::ToggleVip | Action::Activate => {
                let rows = self.mailbox_rows();
                let inventory = self.state.inventory.as_ref()?;
                let mailbox = rows.get(self.mailboxes.cursor).map(|&i| &inventory.mailboxes[i])?;
                let key = mailbox.key();
                let vip = !self.state.vips.contains(&key);
                return Some(vec![Command::SetVip { key, vip }]);
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    fn move_stage(&mut self, delta: isize) {
        let next = i8::try_from(delta).ok().and_then(|d| self.stage.number().checked_add_signed(d));
        if let Some(stage) = next.and_then(StageId::new) {
            self.stage = stage;
            self.cursor = 0;
            self.view = View::Stage;
        }
    }

    fn move_cursor(&mut self, delta: isize) {
        let len = selectable_rows(self.stage).len();
        self.cursor = self.cursor.saturating_add_signed(delta).min(len.saturating_sub(1));
    }

    fn activate_row(&mut self) -> Vec<Command> {
        match self.selected_row() {
            Some(Row::Field(field)) => self.start_edit(EditTarget::Kickoff(field)),
            Some(Row::Setting(setting)) => self.start_edit(EditTarget::Setting(setting)),
            Some(Row::Task(_)) if self.stage == StageId::KICKOFF => self.info(strings::KICKOFF_TASKS_BY_FORM),
            Some(Row::Task(0)) if self.stage == StageId::SOURCE => self.start_import(),
            Some(Row::Task(_)) if self.stage == StageId::SOURCE => self.open_mailboxes(),
            Some(Row::Task(i)) => return self.activate_task(self.stage.def().tasks[i].id),
            Some(Row::Password) => {
                self.mode = Mode::Password { input: TextInput::masked(), error: None, retry: None };
            }
            Some(Row::Check(i)) if self.outcome(i) == Outcome::Fail => self.start_override(),
            Some(Row::Check(_)) => return self.normal(Action::RunChecks),
            Some(Row::Header(_) | Row::Budget) | None => {}
        }
        Vec::new()
    }

    /// Enter on a task of stages 3 and 4.
    fn activate_task(&mut self, id: &str) -> Vec<Command> {
        match id {
            "choose-provisioning" => self.start_edit(EditTarget::Setting(Setting::Provisioning)),
            "create-users" | "set-usage-location" | "assign-licences" => {
                if self.state.users.provisioning == Provisioning::ByBatch {
                    self.info(strings::BATCH_PROVISIONS);
                } else {
                    return self.start_task(Task::PrecreateUsers);
                }
            }
            "add-domains" => return self.start_task(Task::AddDomains),
            "verify-domains" => return self.start_task(Task::VerifyDomains),
            "create-endpoint" => return self.start_task(Task::CreateEndpoint),
            _ => self.info(strings::not_available(self.stage)),
        }
        Vec::new()
    }

    fn start_task(&mut self, task: Task) -> Vec<Command> {
        if !self.state.is_open(task.stage()) {
            self.error(strings::locked(task.stage()));
            return Vec::new();
        }
        vec![Command::RunTask { task }]
    }

    fn start_edit(&mut self, target: EditTarget) {
        if !self.state.is_open(self.stage) {
            self.error(strings::locked(self.stage));
            return;
        }
        let input = TextInput::new(&target.current(&self.state));
        self.mode = Mode::Editing { target, input, error: None };
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
        if self.outcome(i) != Outcome::Fail {
            self.info(strings::SELECT_FAILED_CHECK);
        } else if self.state.stage(self.stage).and_then(|r| r.active_override(check)).is_some() {
            self.info(strings::ALREADY_OVERRIDDEN);
        } else {
            self.mode = Mode::Overriding { stage: self.stage, check, input: TextInput::default(), error: None };
        }
    }
}

/// The path typed at the import prompt, with a leading `~/` meaning the home folder.
fn import_path(typed: &str) -> Option<PathBuf> {
    let typed = typed.trim().trim_matches(['"', '\'']);
    if typed.is_empty() {
        return None;
    }
    match typed.strip_prefix("~/").zip(dirs::home_dir()) {
        Some((rest, home)) => Some(home.join(rest)),
        None => Some(PathBuf::from(typed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::CheckResult;
    use chrono::DateTime;

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
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.selected_row(), Some(Row::Field(Field::PartnerName)), "the cursor moves on to the next field");
    }

    #[test]
    fn an_invalid_value_stays_in_the_editor_with_its_reason() {
        let mut app = app();
        app.cursor =
            selectable_rows(StageId::KICKOFF).iter().position(|r| *r == Row::Field(Field::Tenant)).expect("row");
        let mut actions = vec![Action::Activate];
        actions.extend(typing("contoso"));
        actions.push(Action::Activate);
        assert!(act(&mut app, &actions).is_empty());
        let Mode::Editing { input, error: Some(error), .. } = &app.mode else {
            panic!("still editing: {:?}", app.mode)
        };
        assert_eq!(input.value(), "contoso", "nothing typed is lost");
        assert!(error.contains("onmicrosoft.com"), "{error}");
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.mode, Mode::Normal);
    }

    #[test]
    fn quitting_asks_first() {
        let mut app = app();
        act(&mut app, &[Action::RequestQuit, Action::ConfirmNo]);
        assert!(!app.should_quit);
        assert_eq!(app.mode, Mode::Normal);
        act(&mut app, &[Action::RequestQuit, Action::MoveDown]);
        assert_eq!(app.mode, Mode::ConfirmQuit, "other keys keep the question open");
        act(&mut app, &[Action::ConfirmYes]);
        assert!(app.should_quit);
    }

    #[test]
    fn help_opens_and_closes() {
        let mut app = app();
        act(&mut app, &[Action::ToggleHelp]);
        assert_eq!(app.mode, Mode::Help);
        act(&mut app, &[Action::MoveDown]);
        assert_eq!(app.mode, Mode::Help);
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.mode, Mode::Normal);
    }

    #[test]
    fn the_stage_list_moves_and_stays_within_the_plan() {
        let mut app = app();
        act(&mut app, &[Action::FocusStages, Action::MoveUp]);
        assert_eq!(app.stage, StageId::KICKOFF);
        act(&mut app, &[Action::MoveDown, Action::MoveDown]);
        assert_eq!(app.stage, StageId::USERS);
        act(&mut app, &[Action::MoveDown; 20]);
        assert_eq!(app.stage, StageId::POST);
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
        assert_eq!(act(&mut app, &[Action::RunChecks]), vec![Command::RunChecks { stage: StageId::KICKOFF }]);
    }

    #[test]
    fn a_failed_check_is_overridden_with_a_written_reason() {
        let mut app = app();
        let at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        app.state
            .stage_mut(StageId::KICKOFF)
            .checks
            .insert("cutover-limits".into(), CheckResult::new(Outcome::Fail, "2,500", at));
        app.cursor = selectable_rows(StageId::KICKOFF).iter().position(|r| *r == Row::Check(1)).expect("row");
        act(&mut app, &[Action::Override]);
        assert!(matches!(app.mode, Mode::Overriding { check: "cutover-limits", .. }));
        act(&mut app, &typing("too short"));
        assert!(act(&mut app, &[Action::Activate]).is_empty());
        assert!(matches!(app.mode, Mode::Overriding { error: Some(_), .. }));
        let mut actions = typing(" - customer signed off");
        actions.push(Action::Activate);
        assert_eq!(
            act(&mut app, &actions),
            vec![Command::Override {
                stage: StageId::KICKOFF,
                check: "cutover-limits".into(),
                reason: "too short - customer signed off".into()
            }]
        );
    }

    #[test]
    fn override_needs_a_failed_check_under_the_cursor() {
        let mut app = app();
        act(&mut app, &[Action::Override]);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::SELECT_FAILED_CHECK));
    }

    #[test]
    fn runner_events_update_the_state_and_the_notice() {
        let mut app = app();
        let mut next = app.state.clone();
        next.kickoff.customer = "Acme".into();
        app.update(Msg::Event(Event::StateChanged(Box::new(next))));
        assert_eq!(app.state.kickoff.customer, "Acme");
        app.update(Msg::Event(Event::Failed { what: "Customer".into(), error: "disk full".into() }));
        assert_eq!(app.notice.as_ref().map(|n| n.kind), Some(NoticeKind::Error));
        app.update(Msg::Event(Event::NotAvailable { stage: StageId::MIGRATE }));
        assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("not built yet")));
    }

    fn with_inventory() -> App {
        let mut app = app();
        let csv = "DisplayName,PrimarySmtpAddress,TotalItemSizeBytes,HiddenFromAddressListsEnabled\n\
            Amy,amy@c.com,300,False\nBob,bob@c.com,200,False\nGhost,ghost@c.com,100,True\n";
        let mailboxes = crate::inventory::csv::parse(csv.as_bytes()).expect("parse").mailboxes;
        let imported_at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        app.state.inventory = Some(crate::inventory::Inventory { imported_at, file_name: "i.csv".into(), mailboxes });
        app.stage = StageId::SOURCE;
        app
    }

    #[test]
    fn import_asks_for_a_path_and_sends_it() {
        let mut app = app();
        app.stage = StageId::SOURCE;
        act(&mut app, &[Action::Import]);
        assert!(matches!(app.mode, Mode::Normal), "stage 2 is locked until stage 1 is done");
        app.state.stage_mut(StageId::KICKOFF).checks = crate::plan::kickoff::run_checks(
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
            (id.to_owned(), r)
        })
        .collect();
        act(&mut app, &[Action::Import, Action::Activate]);
        assert!(matches!(app.mode, Mode::Importing { error: Some(_), .. }), "an empty path is refused");
        let mut keys = typing(" \"/tmp/inv.csv\" ");
        keys.push(Action::Activate);
        assert_eq!(act(&mut app, &keys), vec![Command::ImportInventory { path: PathBuf::from("/tmp/inv.csv") }]);
    }

    #[test]
    fn the_mailbox_view_moves_filters_searches_and_marks_vips() {
        let mut app = with_inventory();
        act(&mut app, &[Action::OpenMailboxes]);
        assert_eq!(app.view, View::Mailboxes);
        act(&mut app, &[Action::MoveDown, Action::MoveDown, Action::MoveDown]);
        assert_eq!(app.mailboxes.cursor, 2, "the cursor stops at the last row");
        assert_eq!(act(&mut app, &[Action::ToggleVip]), vec![Command::SetVip { key: "ghost@c.com".into(), vip: true }]);
        act(&mut app, &[Action::NextFilter]);
        assert_eq!(app.mailbox_rows().len(), 1, "high-risk: only the hidden mailbox");
        act(&mut app, &[Action::NextFilter, Action::NextFilter, Action::NextFilter, Action::NextFilter]);
        let mut keys = vec![Action::Search];
        keys.extend(typing("bo"));
        act(&mut app, &keys);
        assert_eq!(app.mailbox_rows().len(), 1);
        act(&mut app, &[Action::Activate]);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.mailboxes.query, "bo", "Enter keeps the search");
        act(&mut app, &[Action::Search, Action::Cancel]);
        assert_eq!(app.mailbox_rows().len(), 3, "Esc clears it");
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.view, View::Stage);
    }

    #[test]
    fn the_mailbox_view_needs_an_inventory() {
        let mut app = app();
        app.stage = StageId::SOURCE;
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
        let retry = Command::RunChecks { stage: StageId::USERS };
        let asked = event(
            &mut app,
            Event::SignInNeeded { retry: Some(Box::new(retry.clone())), reason: "not signed in".into() },
        );
        assert_eq!(asked, vec![Command::SignIn]);
        assert_eq!(app.mode, Mode::SignIn { job: None, code: None });
        assert_eq!(act(&mut app, &[Action::Copy]), vec![], "nothing to copy before the code comes");
        let second = Command::RunChecks { stage: StageId::PREPARE };
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
        assert_eq!(app.mode, Mode::SignIn { job: Some(4), code: Some(code) });
        assert_eq!(act(&mut app, &[Action::Copy]), vec![Command::CopyToClipboard("GHJK-7Q2M".into())]);
        assert_eq!(act(&mut app, &[Action::MoveDown, Action::Import]), vec![], "other keys do nothing in the dialog");
        event(&mut app, Event::JobEnded { id: 4 });
        assert_eq!(app.mode, Mode::Normal, "the dialog closes with its job");
        let resumed = event(&mut app, Event::SignedIn { account: Some("admin@contoso.onmicrosoft.com".into()) });
        assert_eq!(resumed, vec![retry, second]);
        assert_eq!(app.mode, Mode::Normal);
        assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("admin@contoso.onmicrosoft.com")));
        assert!(app.after_sign_in.is_empty());
    }

    #[test]
    fn a_cancelled_sign_in_closes_the_dialog_and_forgets_the_retry() {
        let mut app = app();
        let retry = Some(Box::new(Command::RunChecks { stage: StageId::PREPARE }));
        event(&mut app, Event::SignInNeeded { retry: retry.clone(), reason: "not signed in".into() });
        assert_eq!(act(&mut app, &[Action::Cancel]), vec![], "no job to cancel yet");
        assert_eq!(app.mode, Mode::Normal, "Esc closes the dialog at once");
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
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(event(&mut app, Event::SignInEnded { error: None }), vec![]);
        assert!(app.after_sign_in.is_empty());
        event(&mut app, Event::SignInEnded { error: Some("the sign-in was declined".into()) });
        assert!(app.notice.as_ref().is_some_and(|n| n.kind == NoticeKind::Error && n.text.contains("declined")));
    }

    #[test]
    fn running_jobs_are_tracked_and_the_newest_can_be_cancelled() {
        let mut app = app();
        assert_eq!(act(&mut app, &[Action::CancelJob]), vec![]);
        event(&mut app, Event::JobStarted { id: 1, label: "Checking stage 2".into() });
        event(&mut app, Event::JobStarted { id: 2, label: "Verifying domains".into() });
        event(&mut app, Event::JobProgress { id: 2, label: "Verifying domains".into(), done: 1, total: Some(3) });
        assert_eq!(app.jobs[&2].ratio(), Some(1.0 / 3.0));
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some("Verifying domains: 1 of 3…"));
        assert_eq!(act(&mut app, &[Action::CancelJob]), vec![Command::CancelJob { id: 2 }]);
        event(&mut app, Event::JobEnded { id: 2 });
        assert_eq!(app.jobs.keys().copied().collect::<Vec<_>>(), vec![1]);
    }

    /// Marks every check of the stages before `stage` as passed, so `stage` is open.
    fn open_up_to(app: &mut App, stage: StageId) {
        let at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        for n in 1..stage.number() {
            let id = StageId::new(n).expect("stage");
            for check in id.def().checks {
                app.state.stage_mut(id).checks.insert(check.id.to_owned(), CheckResult::new(Outcome::Pass, "ok", at));
            }
        }
        app.stage = stage;
        app.focus = Focus::Main;
        app.cursor = 0;
    }

    fn select_task(app: &mut App, id: &str) {
        let index = app.stage.def().tasks.iter().position(|t| t.id == id).expect("task");
        app.cursor = selectable_rows(app.stage).iter().position(|r| *r == Row::Task(index)).expect("row");
    }

    #[test]
    fn stage_3_pre_creates_accounts_only_when_chosen() {
        let mut app = app();
        app.stage = StageId::USERS;
        select_task(&mut app, "create-users");
        assert_eq!(act(&mut app, &[Action::Activate]), vec![], "locked");
        open_up_to(&mut app, StageId::USERS);
        select_task(&mut app, "create-users");
        assert_eq!(act(&mut app, &[Action::Activate]), vec![]);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::BATCH_PROVISIONS));
        app.state.users.provisioning = Provisioning::PreCreate;
        assert_eq!(act(&mut app, &[Action::Activate]), vec![Command::RunTask { task: Task::PrecreateUsers }]);
        select_task(&mut app, "choose-provisioning");
        act(&mut app, &[Action::Activate]);
        assert!(matches!(app.mode, Mode::Editing { target: EditTarget::Setting(Setting::Provisioning), .. }));
    }

    #[test]
    fn stage_4_tasks_start_jobs_and_the_records_can_be_copied() {
        let mut app = app();
        open_up_to(&mut app, StageId::PREPARE);
        for (id, task) in [
            ("add-domains", Task::AddDomains),
            ("verify-domains", Task::VerifyDomains),
            ("create-endpoint", Task::CreateEndpoint),
        ] {
            select_task(&mut app, id);
            assert_eq!(act(&mut app, &[Action::Activate]), vec![Command::RunTask { task }], "{id}");
        }
        assert_eq!(act(&mut app, &[Action::Copy]), vec![], "no records known yet");
        app.state.verification.insert("contoso.com".into(), "MS=ms12345678".into());
        let copied = act(&mut app, &[Action::Copy]);
        assert!(
            matches!(&copied[..], [Command::CopyToClipboard(text)] if text.contains("contoso.com  TXT  \"MS=ms12345678\"")),
            "{copied:?}"
        );
        assert_eq!(act(&mut app, &[Action::Publish]), vec![], "a real project publishes nothing");
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::PUBLISH_DEMO_ONLY));
        app.state.demo = true;
        app.state.simulator =
            Some(crate::project::SimulatorLink { control_url: "http://127.0.0.1:1".into(), inventory: None });
        assert_eq!(act(&mut app, &[Action::Publish]), vec![Command::RunTask { task: Task::PublishVerification }]);
    }

    #[test]
    fn a_needed_password_is_typed_masked_then_stored_before_the_retry() {
        let mut app = app();
        let retry = Command::RunTask { task: Task::CreateEndpoint };
        app.mode = Mode::Help;
        event(&mut app, Event::PasswordNeeded { retry: Box::new(retry.clone()) });
        assert_eq!(app.mode, Mode::Help, "an open dialog is not overwritten");
        act(&mut app, &[Action::Cancel]);
        assert!(matches!(app.mode, Mode::Password { .. }), "the prompt follows once the help is closed");
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
        assert_eq!(app.mode, Mode::Normal);
    }

    #[test]
    fn the_password_row_opens_the_masked_prompt_and_esc_stores_nothing() {
        let mut app = app();
        open_up_to(&mut app, StageId::SOURCE);
        app.cursor = selectable_rows(StageId::SOURCE).iter().position(|r| *r == Row::Password).expect("row");
        act(&mut app, &[Action::Activate]);
        assert!(matches!(app.mode, Mode::Password { retry: None, .. }));
        assert_eq!(act(&mut app, &[Action::Edit(EditKey::Char('x')), Action::Cancel]), vec![]);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::PASSWORD_NOT_STORED));
    }
}
