//! Resume after a crash: as a project opens, the writes the audit log holds at "about to" with no outcome are
//! read back from what they touch (the project's state, or the tenant, the source or the simulated registrar
//! through the stage that made them), what was found is recorded in the audit log (phase `checked`, so a write
//! is read back once), and the engineer is told, before anything else runs. Nothing is repeated blindly: a task
//! run again reads first and writes only the difference.

use super::connect::Connections;
use super::stages;
use crate::project::audit::{self, Touches};
use crate::project::{AuditRecord, Project, ProjectState};
use crate::protocol::{Found, Resumed};
use futures::future::BoxFuture;
use std::sync::Arc;

/// What a stage read of one of its writes: whether the change is there (or whether that can be told at all),
/// and the evidence in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    pub found: Found,
    pub evidence: String,
}

impl ReadBack {
    pub fn done(evidence: impl Into<String>) -> ReadBack {
        ReadBack { found: Found::Done, evidence: evidence.into() }
    }

    pub fn not_done(evidence: impl Into<String>) -> ReadBack {
        ReadBack { found: Found::NotDone, evidence: evidence.into() }
    }

    /// What was read cannot tell: the change may still show later.
    pub fn unknown(evidence: impl Into<String>) -> ReadBack {
        ReadBack { found: Found::Unknown, evidence: evidence.into() }
    }

    /// `done` when `there`, with the evidence for either.
    pub fn from(there: bool, yes: impl Into<String>, no: impl Into<String>) -> ReadBack {
        if there { ReadBack::done(yes) } else { ReadBack::not_done(no) }
    }
}

/// How a stage reads one of its writes back: `None` when the action is not one of the stage's writes. An error
/// says why what it touches could not be read now (no sign-in, no connection); the write is read again at the
/// next open.
pub type Reading<'a> = Option<BoxFuture<'a, Result<ReadBack, String>>>;

/// The tenant's clients for a read-back, or why they could not be built (no sign-in): the write is then read
/// again at the next open.
pub fn tenant(conn: &Connections) -> Result<&crate::m365::M365, String> {
    conn.m365.as_ref().map_err(ToString::to_string)
}

/// The string field `key` of a write's detail, or why a reader cannot go on without it.
pub fn field<'a>(detail: &'a serde_json::Value, key: &str) -> Result<&'a str, String> {
    detail.get(key).and_then(serde_json::Value::as_str).ok_or_else(|| format!("its audit detail names no {key}"))
}

/// Reads back every write of `project`'s audit log that a crash cut short, records what was found and returns
/// it (oldest first). `connect` builds the tenant's and the source's clients, asked only when a write that
/// touches them is there.
pub async fn reconcile(
    project: &mut Project,
    connect: impl FnOnce(&ProjectState) -> Result<Arc<Connections>, String>,
) -> Vec<Resumed> {
    let records = match project.audit().read() {
        Ok((records, _)) => records,
        Err(e) => {
            tracing::error!(error = %e, "the audit log cannot be read to look for writes cut short");
            return Vec::new();
        }
    };
    let cut_short = audit::interrupted(&records);
    if cut_short.is_empty() {
        return Vec::new();
    }
    let state = project.state().clone();
    let needs_clients = cut_short.iter().any(|r| r.touches == Some(Touches::Outside));
    let conn = if needs_clients { Some(connect(&state)) } else { None };
    let mut resumed = Vec::new();
    for write in cut_short {
        let (found, evidence, recorded) = match write.touches {
            Some(Touches::Project) => {
                let (found, evidence) = project_change(&state, &write);
                (found, evidence, true)
            }
            Some(Touches::Outside) => match &conn {
                Some(Ok(conn)) => outside(&state, &write, conn).await,
                Some(Err(e)) => (Found::Unknown, format!("the connections could not be built: {e}"), false),
                None => (Found::Unknown, "no connection".to_owned(), false),
            },
            None => (
                Found::Unknown,
                "an older audit record says not what it touched; check it by hand before running its task again"
                    .to_owned(),
                true,
            ),
        };
        let recorded = recorded
            && record(project, &write, found, &evidence)
                .inspect_err(
                    |e| tracing::error!(error = %e, action = write.action, "could not record a write read back"),
                )
                .is_ok();
        tracing::warn!(action = write.action, found = found.word(), evidence, "a write cut short by a crash");
        resumed.push(Resumed {
            at: write.time,
            stage: write.stage,
            action: write.action.clone(),
            detail: write.detail.to_string(),
            found,
            evidence,
            recorded,
        });
    }
    resumed
}

/// A change of the project's own state: in when the saved state names it as its last change.
fn project_change(state: &ProjectState, write: &AuditRecord) -> (Found, String) {
    if state.last_change == Some(write.time) {
        (Found::Done, "state.json holds the change".to_owned())
    } else {
        (Found::NotDone, "state.json does not hold the change; it was not made".to_owned())
    }
}

