//! `state.json`: the project's current state. Written atomically (a temporary file in the same folder, fsynced,
//! then renamed over the old one, mode 0600), so a crash leaves either the old state or the new, never a mix.

use super::ProjectError;
use crate::inventory::Inventory;
use crate::plan::StageId;
use crate::plan::gating::{self, StageRecord, StageStatus};
use crate::plan::kickoff::Kickoff;
use crate::plan::source::{SourceAccess, SourceSettings};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

/// The version of the `state.json` layout this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectState {
    pub schema: u32,
    pub name: String,
    /// Made once when the project is created (or first opened, for an older project) and never changed: the
    /// keyring accounts are named by it, so a project made again under the same name, or a same-named project
    /// in another data folder, does not inherit another's sign-in or source password.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    /// A demo project, made by `cutover demo`; it may be recreated without asking.
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub kickoff: Kickoff,
    #[serde(default)]
    pub stages: BTreeMap<StageId, StageRecord>,
    /// The source mailboxes, from the last inventory import.
    #[serde(default)]
    pub inventory: Option<std::sync::Arc<Inventory>>,
    /// VIP mailboxes by primary SMTP address (lowercase); kept apart so a re-import keeps them.
    #[serde(default)]
    pub vips: BTreeSet<String>,
    #[serde(default)]
    pub source: SourceSettings,
    /// How to reach the source Exchange server (no secrets).
    #[serde(default)]
    pub source_access: SourceAccess,
    /// Stage 3: who creates the cloud accounts, their usage location and licence.
    #[serde(default)]
    pub users: crate::plan::users::UsersSettings,
    /// Stage 5: the batch watch's pace and the stall rule.
    #[serde(default)]
    pub migrate: crate::plan::migrate::MigrateSettings,
    /// Stage 6: the item-count tolerance.
    #[serde(default)]
    pub verify: crate::plan::verify::VerifySettings,
    /// Stage 7: when the MX change was made and when each resolver followed it.
    #[serde(default)]
    pub mx: crate::plan::mx::MxRecord,
    /// Stage 9: where the source's transport-rule export is.
    #[serde(default)]
    pub post: crate::plan::post::PostSettings,
    /// Stage 7: the public resolvers the propagation watch asks.
    #[serde(default)]
    pub dns: crate::plan::mx::DnsSettings,
    /// Each email domain's `MS=…` verification text, as the tenant gave it when the domain was added.
    #[serde(default)]
    pub verification: BTreeMap<String, String>,
    /// How to reach the tenant: cloud, client id, extra CA (no secrets).
    pub m365: crate::model::ConnectionSettings,
    /// The user account (UPN) of the project's last Microsoft 365 device code sign-in, while it is kept: who an
    /// override is recorded as. Not a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_as: Option<String>,
    /// A demo project's link to the embedded simulator, for the demo-only shortcuts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<SimulatorLink>,
    /// A rehearsal on the customer's own inventory (`cutover demo --inventory`): the simulated initial sync beside
    /// stage 2's estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rehearsal: Option<crate::plan::source::rehearsal::Rehearsal>,
    /// The change this state holds last, by the time of its "about to" audit record: how a resume after a crash
    /// tells whether a change cut short reached the disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<DateTime<Utc>>,
}

/// Where a demo project's simulator listens: its control API stands in for the customer's DNS registrar, so the
/// demo can publish a verification record without leaving the wizard. Real projects never have one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatorLink {
    pub control_url: String,
    /// The simulated server's inventory, written where the demo's import prompt offers it.
    #[serde(default)]
    pub inventory: Option<std::path::PathBuf>,
}

impl ProjectState {
    /// What the settings rows show.
    pub fn settings(&self) -> crate::plan::settings::Values<'_> {
        crate::plan::settings::Values {
            source: &self.source,
            access: &self.source_access,
            users: &self.users,
            migrate: &self.migrate,
            verify: &self.verify,
            post: &self.post,
            dns: &self.dns,
        }
    }

    /// What the settings rows change.
    pub fn settings_mut(&mut self) -> crate::plan::settings::ValuesMut<'_> {
        crate::plan::settings::ValuesMut {
            source: &mut self.source,
            access: &mut self.source_access,
            users: &mut self.users,
            migrate: &mut self.migrate,
            verify: &mut self.verify,
            post: &mut self.post,
            dns: &mut self.dns,
        }
    }

    pub fn new(name: &str, created_at: DateTime<Utc>, demo: bool) -> Self {
        ProjectState {
            schema: SCHEMA_VERSION,
            name: name.to_owned(),
            id: Some(uuid::Uuid::new_v4()),
            created_at,
            demo,
            kickoff: Kickoff::default(),
            stages: BTreeMap::new(),
            inventory: None,
            vips: BTreeSet::new(),
            source: SourceSettings::default(),
            source_access: SourceAccess::default(),
            users: Default::default(),
            migrate: Default::default(),
            verify: Default::default(),
            mx: Default::default(),
            post: Default::default(),
            dns: Default::default(),
            verification: BTreeMap::new(),
            m365: Default::default(),
            signed_in_as: None,
            simulator: None,
            rehearsal: None,
            last_change: None,
        }
    }

    /// What the project's keyring accounts start with (`<scope>/refresh-token` …): its id. A state without
    /// one (only before its first open) falls back to the name, as earlier versions did.
    /// Who a decision of the engineer's (an override) is recorded as: the signed-in account when known, else the
    /// user of this machine.
    pub fn decided_by(&self) -> String {
        self.signed_in_as.clone().unwrap_or_else(super::audit::current_actor)
    }

    pub fn keyring_scope(&self) -> String {
        self.id.map_or_else(|| self.name.clone(), |id| id.to_string())
    }

    pub fn stage(&self, id: StageId) -> Option<&StageRecord> {
        self.stages.get(&id)
    }

    pub fn stage_mut(&mut self, id: StageId) -> &mut StageRecord {
        self.stages.entry(id).or_default()
    }

    pub fn status(&self, id: StageId) -> StageStatus {
        gating::stage_status(id.def(), self.stage(id))
    }

    pub fn is_open(&self, id: StageId) -> bool {
        gating::is_open(id, &|s| self.status(s))
    }

    /// The status a stage is shown with: [`StageStatus::Locked`] while the stage before is not done.
    pub fn shown_status(&self, id: StageId) -> StageStatus {
        gating::shown_status(id, |s| self.status(s))
    }
}

