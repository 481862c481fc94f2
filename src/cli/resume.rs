//! How a headless command opens a project: with its lock, then the writes a crash cut short read back and
//! recorded (the runner's [`crate::runner::resume`]), each told on stderr, before the command does anything.

use crate::project::{Acquired, DataHome, Project, ProjectError, ProjectName};
use crate::protocol::Resumed;
use crate::runner::connect::Connections;
use crate::runner::resume;
use crate::secrets::Secrets;
use std::sync::Arc;

/// Opens `name` for a command that changes it, reading back first what a crash cut short.
pub fn open(home: &DataHome, name: &ProjectName) -> color_eyre::Result<(Project, Acquired, Vec<Resumed>)> {
    let (mut project, acquired) = Project::open(home, name)?;
    let writes = read_back(&mut project)?;
    Ok((project, acquired, writes))
}

/// For a command that may run while the wizard has the project open (`auth login`): reads back as [`open`]
/// does, unless another cutover holds the project, which reads back itself; then it says so and goes on.
pub fn read_back_unless_open(home: &DataHome, name: &ProjectName) -> color_eyre::Result<()> {
    match Project::open(home, name) {
        Ok((mut project, _)) => read_back(&mut project).map(drop),
        Err(ProjectError::Locked { holder, .. }) => {
            super::out::warn(&format!(
                "Project {name} is open in another cutover ({holder}), which reads back what a crash cut short itself; signing in without it."
            ));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The writes of `project` a crash cut short, read back and recorded, each told on stderr.
fn read_back(project: &mut Project) -> color_eyre::Result<Vec<Resumed>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let writes = runtime.block_on(crate::m365::observed(
        super::out::waits(),
        resume::reconcile(project, |state| {
            let secrets = Secrets::open().map_err(|e| e.to_string())?;
            Ok(Arc::new(Connections::new(&state.name, state, secrets)))
        }),
    ));
    lines(&writes);
    Ok(writes)
}

/// For the commands that read a project without its lock (`status`, `report`): says on stderr which writes a
/// crash cut short are not read back yet, and what reads them back; they change nothing.
pub fn warn_unread(audit: &crate::project::AuditLog) {
    let Ok((records, _)) = audit.read() else { return };
    for w in crate::project::audit::interrupted(&records) {
        let stage = w.stage.map(|s| format!(" (stage {s})")).unwrap_or_default();
        super::out::warn(&format!(
            "warning: {} {}{stage} was cut short by a crash at {} and is not read back yet; `cutover open` or any \
             command that changes the project (`cutover check`) reads it back",
            w.action,
            w.detail,
            w.time.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
}

/// Each write read back, one line on stderr.
pub fn lines(writes: &[Resumed]) {
    for w in writes {
        super::out::warn(&format!("Resumed after a crash: {}", w.line()));
    }
}
