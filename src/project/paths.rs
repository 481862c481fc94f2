//! Where projects live: `$CUTOVER_HOME`, else the platform's data folder (`$XDG_DATA_HOME/cutover` on Linux).

use super::ProjectError;
use std::path::{Path, PathBuf};

/// The data folder that holds `projects/` and the name of the last project opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataHome(PathBuf);

impl DataHome {
    /// `CUTOVER_HOME` when set, else the platform's data folder.
    pub fn from_env() -> Result<Self, ProjectError> {
        if let Some(home) = std::env::var_os("CUTOVER_HOME").filter(|v| !v.is_empty()) {
            return Ok(DataHome(PathBuf::from(home)));
        }
        dirs::data_dir().map(|d| DataHome(d.join("cutover"))).ok_or(ProjectError::NoDataHome)
    }

    pub fn at(path: impl Into<PathBuf>) -> Self {
        DataHome(path.into())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn projects(&self) -> PathBuf {
        self.0.join("projects")
    }

    pub fn project(&self, name: &ProjectName) -> PathBuf {
        self.projects().join(name.as_str())
    }

    fn last_file(&self) -> PathBuf {
        self.0.join("last-project")
    }

    /// The project opened most recently, if it still exists.
    pub fn last_project(&self) -> Option<ProjectName> {
        let text = std::fs::read_to_string(self.last_file()).ok()?;
        let name = ProjectName::parse(text.trim()).ok()?;
        self.project(&name).join(super::STATE_FILE).exists().then_some(name)
    }

    pub fn remember_last(&self, name: &ProjectName) -> Result<(), ProjectError> {
        let path = self.last_file();
        std::fs::write(&path, name.as_str()).map_err(|source| ProjectError::Io { path, source })
    }

    /// The names of every project, sorted.
    pub fn list(&self) -> Result<Vec<ProjectName>, ProjectError> {
        let dir = self.projects();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(ProjectError::Io { path: dir, source }),
        };
        let mut names: Vec<ProjectName> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join(super::STATE_FILE).exists())
            .filter_map(|e| ProjectName::parse(&e.file_name().to_string_lossy()).ok())
            .collect();
        names.sort();
        Ok(names)
    }
}

/// A project's name, safe as a folder name on every platform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(name: &str) -> Result<Self, ProjectError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with(['.', '-'])
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok { Ok(ProjectName(name.to_owned())) } else { Err(ProjectError::BadName(name.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_folder_names() {
        for good in ["acme", "Acme-2026", "contoso.migration", "a_b"] {
            assert!(ProjectName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "-flag", "a/b", "..", "a b", "ü", &"x".repeat(65)] {
            assert!(ProjectName::parse(bad).is_err(), "{bad}");
        }
    }
}
