//! Stage 3, Users / directory sync: who creates the cloud accounts (a setting, edited from its task), and the
//! pre-creation tasks, which run only when the engineer chose to pre-create.

use super::Screen;
use crate::plan::TaskId;
use crate::plan::settings::Setting;
use crate::plan::users::{Provisioning, Task};
use crate::protocol::Command;
use crate::tui::app::App;
use crate::tui::dialogs::edit::EditTarget;
use crate::tui::strings;

pub struct Users;

impl Screen for Users {
    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        match task {
            TaskId::Users(Task::ChooseProvisioning) => {
                app.start_edit(EditTarget::Setting(Setting::Provisioning));
                Vec::new()
            }
            _ if app.state.users.provisioning == Provisioning::ByBatch => {
                app.info(strings::BATCH_PROVISIONS);
                Vec::new()
            }
            _ => app.start_task(task),
        }
    }
}
