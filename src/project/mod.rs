//! The project workspace on disk: `state.json` (atomic), `audit.jsonl` (append-only), `cutover.lock`,
//! `reports/` and `cutover.log`, in one folder per project. Knows nothing of the network or the terminal.

pub mod audit;
#[cfg(test)]
mod fuzz;
pub mod live;
pub mod lock;
pub mod paths;
pub mod state;

pub use audit::{AuditLog, AuditRecord, Phase, Touches};
pub use lock::{Acquired, LockInfo, ProjectLock};
pub use paths::{DataHome, ProjectName};
pub use state::{ProjectState, SimulatorLink};

use crate::plan::StageId;
use chrono::Utc;
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";
pub const AUDIT_FILE: &str = "audit.jsonl";
pub const LOCK_FILE: &str = "cutover.lock";
pub const LOG_FILE: &str = "cutover.log";
pub const REPORTS_DIR: &str = "reports";

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no data folder could be found for this user; set CUTOVER_HOME to a writable folder")]
    NoDataHome,
    #[error(
        "project name '{0}' is not allowed: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.' or '-'"
    )]
    BadName(String),
    #[error("project '{name}' already exists at {path}; open it with `cutover open {name}` or choose another name")]
    Exists { name: String, path: PathBuf },
    #[error(
        "there is no project '{name}' (looked in {path}); `cutover list` shows the projects, `cutover new {name}` creates it"
    )]
    NotFound { name: String, path: PathBuf },
    #[error(
        "project '{name}' is damaged: its folder {path} holds an audit log but no state.json (last audit record: {}). Nothing was changed or reset, and the name is not reused. Restore state.json from a backup into that folder; or, to start over, move the folder aside and run `cutover new {name}` again",
        last_audit.as_deref().unwrap_or("none readable")
    )]
    Damaged { name: String, path: PathBuf, last_audit: Option<String> },
    #[error(
        "project '{name}' was never made: its creation was cut short before it saved state.json (the audit log in {path} holds only the start of `create-project`). Nothing was changed. Run `cutover new {name}` again, with the same flags, to create it"
    )]
    CreationCutShort { name: String, path: PathBuf },
    #[error(
        "this project is open in another cutover ({holder}); quit it there first (q: a batch keeps running in Exchange Online). A lock left by a cutover of this machine that is gone is taken over by itself; only if that cutover ran on another machine that is gone for good, delete {path}"
    )]
    Locked { path: PathBuf, holder: LockInfo },
    #[error(
        "{path} cannot be read: {reason}. Nothing was changed or reset. Last good audit record: {}. Restore state.json from a backup, or move it aside and create the project again from the audit log",
        last_audit.as_deref().unwrap_or("none")
    )]
    CorruptState { path: PathBuf, reason: String, last_audit: Option<String> },
    #[error(
        "{path} was written by a newer cutover (state schema {found}, this build reads up to {supported}); upgrade cutover"
    )]
    NewerSchema { path: PathBuf, found: u32, supported: u32 },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// An open project: its folder, its state, its audit log, and the lock that keeps it ours.
#[derive(Debug)]
pub struct Project {
    dir: PathBuf,
    /// Shared with the wizard's copy: a change makes a new one, so a snapshot handed out never changes.
    state: std::sync::Arc<ProjectState>,
    audit: AuditLog,
    lock: ProjectLock,
}

impl Project {
    /// Creates a new project folder and opens it.
    pub fn create(home: &DataHome, name: &ProjectName, demo: bool) -> Result<Project, ProjectError> {
        let dir = home.project(name);
        if dir.join(STATE_FILE).exists() {
            return Err(ProjectError::Exists { name: name.to_string(), path: dir });
        }
        if let Some(damaged @ ProjectError::Damaged { .. }) = damaged(name, &dir) {
            return Err(damaged);
        }
        create_private_dir(&dir)?;
        let (lock, _) = ProjectLock::acquire(&dir.join(LOCK_FILE))?;
        if dir.join(STATE_FILE).exists() {
            // Made by another cutover between the first look and the lock.
            return Err(ProjectError::Exists { name: name.to_string(), path: dir });
        }
        let audit = AuditLog::new(dir.join(AUDIT_FILE));
        // A creation a crash cut short before its save made no project: it is read back as not done (recorded,
        // as a resume does), and the project is made now.
        for write in creation_cut_short(&audit).unwrap_or_default() {
            let evidence = "state.json was never saved: the project was not made, and is made now";
            audit.append(&AuditRecord::checked(&write, audit::Found::NotDone, evidence))?;
        }
        let state = ProjectState::new(name.as_str(), Utc::now(), demo);
        let mut project = Project { dir, state: std::sync::Arc::new(state.clone()), audit, lock };
        project.change(None, CREATE_PROJECT, serde_json::json!({ "name": name.as_str(), "demo": demo }), |s| {
            *s = state;
            Ok::<(), std::convert::Infallible>(())
        })?;
        home.remember_last(name)?;
        Ok(project)
    }

