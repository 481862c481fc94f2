//! The dialogs over the stage screens, one file each: each keeps its own state, handles its own keys and says
//! in a [`Reply`] what it wants next (stay, close, commands for the runner, a notice, a clipboard copy).

pub mod confirm;
pub mod edit;
pub mod help;
pub mod import;
pub mod override_check;
pub mod password;
pub mod quit;
pub mod removals;
pub mod report;
pub mod sign_in;

use super::app::{Action, Effect, Notice};
use super::keys::Binding;
use crate::project::ProjectState;
use crate::protocol::Command;

/// The dialog that is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Edit(edit::Edit),
    Override(override_check::OverrideCheck),
    Import(import::Import),
    Report(report::Report),
    Removals(removals::Removals),
    Confirm(confirm::Confirm),
    Password(password::Password),
    SignIn(sign_in::SignIn),
    Help,
    Quit,
}

/// What a dialog wants after a key.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub close: bool,
    pub commands: Vec<Command>,
    pub notice: Option<Notice>,
    pub effects: Vec<Effect>,
    /// Forget the work waiting for a sign-in (the engineer cancelled it).
    pub forget_retries: bool,
    /// The engineer confirmed quitting.
    pub quit: bool,
    /// A field was saved: the cursor goes on to the next row.
    pub next_row: bool,
}

impl Reply {
    pub fn stay() -> Reply {
        Reply::default()
    }

    pub fn close() -> Reply {
        Reply { close: true, ..Reply::default() }
    }

    pub fn send(mut self, commands: impl IntoIterator<Item = Command>) -> Reply {
        self.commands.extend(commands);
        self
    }

    pub fn info(mut self, text: impl Into<String>) -> Reply {
        self.notice = Some(Notice::info(text));
        self
    }
}

impl Dialog {
    pub fn on_action(&mut self, action: Action, state: &ProjectState) -> Reply {
        match self {
            Dialog::Edit(d) => d.on_action(action, state),
            Dialog::Override(d) => d.on_action(action),
            Dialog::Import(d) => d.on_action(action),
            Dialog::Report(d) => d.on_action(action),
            Dialog::Removals(d) => d.on_action(action),
            Dialog::Confirm(d) => d.on_action(action),
            Dialog::Password(d) => d.on_action(action),
            Dialog::SignIn(d) => d.on_action(action),
            Dialog::Help => help::on_action(action),
            Dialog::Quit => quit::on_action(action),
        }
    }

    /// The dialog's keys, for the key map and the footer.
    pub fn keys(&self) -> &'static [Binding] {
        match self {
            Dialog::Edit(_) | Dialog::Override(_) | Dialog::Import(_) | Dialog::Password(_) => super::keys::TEXT,
            Dialog::Report(_) => report::KEYS,
            Dialog::Removals(_) => removals::KEYS,
            Dialog::Confirm(_) => confirm::KEYS,
            Dialog::SignIn(_) => sign_in::KEYS,
            Dialog::Help => help::KEYS,
            Dialog::Quit => quit::KEYS,
        }
    }

    /// Whether printable keys type into the dialog.
    pub fn takes_text(&self) -> bool {
        matches!(self, Dialog::Edit(_) | Dialog::Override(_) | Dialog::Import(_) | Dialog::Password(_))
    }
}

/// Draws `body` in a centred box titled `title`, of at most `width` x `height`.
pub fn boxed(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    title: &str,
    width: u16,
    height: u16,
    body: ratatui::widgets::Paragraph,
    theme: &super::Theme,
) {
    use ratatui::layout::{Constraint, Flex, Layout};
    use ratatui::text::Span;
    use ratatui::widgets::{Block, Clear};
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(Span::styled(title.to_owned(), theme.title)).border_style(theme.border_focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    frame.render_widget(body, inner);
}
