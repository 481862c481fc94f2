//! The plan's shared vocabulary: stage numbers, the shape of a stage's definition, typed task and check ids,
//! and the registry that puts the nine stages in order. Each stage's own tasks, checks and rules live in its
//! file (`plan/<stage>.rs`); this file names no stage but in the registry.
//! Ids are stable: they are the keys of `state.json` and of the audit log.

use super::settings::Setting;
use super::{final_sync, kickoff, migrate, mx, post, prepare, source, users, verify};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stage number, 1 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct StageId(u8);

impl StageId {
    /// A stage number known when compiling, as each stage's file declares its own.
    pub const fn at(n: u8) -> StageId {
        assert!(n >= 1 && n as usize <= STAGES, "a stage number is 1 to 9");
        StageId(n)
    }

    pub fn new(n: u8) -> Option<StageId> {
        (1..=STAGES as u8).contains(&n).then_some(StageId(n))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// Position in [`PLAN`].
    pub fn index(self) -> usize {
        usize::from(self.0 - 1)
    }

    pub fn def(self) -> &'static StageDef {
        PLAN[self.index()]
    }

    pub fn previous(self) -> Option<StageId> {
        StageId::new(self.0 - 1)
    }

    pub fn next(self) -> Option<StageId> {
        StageId::new(self.0 + 1)
    }

    pub fn first() -> StageId {
        StageId(1)
    }

    pub fn all() -> impl Iterator<Item = StageId> {
        (1..=STAGES as u8).map(StageId)
    }
}

impl TryFrom<u8> for StageId {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        StageId::new(n).ok_or_else(|| format!("stage {n} does not exist (stages are 1 to {STAGES})"))
    }
}

impl From<StageId> for u8 {
    fn from(id: StageId) -> u8 {
        id.0
    }
}

impl fmt::Display for StageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A task: something that changes the tenant, the source or the project record. Every task is idempotent.
#[derive(Debug)]
pub struct TaskDef {
    pub id: TaskId,
    pub title: &'static str,
    pub help: &'static str,
    /// A task of `cutover demo` only (it acts on the simulator), never shown or run in a real project.
    pub demo_only: bool,
}

/// A read-only check that gives Pass, Warn or Fail with evidence.
#[derive(Debug)]
pub struct CheckDef {
    pub id: CheckId,
    pub title: &'static str,
    pub help: &'static str,
}

#[derive(Debug)]
pub struct StageDef {
    pub id: StageId,
    pub title: &'static str,
    pub help: &'static str,
    pub tasks: &'static [TaskDef],
    pub checks: &'static [CheckDef],
    /// What the engineer sets in this stage's screen, in the order shown.
    pub settings: &'static [Setting],
}

impl StageDef {
    /// The check of this stage whose id is `id`, as typed on a command line or read from `state.json`.
    pub fn check(&self, id: &str) -> Option<&'static CheckDef> {
        self.checks.iter().find(|c| c.id.as_str() == id)
    }

    pub fn task(&self, id: &str) -> Option<&'static TaskDef> {
        self.tasks.iter().find(|t| t.id.as_str() == id)
    }
}

