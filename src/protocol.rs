//! All the wizard and the runner say to each other: the [`Command`]s the wizard sends, the [`Event`]s the runner
//! answers with, and the ids both use. The TUI depends on this module and the plan, never on the runner; the
//! runner depends on this module, never on the TUI.

use crate::inventory::report::ImportReport;
use crate::plan::kickoff::Field;
use crate::plan::settings::Setting;
use crate::project::ProjectState;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::plan::{CheckId, StageId, TaskId};

/// A job of the runner, as the wizard refers to it (to show its progress or stop it).
pub type JobId = u64;

/// The project as the runner last saved it, shared: sending it costs a reference count, not a copy.
pub type Snapshot = Arc<ProjectState>;

/// What the wizard asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store one kickoff field (validated again by the runner) and re-run the kickoff checks.
    SetKickoffField { field: Field, value: String },
    /// Run the read-only checks of a stage and record their results.
    RunChecks { stage: StageId },
    /// Go on despite a failed check, for a written reason.
    Override { check: CheckId, reason: String },
    /// Import the mailbox inventory CSV; rows that fail are reported, good rows kept. A re-import that would
    /// remove many mailboxes is refused unless `allow_removals`.
    ImportInventory { path: PathBuf, allow_removals: bool },
    /// Mark or unmark a mailbox (by primary SMTP address) as a VIP.
    SetVip { key: String, vip: bool },
    /// Store a setting (validated again by the runner).
    SetSetting { setting: Setting, value: String },
    /// Sign the project in to Microsoft 365 with a device code; the code comes back as [`Event::DeviceCode`].
    SignIn,
    /// Stop a running job at its next safe point.
    CancelJob { id: JobId },
    /// Start a task of the plan (a write to the tenant, the source or, in a demo, the simulated registrar).
    RunTask { task: TaskId },
    /// A task for these mailboxes only (their addresses), as the engineer picked them (a failed one to restart).
    RunTaskFor { task: TaskId, mailboxes: Vec<String> },
    /// A task about something that happened at a given time (the MX change made at `at`), as the engineer says.
    RunTaskAt { task: TaskId, at: DateTime<Utc> },
    /// Follow a stage's watch on its own, read-only (`cutover watch`); it ends at once if there is nothing to follow.
    Watch { stage: StageId },
    /// Keep the source migration account's password in the OS keyring.
    StoreSourcePassword(crate::secrets::Secret),
    /// Demo only: move the simulator's clock this many seconds on (nothing of a real tenant is touched).
    SkipAhead { seconds: u64 },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The project after a change, with a word on what changed when there is more to say than "saved".
    StateChanged { state: Snapshot, note: Option<String> },
    /// A value or request was refused; nothing changed.
    Refused { what: String, reason: String },
    /// A re-import would remove more than a few mailboxes; nothing changed until it is allowed.
    ImportRemoves { path: std::path::PathBuf, file_name: String, refused: crate::inventory::merge::TooManyRemovals },
    /// A cycle of the batch's watch: the project with the checks it recorded, and what it saw.
    BatchWatched { state: Snapshot, view: std::sync::Arc<crate::plan::migrate::view::BatchView> },
    /// A round of the DNS propagation watch that changed something: the project with the check it recorded, and
    /// what each resolver answered.
    DnsWatched { state: Snapshot, view: std::sync::Arc<crate::plan::mx::propagation::DnsView> },
    /// Something could not be done (disk, I/O); nothing changed.
    Failed { what: String, error: String },
    /// The work asked for is not built in this version.
    NotAvailable { stage: StageId },
    /// An inventory was imported; the new state comes with it.
    InventoryImported { state: Snapshot, report: Box<ImportReport> },
    /// A job began, for the work of `stage` (none: the sign-in); it can be stopped by its id.
    JobStarted { id: JobId, label: String, stage: Option<StageId>, at: DateTime<Utc> },
    /// How far a running job is.
    JobProgress { id: JobId, label: String, done: u64, total: Option<u64> },
    /// A word from a running job on what it waits for ("waiting for Microsoft Graph …: no answer for 5 s").
    JobNote { id: JobId, note: String },
    /// A job is over; what it found follows as its own event.
    JobEnded { id: JobId },
    /// Work needs a Microsoft 365 sign-in that the project does not hold; `retry` is sent again once signed in.
    SignInNeeded { retry: Option<Box<Command>>, reason: String },
    /// A device code sign-in is under way as job `job`; its code follows.
    SignInStarted { job: JobId },
    /// The code to enter at the verification page.
    DeviceCode { job: JobId, user_code: String, verification_uri: String, expires_in_secs: u64 },
    /// A running task (job `job`) needs the signed-in account's consent to `permission`, asked for only now: the
    /// code to enter at the verification page, where the permission is accepted; the task goes on once it is.
    ConsentCode { job: JobId, permission: String, user_code: String, verification_uri: String, expires_in_secs: u64 },
    /// The sign-in succeeded and is kept in the OS keyring.
    SignedIn { account: Option<String> },
    /// The sign-in did not complete: cancelled (no error) or failed.
    SignInEnded { error: Option<String> },
    /// Work was stopped by the engineer before it recorded anything.
    Cancelled { what: String },
    /// A task needs the source migration account's password, which the keyring does not hold.
    PasswordNeeded { retry: Box<Command> },
    /// A task finished (or stopped) and its outcome is recorded.
    TaskDone { state: Snapshot, summary: String },
    /// A task failed; the failure is recorded.
    TaskFailed { state: Snapshot, error: String },
    /// As the project opened, writes a crash had cut short were read back, before anything else ran.
    Resumed { writes: Vec<Resumed> },
}

/// A write a crash cut short (its "about to" audit record with no outcome), as read back when the project
/// opened again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resumed {
    /// When its "about to" was recorded.
    pub at: DateTime<Utc>,
    pub stage: Option<StageId>,
    pub action: String,
    /// The write's audit detail, in one line.
    pub detail: String,
    pub found: Found,
    /// What was read, in words: the evidence for `found`, or why it could not be read.
    pub evidence: String,
    /// Whether what was found is in the audit log now; a write that could not be read (no connection) is read
    /// again at the next open.
    pub recorded: bool,
}

/// What the live state says of a write a crash cut short; the audit log records it (`checked`).
pub use crate::project::audit::Found;

impl Resumed {
    /// One line for the engineer: `add-domain {"domain":"contoso.com"} (stage 4), cut short by a crash: done (…)`.
    pub fn line(&self) -> String {
        let stage = self.stage.map(|s| format!(" (stage {s})")).unwrap_or_default();
        format!(
            "{} {}{stage}, cut short by a crash at {}: {}; {}",
            self.action,
            self.detail,
            self.at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.found.word(),
            self.evidence
        )
    }
}

/// Where to look when the runner stops on its own.
pub const LOG_HINT: &str = "the project's cutover.log";
