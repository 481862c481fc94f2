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
        "this project is open in another cutover ({holder}); close it there first. If that process is gone, delete {path}"
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
    /// recording nothing), records "about to", saves the copy atomically, then records "done" (or "failed" with
    /// the reason the save failed). The state in memory changes only once the new one is on disk. The saved
    /// state names the change it holds last (the time of its "about to"), so a resume after a crash between the
    /// save and "done" reads whether the change is in.
    pub fn change<E: std::fmt::Display>(
        &mut self,
        stage: Option<StageId>,
        action: &str,
        detail: serde_json::Value,
        apply: impl FnOnce(&mut ProjectState) -> Result<(), E>,
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

/// When the audit log holds nothing but creations never done (every line whole, each `create-project`, none
/// `done`), the ones a crash left at "about to": the project was never made. `None` when it holds anything else.
fn creation_cut_short(audit: &AuditLog) -> Option<Vec<AuditRecord>> {
    let (records, torn) = audit.read().ok()?;
    let only_creations = records.iter().all(|r| r.action == CREATE_PROJECT && r.phase != Phase::Done);
    (torn.is_empty() && only_creations).then(|| audit::interrupted(&records))
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
    fn a_refused_change_leaves_the_audit_log_and_the_state_byte_for_byte() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = DataHome::at(tmp.path());
        let mut project = Project::create(&home, &ProjectName::parse("acme").expect("name"), false).expect("create");
        let files =
            |p: &Project| [STATE_FILE, AUDIT_FILE].map(|f| std::fs::read(p.dir().join(f)).expect("a project file"));
        let before = files(&project);
        let refused = project
            .change(
                Some(crate::plan::kickoff::STAGE),
                "set-kickoff-field",
                serde_json::json!({"field": "Tenant"}),
                |s| Field::Tenant.apply(&mut s.kickoff, "not a tenant"),
            )
            .expect("io");
        assert!(refused.is_err());
        assert!(files(&project) == before, "a refused change wrote to state.json or audit.jsonl");
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
