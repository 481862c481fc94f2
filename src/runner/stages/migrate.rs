//! Stage 5, Start migration: the tasks that make and start the cutover batch (`migrate/batch.rs`). The watch of
//! the batch and the stage's checks are not built yet, and the wizard says so.

pub mod batch;

use super::super::jobs::Job;
use super::super::work::{Done, m365, task_job};
use super::{NotStarted, StageWork, TaskInputs};
use crate::plan::TaskId;
use crate::plan::migrate::Task;
use crate::project::ProjectState;

pub struct Work;

impl StageWork for Work {
    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Migrate(which) = task else { return Err(NotStarted::NotBuilt) };
        let label = task.def().title;
        let name = batch::batch_name(&inputs.state.name);
        let job = match which {
            Task::CreateBatch => {
                let request = batch::BatchRequest {
                    name,
                    endpoint: super::prepare::ENDPOINT_NAME.to_owned(),
                    notification_emails: notification_emails(&inputs.state),
                    auto_start: false,
                };
                task_job(task, &[TaskId::Migrate(Task::CreateBatch)], label, move |ctx| async move {
                    let m365 = m365(&inputs.conn)?;
                    Ok(Done::ran(batch::create_batch(&ctx, &m365.exo, &request).await?))
                })
            }
            Task::StartBatch => task_job(task, &[TaskId::Migrate(Task::StartBatch)], label, move |ctx| async move {
                let m365 = m365(&inputs.conn)?;
                Ok(Done::ran(batch::start_batch(&ctx, &m365.exo, &name).await?))
            }),
        };
        Ok(job)
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        matches!(task, TaskId::Migrate(Task::CreateBatch | Task::StartBatch))
    }
}

/// Who Exchange mails when the batch finishes or fails: the partner's and the client's contacts.
fn notification_emails(state: &ProjectState) -> Vec<String> {
    let k = &state.kickoff;
    let mut emails: Vec<String> =
        [&k.partner.email, &k.client.email].into_iter().filter(|e| !e.is_empty()).cloned().collect();
    emails.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    emails
}