/// Declares a stage's task or check ids: an enum whose variants carry their stable text id.
macro_rules! plan_ids {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $id:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable id, as `state.json` and the audit log keep it.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $id),* }
            }

            pub fn parse(id: &str) -> Option<$name> {
                match id { $($id => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use plan_ids;

/// The registry: every stage in order, each by its file. Adding a stage means its files and one line here.
macro_rules! registry {
    ($($variant:ident => $module:ident),* $(,)?) => {
        /// A task of the plan, typed by its stage.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum TaskId { $($variant($module::Task)),* }

        /// A check of the plan, typed by its stage.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CheckId { $($variant($module::Check)),* }

        $(
            impl From<$module::Task> for TaskId {
                fn from(t: $module::Task) -> TaskId { TaskId::$variant(t) }
            }
            impl From<$module::Check> for CheckId {
                fn from(c: $module::Check) -> CheckId { CheckId::$variant(c) }
            }
        )*

        impl TaskId {
            pub fn stage(self) -> StageId {
                match self { $(TaskId::$variant(_) => $module::STAGE),* }
            }
            pub const fn as_str(self) -> &'static str {
                match self { $(TaskId::$variant(t) => t.as_str()),* }
            }
        }

        impl CheckId {
            pub fn stage(self) -> StageId {
                match self { $(CheckId::$variant(_) => $module::STAGE),* }
            }
            pub const fn as_str(self) -> &'static str {
                match self { $(CheckId::$variant(c) => c.as_str()),* }
            }
        }

        /// How many stages the plan has.
        pub const STAGES: usize = [$(stringify!($module)),*].len();

        /// The plan of the service, in order.
        pub static PLAN: [&StageDef; STAGES] = [$(&$module::DEF),*];
    };
}

registry! {
    Kickoff => kickoff,
    Source => source,
    Users => users,
    Prepare => prepare,
    Migrate => migrate,
    Verify => verify,
    Mx => mx,
    FinalSync => final_sync,
    Post => post,
}

impl TaskId {
    /// The task whose id is `id`, in any stage: ids are unique across the plan.
    pub fn parse(id: &str) -> Option<TaskId> {
        PLAN.iter().flat_map(|s| s.tasks).map(|t| t.id).find(|t| t.as_str() == id)
    }

    pub fn def(self) -> &'static TaskDef {
        let stage = self.stage().def();
        stage.tasks.iter().find(|t| t.id == self).unwrap_or(&stage.tasks[0])
    }
}

impl CheckId {
    /// The check of `stage` whose id is `id`.
    pub fn parse(stage: StageId, id: &str) -> Option<CheckId> {
        stage.def().check(id).map(|c| c.id)
    }

    pub fn def(self) -> &'static CheckDef {
        let stage = self.stage().def();
        stage.checks.iter().find(|c| c.id == self).unwrap_or(&stage.checks[0])
    }
}

impl Serialize for TaskId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TaskId, D::Error> {
        let id = String::deserialize(d)?;
        TaskId::parse(&id).ok_or_else(|| serde::de::Error::custom(format!("the plan has no task '{id}'")))
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn stages_are_numbered_in_order() {
        for (i, stage) in PLAN.iter().enumerate() {
            assert_eq!(stage.id.index(), i);
        }
    }

    #[test]
    fn ids_are_unique_within_a_stage() {
        for stage in PLAN {
            let mut seen = HashSet::new();
            for id in stage.tasks.iter().map(|t| t.id.as_str()).chain(stage.checks.iter().map(|c| c.id.as_str())) {
                assert!(seen.insert(id), "stage {} repeats id {id}", stage.id);
            }
            assert!(!stage.checks.is_empty(), "stage {} has no check", stage.id);
        }
    }

    #[test]
    fn task_ids_are_unique_across_the_plan_and_each_knows_its_stage() {
        let mut seen = HashSet::new();
        for stage in PLAN {
            for task in stage.tasks {
                assert!(seen.insert(task.id.as_str()), "{} is in two stages", task.id);
                assert_eq!(task.id.stage(), stage.id);
                assert_eq!(TaskId::parse(task.id.as_str()), Some(task.id));
                assert_eq!(task.id.def().title, task.title);
            }
            for check in stage.checks {
                assert_eq!(check.id.stage(), stage.id);
                assert_eq!(CheckId::parse(stage.id, check.id.as_str()), Some(check.id));
            }
        }
    }

    #[test]
    fn stage_ids_outside_the_plan_are_refused() {
        assert!(StageId::new(0).is_none());
        assert!(StageId::new(10).is_none());
        assert_eq!(StageId::new(9), Some(crate::plan::post::STAGE));
        assert!(serde_json::from_str::<StageId>("12").is_err());
    }
}
