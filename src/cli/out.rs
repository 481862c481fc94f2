//! All data the headless commands print goes through here, so a reader that stops early (`| head`) ends the
//! command quietly and a stdout that cannot take the data (a full disk) is an error that says so, instead of a
//! panic from `println!`.

use std::io::Write;

/// Why stdout could not take what a command printed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader went away; nothing more is wanted, so the command ends quietly.
    #[error("stdout was closed by its reader")]
    Closed,
    #[error("cannot write to stdout ({0}); free space where the output goes, or send it elsewhere")]
    Failed(std::io::Error),
}

/// The exit code of a command whose reader closed stdout: what a shell reports for SIGPIPE (128 + 13).
pub const CLOSED_EXIT_CODE: u8 = 141;

/// Prints one formatted line to stdout and flushes it, so a write error is seen here and not lost at exit.
pub fn line(args: std::fmt::Arguments<'_>) -> Result<(), OutputError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args).and_then(|()| stdout.write_all(b"\n")).and_then(|()| stdout.flush()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe { OutputError::Closed } else { OutputError::Failed(e) }
    })
}

/// `outln!(...)` is `println!(...)` that returns an [`OutputError`] instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Prints `error: MESSAGE` to stderr with the control characters of what came from input escaped (a file name,
/// a CSV field), so none reaches the terminal raw. A stderr that cannot be written to has nowhere to complain.
pub fn error(message: &str) {
    let message = crate::safe_text::escape_controls(message, true);
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Prints a warning line to stderr, escaped like [`error`].
pub fn warn(message: &str) {
    let message = crate::safe_text::escape_controls(message, true);
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// Tells stderr what a request waits for, as it waits: a headless command is never silent for long.
pub fn waits() -> crate::m365::RetryObserver {
    std::sync::Arc::new(|notice: &crate::m365::RetryNotice| warn(&notice.to_string()))
}

/// True when `error` (or what it wraps) is stdout closed by its reader.
pub fn is_closed(error: &color_eyre::Report) -> bool {
    error.chain().any(|e| matches!(e.downcast_ref::<OutputError>(), Some(OutputError::Closed)))
}
