//! The full-screen wizard. Keys become [`Action`]s through the key tables, the pure [`App::update`] turns them
//! into [`Command`](crate::protocol::Command)s, and the runner's [`Event`](crate::protocol::Event)s come back
//! through `update`. This module knows only the protocol: the loop takes the two channel ends, so a test can
//! drive it with a fake runner on ratatui's `TestBackend`.

pub mod app;
pub mod batch;
pub mod dialogs;
pub mod keys;
pub mod mailboxes;
pub mod screens;
pub mod stages;
pub mod strings;
pub mod theme;
pub mod widgets;

pub use app::{Action, App, Effect, Msg};
pub use screens::draw;
pub use theme::Theme;

use crate::protocol::{Command, Event, LOG_HINT};
use color_eyre::eyre::{WrapErr, eyre};
use crossterm::event::Event as TermEvent;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// What the wizard shows on opening besides the project.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// A line kept above everything, e.g. that this is a demo.
    pub banner: Option<String>,
    /// A one-off message, e.g. that a stale lock was taken over.
    pub notice: Option<String>,
}

/// What the terminal does besides drawing: the wizard's effects, and the frame's edges.
pub trait Outside {
    /// Carries out an effect (a clipboard copy).
    fn effect(&mut self, effect: &Effect);
    /// Before and after each frame: a real terminal wraps the frame in a synchronized update, so it shows
    /// whole frames only.
    fn frame(&mut self, _begin: bool) {}
}

/// The real terminal's side: OSC 52 for the clipboard, synchronized updates around each frame.
pub struct Stdout;

impl Outside for Stdout {
    fn effect(&mut self, effect: &Effect) {
        use base64::Engine;
        use std::io::Write;
        let mut out = std::io::stdout();
        // A failed write only loses the copy or the ring; the text stays on the screen. Over SSH the sequences
        // reach the engineer's own terminal, which is where they are needed.
        let _ = match effect {
            Effect::Copy(text) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                write!(out, "\x1b]52;c;{encoded}\x07")
            }
            Effect::Notify(text) => {
                // Terminals that know neither OSC 9 nor OSC 777 ignore them; every terminal rings the bell.
                let text: String = text.chars().filter(|c| !c.is_control() && *c != ';').collect();
                write!(out, "\x07\x1b]9;{text}\x07\x1b]777;notify;cutover;{text}\x07")
            }
        }
        .and_then(|()| out.flush());
    }

    fn frame(&mut self, begin: bool) {
        use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
        let mut out = std::io::stdout();
        // Terminals that do not know the sequence ignore it; a failed write only loses the tearing guard.
        let _ = if begin {
            crossterm::execute!(out, BeginSynchronizedUpdate)
        } else {
            crossterm::execute!(out, EndSynchronizedUpdate)
        };
    }
}

/// How often the screen is redrawn while something on it shows the time.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// The main loop, generic over the backend and the runner's channel ends. It redraws only after something
/// changed (a key, a resize, an event, a tick while the time is on screen), and draws once for all that was
/// queued meanwhile.
pub async fn event_loop<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    theme: &Theme,
    mut input: S,
    (commands, events): (&mpsc::UnboundedSender<Command>, &mut mpsc::UnboundedReceiver<Event>),
    outside: &mut dyn Outside,
) -> color_eyre::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    loop {
        if dirty {
            outside.frame(true);
            let drawn = terminal.draw(|frame| draw(frame, app, theme));
            outside.frame(false);
            drawn?;
            dirty = false;
        }
        if app.should_quit {
            return Ok(());
        }
        let ticking = app.needs_tick();
        let first = tokio::select! {
            term = input.next() => Input::Term(term),
            event = events.recv() => Input::Event(event),
            _ = ticker.tick(), if ticking => Input::Tick,
        };
        let mut next = Some(first);
        // Everything already queued is handled before the next frame: a burst of events draws once.
        while let Some(item) = next.take() {
            let msg = match item {
                Input::Term(Some(Ok(TermEvent::Key(key)))) => {
                    let action = keys::action_for(&app.key_tables(), app.takes_text(), key);
                    let hidden = terminal.size().is_ok_and(|s| {
                        screens::too_small::is_too_small(ratatui::layout::Rect::new(0, 0, s.width, s.height), app)
                    });
                    action.filter(|a| !hidden || screens::too_small::passes(app, a)).map(Msg::Action)
                }
                Input::Term(Some(Ok(TermEvent::Paste(text)))) => Some(Msg::Paste(text)),
                Input::Term(Some(Ok(TermEvent::Resize(..)))) => {
                    dirty = true;
                    None
                }
                Input::Term(Some(Ok(_))) => None,
                Input::Term(Some(Err(e))) => return Err(e).wrap_err("reading the terminal"),
                Input::Term(None) => return Ok(()),
                Input::Event(Some(event)) => Some(Msg::Event(event)),
                Input::Event(None) => return Err(eyre!("the runner stopped; see {LOG_HINT}")),
                Input::Tick => Some(Msg::Tick(chrono::Utc::now())),
            };
            if let Some(msg) = msg {
                for command in app.update(msg) {
                    commands.send(command).map_err(|_| eyre!("the runner stopped; see {LOG_HINT}"))?;
                }
                for effect in app.take_effects() {
                    outside.effect(&effect);
                }
                dirty = true;
            }
            if app.should_quit {
                break;
            }
            // Only the runner's queue is drained here: polling the terminal stream outside the select would
            // leave it holding a waker that nobody waits on, and the next key would never wake the loop.
            next = events.try_recv().ok().map(|event| Input::Event(Some(event)));
        }
    }
}

/// One thing the loop waits for.
enum Input {
    Term(Option<std::io::Result<TermEvent>>),
    Event(Option<Event>),
    Tick,
}

/// Takes the terminal over: raw mode and the alternate screen (ratatui), and bracketed paste, so a pasted text
/// arrives whole instead of as keys.
pub fn init_terminal() -> std::io::Result<ratatui::DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    if let Err(e) = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste) {
        ratatui::restore();
        return Err(e);
    }
    Ok(terminal)
}

/// Gives the terminal back as it was; safe to call twice, and on a terminal that is gone (SIGHUP).
pub fn restore_terminal() {
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
    ratatui::restore();
}

/// A panic restores the terminal and writes its report to the project's log, not over the screen.
pub fn install_panic_hook(log_path: PathBuf) {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .theme(color_eyre::config::Theme::new())
        .display_env_section(false)
        .into_hooks();
    // Installing twice in one process (tests) only means the first hook stays; that is fine.
    let _ = eyre_hook.install();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
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