/// A write to the tenant, the source or the registrar, read by the stage that made it.
async fn outside(state: &ProjectState, write: &AuditRecord, conn: &Connections) -> (Found, String, bool) {
    let Some(stage) = write.stage else {
        return (Found::Unknown, "it names no stage, so no reader knows it".to_owned(), true);
    };
    match stages::of(stage).read_back(state, write, conn) {
        None => (Found::Unknown, format!("this build does not know how to read back {}", write.action), true),
        Some(reading) => match reading.await {
            Ok(r) => (r.found, r.evidence, true),
            Err(e) => {
                (Found::Unknown, format!("it could not be read now ({e}); it is read again at the next open"), false)
            }
        },
    }
}

fn record(
    project: &Project,
    write: &AuditRecord,
    found: Found,
    evidence: &str,
) -> Result<(), crate::project::ProjectError> {
    project.audit().append(&AuditRecord::checked(write, found, evidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Phase;
    use crate::project::{DataHome, ProjectName};
    use crate::secrets::Secrets;
    use chrono::Utc;

    fn project(dir: &std::path::Path) -> Project {
        Project::create(&DataHome::at(dir), &ProjectName::parse("acme").expect("name"), false).expect("create")
    }

    fn mock(state: &ProjectState) -> Result<Arc<Connections>, String> {
        Ok(Arc::new(Connections::new(&state.name, state, Secrets::mock())))
    }

    /// The log without its last line: the crash came before that record was written.
    fn drop_last_line(project: &Project) {
        let text = std::fs::read_to_string(project.audit().path()).expect("audit");
        let mut lines: Vec<&str> = text.lines().collect();
        lines.pop();
        std::fs::write(project.audit().path(), lines.join("\n") + "\n").expect("write");
    }

    fn set_customer(project: &mut Project, name: &str) {
        project
            .change(
                Some(crate::plan::kickoff::STAGE),
                "set-kickoff-field",
                serde_json::json!({"field": "Customer"}),
                |s| crate::plan::kickoff::Field::Customer.apply(&mut s.kickoff, name),
            )
            .expect("io")
            .expect("valid");
    }

    #[tokio::test]
    async fn a_project_change_saved_before_the_crash_is_found_done_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut project = project(dir.path());
        set_customer(&mut project, "Acme Corp");
        drop_last_line(&project);
        let found = reconcile(&mut project, mock).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].action.as_str(), found[0].found, found[0].recorded),
            ("set-kickoff-field", Found::Done, true)
        );
        assert!(reconcile(&mut project, mock).await.is_empty(), "read back once");
        let (records, _) = project.audit().read().expect("audit");
        let last = records.last().expect("a record");
        assert_eq!((last.phase, last.detail["found"].as_str()), (Phase::Checked, Some("done")));
    }

    #[tokio::test]
    async fn a_project_change_not_saved_is_found_not_done() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut project = project(dir.path());
        // "About to" recorded, then the crash: the state was never saved.
        let about = AuditRecord {
            time: Utc::now(),
            actor: "eng".into(),
            stage: Some(crate::plan::kickoff::STAGE),
            action: "set-kickoff-field".into(),
            phase: Phase::AboutTo,
            detail: serde_json::json!({"field": "Customer"}),
            touches: Some(Touches::Project),
        };
        project.audit().append(&about).expect("append");
        let found = reconcile(&mut project, mock).await;
        assert_eq!(found.iter().map(|f| f.found).collect::<Vec<_>>(), [Found::NotDone]);
        assert!(found[0].evidence.contains("not made"), "{}", found[0].evidence);
    }

    #[tokio::test]
    async fn an_unknown_write_is_could_not_be_checked_never_guessed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut project = project(dir.path());
        let mut about = AuditRecord {
            time: Utc::now(),
            actor: "eng".into(),
            stage: Some(crate::plan::kickoff::STAGE),
            action: "launch-rocket".into(),
            phase: Phase::AboutTo,
            detail: serde_json::json!({"to": "the moon"}),
            touches: Some(Touches::Outside),
        };
        project.audit().append(&about).expect("append");
        // A known write whose clients cannot be built now (no tenant set): read again at the next open.
        about.stage = Some(crate::plan::prepare::STAGE);
        about.action = "add-domain".into();
        about.detail = serde_json::json!({"domain": "contoso.com"});
        project.audit().append(&about).expect("append");
        let found = reconcile(&mut project, mock).await;
        let got: Vec<(&str, Found, bool)> = found.iter().map(|f| (f.action.as_str(), f.found, f.recorded)).collect();
        assert_eq!(got, [("launch-rocket", Found::Unknown, true), ("add-domain", Found::Unknown, false)]);
        assert!(found[0].evidence.contains("does not know"), "{}", found[0].evidence);
        let again = reconcile(&mut project, mock).await;
        assert_eq!(again.iter().map(|f| f.action.as_str()).collect::<Vec<_>>(), ["add-domain"]);
    }
}