/// Writes `state` to `path` atomically.
pub fn save(path: &Path, state: &ProjectState) -> Result<(), ProjectError> {
    let mut json =
        serde_json::to_vec_pretty(state).map_err(|e| ProjectError::Io { path: path.to_owned(), source: e.into() })?;
    json.push(b'\n');
    write_atomic(path, &json)
}

/// Writes `bytes` to a temporary file beside `path` (mode 0600), fsyncs it and renames it over `path`, then
/// syncs the folder: a crash leaves the old file or the new one, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProjectError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| ProjectError::Io { path: p, source }
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    #[cfg(unix)]
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    // The rename is durable only once the folder itself is synced.
    #[cfg(unix)]
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(())
}

/// Reads `state.json`. A file that does not parse is reported with the last good audit record; it is never
/// replaced or reset here.
pub fn load(path: &Path, audit: &super::audit::AuditLog) -> Result<ProjectState, ProjectError> {
    let bytes = std::fs::read(path).map_err(|source| ProjectError::Io { path: path.to_owned(), source })?;
    let corrupt = |reason: String| ProjectError::CorruptState {
        path: path.to_owned(),
        reason,
        last_audit: audit.last_good_summary(),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(corrupt("the file is empty".to_owned()));
    }
    // Read the schema first, so that a newer layout is named as such rather than as corruption.
    #[derive(Deserialize)]
    struct Schema {
        schema: u32,
    }
    let schema: Schema = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if schema.schema > SCHEMA_VERSION {
        return Err(ProjectError::NewerSchema {
            path: path.to_owned(),
            found: schema.schema,
            supported: SCHEMA_VERSION,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kickoff::Field;
    use crate::project::audit::{AuditLog, AuditRecord, Phase};

    fn state() -> ProjectState {
        let mut s = ProjectState::new("acme", DateTime::from_timestamp(1_790_000_000, 0).expect("valid"), false);
        s.id = Some(uuid::Uuid::from_u128(1));
        Field::Customer.apply(&mut s.kickoff, "Acme Corp").expect("valid");
        Field::Mailboxes.apply(&mut s.kickoff, "42").expect("valid");
        s
    }

    #[test]
    fn save_then_load_gives_the_same_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"));
        save(&path, &state()).expect("save");
        assert_eq!(load(&path, &audit).expect("load"), state());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file is left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_save_replaces_the_previous_state_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"));
        save(&path, &state()).expect("save");
        let mut next = state();
        next.kickoff.customer = "Acme International".into();
        save(&path, &next).expect("save again");
        assert_eq!(load(&path, &audit).expect("load").kickoff.customer, "Acme International");
    }

    #[test]
    fn a_truncated_state_names_the_file_and_the_last_audit_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"));
        audit
            .append(&AuditRecord {
                time: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
                actor: "eng".into(),
                stage: Some(crate::plan::kickoff::STAGE),
                action: "set-kickoff-field".into(),
                phase: Phase::Done,
                detail: serde_json::Value::Null,
                touches: None,
            })
            .expect("append");
        save(&path, &state()).expect("save");
        let full = std::fs::read(&path).expect("read");
        std::fs::write(&path, &full[..full.len() / 2]).expect("truncate");
        let err = load(&path, &audit).expect_err("truncated state must not load");
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("set-kickoff-field done"), "{msg}");
        assert!(msg.contains("Nothing was changed"), "{msg}");
        assert_eq!(std::fs::read(&path).expect("read").len(), full.len() / 2, "the file is left as it was");

        // A full disk tore the audit's last line too: the last good record is still named, the torn line skipped.
        std::fs::OpenOptions::new()
            .append(true)
            .open(audit.path())
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"time\":\"2026-"))
            .expect("tear");
        let msg = load(&path, &audit).expect_err("still truncated").to_string();
        assert!(msg.contains("set-kickoff-field done") && msg.contains("line 2 torn"), "{msg}");
        save(&path, &state()).expect("save");
        assert_eq!(load(&path, &audit).expect("a torn audit never stops a load"), state());
    }

    #[test]
    fn a_state_written_before_the_source_access_settings_loads_with_their_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"));
        let mut json = serde_json::to_value(state()).expect("json");
        json.as_object_mut().expect("object").remove("source_access");
        std::fs::write(&path, json.to_string()).expect("write");
        let loaded = load(&path, &audit).expect("load");
        assert_eq!(loaded.source_access, crate::plan::source::SourceAccess::default());
        assert_eq!(loaded, state());
    }

    #[test]
    fn an_empty_or_newer_state_is_refused_with_its_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"));
        std::fs::write(&path, "").expect("write");
        assert!(load(&path, &audit).expect_err("empty").to_string().contains("empty"));
        std::fs::write(&path, r#"{"schema": 99, "name": "x"}"#).expect("write");
        assert!(matches!(load(&path, &audit), Err(ProjectError::NewerSchema { found: 99, .. })));
    }
}
