//! Stage 9's licences-final and the licences-assigned check: reads the tenant's users with their licences
//! (`GET /users?$select=…,assignedLicenses`) and the subscriptions (`GET /subscribedSkus`), finds the migrated
//! mailboxes whose user holds no mailbox licence (`plan::post::licences`) and assigns stage 3's licence
//! (`POST /users/{id}/assignLicense`, one audited write each) to those only; a second run writes nothing.

use crate::m365::M365;
use crate::m365::graph::SubscribedSku;
use crate::plan::post::STAGE;
use crate::plan::post::licences::{LicenceGap, UserLicences, check, gap};
use crate::plan::source::migrating;
use crate::plan::{CheckResult, TaskId, users};
use crate::project::ProjectState;
use crate::runner::jobs::JobContext;
use crate::runner::stages::users::licence_sku;
use crate::runner::tasks::{TaskOutcome, write};
use crate::runner::work::Stop;
use chrono::{DateTime, Utc};
use serde_json::json;

/// When the mailboxes moved, as far as this project knows: when its batch was created, which provisions them.
pub fn moved_at(state: &ProjectState) -> Option<DateTime<Utc>> {
    let create = TaskId::Migrate(crate::plan::migrate::Task::CreateBatch);
    state.stage(crate::plan::migrate::STAGE).and_then(|r| r.task(create)).map(|r| r.at)
}

/// The `skuId`s of the subscriptions that give a mailbox.
fn mailbox_skus(skus: &[SubscribedSku]) -> Vec<String> {
    skus.iter()
        .filter(|s| s.service_plans.iter().any(|p| users::gives_mailbox(&p.service_plan_name)))
        .map(|s| s.sku_id.clone())
        .collect()
}

/// The licence gap as the tenant has it now.
async fn read_gap(m365: &M365, state: &ProjectState) -> Result<(LicenceGap, Vec<SubscribedSku>), crate::m365::M365Error> {
    let (tenant_users, skus) = tokio::join!(m365.graph.users(), m365.graph.subscribed_skus());
    let (tenant_users, skus) = (tenant_users?, skus?);
    let users: Vec<UserLicences> = tenant_users
        .iter()
        .map(|u| UserLicences {
            id: u.id.clone(),
            upn: u.user_principal_name.clone(),
            skus: u.assigned_licenses.iter().map(|l| l.sku_id.clone()).collect(),
        })
        .collect();
    let migrated: Vec<&crate::inventory::Mailbox> =
        state.inventory.as_deref().map(|i| migrating(i).collect()).unwrap_or_default();
    Ok((gap(&migrated, &users, &mailbox_skus(&skus)), skus))
}

/// licences-assigned over what the tenant says now.
pub async fn licences_check(m365: &M365, state: &ProjectState) -> Result<CheckResult, crate::m365::M365Error> {
    let (g, _) = read_gap(m365, state).await?;
    let mut r = check(&g, moved_at(state), Utc::now());
    r.evidence = format!("GET /users and GET /subscribedSkus: {}", r.evidence);
    Ok(r)
}

pub async fn assign(ctx: &JobContext, m365: &M365, state: &ProjectState) -> Result<TaskOutcome, Stop> {
    if state.inventory.is_none() {
        return Err(Stop::Refused("import the mailbox inventory first (stage 2)".to_owned()));
    }
    ctx.progress("reading the users and their licences", 0, None);
    let (g, skus) = read_gap(m365, state).await?;
    let mut outcome = TaskOutcome {
        skipped: g.licensed.iter().map(|u| format!("{u}: licensed already")).collect(),
        ..TaskOutcome::default()
    };
    outcome.skipped.extend(g.no_account.iter().map(|a| format!("{a}: no account in the tenant")));
    if g.unlicensed.is_empty() {
        outcome.summary = format!(
            "Nothing to assign: the {} migrated mailbox user(s) hold an Exchange Online licence.",
            g.licensed.len()
        );
        return Ok(outcome);
    }
    let Some(sku_id) = licence_sku(m365, state.users.licence.as_deref()).await? else {
        return Err(Stop::Refused(
            "the tenant has no subscription that gives an Exchange Online mailbox: buy one, then run this again"
                .to_owned(),
        ));
    };
    let sku = skus.iter().find(|s| s.sku_id == sku_id);
    let free = sku.map_or(0, SubscribedSku::available) as usize;
    let part = sku.map_or(sku_id.as_str(), |s| s.sku_part_number.as_str()).to_owned();
    if free < g.unlicensed.len() {
        return Err(Stop::Refused(format!(
            "{} user(s) need a licence and {part} has {free} free: add licences to the subscription (or choose another with the stage 3 setting Licence), then run this again",
            g.unlicensed.len()
        )));
    }
    let total = u64::try_from(g.unlicensed.len()).ok();
    for (i, (id, upn)) in g.unlicensed.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        ctx.progress(format!("assigning {part} to {upn}"), u64::try_from(i).unwrap_or(0), total);
        let detail = json!({ "user": upn, "skuId": sku_id, "sku": part });
        write(ctx, STAGE, "assign-license", detail, m365.graph.assign_license(id, &sku_id)).await.map_err(Stop::from)?;
        outcome.done.push(format!("{upn}: {part} assigned"));
    }
    outcome.summary = format!(
        "Assigned {part} to {} user(s); {} had a licence already.",
        outcome.done.len(),
        g.licensed.len()
    );
    if !g.no_account.is_empty() {
        outcome.summary.push_str(&format!(" No account in the tenant for: {}.", g.no_account.join(", ")));
    }
    Ok(outcome)
}