    /// Opens an existing project. The `Acquired` tells whether a stale lock was taken over.
    pub fn open(home: &DataHome, name: &ProjectName) -> Result<(Project, Acquired), ProjectError> {
        let dir = home.project(name);
        let state_path = dir.join(STATE_FILE);
        if !state_path.exists() {
            return Err(missing(home, name));
        }
        let (lock, acquired) = ProjectLock::acquire(&dir.join(LOCK_FILE))?;
        remove_torn_temporaries(&dir);
        let audit = AuditLog::new(dir.join(AUDIT_FILE));
        let state = state::load(&state_path, &audit)?;
        let mut project = Project { dir, state: std::sync::Arc::new(state), audit, lock };
        if project.state.id.is_none() {
            // A project from before ids: it gets its own now, once.
            let id = uuid::Uuid::new_v4();
            project.change(None, "assign-project-id", serde_json::json!({ "id": id }), |s| {
                s.id = Some(id);
                Ok::<(), std::convert::Infallible>(())
            })?;
        }
        home.remember_last(name)?;
        Ok((project, acquired))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state(&self) -> &ProjectState {
        &self.state
    }

    /// The state as saved, to hand out without copying it.
    pub fn snapshot(&self) -> std::sync::Arc<ProjectState> {
        self.state.clone()
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn lock(&self) -> &ProjectLock {
        &self.lock
    }

    /// The polled data of the project's watches (`live/`).
    pub fn live(&self) -> live::LiveStore {
        live::LiveStore::new(&self.dir)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// The one path for changing the project: applies `apply` to a copy of the state (a refusal returns here,
    /// recording nothing; `apply` only computes), records "about to", saves the copy atomically, then records
    /// "done" (or "failed" with the reason the save failed). The state in memory changes only once the new one
    /// is on disk. The saved state names the change it holds last (the time of its "about to"), so a resume
    /// after a crash between the save and "done" reads whether the change is in.
    pub fn change<E: std::fmt::Display>(
        &mut self,
        stage: Option<StageId>,
        action: &str,
        detail: serde_json::Value,
        apply: impl FnOnce(&mut ProjectState) -> Result<(), E>,
    ) -> Result<Result<(), E>, ProjectError> {
        self.change_with(stage, action, detail, apply, || Ok(()))
    }

    /// [`change`](Self::change) with `effect`, a write beside the state (the OS keyring), made after "about
    /// to" and before the save: when it fails, "failed" is recorded and the state is left as it was.
    pub fn change_with<E: std::fmt::Display>(
        &mut self,
        stage: Option<StageId>,
        action: &str,
        detail: serde_json::Value,
        apply: impl FnOnce(&mut ProjectState) -> Result<(), E>,
        effect: impl FnOnce() -> Result<(), E>,
    ) -> Result<Result<(), E>, ProjectError> {
        let record = |phase, detail| AuditRecord {
            time: Utc::now(),
            actor: audit::current_actor(),
            stage,
            action: action.to_owned(),
            phase,
            detail,
            touches: Some(Touches::Project),
        };
        // A refused value changes nothing, the audit log included: `apply` works on a copy, before any record.
        let mut next = ProjectState::clone(&self.state);
        if let Err(e) = apply(&mut next) {
            return Ok(Err(e));
        }
        let intent = record(Phase::AboutTo, detail.clone());
        self.audit.append(&intent)?;
        crate::crash::at(crate::crash::Point::AboutTo, action);
        if let Err(e) = effect() {
            self.audit
                .append(&record(Phase::Failed, serde_json::json!({ "detail": detail, "error": e.to_string() })))?;
            return Ok(Err(e));
        }
        next.last_change = Some(intent.time);
        if let Err(e) = state::save(&self.dir.join(STATE_FILE), &next) {
            self.audit
                .append(&record(Phase::Failed, serde_json::json!({ "detail": detail, "error": e.to_string() })))?;
            return Err(e);
        }
        crate::crash::at(crate::crash::Point::Written, action);
        self.state = std::sync::Arc::new(next);
        self.audit.append(&record(Phase::Done, detail))?;
        crate::crash::at(crate::crash::Point::Done, action);
        Ok(Ok(()))
    }
}

/// Why a project without a `state.json` cannot be opened: damaged when its audit log is there, else not found.
pub fn missing(home: &DataHome, name: &ProjectName) -> ProjectError {
    damaged(name, &home.project(name))
        .unwrap_or_else(|| ProjectError::NotFound { name: name.to_string(), path: home.projects() })
}

/// An audit log without a state means the state was lost, not that the project never was: treating it as new
/// would write an empty state beside the old history (and a second project under the same name). Only a log
/// that holds nothing but a creation cut short before its save is a project never made.
fn damaged(name: &ProjectName, dir: &Path) -> Option<ProjectError> {
    let audit = AuditLog::new(dir.join(AUDIT_FILE));
    if dir.join(STATE_FILE).exists() || !audit.path().exists() {
        return None;
    }
    Some(match creation_cut_short(&audit) {
        Some(_) => ProjectError::CreationCutShort { name: name.to_string(), path: dir.to_owned() },
        None => ProjectError::Damaged {
            name: name.to_string(),
            path: dir.to_owned(),
            last_audit: audit.last_good_summary(),
        },
    })
}

/// The first change of every project: its creation, which saves its first `state.json`.
const CREATE_PROJECT: &str = "create-project";

/// Whether project `name` holds nothing but its creation, made as a demo or not as `demo` says: a `cutover
/// new` cut short right after it saved the first state (before the rest of its flags), or one run without
/// flags. Read without the lock, so a caller that acts on it opens the project and asks again.
pub fn only_created(home: &DataHome, name: &ProjectName, demo: bool) -> bool {
    let audit = AuditLog::new(home.project(name).join(AUDIT_FILE));
    audit.read().is_ok_and(|(records, torn)| {
        let created_so = |r: &AuditRecord| r.phase != Phase::AboutTo || r.detail["demo"] == demo;
        torn.is_empty() && records.iter().all(|r| r.action == CREATE_PROJECT && created_so(r))
    })
}

/// When the audit log holds nothing but creations never done (each `create-project`, none `done`; the last
/// line may be torn, an "about to" cut by a full disk or a power loss), the ones a crash left at "about to":
/// the project was never made. `None` when it holds anything else.
fn creation_cut_short(audit: &AuditLog) -> Option<Vec<AuditRecord>> {
    let (records, torn) = audit.read().ok()?;
    let only_creations = records.iter().all(|r| r.action == CREATE_PROJECT && r.phase != Phase::Done);
    let last_line = records.len() + torn.len();
    let whole_but_the_last = torn.iter().all(|&line| line == last_line);
    (whole_but_the_last && only_creations).then(|| audit::interrupted(&records))
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<(), ProjectError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| ProjectError::Io { path: dir.to_owned(), source })?;
    let reports = dir.join(REPORTS_DIR);
    builder.create(&reports).map_err(|source| ProjectError::Io { path: reports, source })
}

/// Temporary files left by a save that was killed before its rename; harmless, but not worth keeping. Only
/// called with the lock held, so no other process is writing one.
fn remove_torn_temporaries(dir: &Path) {
    for folder in [dir.to_owned(), dir.join(live::LIVE_DIR)] {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kickoff::Field;

    #[test]
    fn create_change_reopen_keeps_the_values_and_audits_each_change() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let mut project = Project::create(&home, &name, false).expect("create");
        project
            .change(
                Some(crate::plan::kickoff::STAGE),
                "set-kickoff-field",
                serde_json::json!({"field": "Customer"}),
                |s| Field::Customer.apply(&mut s.kickoff, "Acme Corp"),
            )
            .expect("io")
            .expect("valid");
        let refused = project
            .change(
                Some(crate::plan::kickoff::STAGE),
                "set-kickoff-field",
                serde_json::json!({"field": "Tenant"}),
                |s| Field::Tenant.apply(&mut s.kickoff, "not a tenant"),
            )
            .expect("io");
        assert!(refused.is_err());
        assert_eq!(project.state().kickoff.tenant, None, "a refused change leaves the state as it was");
        drop(project);

        let (project, acquired) = Project::open(&home, &name).expect("reopen");
        assert_eq!(acquired, Acquired::Fresh);
        assert_eq!(project.state().kickoff.customer, "Acme Corp");
        let (records, bad) = project.audit().read().expect("audit");
        assert!(bad.is_empty());
        let phases: Vec<(String, Phase)> = records.iter().map(|r| (r.action.clone(), r.phase)).collect();
        assert_eq!(
            phases,
            vec![
                ("create-project".into(), Phase::AboutTo),
                ("create-project".into(), Phase::Done),
                ("set-kickoff-field".into(), Phase::AboutTo),
                ("set-kickoff-field".into(), Phase::Done),
            ]
        );
        assert_eq!(home.last_project(), Some(name));
    }

    #[test]
    fn a_folder_with_an_audit_log_but_no_state_is_damaged_not_new() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let project = Project::create(&home, &name, false).expect("create");
        let dir = project.dir().to_owned();
        drop(project);
        std::fs::remove_file(dir.join(STATE_FILE)).expect("delete state.json");
        let audit_before = std::fs::read(dir.join(AUDIT_FILE)).expect("audit");
        for err in
            [Project::open(&home, &name).expect_err("open"), Project::create(&home, &name, false).expect_err("create")]
        {
            assert!(matches!(err, ProjectError::Damaged { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains("damaged") && msg.contains("create-project done"), "{msg}");
            assert!(msg.contains("Restore state.json") && msg.contains("move the folder"), "{msg}");
        }
        assert!(!dir.join(STATE_FILE).exists(), "no empty state is written beside the old audit log");
        assert_eq!(std::fs::read(dir.join(AUDIT_FILE)).expect("audit"), audit_before);
    }

    /// The folder a creation leaves when it is killed right after its "about to", twice over.
    fn creation_cut_short_twice(home: &DataHome, name: &ProjectName) -> PathBuf {
        let dir = Project::create(home, name, false).expect("create").dir().to_owned();
        std::fs::remove_file(dir.join(STATE_FILE)).expect("delete state.json");
        let text = std::fs::read_to_string(dir.join(AUDIT_FILE)).expect("audit");
        let about = text.lines().next().expect("the about-to");
        std::fs::write(dir.join(AUDIT_FILE), format!("{about}\n{about}\n")).expect("write");
        dir
    }

    #[test]
    fn a_creation_cut_short_before_its_save_is_no_project_and_is_made_again() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let dir = creation_cut_short_twice(&home, &name);
        let audit_before = std::fs::read(dir.join(AUDIT_FILE)).expect("audit");
        let err = Project::open(&home, &name).expect_err("open");
        assert!(matches!(err, ProjectError::CreationCutShort { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("cut short") && msg.contains("`cutover new acme` again"), "{msg}");
        assert!(!msg.contains("damaged"), "{msg}");
        assert_eq!(std::fs::read(dir.join(AUDIT_FILE)).expect("audit"), audit_before, "open changes nothing");

        let project = Project::create(&home, &name, false).expect("made again");
        let (records, _) = project.audit().read().expect("audit");
        let phases: Vec<(&str, Phase, Option<&str>)> =
            records.iter().map(|r| (r.action.as_str(), r.phase, r.detail["found"].as_str())).collect();
        let create = "create-project";
        assert_eq!(
            phases,
            [
                (create, Phase::AboutTo, None),
                (create, Phase::AboutTo, None),
                (create, Phase::Checked, Some("not-done")),
                (create, Phase::Checked, Some("not-done")),
                (create, Phase::AboutTo, None),
                (create, Phase::Done, None),
            ]
        );
        assert!(audit::interrupted(&records).is_empty(), "nothing is left open");
        drop(project);
        assert!(Project::open(&home, &name).is_ok());
    }

    #[test]
    fn a_creation_cut_short_beside_other_records_is_damaged() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let dir = creation_cut_short_twice(&home, &name);
        let mut other = AuditLog::new(dir.join(AUDIT_FILE)).last_good().expect("a record");
        other.action = "set-kickoff-field".into();
        AuditLog::new(dir.join(AUDIT_FILE)).append(&other).expect("append");
        for err in
            [Project::open(&home, &name).expect_err("open"), Project::create(&home, &name, false).expect_err("create")]
        {
            assert!(matches!(err, ProjectError::Damaged { .. }), "{err:?}");
        }
        assert!(!dir.join(STATE_FILE).exists());
    }

    #[test]
    fn a_creation_whose_first_line_was_torn_is_cut_short_not_damaged() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let dir = home.project(&name);
        create_private_dir(&dir).expect("dir");
        // A full disk or a power loss cut the creation's "about to" mid-line.
        std::fs::write(dir.join(AUDIT_FILE), br#"{"time":"2026-12-01T19:00:00Z","actor":"eng","act"#).expect("torn");
        let err = Project::open(&home, &name).expect_err("open");
        assert!(matches!(err, ProjectError::CreationCutShort { .. }), "{err:?}");
        let project = Project::create(&home, &name, false).expect("made again");
        let (records, torn) = project.audit().read().expect("audit");
        assert_eq!(torn, [1], "the torn line is kept, and skipped");
        assert_eq!(records.last().map(|r| r.phase), Some(Phase::Done));
    }

    #[test]
    fn only_a_project_that_holds_nothing_but_its_creation_as_such_is_only_created() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let mut project = Project::create(&home, &name, false).expect("create");
        assert!(only_created(&home, &name, false));
        assert!(!only_created(&home, &name, true), "made as no demo, not a demo's to set up");
        project
            .change(None, "set-setting", serde_json::json!({}), |_| Ok::<(), std::convert::Infallible>(()))
            .expect("io")
            .expect("valid");
        assert!(!only_created(&home, &name, false), "a project with a change of its own is never set up over");
    }

    #[test]
    fn a_write_beside_the_state_that_fails_is_recorded_and_leaves_the_state() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let mut project = Project::create(&home, &ProjectName::parse("acme").expect("name"), false).expect("create");
        let state_before = std::fs::read(project.dir().join(STATE_FILE)).expect("state");
        let failed = project
            .change_with(None, "store-source-password", serde_json::json!({}), |_| Ok(()), || Err("keyring locked"))
            .expect("io");
        assert_eq!(failed, Err("keyring locked"));
        assert_eq!(std::fs::read(project.dir().join(STATE_FILE)).expect("state"), state_before);
        let (records, _) = project.audit().read().expect("audit");
        let last: Vec<Phase> = records.iter().rev().take(2).map(|r| r.phase).collect();
        assert_eq!(last, [Phase::Failed, Phase::AboutTo], "the write was begun, recorded, and failed");
    }

    #[test]
    fn a_project_has_one_id_for_life_and_a_new_one_under_the_same_name_another() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let project = Project::create(&home, &name, false).expect("create");
        let first = project.state().keyring_scope();
        let dir = project.dir().to_owned();
        drop(project);
        assert_eq!(Project::open(&home, &name).expect("open").0.state().keyring_scope(), first);
        std::fs::remove_dir_all(&dir).expect("delete the project");
        let again = Project::create(&home, &name, false).expect("create again");
        assert_ne!(again.state().keyring_scope(), first, "a new project does not inherit the old one's secrets");
        assert!(!again.state().keyring_scope().contains("acme"));
    }

