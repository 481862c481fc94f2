//! Stage 3: directory sync (`GET /organization`), licences (`GET /subscribedSkus`) and address collisions
//! (`GET /users`, every page with `$select`): three listings whatever the number of mailboxes, rather than one
//! filter per address.

use super::{CheckError, Results};
use crate::m365::graph::{SubscribedSku, User};
use crate::plan::source::migrating;
use crate::plan::users::{self, DirectoryObject, ObjectKind, SkuCount};
use crate::plan::{CheckResult, Outcome};
use crate::project::ProjectState;
use crate::runner::connect::Connections;
use chrono::Utc;

const IDS: [&str; 3] = ["dirsync-off", "licences-available", "no-collisions"];

pub(super) async fn run(state: &ProjectState, conn: &Connections) -> Result<Results, CheckError> {
    let m = match super::m365(conn, &IDS)? {
        Ok(m) => m,
        Err(failed) => return Ok(failed),
    };
    let (org, skus, users) = tokio::join!(m.graph.organization(), m.graph.subscribed_skus(), m.graph.users());
    let dirsync = match org {
        Ok(org) => {
            let mut r = users::dirsync_check(org.on_premises_sync_enabled, Utc::now());
            let name = org.display_name.unwrap_or(org.id);
            r.evidence = format!("GET /organization ({name}): {}", r.evidence);
            r
        }
        Err(e) => super::m365_failure("GET /organization", e)?,
    };
    let mailboxes: Vec<crate::inventory::Mailbox> =
        state.inventory.as_ref().map(|i| migrating(i).cloned().collect()).unwrap_or_default();
    let no_inventory = || {
        CheckResult::new(
            Outcome::Fail,
            "No inventory imported yet, so the need is unknown: run assets/Get-CutoverInventory.ps1 on the Exchange server, then import the CSV.",
            Utc::now(),
        )
    };
    let licences = match skus {
        Ok(_) if state.inventory.is_none() => no_inventory(),
        Ok(skus) => {
            let counts: Vec<SkuCount> = skus.iter().map(sku_count).collect();
            let need = users::licence_need(&mailboxes, &state.source.thresholds);
            let mut r = users::licences_check(&counts, need, Utc::now());
            r.evidence = format!("GET /subscribedSkus ({} SKUs): {}", skus.len(), r.evidence);
            r
        }
        Err(e) => super::m365_failure("GET /subscribedSkus", e)?,
    };
    let collisions = match users {
        Ok(_) if state.inventory.is_none() => no_inventory(),
        Ok(tenant_users) => {
            let objects: Vec<DirectoryObject> = tenant_users.iter().map(directory_object).collect();
            let found = users::collisions(&mailboxes, &objects);
            let mut r = users::collisions_check(&found, mailboxes.len(), Utc::now());
            r.evidence.push_str(&format!(
                " Compared with the tenant's users (GET /users: {}); groups and contacts are not compared yet.",
                tenant_users.len()
            ));
            r
        }
        Err(e) => super::m365_failure("GET /users", e)?,
    };
    Ok(IDS.into_iter().zip([dirsync, licences, collisions]).collect())
}

fn sku_count(s: &SubscribedSku) -> SkuCount {
    SkuCount {
        sku_part_number: s.sku_part_number.clone(),
        // Graph gives `User` or `Company`; only user SKUs can be assigned to a mailbox. A SKU that does not say
        // is counted, as older answers omit it.
        assignable: s.applies_to.as_deref().is_none_or(|a| a.eq_ignore_ascii_case("User")),
        enabled: s.prepaid_units.enabled,
        warning: s.prepaid_units.warning,
        consumed: s.consumed_units,
        service_plans: s.service_plans.iter().map(|p| p.service_plan_name.clone()).collect(),
    }
}

fn directory_object(u: &User) -> DirectoryObject {
    DirectoryObject {
        kind: ObjectKind::User,
        display_name: u.display_name.clone().unwrap_or_else(|| u.user_principal_name.clone()),
        upn: Some(u.user_principal_name.clone()),
        addresses: u.mail.iter().chain(u.proxy_addresses.iter()).cloned().collect(),
    }
}
