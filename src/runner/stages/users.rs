//! Stage 3, Users / directory sync: the tenant's checks (directory sync, licences, collisions) as a job, the
//! engineer's choice of who creates the accounts, and the pre-creation of the accounts when chosen.

mod checks;
pub mod precreate;

use super::super::jobs::Job;
use super::super::work::{Done, Stop, m365, task_job};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::m365::M365;
use crate::plan::settings::Setting;
use crate::plan::users::{self, Provisioning, Task};
use crate::plan::{TaskId, TaskRecord, TaskStatus};
use crate::project::ProjectState;
use chrono::Utc;

pub struct Work;

/// The plan's tasks one pre-creation pass carries out, in one pass over the mailboxes.
const PRECREATE: [TaskId; 3] =
    [TaskId::Users(Task::CreateUsers), TaskId::Users(Task::SetUsageLocation), TaskId::Users(Task::AssignLicences)];

impl StageWork for Work {
    fn read_back<'a>(
        &'a self,
        _state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        conn: &'a crate::runner::connect::Connections,
    ) -> crate::runner::resume::Reading<'a> {
        let action = write.action.as_str();
        match action {
            "create-user" | "set-usage-location" | "assign-license" => Some(Box::pin(async move {
                precreate::read_back(&crate::runner::resume::tenant(conn)?.graph, action, &write.detail).await
            })),
            _ => None,
        }
    }

    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| Box::pin(checks::run(state, conn)))
    }

    fn after_setting(&self, setting: Setting, state: &mut ProjectState) {
        if setting != Setting::Provisioning {
            return;
        }
        let detail = match state.users.provisioning {
            Provisioning::ByBatch => "The cutover batch creates the cloud accounts.",
            Provisioning::PreCreate => "cutover pre-creates the cloud accounts (the tasks below).",
        };
        let record = TaskRecord { status: TaskStatus::Done, detail: detail.to_owned(), at: Utc::now() };
        state.stage_mut(users::STAGE).record_task(Task::ChooseProvisioning, record);
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Users(Task::CreateUsers | Task::SetUsageLocation | Task::AssignLicences) = task else {
            return Err(NotStarted::Refused("set it with the stage 3 setting Cloud accounts".to_owned()));
        };
        if inputs.state.users.provisioning == Provisioning::ByBatch {
            return Err(NotStarted::Refused(
                "the cutover batch creates the cloud accounts; set Cloud accounts to pre-create to do it now"
                    .to_owned(),
            ));
        }
        Ok(task_job(task, &PRECREATE, "Pre-creating the cloud accounts", move |ctx| async move {
            let TaskInputs { state, conn, .. } = inputs;
            let m365 = m365(&conn)?;
            let Some(inventory) = state.inventory.as_deref() else {
                return Err(Stop::Refused("import the mailbox inventory first (stage 2)".to_owned()));
            };
            let Some(location) = state.users.usage_location.clone() else {
                return Err(Stop::Refused(
                    "set the usage location (a two-letter country code) in the stage 3 settings".to_owned(),
                ));
            };
            unverified_domain(&m365, inventory).await?;
            let sku = licence_sku(&m365, state.users.licence.as_deref()).await?;
            let done =
                precreate::precreate_users(&ctx, &m365.graph, &inventory.mailboxes, &location, sku.as_deref()).await?;
            Ok(Done::ran(done.outcome))
        }))
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        PRECREATE.contains(&task)
    }
}

/// Graph refuses a user whose UPN is on a domain the tenant has not verified: say so before the first write.
async fn unverified_domain(m365: &M365, inventory: &crate::inventory::Inventory) -> Result<(), Stop> {
    let domains: std::collections::BTreeSet<String> = crate::plan::source::migrating(inventory)
        .filter_map(|m| m.primary_smtp.split_once('@').map(|(_, d)| d.to_ascii_lowercase()))
        .collect();
    for domain in domains {
        match m365.graph.domain(&domain).await? {
            Some(d) if d.is_verified => {}
            _ => {
                return Err(Stop::Refused(format!(
                    "{domain} is not a verified domain of the tenant yet, and Graph creates no account on it: add and verify it in stage 4 (Prepare), then pre-create the accounts"
                )));
            }
        }
    }
    Ok(())
}

/// The licence to assign: the one named in the settings (by its part number), else the first subscription
/// that gives a mailbox and has a free unit for every mailbox to create.
pub(crate) async fn licence_sku(m365: &M365, wanted: Option<&str>) -> Result<Option<String>, Stop> {
    let skus = m365.graph.subscribed_skus().await?;
    let gives_mailbox = |s: &crate::m365::graph::types::SubscribedSku| {
        s.service_plans.iter().any(|p| users::gives_mailbox(&p.service_plan_name))
    };
    let found = match wanted {
        Some(name) => skus.iter().find(|s| s.sku_part_number.eq_ignore_ascii_case(name)),
        None => skus.iter().find(|s| gives_mailbox(s)),
    };
    match (found, wanted) {
        (Some(sku), _) => Ok(Some(sku.sku_id.clone())),
        (None, Some(name)) => Err(Stop::Refused(format!(
            "the tenant has no subscription {name}; choose one of: {}",
            skus.iter().map(|s| s.sku_part_number.as_str()).collect::<Vec<_>>().join(", ")
        ))),
        (None, None) => Ok(None),
    }
}