    #[test]
    fn a_project_without_an_id_gets_one_on_first_open_audited_and_keeps_it() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let dir = Project::create(&home, &name, false).expect("create").dir().to_owned();
        // As an earlier cutover wrote it: no id.
        let path = dir.join(STATE_FILE);
        let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        json.as_object_mut().expect("object").remove("id");
        std::fs::write(&path, serde_json::to_vec(&json).expect("json")).expect("write");
        let (project, _) = Project::open(&home, &name).expect("open");
        let id = project.state().id.expect("an id on first open");
        let (records, _) = project.audit().read().expect("audit");
        assert!(records.iter().any(|r| r.action == "assign-project-id" && r.phase == Phase::Done));
        drop(project);
        assert_eq!(Project::open(&home, &name).expect("reopen").0.state().id, Some(id));
    }

    #[test]
    fn a_project_is_created_once_and_opened_by_one_process() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let name = ProjectName::parse("acme").expect("name");
        let project = Project::create(&home, &name, false).expect("create");
        assert!(matches!(Project::create(&home, &name, false), Err(ProjectError::Exists { .. })));
        assert!(matches!(Project::open(&home, &name), Err(ProjectError::Locked { .. })));
        drop(project);
        assert!(Project::open(&home, &name).is_ok());
        let missing = ProjectName::parse("nope").expect("name");
        let err = Project::open(&home, &missing).expect_err("missing");
        assert!(err.to_string().contains("cutover new nope"));
        assert_eq!(home.list().expect("list"), vec![name]);
    }
}
