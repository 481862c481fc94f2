//! `audit.jsonl`: the append-only record of every change, one JSON object per line. Each write is recorded
//! before it is made ("about-to") and after ("done" or "failed"), so that a resume after a crash knows what
//! may have happened and reads the live state instead of repeating an action blindly.

use super::ProjectError;
use crate::plan::StageId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    AboutTo,
    Done,
    Failed,
    /// A write left at "about to" by a crash, read back when the project opened again: `detail` holds the
    /// write's own detail, what was found (`found`: done, not-done or unknown) and the evidence.
    Checked,
}

/// What an audited write changes, so that a resume after a crash knows where to read it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Touches {
    /// The project's own `state.json` ([`super::Project::change`]).
    Project,
    /// The tenant, the source server or the simulated registrar ([`crate::runner::jobs::JobContext::audited`]).
    Outside,
}

/// One line of the audit log. `detail` never holds a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub time: DateTime<Utc>,
    pub actor: String,
    pub stage: Option<StageId>,
    pub action: String,
    pub phase: Phase,
    pub detail: serde_json::Value,
    /// What the write changes; none in logs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touches: Option<Touches>,
}

/// What the live state says of a write a crash cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// The change is there: it was made before the crash.
    Done,
    /// The change is not there: it never happened, and the task makes it when it runs again.
    NotDone,
    /// It could not be checked: the action is unknown to this build, or what it touches could not be read.
    Unknown,
}

impl Found {
    /// The word a `checked` record keeps under `found`.
    pub fn key(self) -> &'static str {
        match self {
            Found::Done => "done",
            Found::NotDone => "not-done",
            Found::Unknown => "unknown",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Found::Done => "done",
            Found::NotDone => "not done",
            Found::Unknown => "could not be checked",
        }
    }
}

impl AuditRecord {
    /// One line for people: `2026-11-25 07:10:00 UTC stage 1 set-kickoff-field done`.
    pub fn summary(&self) -> String {
        let stage = self.stage.map(|s| format!(" stage {s}")).unwrap_or_default();
        let phase = match self.phase {
            Phase::AboutTo => "about to",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::Checked => "checked after a crash",
        };
        format!("{}{stage} {} {phase}", self.time.format("%Y-%m-%d %H:%M:%S UTC"), self.action)
    }

    /// What a `checked` record found; `None` for a record of another phase.
    pub fn found(&self) -> Option<Found> {
        let word = self.detail.get("found").and_then(serde_json::Value::as_str);
        let found = [Found::Done, Found::NotDone, Found::Unknown].into_iter().find(|f| Some(f.key()) == word);
        found.filter(|_| self.phase == Phase::Checked)
    }

    /// The `checked` record of `write`, a write a crash left at "about to", once read back: the write's own
    /// detail under `detail`, what was found (`found`: done, not-done or unknown) and the evidence. It closes the
    /// write, so it is read back once.
    pub fn checked(write: &AuditRecord, found: Found, evidence: &str) -> AuditRecord {
        let word = found.key();
        AuditRecord {
            time: Utc::now(),
            actor: current_actor(),
            stage: write.stage,
            action: write.action.clone(),
            phase: Phase::Checked,
            detail: serde_json::json!({ "detail": write.detail, "found": word, "evidence": evidence }),
            touches: write.touches,
        }
    }
}

/// The person at the keyboard, as the audit log names them: the OS user from the environment, else the user id.
pub fn current_actor() -> String {
    actor_from(|v| std::env::var(v).ok())
}

fn actor_from(var: impl Fn(&str) -> Option<String>) -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| var(v).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
        .unwrap_or_else(os_user_id)
}

/// The OS user when the environment names none (a service, `env -i`, some containers).
#[cfg(unix)]
fn os_user_id() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("uid {}", unsafe { libc::getuid() })
}

