//! Stage 9's licences-final and the licences-assigned check: reads the tenant's users with their licences
//! (`GET /users?$select=…,assignedLicenses`) and the subscriptions (`GET /subscribedSkus`), finds the migrated
//! mailboxes whose user holds no mailbox licence (`plan::post::licences`) and assigns stage 3's licence
//! (`POST /users/{id}/assignLicense`, one audited write each, once the subscription has a free unit for each) to those only; a second run writes nothing.

use crate::m365::graph::{GraphClient, SubscribedSku};
use crate::plan::post::STAGE;
use crate::plan::post::licences::{LicenceGap, UserLicences, check, gap};
use crate::plan::source::migrating;
use crate::plan::{CheckResult, TaskId, users};
use crate::project::ProjectState;
use crate::runner::jobs::JobContext;
use crate::runner::tasks::{TaskError, TaskOutcome, write};
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
async fn read_gap(
    graph: &GraphClient,
    state: &ProjectState,
) -> Result<(LicenceGap, Vec<SubscribedSku>), crate::m365::M365Error> {
    let (tenant_users, skus) = tokio::join!(graph.users(), graph.subscribed_skus());
    let (tenant_users, skus) = (tenant_users?, skus?);
    let users: Vec<UserLicences> = tenant_users
        .iter()
        .map(|u| UserLicences {
            id: u.id.clone(),
            upn: u.user_principal_name.clone(),
            skus: u.assigned_licenses.iter().map(|l| l.sku_id.clone()).collect(),
            usage_location: u.usage_location.clone().filter(|l| !l.trim().is_empty()),
        })
        .collect();
    let migrated: Vec<&crate::inventory::Mailbox> =
        state.inventory.as_deref().map(|i| migrating(i).collect()).unwrap_or_default();
    Ok((gap(&migrated, &users, &mailbox_skus(&skus)), skus))
}

/// licences-assigned over what the tenant says now.
pub async fn licences_check(graph: &GraphClient, state: &ProjectState) -> Result<CheckResult, crate::m365::M365Error> {
    let (g, _) = read_gap(graph, state).await?;
    let mut r = check(&g, moved_at(state), Utc::now());
    r.evidence = format!("GET /users and GET /subscribedSkus: {}", r.evidence);
    Ok(r)
}

/// The licence to assign: stage 3's (by its part number), else the first subscription that gives a mailbox
/// (the rule of stage 3's pre-creation).
fn choose<'a>(skus: &'a [SubscribedSku], wanted: Option<&str>) -> Result<&'a SubscribedSku, TaskError> {
    let gives_mailbox = |s: &&SubscribedSku| s.service_plans.iter().any(|p| users::gives_mailbox(&p.service_plan_name));
    match wanted {
        Some(name) => {
            skus.iter().find(|s| s.sku_part_number.eq_ignore_ascii_case(name)).ok_or_else(|| TaskError::BadInput {
                what: format!("the tenant has no subscription {name} (the stage 3 setting Licence)"),
                fix: format!(
                    "choose one of: {}",
                    skus.iter().map(|s| s.sku_part_number.as_str()).collect::<Vec<_>>().join(", ")
                ),
            })
        }
        None => skus.iter().find(gives_mailbox).ok_or_else(|| TaskError::BadInput {
            what: "the tenant has no subscription that gives an Exchange Online mailbox".to_owned(),
            fix: "buy one, then run Assign remaining licences again".to_owned(),
        }),
    }
}

pub async fn assign(ctx: &JobContext, graph: &GraphClient, state: &ProjectState) -> Result<TaskOutcome, TaskError> {
    if state.inventory.is_none() {
        return Err(TaskError::BadInput {
            what: "the project has no inventory, so the migrated mailboxes are unknown".to_owned(),
            fix: "import the inventory in stage 2".to_owned(),
        });
    }
    ctx.progress("reading the users and their licences", 0, None);
    let (g, skus) = read_gap(graph, state).await?;
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
    let sku = choose(&skus, state.users.licence.as_deref())?;
    let (sku_id, part) = (sku.sku_id.clone(), sku.sku_part_number.clone());
    let free = sku.available() as usize;
    if free < g.unlicensed.len() {
        return Err(TaskError::BadInput {
            what: format!("{} user(s) need a licence and {part} has {free} free", g.unlicensed.len()),
            fix: "add licences to the subscription (or choose another with the stage 3 setting Licence), then run this again".to_owned(),
        });
    }
    let location = state.users.usage_location.as_deref().map(|l| l.trim().to_ascii_uppercase());
    if location.is_none() && g.unlicensed.iter().any(|u| u.usage_location.is_none()) {
        return Err(TaskError::BadInput {
            what: "Graph assigns no licence to a user without a usage location, and some have none".to_owned(),
            fix: "set the stage 3 setting Usage location (a two-letter country code), then run this again".to_owned(),
        });
    }
    let total = u64::try_from(g.unlicensed.len()).ok();
    for (i, u) in g.unlicensed.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        let upn = &u.upn;
        ctx.progress(format!("assigning {part} to {upn}"), u64::try_from(i).unwrap_or(0), total);
        if let (None, Some(l)) = (&u.usage_location, &location) {
            let detail = json!({ "user": upn, "usageLocation": l });
            write(ctx, STAGE, "set-usage-location", detail, graph.set_usage_location(&u.id, l)).await?;
            outcome.done.push(format!("{upn}: usage location set to {l}"));
        }
        let detail = json!({ "user": upn, "skuId": sku_id, "sku": part });
        write(ctx, STAGE, "assign-license", detail, graph.assign_license(&u.id, &sku_id)).await?;
        outcome.done.push(format!("{upn}: {part} assigned"));
    }
    let assigned = outcome.done.iter().filter(|d| d.ends_with(" assigned")).count();
    outcome.summary = format!("Assigned {part} to {assigned} user(s); {} had a licence already.", g.licensed.len());
    if !g.no_account.is_empty() {
        outcome.summary.push_str(&format!(" No account in the tenant for: {}.", g.no_account.join(", ")));
    }
    Ok(outcome)
}
