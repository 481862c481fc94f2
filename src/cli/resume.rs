//! How a headless command opens a project: with its lock, then the writes a crash cut short read back and
//! recorded (the runner's [`crate::runner::resume`]), each told on stderr, before the command does anything.

use crate::project::{Acquired, DataHome, Project, ProjectName};
use crate::protocol::Resumed;
use crate::runner::connect::Connections;
use crate::runner::resume;
use crate::secrets::Secrets;
use std::sync::Arc;

/// Opens `name` for a command that changes it, reading back first what a crash cut short.
pub fn open(home: &DataHome, name: &ProjectName) -> color_eyre::Result<(Project, Acquired, Vec<Resumed>)> {
    let (mut project, acquired) = Project::open(home, name)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let writes = runtime.block_on(crate::m365::observed(
        super::out::waits(),
        resume::reconcile(&mut project, |state| {
            let secrets = Secrets::open().map_err(|e| e.to_string())?;
            Ok(Arc::new(Connections::new(&state.name, state, secrets)))
        }),
    ));
    lines(&writes);
    Ok((project, acquired, writes))
}

/// Each write read back, one line on stderr.
pub fn lines(writes: &[Resumed]) {
    for w in writes {
        super::out::warn(&format!("Resumed after a crash: {}", w.line()));
    }
}