#[cfg(not(unix))]
fn os_user_id() -> String {
    "an unnamed OS user".to_owned()
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and syncs it to disk. A line left unfinished by a crash is closed first, so that it
    /// spoils only itself.
    pub fn append(&self, record: &AuditRecord) -> Result<(), ProjectError> {
        let io = |source| ProjectError::Io { path: self.path.clone(), source };
        let mut line = serde_json::to_vec(record).map_err(|e| io(e.into()))?;
        line.push(b'\n');
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path).map_err(io)?;
        if file.metadata().map_err(io)?.len() > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1)).map_err(io)?;
            file.read_exact(&mut last).map_err(io)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        file.write_all(&line).map_err(io)?;
        file.sync_data().map_err(io)
    }

    /// Every record that parses, and the line numbers (1-based) of those that do not: a line torn by a full disk
    /// or a crash (cut short, without its newline, or garbled in the middle) is skipped with a warning in the
    /// log, never fatal.
    pub fn read(&self) -> Result<(Vec<AuditRecord>, Vec<usize>), ProjectError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(source) => return Err(ProjectError::Io { path: self.path.clone(), source }),
        };
        let mut records = Vec::new();
        let mut bad = Vec::new();
        for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
            let line = line.map_err(|source| ProjectError::Io { path: self.path.clone(), source })?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice(&line) {
                Ok(record) => records.push(record),
                Err(_) => bad.push(i + 1),
            }
        }
        if !bad.is_empty() {
            tracing::warn!(path = %self.path.display(), lines = ?bad, "audit lines that cannot be read were skipped");
        }
        Ok((records, bad))
    }

    /// The newest record that parses.
    pub fn last_good(&self) -> Option<AuditRecord> {
        self.read().ok().and_then(|(records, _)| records.into_iter().last())
    }

    /// The newest record that parses, in one line for people, with the lines skipped to find it named: what a
    /// message about a damaged project quotes.
    pub fn last_good_summary(&self) -> Option<String> {
        let (records, bad) = self.read().ok()?;
        let last = records.last()?.summary();
        Some(match bad.as_slice() {
            [] => last,
            bad => {
                let lines: Vec<String> = bad.iter().map(ToString::to_string).collect();
                let noun = if bad.len() == 1 { "line" } else { "lines" };
                format!(
                    "{last} ({} {noun} {} torn, by a full disk or a crash, and skipped)",
                    self.path.display(),
                    lines.join(", ")
                )
            }
        })
    }
}

/// The detail a write was recorded with, from any of its records: an outcome that wraps it (failed, checked)
/// holds it under `detail`.
pub fn write_detail(record: &AuditRecord) -> &serde_json::Value {
    match record.phase {
        Phase::Failed | Phase::Checked => record.detail.get("detail").unwrap_or(&record.detail),
        Phase::AboutTo | Phase::Done => &record.detail,
    }
}

