//! Wires the wizard together: the project, the runner on its own task, the terminal and the TUI's event loop.
//! It lives outside `tui/` so that the TUI knows only the protocol and never the runner.

use crate::project::Project;
use color_eyre::eyre::WrapErr;
use crossterm::event::EventStream;
use std::process::ExitCode;

/// Runs the wizard on `project` in the terminal until the engineer quits or a signal ends it.
pub fn run(project: Project, startup: crate::tui::Startup) -> color_eyre::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run_async(project, startup))
}

/// The wizard on a runtime the caller owns (`cutover demo` runs the simulator beside it). The runtime must be
/// multi-threaded: the runner writes the project from a blocking section.
pub async fn run_async(project: Project, startup: crate::tui::Startup) -> color_eyre::Result<ExitCode> {
    let log_path = project.log_path();
    crate::logging::init(&log_path).wrap_err_with(|| format!("opening the log {}", log_path.display()))?;
    crate::tui::install_panic_hook(log_path.clone());
    tracing::info!(project = %project.state().name, "wizard opened");
    let mut app = crate::tui::App::new(project.snapshot(), startup.banner);
    // The batch's last view, so a restart shows it at once; a damaged file is only polled again.
    match project.live().read(crate::runner::stages::migrate::BATCH_LIVE) {
        Ok(view) => app.batch = view.map(std::sync::Arc::new),
        Err(e) => tracing::warn!(error = %e, "the batch's live view could not be read; the watch reads it again"),
    }
    if let Some(text) = startup.notice {
        app.info(text);
    }
    // Caught from before the terminal turns raw, so no signal can leave it raw.
    let mut signals = crate::signals::Terminating::listen().wrap_err("listening for signals")?;
    let resume: Vec<crate::plan::StageId> = crate::plan::StageId::all()
        .filter(|s| project.state().is_open(*s) && crate::runner::stages::of(*s).resume_on_open(project.state()))
        .collect();
    let mut runner = crate::runner::spawn(project);
    // A watch that was following something goes on by itself, from what it recorded.
    for stage in resume {
        tracing::info!(%stage, "resuming the stage's watch");
        let _ = runner.commands.send(crate::runner::Command::Watch { stage });
    }
    let mut terminal = crate::tui::init_terminal().wrap_err("cutover needs an interactive terminal")?;
    let theme = crate::tui::Theme::from_env();
    let mut outside = crate::tui::Stdout;
    let result = tokio::select! {
        ended = crate::tui::event_loop(
            &mut terminal,
            &mut app,
            &theme,
            EventStream::new(),
            (&runner.commands, &mut runner.events),
            &mut outside,
        ) => ended.map(|()| ExitCode::SUCCESS),
        signal = signals.next() => {
            tracing::warn!(%signal, "ending on a signal");
            Ok(signal.exit_code())
        }
    };
    crate::tui::restore_terminal();
    // Stops the jobs at a safe point, writes what they finished and releases the project's lock.
    runner.shutdown().await;
    tracing::info!("wizard closed");
    result
}
