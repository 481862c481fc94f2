//! Stage 3: directory sync (`GET /organization`), licences (`GET /subscribedSkus`) and address collisions
//! (`GET /users`, `GET /groups` and `GET /contacts`, every page with `$select`): whole listings, read at once,
//! whatever the number of mailboxes, rather than one filter per address.

use crate::m365::graph::{Group, OrgContact, SubscribedSku, User};
use crate::plan::source::migrating;
use crate::plan::users::Check;
use crate::plan::users::{self, DirectoryObject, GroupKind, ObjectKind, SkuCount};
use crate::plan::{CheckId, CheckResult, Outcome};
use crate::project::ProjectState;
use crate::runner::checks::{self, CheckError, Results};
use crate::runner::connect::Connections;
use chrono::Utc;

const IDS: [CheckId; 3] =
    [CheckId::Users(Check::DirsyncOff), CheckId::Users(Check::LicencesAvailable), CheckId::Users(Check::NoCollisions)];

pub(super) async fn run(state: &ProjectState, conn: &Connections) -> Result<Results, CheckError> {
    let m = match checks::m365(conn, &IDS)? {
        Ok(m) => m,
        Err(failed) => return Ok(failed),
    };
    let (org, skus, users, groups, contacts) = tokio::join!(
        m.graph.organization(),
        m.graph.subscribed_skus(),
        m.graph.users(),
        m.graph.groups(),
        m.graph.org_contacts()
    );
    let dirsync = match org {
        Ok(org) => {
            let mut r = users::dirsync_check(org.on_premises_sync_enabled, Utc::now());
            let name = org.display_name.unwrap_or(org.id);
            r.evidence = format!("GET /organization ({name}): {}", r.evidence);
            r
        }
        Err(e) => checks::m365_failure("GET /organization", e)?,
    };
    let mailboxes: Vec<crate::inventory::Mailbox> =
        state.inventory.as_deref().map(|i| migrating(i).cloned().collect()).unwrap_or_default();
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
        Err(e) => checks::m365_failure("GET /subscribedSkus", e)?,
    };
    let collisions = match (users, groups, contacts) {
        (Ok(_), Ok(_), Ok(_)) if state.inventory.is_none() => no_inventory(),
        (Ok(tenant_users), Ok(groups), Ok(contacts)) => {
            let objects: Vec<DirectoryObject> = tenant_users
                .iter()
                .map(user_object)
                .chain(groups.iter().map(group_object))
                .chain(contacts.iter().map(contact_object))
                .collect();
            let found = users::collisions(&mailboxes, &objects);
            let mut r = users::collisions_check(&found, mailboxes.len(), Utc::now());
            r.evidence.push_str(&format!(
                " Compared with the tenant's users ({}, GET /users), groups ({}, GET /groups) and contacts ({}, GET /contacts).",
                tenant_users.len(),
                groups.len(),
                contacts.len()
            ));
            r
        }
        (Err(e), _, _) => checks::m365_failure("GET /users", e)?,
        (_, Err(e), _) => checks::m365_failure("GET /groups", e)?,
        (_, _, Err(e)) => checks::m365_failure("GET /contacts", e)?,
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

fn user_object(u: &User) -> DirectoryObject {
    DirectoryObject {
        kind: ObjectKind::User,
        display_name: u.display_name.clone().unwrap_or_else(|| u.user_principal_name.clone()),
        upn: Some(u.user_principal_name.clone()),
        addresses: u.mail.iter().chain(u.proxy_addresses.iter()).cloned().collect(),
    }
}

fn group_object(g: &Group) -> DirectoryObject {
    let kind = GroupKind::of(g.is_unified(), g.mail_enabled == Some(true), g.security_enabled == Some(true));
    DirectoryObject {
        kind: ObjectKind::Group(kind),
        display_name: g.display_name.clone().or_else(|| g.mail.clone()).unwrap_or_else(|| g.id.clone()),
        upn: None,
        addresses: g.mail.iter().chain(g.proxy_addresses.iter()).cloned().collect(),
    }
}

fn contact_object(c: &OrgContact) -> DirectoryObject {
    DirectoryObject {
        kind: ObjectKind::Contact,
        display_name: c.display_name.clone().or_else(|| c.mail.clone()).unwrap_or_else(|| c.id.clone()),
        upn: None,
        addresses: c.mail.iter().chain(c.proxy_addresses.iter()).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_take_their_kind_from_graphs_properties_and_contacts_keep_mail_and_proxies() {
        let group = |json: &str| group_object(&serde_json::from_str::<Group>(json).expect("group"));
        let dl = group(
            r#"{"id":"1","displayName":"All Staff","groupTypes":[],"mail":"all@contoso.com","mailEnabled":true,"securityEnabled":false,"proxyAddresses":["SMTP:all@contoso.com"]}"#,
        );
        assert_eq!(dl.kind, ObjectKind::Group(GroupKind::Distribution));
        assert_eq!(dl.addresses, vec!["all@contoso.com".to_owned(), "SMTP:all@contoso.com".to_owned()]);
        let mesg =
            group(r#"{"id":"2","displayName":"Admins","groupTypes":[],"mailEnabled":true,"securityEnabled":true}"#);
        assert_eq!(mesg.kind, ObjectKind::Group(GroupKind::MailEnabledSecurity));
        let m365 = group(r#"{"id":"3","groupTypes":["Unified"],"mail":"team@contoso.com","mailEnabled":true}"#);
        assert_eq!(
            (m365.kind, m365.display_name.as_str()),
            (ObjectKind::Group(GroupKind::Microsoft365), "team@contoso.com")
        );
        let contact: OrgContact = serde_json::from_str(
            r#"{"id":"4","displayName":"Eric Solomon","mail":"eric@fabrikam.com","proxyAddresses":["SMTP:eric@fabrikam.com"]}"#,
        )
        .expect("contact");
        let c = contact_object(&contact);
        assert_eq!((c.kind, c.display_name.as_str(), c.addresses.len()), (ObjectKind::Contact, "Eric Solomon", 2));
    }
}
