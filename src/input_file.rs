//! Reading a file the engineer names (a CA certificate, the inventory): regular files only, so a FIFO cannot
//! block the command and a device such as /dev/zero cannot fill the memory, and never more than a bound.

use std::io::Read;
use std::path::{Path, PathBuf};

/// CA certificate files larger than this are refused: a PEM bundle of every public root is about 250 KB.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Why a named file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{} is not a regular file (a {kind}); give the path of a file", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{} is larger than {} MiB; that is not {what}", path.display(), limit / 1024 / 1024)]
    TooLarge { path: PathBuf, limit: u64, what: &'static str },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
}

impl InputFileError {
    /// What went wrong without the path, for messages that name the file already.
    pub fn reason(&self) -> String {
        match self {
            InputFileError::Open { source, .. } => format!("cannot be opened: {source}"),
            InputFileError::NotAFile { kind, .. } => format!("it is not a regular file (a {kind})"),
            InputFileError::TooLarge { limit, what, .. } => {
                format!("it is larger than {} MiB; that is not {what}", limit / 1024 / 1024)
            }
            InputFileError::Read { source, .. } => format!("cannot be read: {source}"),
        }
    }
}

/// Reads the regular file at `path`, refusing it when it holds more than `limit` bytes; `what` names what the
/// file should be, for the message.
pub fn read_limited(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputFileError> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| InputFileError::Read { path: path.to_owned(), source })?;
    if bytes.len() as u64 > limit {
        return Err(InputFileError::TooLarge { path: path.to_owned(), limit, what });
    }
    Ok(bytes)
}

/// A PEM file of CA certificates to trust, read within [`MAX_CA_FILE_BYTES`].
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, InputFileError> {
    read_limited(path, MAX_CA_FILE_BYTES, "a PEM file of CA certificates")
}

fn open_regular(path: &Path) -> Result<std::fs::File, InputFileError> {
    let not_a_file = |meta: &std::fs::Metadata| {
        let kind = file_kind(meta);
        (kind != "file").then(|| InputFileError::NotAFile { path: path.to_owned(), kind })
    };
    // Looked at before opening, since opening a FIFO waits for a writer.
    let meta = std::fs::metadata(path).map_err(|source| InputFileError::Open { path: path.to_owned(), source })?;
    if let Some(e) = not_a_file(&meta) {
        return Err(e);
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Non-blocking, so a path swapped for a FIFO after the look above does not block either.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|source| InputFileError::Open { path: path.to_owned(), source })?;
    let meta = file.metadata().map_err(|source| InputFileError::Open { path: path.to_owned(), source })?;
    match not_a_file(&meta) {
        Some(e) => Err(e),
        None => Ok(file),
    }
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_file() {
        return "file";
    }
    if kind.is_dir() {
        return "folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "named pipe";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "device";
        }
        if kind.is_socket() {
            return "socket";
        }
    }
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_bound_is_read_and_a_larger_one_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, b"12345").expect("write");
        assert_eq!(read_limited(&path, 5, "a test").expect("read"), b"12345");
        let err = read_limited(&path, 4, "a test").expect_err("too large");
        assert!(matches!(err, InputFileError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("ca.pem"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_folders_and_fifos_are_refused_without_reading() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        for (path, kind) in [(fifo.as_path(), "named pipe"), (Path::new("/dev/zero"), "device"), (dir.path(), "folder")]
        {
            let err = read_ca_file(path).expect_err("not a file");
            assert!(matches!(&err, InputFileError::NotAFile { kind: k, .. } if *k == kind), "{err}");
        }
    }
}
