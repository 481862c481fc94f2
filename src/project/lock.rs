//! `cutover.lock`: one cutover at a time per project. The file names the process that holds it; a lock left by
//! a process that died on this host is taken over, and the caller is told.

use super::ProjectError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    pub since: DateTime<Utc>,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {} since {}", self.pid, self.host, self.since.format("%Y-%m-%d %H:%M:%S UTC"))
    }
}

/// How a lock was had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    Fresh,
    /// The previous holder had died; its details are kept for the message.
    TookOverStale(LockInfo),
    /// The lock file could not be read (torn by a crash); it was replaced.
    ReplacedUnreadable,
}

/// Held while a project is open; removed on drop.
#[derive(Debug)]
pub struct ProjectLock {
    path: PathBuf,
    info: LockInfo,
}

impl ProjectLock {
    pub fn acquire(path: &Path) -> Result<(ProjectLock, Acquired), ProjectError> {
        let info = LockInfo { pid: std::process::id(), host: hostname(), since: Utc::now() };
        let mut acquired = Acquired::Fresh;
        // Two rounds: the second follows the removal of a stale lock.
        for _ in 0..2 {
            match Self::create(path, &info) {
                Ok(lock) => return Ok((lock, acquired)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(ProjectError::Io { path: path.to_owned(), source }),
            }
            let holder = std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str::<LockInfo>(&t).ok());
            match holder {
                Some(holder) if holder.host == info.host && !pid_alive(holder.pid) => {
                    acquired = Acquired::TookOverStale(holder);
                }
                Some(holder) => return Err(ProjectError::Locked { path: path.to_owned(), holder }),
                None => acquired = Acquired::ReplacedUnreadable,
            }
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(ProjectError::Io { path: path.to_owned(), source }),
            }
        }
        Err(ProjectError::Io {
            path: path.to_owned(),
            source: std::io::Error::other("another cutover took the lock at the same moment; try again"),
        })
    }

    fn create(path: &Path, info: &LockInfo) -> std::io::Result<ProjectLock> {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
        file.write_all(serde_json::to_string(info)?.as_bytes())?;
        file.sync_all()?;
        Ok(ProjectLock { path: path.to_owned(), info: info.clone() })
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Only remove the file if it is still ours.
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<LockInfo>(&t).ok())
            .is_some_and(|held| held == self.info);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its whole length; gethostname writes at most that many bytes.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".to_owned())
}

/// Whether a process with this pid runs on this host. Where that cannot be told, it is assumed alive.
fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(raw) = libc::pid_t::try_from(pid) else { return false };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let rc = unsafe { libc::kill(raw, 0) };
        let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        // A process that just died stays a zombie until its parent reaps it: signal 0 still finds it.
        exists && !zombie(pid)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Whether the process has exited and waits to be reaped (state `Z` in `/proc/PID/stat`, after the command name
/// in parentheses, which may itself hold spaces or parentheses).
#[cfg(target_os = "linux")]
fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn zombie(_pid: u32) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_lock(path: &Path, info: &LockInfo) {
        std::fs::write(path, serde_json::to_string(info).expect("json")).expect("write lock");
    }

    #[test]
    fn a_held_lock_names_its_holder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cutover.lock");
        let (lock, how) = ProjectLock::acquire(&path).expect("first");
        assert_eq!(how, Acquired::Fresh);
        let err = ProjectLock::acquire(&path).expect_err("second must fail");
        let msg = err.to_string();
        assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        assert!(msg.contains(&hostname()), "{msg}");
        drop(lock);
        assert!(!path.exists(), "the lock is removed on drop");
    }

    #[test]
    fn a_stale_lock_on_this_host_is_taken_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cutover.lock");
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let dead_pid = child.id();
        child.wait().expect("wait");
        let stale = LockInfo { pid: dead_pid, host: hostname(), since: Utc::now() };
        write_lock(&path, &stale);
        let (_lock, how) = ProjectLock::acquire(&path).expect("stale lock is taken over");
        assert_eq!(how, Acquired::TookOverStale(stale));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_that_died_but_was_not_reaped_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        // Not waited for: once it exits it stays a zombie, which signal 0 still finds.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !zombie(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!pid_alive(pid), "a zombie holds no lock");
        child.wait().expect("reap");
        assert!(pid_alive(std::process::id()));
    }

    #[test]
    fn a_lock_from_another_host_is_respected() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cutover.lock");
        write_lock(&path, &LockInfo { pid: 1, host: "jump-host-7".into(), since: Utc::now() });
        let err = ProjectLock::acquire(&path).expect_err("must fail");
        assert!(err.to_string().contains("jump-host-7"));
    }

    #[test]
    fn an_unreadable_lock_is_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cutover.lock");
        std::fs::write(&path, "{\"pid\":").expect("write");
        let (_lock, how) = ProjectLock::acquire(&path).expect("replaced");
        assert_eq!(how, Acquired::ReplacedUnreadable);
    }
}