/// The "about to" records with no outcome after them (done, failed, or checked after a crash): writes a crash
/// cut short, oldest first. Writes of concurrent jobs interleave, so an outcome closes the oldest open "about
/// to" of the same stage, action and detail.
pub fn interrupted(records: &[AuditRecord]) -> Vec<AuditRecord> {
    type Key = (Option<StageId>, String, String);
    let mut open: std::collections::HashMap<Key, std::collections::VecDeque<usize>> = Default::default();
    let mut left: Vec<Option<&AuditRecord>> = Vec::new();
    for r in records {
        let key = (r.stage, r.action.clone(), write_detail(r).to_string());
        if r.phase == Phase::AboutTo {
            open.entry(key).or_default().push_back(left.len());
            left.push(Some(r));
        } else if let Some(i) = open.get_mut(&key).and_then(std::collections::VecDeque::pop_front) {
            left[i] = None;
        }
    }
    left.into_iter().flatten().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str, phase: Phase) -> AuditRecord {
        AuditRecord {
            time: DateTime::from_timestamp(1_790_000_000, 0).expect("valid timestamp"),
            actor: "eng".into(),
            stage: Some(crate::plan::kickoff::STAGE),
            action: action.into(),
            phase,
            detail: serde_json::json!({"field": "Customer"}),
            touches: Some(Touches::Project),
        }
    }

    #[test]
    fn records_are_appended_one_per_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        log.append(&record("a", Phase::AboutTo)).expect("append");
        log.append(&record("a", Phase::Done)).expect("append");
        let text = std::fs::read_to_string(log.path()).expect("read");
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(|l| l.starts_with('{') && l.contains("\"phase\"")));
        assert!(text.contains("\"about-to\""));
        let (records, bad) = log.read().expect("read");
        assert_eq!(records, vec![record("a", Phase::AboutTo), record("a", Phase::Done)]);
        assert!(bad.is_empty());
    }

    #[test]
    fn a_torn_last_line_spoils_only_itself() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        log.append(&record("first", Phase::Done)).expect("append");
        let mut f = OpenOptions::new().append(true).open(log.path()).expect("open");
        f.write_all(b"{\"time\":\"2026-").expect("write");
        drop(f);
        log.append(&record("after-crash", Phase::Done)).expect("append");
        let (records, bad) = log.read().expect("read");
        assert_eq!(records.len(), 2);
        assert_eq!(bad, vec![2]);
        assert_eq!(log.last_good().map(|r| r.action), Some("after-crash".into()));
    }

    #[test]
    fn lines_torn_by_a_full_disk_are_skipped_with_a_warning_never_fatal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        log.append(&record("first", Phase::Done)).expect("append");
        let mut f = OpenOptions::new().append(true).open(log.path()).expect("open");
        // Garbage in the middle (a block of a full disk), then a good line, then a last line without its newline.
        f.write_all(b"\0\0\0\0{\"time\": tru\n").expect("write");
        f.write_all(&serde_json::to_vec(&record("second", Phase::Done)).expect("json")).expect("write");
        f.write_all(b"\n{\"time\":\"2026-09-21T14:1").expect("write");
        drop(f);
        let (records, bad) = log.read().expect("a torn log still reads");
        assert_eq!(records.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["first", "second"]);
        assert_eq!(bad, vec![2, 4]);
        assert_eq!(log.last_good().map(|r| r.action), Some("second".into()));
        let summary = log.last_good_summary().expect("a good record");
        assert!(summary.contains("second done") && summary.contains("lines 2, 4 torn"), "{summary}");
    }

    #[test]
    fn the_actor_is_the_os_user_or_else_the_uid_never_unknown() {
        assert_eq!(actor_from(|v| (v == "LOGNAME").then(|| "eng".to_owned())), "eng");
        assert_eq!(actor_from(|v| (v == "USER").then(|| "  ".to_owned())), os_user_id());
        let nobody = actor_from(|_| None);
        assert_ne!(nobody, "unknown");
        #[cfg(unix)]
        assert!(nobody.starts_with("uid "), "{nobody}");
    }

    #[test]
    fn a_write_without_an_outcome_is_interrupted_until_checked() {
        let mut a = record("add-domain", Phase::AboutTo);
        a.detail = serde_json::json!({"domain": "a.com"});
        let mut b = a.clone();
        b.detail = serde_json::json!({"domain": "b.com"});
        let mut b_failed = b.clone();
        b_failed.phase = Phase::Failed;
        b_failed.detail = serde_json::json!({"detail": b.detail, "error": "403"});
        let log = vec![a.clone(), b.clone(), b_failed, a.clone()];
        // The first a is closed by nothing, the second neither: both are open, and b failed.
        assert_eq!(interrupted(&log), vec![a.clone(), a.clone()]);
        let mut checked = a.clone();
        checked.phase = Phase::Checked;
        checked.detail = serde_json::json!({"detail": a.detail, "found": "done"});
        let mut done = a.clone();
        done.phase = Phase::Done;
        assert_eq!(interrupted(&[log, vec![checked, done]].concat()), Vec::<AuditRecord>::new());
        let old_line =
            r#"{"time":"2026-01-01T00:00:00Z","actor":"e","stage":4,"action":"x","phase":"about-to","detail":null}"#;
        let old: AuditRecord = serde_json::from_str(old_line).expect("a record of an older log reads");
        assert_eq!(old.touches, None);
    }

    #[test]
    fn summary_reads_as_a_sentence() {
        assert_eq!(
            record("set-kickoff-field", Phase::AboutTo).summary(),
            "2026-09-21 14:13:20 UTC stage 1 set-kickoff-field about to"
        );
    }
}
