//! The signals that end the wizard from outside: SIGTERM (a service manager, `kill`), SIGHUP (the SSH session
//! to the jump host dropped), SIGINT (`kill -INT`; in the wizard Ctrl-C is a key) and SIGQUIT. The wizard then
//! restores the terminal, lets the runner finish its writes and release the lock, and exits as the shell expects
//! of a process ended by that signal (128 + its number).

use std::fmt;
use std::process::ExitCode;

/// A signal that asks the process to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    name: &'static str,
    number: u8,
}

impl Signal {
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(128 + self.number)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The listeners, installed at once so that none of the signals keeps its default (die at once) meanwhile.
#[cfg(unix)]
pub struct Terminating {
    listeners: Vec<(Signal, tokio::signal::unix::Signal)>,
}

#[cfg(unix)]
impl Terminating {
    /// Must be called on a tokio runtime.
    pub fn listen() -> std::io::Result<Terminating> {
        use tokio::signal::unix::{SignalKind, signal};
        let wanted = [
            (Signal { name: "SIGTERM", number: 15 }, SignalKind::terminate()),
            (Signal { name: "SIGHUP", number: 1 }, SignalKind::hangup()),
            (Signal { name: "SIGINT", number: 2 }, SignalKind::interrupt()),
            (Signal { name: "SIGQUIT", number: 3 }, SignalKind::quit()),
        ];
        let listeners = wanted.into_iter().map(|(s, kind)| Ok((s, signal(kind)?))).collect::<std::io::Result<_>>()?;
        Ok(Terminating { listeners })
    }

    /// The first of the signals to arrive.
    pub async fn next(&mut self) -> Signal {
        let waits = self.listeners.iter_mut().map(|(signal, listener)| {
            Box::pin(async move {
                listener.recv().await;
                *signal
            })
        });
        futures::future::select_all(waits).await.0
    }
}

/// Elsewhere only Ctrl-C (Ctrl-Break) is delivered as a signal.
#[cfg(not(unix))]
pub struct Terminating;

#[cfg(not(unix))]
impl Terminating {
    pub fn listen() -> std::io::Result<Terminating> {
        Ok(Terminating)
    }

    pub async fn next(&mut self) -> Signal {
        // An error here means no handler could be installed: then nothing ever arrives.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        Signal { name: "Ctrl-C", number: 2 }
    }
}
