//! The wizard's state and its pure update function: `App::update(Msg) -> Vec<Command>`. No I/O happens here;
//! what must happen outside is returned as [`Command`]s for the runner.

use crate::plan::kickoff::Field;
use crate::plan::{Outcome, StageId};
use crate::project::ProjectState;
use crate::runner::{Command, Event};

use super::strings;
use super::widgets::input::{EditKey, TextInput};

/// What a key means, once the key map has read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    MoveUp,
    MoveDown,
    FocusNext,
    FocusStages,
    FocusMain,
    Activate,
    Cancel,
    RunChecks,
    Override,
    ToggleHelp,
    RequestQuit,
    ConfirmYes,
    ConfirmNo,
    Edit(EditKey),
}

/// Everything `update` reacts to: the engineer's actions and the runner's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Action(Action),
    Event(Event),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Stages,
    Main,
}

/// One line of the main pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Header(&'static str),
    Field(Field),
    Budget,
    Task(usize),
    Check(usize),
}

impl Row {
    fn selectable(self) -> bool {
        !matches!(self, Row::Header(_) | Row::Budget)
    }
}

/// The lines of a stage's main pane, in order.
pub fn rows(stage: StageId) -> Vec<Row> {
    let def = stage.def();
    let mut rows = Vec::new();
    if stage == StageId::KICKOFF {
        rows.push(Row::Header(strings::FORM_HEADER));
        rows.extend(Field::ALL.into_iter().map(Row::Field));
        rows.push(Row::Budget);
    }
    rows.push(Row::Header(strings::TASKS_HEADER));
    rows.extend((0..def.tasks.len()).map(Row::Task));
    rows.push(Row::Header(strings::CHECKS_HEADER));
    rows.extend((0..def.checks.len()).map(Row::Check));
    rows
}

