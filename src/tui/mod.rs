//! The full-screen wizard. Keys become [`Action`]s, the pure [`App::update`] turns them into
//! [`Command`](crate::runner::Command)s for the runner, and the runner's events come back through `update`.
//! Nothing here touches the network or the project files: that is the runner's work.

pub mod app;
pub mod keys;
pub mod mailboxes;
pub mod screens;
pub mod strings;
pub mod theme;
pub mod widgets;

pub use app::{Action, App, Msg};
pub use screens::draw;
pub use theme::Theme;

use crate::project::Project;
use crate::runner::{self, RunnerHandle};
use color_eyre::eyre::{WrapErr, eyre};
use crossterm::event::{Event as TermEvent, EventStream};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::path::{Path, PathBuf};

/// What the wizard shows on opening besides the project.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// A line kept above everything, e.g. that this is a demo.
    pub banner: Option<String>,
    /// A one-off message, e.g. that a stale lock was taken over.
    pub notice: Option<String>,
}

/// Runs the wizard on `project` in the terminal until the engineer quits.
pub fn run(project: Project, startup: Startup) -> color_eyre::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run_async(project, startup))
}

/// The wizard on a runtime the caller owns (`cutover demo` runs the simulator beside it). The runtime must be
/// multi-threaded: the runner writes the project from a blocking section.
pub async fn run_async(project: Project, startup: Startup) -> color_eyre::Result<()> {
    let log_path = project.log_path();
    crate::logging::init(&log_path).wrap_err_with(|| format!("opening the log {}", log_path.display()))?;
    install_panic_hook(log_path.clone());
    tracing::info!(project = %project.state().name, "wizard opened");
    let mut app = App::new(project.state().clone(), startup.banner);
    if let Some(text) = startup.notice {
        app.notice = Some(app::Notice { kind: app::NoticeKind::Info, text });
    }
    let mut runner = runner::spawn(project);
    let mut terminal = ratatui::try_init().wrap_err("cutover needs an interactive terminal")?;
    let mut copy = copy_with_osc52;
    let result =
        event_loop(&mut terminal, &mut app, &Theme::from_env(), EventStream::new(), &mut runner, &mut copy).await;
    ratatui::restore();
    runner.shutdown().await;
    tracing::info!("wizard closed");
    result
}

/// The main loop, generic over the backend so tests can run it on ratatui's `TestBackend`. It redraws only
/// after something changed: a key, a resize or an event from the runner.
pub async fn event_loop<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    theme: &Theme,
    mut input: S,
    runner: &mut RunnerHandle,
    copy: &mut dyn FnMut(&str),
) -> color_eyre::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|frame| draw(frame, app, theme))?;
            dirty = false;
        }
        if app.should_quit {
            return Ok(());
        }
        let msg = tokio::select! {
            term = input.next() => match term {
                Some(Ok(TermEvent::Key(key))) => keys::action_for(&app.mode, key).map(Msg::Action),
                Some(Ok(TermEvent::Resize(..))) => {
                    dirty = true;
                    None
                }
                Some(Ok(_)) => None,
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                None => return Ok(()),
            },
            event = runner.events.recv() => match event {
                Some(event) => Some(Msg::Event(event)),
                None => return Err(eyre!("the runner stopped; see {}", runner::LOG_HINT)),
            },
        };
        if let Some(msg) = msg {
            for command in app.update(msg) {
                if let runner::Command::CopyToClipboard(text) = &command {
                    copy(text);
                    continue;
                }
                runner.commands.send(command).map_err(|_| eyre!("the runner stopped; see {}", runner::LOG_HINT))?;
            }
            dirty = true;
        }
    }
}

/// Asks the terminal to put `text` on the clipboard (OSC 52). Terminals that do not support it ignore it; over
/// SSH it reaches the engineer's own terminal, which is where the code is needed.
fn copy_with_osc52(text: &str) {
    use base64::Engine;
    use std::io::Write;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    // A failed write only means no copy; the code stays on the screen.
    let _ = write!(out, "\x1b]52;c;{encoded}\x07").and_then(|()| out.flush());
}

/// A panic restores the terminal and writes its report to the project's log, not over the screen.
fn install_panic_hook(log_path: PathBuf) {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .theme(color_eyre::config::Theme::new())
        .display_env_section(false)
        .into_hooks();
    // Installing twice in one process (tests) only means the first hook stays; that is fine.
    let _ = eyre_hook.install();
    std::panic::set_hook(Box::new(move |info| {
        ratatui::restore();
        let report = panic_hook.panic_report(info).to_string();
        let saved = append_to_log(&log_path, &report);
        match saved {
            Ok(()) => eprintln!(
                "cutover stopped on an internal error. The report is in {}; everything saved before it is kept.",
                log_path.display()
            ),
            Err(_) => eprintln!("cutover stopped on an internal error:\n{report}"),
        }
    }));
}

fn append_to_log(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(file, "{} PANIC {text}", chrono::Utc::now().to_rfc3339())?;
    file.sync_data()
}
