//! Tracing to the project's `cutover.log`. Nothing logged here may carry a secret: spans name hosts, paths and
//! statuses, never headers or bodies.

use std::path::Path;
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;

/// Sends tracing output to `path` (appended, mode 0600). `CUTOVER_LOG` sets the filter (default `info`).
/// A second call in the same process keeps the first destination.
pub fn init(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    let filter = EnvFilter::try_from_env("CUTOVER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_writer(Mutex::new(file)).with_ansi(false).with_env_filter(filter).try_init();
    Ok(())
}
