//! The wizard's whole event loop on ratatui's `TestBackend`, with a fake runner on the other end of the two
//! channels: a key goes out as a command, an event comes back, and the screen shows it.

use chrono::DateTime;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use cutover::plan::StageId;
use cutover::project::ProjectState;
use cutover::protocol::{Command, Event};
use cutover::tui::{App, Effect, Outside, Theme, event_loop};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Counts the frames and keeps the effects, as a real terminal would carry them out.
#[derive(Default)]
struct Recorder {
    begun: usize,
    ended: usize,
    effects: Vec<Effect>,
}

impl Outside for Recorder {
    fn effect(&mut self, effect: &Effect) {
        self.effects.push(effect.clone());
    }

    fn frame(&mut self, begin: bool) {
        if begin { self.begun += 1 } else { self.ended += 1 }
    }
}

fn key(c: char) -> std::io::Result<TermEvent> {
    Ok(TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let width = usize::from(buffer.area.width);
    buffer.content.chunks(width).map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n").collect()
}

#[tokio::test]
async fn a_key_becomes_a_command_and_the_runners_answer_changes_the_screen() {
    let created = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
    let state = ProjectState::new("acme", created, false);
    let mut app = App::new(state.clone(), None);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let (command_tx, mut command_rx) = mpsc::unbounded_channel();
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let (key_tx, key_rx) = futures::channel::mpsc::unbounded();
    let mut outside = Recorder::default();

    let runner = async {
        key_tx.unbounded_send(key('c')).expect("key");
        let command = command_rx.recv().await.expect("a command");
        assert_eq!(command, Command::RunChecks { stage: StageId::first() });
        let mut next = state.clone();
        next.kickoff.customer = "Fabrikam Engineering".into();
        let note = Some("Stage 1 checks: 2 run: 2 fail.".to_owned());
        // Two events at once: the loop handles both before it draws again.
        event_tx.send(Event::StateChanged { state: Arc::new(next.clone()), note: None }).expect("event");
        event_tx.send(Event::StateChanged { state: Arc::new(next), note }).expect("event");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        key_tx.unbounded_send(key('q')).expect("key");
        key_tx.unbounded_send(key('y')).expect("key");
    };
    let theme = Theme::new(false);
    let (result, ()) = tokio::join!(
        event_loop(&mut terminal, &mut app, &theme, key_rx, (&command_tx, &mut event_rx), &mut outside),
        runner
    );
    result.expect("the loop ends when the engineer quits");
    let text = screen(&terminal);
    assert!(text.contains("Fabrikam Engineering"), "{text}");
    assert!(text.contains("Stage 1 checks: 2 run: 2 fail."), "{text}");
    assert!(app.should_quit);
    assert_eq!(outside.begun, outside.ended, "every frame is closed");
    assert!(outside.begun <= 5, "redraws merge: {} frames for 3 keys and 2 events", outside.begun);
    assert!(outside.effects.is_empty());
}