/// The rows the cursor can rest on.
pub fn selectable_rows(stage: StageId) -> Vec<Row> {
    rows(stage).into_iter().filter(|r| r.selectable()).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Editing { field: Field, input: TextInput, error: Option<String> },
    Overriding { stage: StageId, check: &'static str, input: TextInput, error: Option<String> },
    Help,
    ConfirmQuit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The runner's latest copy of the project.
    pub state: ProjectState,
    pub stage: StageId,
    pub focus: Focus,
    /// Index into [`selectable_rows`] of the selected stage.
    pub cursor: usize,
    pub mode: Mode,
    pub notice: Option<Notice>,
    /// A line shown above everything, e.g. that this is a demo.
    pub banner: Option<String>,
    pub should_quit: bool,
}

impl App {
    pub fn new(state: ProjectState, banner: Option<String>) -> App {
        App {
            state,
            stage: StageId::KICKOFF,
            focus: Focus::Main,
            cursor: 0,
            mode: Mode::Normal,
            notice: None,
            banner,
            should_quit: false,
        }
    }

    /// The row under the cursor.
    pub fn selected_row(&self) -> Option<Row> {
        selectable_rows(self.stage).get(self.cursor).copied()
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { kind: NoticeKind::Info, text: text.into() });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice { kind: NoticeKind::Error, text: text.into() });
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Event(event) => {
                self.on_event(event);
                Vec::new()
            }
            Msg::Action(action) => self.on_action(action),
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::StateChanged(state) => {
                self.state = *state;
                self.info(strings::SAVED);
            }
            Event::Refused { what, reason } => self.error(strings::refused(&what, &reason)),
            Event::Failed { what, error } => self.error(strings::failed(&what, &error)),
            Event::NotAvailable { stage } => self.info(strings::not_available(stage)),
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Command> {
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal(action),
            Mode::Help => {
                if !matches!(action, Action::ToggleHelp | Action::Cancel | Action::RequestQuit | Action::Activate) {
                    self.mode = Mode::Help;
                }
                Vec::new()
            }
            Mode::ConfirmQuit => {
                match action {
                    Action::ConfirmYes => self.should_quit = true,
                    Action::ConfirmNo | Action::Cancel => {}
                    _ => self.mode = Mode::ConfirmQuit,
                }
                Vec::new()
            }
            Mode::Editing { field, mut input, error } => match action {
                Action::Edit(key) => {
                    input.apply(key);
                    self.mode = Mode::Editing { field, input, error };
                    Vec::new()
                }
                Action::Cancel => {
                    self.info(strings::EDIT_CANCELLED);
                    Vec::new()
                }
                Action::Activate => {
                    // Validate here too, so a typo is shown at once and the input is kept for correcting.
                    let mut probe = self.state.kickoff.clone();
                    match field.apply(&mut probe, input.value()) {
                        Ok(()) => {
                            self.notice = None;
                            self.move_cursor(1);
                            vec![Command::SetKickoffField { field, value: input.value().to_owned() }]
                        }
                        Err(e) => {
                            self.mode = Mode::Editing { field, input, error: Some(e.to_string()) };
                            Vec::new()
                        }
                    }
                }
                _ => {
                    self.mode = Mode::Editing { field, input, error };
                    Vec::new()
                }
            },
            Mode::Overriding { stage, check, mut input, error } => match action {
                Action::Edit(key) => {
                    input.apply(key);
                    self.mode = Mode::Overriding { stage, check, input, error };
                    Vec::new()
                }
                Action::Cancel => Vec::new(),
                Action::Activate => {
                    let reason = input.value().trim().to_owned();
                    if reason.chars().count() < crate::runner::MIN_OVERRIDE_REASON {
                        let error = Some(format!(
                            "Write at least {} characters: this reason goes into the closeout report.",
                            crate::runner::MIN_OVERRIDE_REASON
                        ));
                        self.mode = Mode::Overriding { stage, check, input, error };
                        return Vec::new();
                    }
                    vec![Command::Override { stage, check: check.to_owned(), reason }]
                }
                _ => {
                    self.mode = Mode::Overriding { stage, check, input, error };
                    Vec::new()
                }
            },
        }
    }

    fn normal(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::MoveUp | Action::MoveDown => {
                let delta = if action == Action::MoveUp { -1 } else { 1 };
                match self.focus {
                    Focus::Stages => self.move_stage(delta),
                    Focus::Main => self.move_cursor(delta),
                }
            }
            Action::FocusNext => {
                self.focus = if self.focus == Focus::Stages { Focus::Main } else { Focus::Stages };
            }
            Action::FocusStages | Action::Cancel => self.focus = Focus::Stages,
            Action::FocusMain => self.focus = Focus::Main,
            Action::Activate if self.focus == Focus::Stages => self.focus = Focus::Main,
            Action::Activate => return self.activate_row(),
            Action::RunChecks => {
                if !self.state.is_open(self.stage) {
                    self.error(strings::locked(self.stage));
                    return Vec::new();
                }
                return vec![Command::RunChecks { stage: self.stage }];
            }
            Action::Override => self.start_override(),
            Action::ToggleHelp => self.mode = Mode::Help,
            Action::RequestQuit => self.mode = Mode::ConfirmQuit,
            Action::ConfirmYes | Action::ConfirmNo | Action::Edit(_) => {}
        }
        Vec::new()
    }

    fn move_stage(&mut self, delta: i8) {
        let next = self.stage.number().saturating_add_signed(delta);
        if let Some(stage) = StageId::new(next) {
            self.stage = stage;
            self.cursor = 0;
        }
    }

    fn move_cursor(&mut self, delta: i8) {
        let len = selectable_rows(self.stage).len();
        self.cursor = self.cursor.saturating_add_signed(isize::from(delta)).min(len.saturating_sub(1));
    }

    fn activate_row(&mut self) -> Vec<Command> {
        match self.selected_row() {
            Some(Row::Field(field)) => {
                let input = TextInput::new(&field.current(&self.state.kickoff));
                self.mode = Mode::Editing { field, input, error: None };
            }
            Some(Row::Task(_)) if self.stage == StageId::KICKOFF => self.info(strings::KICKOFF_TASKS_BY_FORM),
            Some(Row::Task(_)) => self.info(strings::not_available(self.stage)),
            Some(Row::Check(i)) if self.outcome(i) == Outcome::Fail => self.start_override(),
            Some(Row::Check(_)) => return self.normal(Action::RunChecks),
            Some(Row::Header(_) | Row::Budget) | None => {}
        }
        Vec::new()
    }

    fn outcome(&self, check: usize) -> Outcome {
        let id = self.stage.def().checks[check].id;
        self.state.stage(self.stage).map_or(Outcome::NotRun, |r| r.outcome(id))
    }

    fn start_override(&mut self) {
        let Some(Row::Check(i)) = self.selected_row() else {
            self.info(strings::SELECT_FAILED_CHECK);
            return;
        };
        let check = self.stage.def().checks[i].id;
        if self.outcome(i) != Outcome::Fail {
            self.info(strings::SELECT_FAILED_CHECK);
        } else if self.state.stage(self.stage).and_then(|r| r.active_override(check)).is_some() {
            self.info(strings::ALREADY_OVERRIDDEN);
        } else {
            self.mode = Mode::Overriding { stage: self.stage, check, input: TextInput::default(), error: None };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::CheckResult;
    use chrono::DateTime;

    fn app() -> App {
        let created = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        App::new(ProjectState::new("acme", created, false), None)
    }

    fn act(app: &mut App, actions: &[Action]) -> Vec<Command> {
        actions.iter().flat_map(|a| app.update(Msg::Action(*a))).collect()
    }

    fn typing(s: &str) -> Vec<Action> {
        s.chars().map(|c| Action::Edit(EditKey::Char(c))).collect()
    }

    #[test]
    fn enter_edits_the_selected_field_and_enter_again_saves_it() {
        let mut app = app();
        assert_eq!(app.selected_row(), Some(Row::Field(Field::Customer)));
        let mut actions = vec![Action::Activate];
        actions.extend(typing("Acme Corp"));
        actions.push(Action::Activate);
        let commands = act(&mut app, &actions);
        assert_eq!(commands, vec![Command::SetKickoffField { field: Field::Customer, value: "Acme Corp".into() }]);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.selected_row(), Some(Row::Field(Field::PartnerName)), "the cursor moves on to the next field");
    }

    #[test]
    fn an_invalid_value_stays_in_the_editor_with_its_reason() {
        let mut app = app();
        app.cursor =
            selectable_rows(StageId::KICKOFF).iter().position(|r| *r == Row::Field(Field::Tenant)).expect("row");
        let mut actions = vec![Action::Activate];
        actions.extend(typing("contoso"));
        actions.push(Action::Activate);
        assert!(act(&mut app, &actions).is_empty());
        let Mode::Editing { input, error: Some(error), .. } = &app.mode else {
            panic!("still editing: {:?}", app.mode)
        };
        assert_eq!(input.value(), "contoso", "nothing typed is lost");
        assert!(error.contains("onmicrosoft.com"), "{error}");
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.mode, Mode::Normal);
    }

    #[test]
    fn quitting_asks_first() {
        let mut app = app();
        act(&mut app, &[Action::RequestQuit, Action::ConfirmNo]);
        assert!(!app.should_quit);
        assert_eq!(app.mode, Mode::Normal);
        act(&mut app, &[Action::RequestQuit, Action::MoveDown]);
        assert_eq!(app.mode, Mode::ConfirmQuit, "other keys keep the question open");
        act(&mut app, &[Action::ConfirmYes]);
        assert!(app.should_quit);
    }

    #[test]
    fn help_opens_and_closes() {
        let mut app = app();
        act(&mut app, &[Action::ToggleHelp]);
        assert_eq!(app.mode, Mode::Help);
        act(&mut app, &[Action::MoveDown]);
        assert_eq!(app.mode, Mode::Help);
        act(&mut app, &[Action::Cancel]);
        assert_eq!(app.mode, Mode::Normal);
    }

    #[test]
    fn the_stage_list_moves_and_stays_within_the_plan() {
        let mut app = app();
        act(&mut app, &[Action::FocusStages, Action::MoveUp]);
        assert_eq!(app.stage, StageId::KICKOFF);
        act(&mut app, &[Action::MoveDown, Action::MoveDown]);
        assert_eq!(app.stage, StageId::USERS);
        act(&mut app, &[Action::MoveDown; 20]);
        assert_eq!(app.stage, StageId::POST);
        act(&mut app, &[Action::Activate]);
        assert_eq!(app.focus, Focus::Main);
    }

    #[test]
    fn checks_of_a_locked_stage_are_not_run() {
        let mut app = app();
        act(&mut app, &[Action::FocusStages, Action::MoveDown]);
        assert!(act(&mut app, &[Action::RunChecks]).is_empty());
        assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("opens when stage 1")));
        act(&mut app, &[Action::MoveUp]);
        assert_eq!(act(&mut app, &[Action::RunChecks]), vec![Command::RunChecks { stage: StageId::KICKOFF }]);
    }

    #[test]
    fn a_failed_check_is_overridden_with_a_written_reason() {
        let mut app = app();
        let at = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
        app.state
            .stage_mut(StageId::KICKOFF)
            .checks
            .insert("cutover-limits".into(), CheckResult::new(Outcome::Fail, "2,500", at));
        app.cursor = selectable_rows(StageId::KICKOFF).iter().position(|r| *r == Row::Check(1)).expect("row");
        act(&mut app, &[Action::Override]);
        assert!(matches!(app.mode, Mode::Overriding { check: "cutover-limits", .. }));
        act(&mut app, &typing("too short"));
        assert!(act(&mut app, &[Action::Activate]).is_empty());
        assert!(matches!(app.mode, Mode::Overriding { error: Some(_), .. }));
        let mut actions = typing(" - customer signed off");
        actions.push(Action::Activate);
        assert_eq!(
            act(&mut app, &actions),
            vec![Command::Override {
                stage: StageId::KICKOFF,
                check: "cutover-limits".into(),
                reason: "too short - customer signed off".into()
            }]
        );
    }

    #[test]
    fn override_needs_a_failed_check_under_the_cursor() {
        let mut app = app();
        act(&mut app, &[Action::Override]);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.notice.as_ref().map(|n| n.text.as_str()), Some(strings::SELECT_FAILED_CHECK));
    }

    #[test]
    fn runner_events_update_the_state_and_the_notice() {
        let mut app = app();
        let mut next = app.state.clone();
        next.kickoff.customer = "Acme".into();
        app.update(Msg::Event(Event::StateChanged(Box::new(next))));
        assert_eq!(app.state.kickoff.customer, "Acme");
        app.update(Msg::Event(Event::Failed { what: "Customer".into(), error: "disk full".into() }));
        assert_eq!(app.notice.as_ref().map(|n| n.kind), Some(NoticeKind::Error));
        app.update(Msg::Event(Event::NotAvailable { stage: StageId::SOURCE }));
        assert!(app.notice.as_ref().is_some_and(|n| n.text.contains("not available yet")));
    }

    #[test]
    fn every_stage_has_rows_and_the_cursor_stays_on_them() {
        let mut app = app();
        for stage in StageId::all() {
            app.stage = stage;
            app.cursor = 0;
            act(&mut app, &[Action::MoveDown; 40]);
            assert_eq!(app.cursor, selectable_rows(stage).len() - 1);
            assert!(app.selected_row().is_some());
        }
    }
}
