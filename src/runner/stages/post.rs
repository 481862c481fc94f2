//! Stage 9, Post-migration: its task closeout-report (in `closeout`); its other checks and tasks are not built in
//! this version, and every request for them is answered with "not built yet", never faked.

pub mod closeout;

use super::super::jobs::Job;
use super::{NotStarted, StageWork, TaskInputs};
use crate::plan::TaskId;
use crate::plan::post::Task;

pub struct Work;

impl StageWork for Work {
    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        match task {
            TaskId::Post(Task::CloseoutReport) => Ok(closeout::job(task, inputs)),
            _ => Err(NotStarted::NotBuilt),
        }
    }
}
