//! What is polled from the service (a watch's latest view: the batch, the mailboxes' statistics, DNS answers)
//! lives in `live/<name>.json`, apart from the engineer's decisions in `state.json`: a poll of 2,000 mailboxes
//! never rewrites `state.json`, and a crash never mixes the two. Each file is written atomically, and only when
//! what it holds changed.

use super::ProjectError;
use super::state::write_atomic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// The folder inside the project.
pub const LIVE_DIR: &str = "live";

/// A live file's name: letters, digits and '-' only, so it can never leave the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveName(&'static str);

impl LiveName {
    pub const fn new(name: &'static str) -> LiveName {
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            assert!(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-', "a live file name is letters, digits, '-'");
            i += 1;
        }
        assert!(!bytes.is_empty(), "a live file needs a name");
        LiveName(name)
    }
}

/// The project's live files.
#[derive(Debug, Clone)]
pub struct LiveStore {
    dir: PathBuf,
}

impl LiveStore {
    pub fn new(project_dir: &Path) -> LiveStore {
        LiveStore { dir: project_dir.join(LIVE_DIR) }
    }

    pub fn path(&self, name: LiveName) -> PathBuf {
        self.dir.join(format!("{}.json", name.0))
    }

    /// Writes `value` as `live/<name>.json` unless the file already holds exactly it; says whether it wrote.
    pub fn write_if_changed<T: Serialize>(&self, name: LiveName, value: &T) -> Result<bool, ProjectError> {
        let path = self.path(name);
        let mut json =
            serde_json::to_vec_pretty(value).map_err(|e| ProjectError::Io { path: path.clone(), source: e.into() })?;
        json.push(b'\n');
        if std::fs::read(&path).is_ok_and(|old| old == json) {
            return Ok(false);
        }
        super::create_private_dir(&self.dir)?;
        write_atomic(&path, &json)?;
        Ok(true)
    }

    /// The last value written as `live/<name>.json`; `None` when there is none yet. A file that cannot be read
    /// is an error naming it: polled data comes back with the next poll, so the caller may go on without it.
    pub fn read<T: DeserializeOwned>(&self, name: LiveName) -> Result<Option<T>, ProjectError> {
        let path = self.path(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ProjectError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ProjectError::Io { path, source: std::io::Error::new(std::io::ErrorKind::InvalidData, e) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WATCH: LiveName = LiveName::new("watch");

    #[test]
    fn a_value_is_written_once_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let live = LiveStore::new(dir.path());
        assert_eq!(live.read::<Vec<u32>>(WATCH).expect("nothing yet"), None);
        assert!(live.write_if_changed(WATCH, &vec![1, 2, 3]).expect("written"));
        assert!(!live.write_if_changed(WATCH, &vec![1, 2, 3]).expect("unchanged"), "the same value is not rewritten");
        assert!(live.write_if_changed(WATCH, &vec![4]).expect("changed"));
        assert_eq!(live.read::<Vec<u32>>(WATCH).expect("read"), Some(vec![4]));
        assert!(!dir.path().join("state.json").exists(), "live data never touches state.json");
    }

    #[test]
    fn a_torn_live_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let live = LiveStore::new(dir.path());
        std::fs::create_dir_all(dir.path().join(LIVE_DIR)).expect("dir");
        std::fs::write(live.path(WATCH), b"[1, 2").expect("write");
        let err = live.read::<Vec<u32>>(WATCH).expect_err("torn");
        assert!(err.to_string().contains("watch.json"), "{err}");
    }
}
