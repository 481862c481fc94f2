//! Property tests of the project's readers: `state.json` ([`super::state::load`]), the live files
//! ([`super::live::LiveStore::read`]) and `audit.jsonl` ([`super::audit::AuditLog::read`]). Any bytes, and
//! valid files spoiled, give a typed error or what the file says; never a panic, and the file is left as it was.

use super::ProjectError;
use super::audit::{AuditLog, AuditRecord, Phase};
use super::live::{LiveName, LiveStore};
use super::state::{ProjectState, load, save};
use crate::fuzz_support::{apply, json_value, mutate_json, spoil};
use crate::plan::migrate::view::tests::{read, stats, t0, user};
use crate::plan::migrate::view::{BatchView, apply_poll};
use crate::plan::mx::propagation::DnsView;
use chrono::DateTime;
use proptest::prelude::*;
use std::path::Path;

const BATCH: LiveName = LiveName::new("batch");
const DNS: LiveName = LiveName::new("dns");

/// One state for every case (a new one has a new random id).
static STATE: std::sync::LazyLock<ProjectState> = std::sync::LazyLock::new(|| {
    let mut s = ProjectState::new("acme", DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(), false);
    s.kickoff.customer = "Zoë & Søn, \"Ltd\"".into();
    s
});

fn state() -> ProjectState {
    STATE.clone()
}

fn state_bytes() -> Vec<u8> {
    serde_json::to_vec_pretty(&state()).unwrap_or_default()
}

fn batch_view() -> BatchView {
    let mut view = BatchView::default();
    let a = "a@contoso.com";
    let s = stats(a, crate::plan::migrate::UserStatus::Syncing, 10, 1 << 20, 1 << 30);
    apply_poll(&mut view, read(vec![user(a, crate::plan::migrate::UserStatus::Syncing, 10)], vec![s]), t0());
    view
}

/// Loads `bytes` as state.json; the file is never changed by a load, whatever it holds.
fn load_bytes(dir: &Path, bytes: &[u8]) -> Result<ProjectState, ProjectError> {
    let path = dir.join("state.json");
    std::fs::write(&path, bytes).map_err(|source| ProjectError::Io { path: path.clone(), source })?;
    let loaded = load(&path, &AuditLog::new(dir.join("audit.jsonl")));
    assert_eq!(std::fs::read(&path).ok().as_deref(), Some(bytes), "a load changed state.json");
    loaded
}

fn typed_state_error(e: &ProjectError) -> bool {
    matches!(e, ProjectError::CorruptState { .. } | ProjectError::NewerSchema { .. })
}

fn live_bytes<T: serde::de::DeserializeOwned>(dir: &Path, name: LiveName, bytes: &[u8]) -> Option<T> {
    let store = LiveStore::new(dir);
    let path = store.path(name);
    std::fs::create_dir_all(path.parent().unwrap_or(dir)).ok()?;
    std::fs::write(&path, bytes).ok()?;
    match store.read::<T>(name) {
        Ok(value) => value,
        Err(ProjectError::Io { path: named, source }) => {
            assert_eq!(named, path, "the error names the file");
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidData);
            None
        }
        Err(other) => panic!("an untyped live-file error: {other}"),
    }
}

proptest! {
    #[test]
    fn fuzz_state_any_bytes(bytes in any::<Vec<u8>>()) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Err(e) = load_bytes(dir.path(), &bytes) {
            prop_assert!(typed_state_error(&e), "{e}");
        }
    }

    /// A state.json cut short, given a BOM, CRLF line ends, stray bytes or doubled: a typed error naming the
    /// file, or (where the change is only whitespace) the state as saved.
    #[test]
    fn fuzz_state_spoiled(how in spoil()) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let good = state_bytes();
        let bad = apply(&good, &how);
        match load_bytes(dir.path(), &bad) {
            Ok(loaded) => {
                let only_space = bad.iter().filter(|b| !b.is_ascii_whitespace()).eq(good.iter().filter(|b| !b.is_ascii_whitespace()));
                if only_space || matches!(how, crate::fuzz_support::Spoil::Crlf) {
                    prop_assert_eq!(loaded, state());
                }
            }
            Err(e) => {
                prop_assert!(typed_state_error(&e), "{e}");
                prop_assert!(e.to_string().contains("state.json"), "{e}");
            }
        }
    }

    /// One field of a valid state.json set to a value of the wrong kind, an extreme one, or removed.
    #[test]
    fn fuzz_state_wrong_field(doc in mutate_json(serde_json::to_value(state()).unwrap_or_default())) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bytes = serde_json::to_vec(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match load_bytes(dir.path(), &bytes) {
            // What loads saves again and loads the same: nothing half-read is kept.
            Ok(loaded) => {
                save(&dir.path().join("again.json"), &loaded).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let again = load(&dir.path().join("again.json"), &AuditLog::new(dir.path().join("audit.jsonl")));
                prop_assert_eq!(again.ok(), Some(loaded));
            }
            Err(e) => prop_assert!(typed_state_error(&e), "{e}"),
        }
    }

    #[test]
    fn fuzz_live_files(bytes in any::<Vec<u8>>(), how in spoil(), doc in json_value()) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        live_bytes::<BatchView>(dir.path(), BATCH, &bytes);
        live_bytes::<DnsView>(dir.path(), DNS, &bytes);
        let good = serde_json::to_vec(&batch_view()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let spoiled = apply(&good, &how);
        if let Some(view) = live_bytes::<BatchView>(dir.path(), BATCH, &spoiled) {
            // Only a spoil that kept the JSON valid reads back, and then as a view that writes out again.
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&spoiled).is_ok());
            prop_assert!(serde_json::to_vec(&view).is_ok());
        }
        let other = serde_json::to_vec(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        live_bytes::<BatchView>(dir.path(), BATCH, &other);
        live_bytes::<DnsView>(dir.path(), DNS, &other);
    }

    /// Any lines in audit.jsonl: the good records are read, each bad line is named by its number.
    #[test]
    fn fuzz_audit_lines(lines in proptest::collection::vec(prop_oneof![
        any::<Vec<u8>>(),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        (spoil(), Just(())).prop_map(|(how, ())| apply(&good_record(), &how)),
        Just(good_record()),
    ], 0..12)) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("audit.jsonl");
        let body = lines.join(&b'\n');
        std::fs::write(&path, &body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let log = AuditLog::new(&path);
        let (records, bad) = log.read().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let total = body.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
        prop_assert_eq!(records.len() + bad.len(), total);
        prop_assert!(bad.iter().all(|&n| n >= 1 && n <= lines.len().max(1) + body.iter().filter(|&&b| b == b'\n').count()));
        prop_assert_eq!(log.last_good(), records.last().cloned());
        prop_assert_eq!(std::fs::read(&path).ok(), Some(body), "reading changed the log");
    }
}

fn good_record() -> Vec<u8> {
    serde_json::to_vec(&AuditRecord {
        time: t0(),
        actor: "engineer".into(),
        stage: None,
        action: "set-kickoff-field".into(),
        phase: Phase::Done,
        detail: serde_json::json!({"field": "customer"}),
        touches: None,
    })
    .unwrap_or_default()
}
