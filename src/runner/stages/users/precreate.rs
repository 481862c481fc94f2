//! Stage 3, when the engineer chose to pre-create the cloud accounts rather than let the cutover batch provision
//! them: for each migrating mailbox, find its user (by UPN, then by proxy address), create only the missing ones,
//! set the usage location where it differs and assign the licence where it is missing. The first password of
//! a new account is random, generated here, sent once to Graph and forgotten: it is never stored, logged or
//! audited; the admin resets it (with a forced change) when handing the account over.

use crate::inventory::Mailbox;
use crate::m365::M365Error;
use crate::m365::graph::{GraphClient, NewUser, User};
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, plural, write};
use crate::secrets::Secret;
use rand::RngExt;
use serde_json::json;

/// Length of the generated first passwords (Microsoft Entra ID allows 8 to 256).
const PASSWORD_LENGTH: usize = 24;

/// What [`precreate_users`] did, per account (by cloud UPN).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersOutcome {
    pub outcome: TaskOutcome,
    pub created: Vec<String>,
    pub existing: Vec<String>,
    pub usage_location_set: Vec<String>,
    pub licensed: Vec<String>,
}

/// Pre-creates the cloud accounts of the migrating mailboxes (hidden ones are not migrated, so skipped). Each
/// account's UPN is the mailbox's primary SMTP address, as the cutover batch would make it. Licences go only to
/// mailboxes that need one (not shared, room or equipment mailboxes).
pub async fn precreate_users(
    ctx: &JobContext,
    graph: &GraphClient,
    mailboxes: &[Mailbox],
    usage_location: &str,
    sku_id: Option<&str>,
) -> Result<UsersOutcome, TaskError> {
    let location = usage_location.trim().to_ascii_uppercase();
    if location.len() != 2 || !location.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(TaskError::BadInput {
            what: format!("usage location {usage_location:?}"),
            fix: "give the two-letter ISO country code where the users work, such as US or GB".into(),
        });
    }
    let sku = match sku_id.map(str::trim) {
        None => None,
        Some(s) => Some(uuid::Uuid::parse_str(s).map(|u| u.to_string()).map_err(|_| TaskError::BadInput {
            what: format!("licence SKU id {s:?}"),
            fix: "give the skuId (a GUID) of an Exchange Online subscription from subscribedSkus".into(),
        })?),
    };
    let migrating: Vec<&Mailbox> = mailboxes.iter().filter(|m| !m.hidden).collect();
    let total = migrating.len() as u64;
    let mut out = UsersOutcome::default();
    let hidden = mailboxes.len() - migrating.len();
    if hidden > 0 {
        out.outcome
            .skipped
            .push(format!("{} hidden from address lists: not migrated", plural(hidden, "mailbox", "mailboxes")));
    }
    for (i, m) in migrating.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            out.outcome.cancelled = true;
            break;
        }
        let upn = m.primary_smtp.trim().to_owned();
        ctx.progress(format!("cloud accounts: {upn}"), i as u64, Some(total));
        let mut user = match find(graph, m).await? {
            Found::Own(u) => {
                out.existing.push(upn.clone());
                out.outcome.skipped.push(format!("{upn}: account exists ({})", u.user_principal_name));
                u
            }
            Found::HeldBy(other) => {
                // The same rule as the no-collisions check: only the account named by the address is the mailbox's.
                out.outcome.skipped.push(format!(
                    "{upn}: not created, the address belongs to {other} (see the check No UPN or SMTP collisions)"
                ));
                continue;
            }
            Found::Nothing => {
                let new = NewUser {
                    user_principal_name: upn.clone(),
                    display_name: display_name(m),
                    mail_nickname: mail_nickname(&upn),
                    usage_location: Some(location.clone()),
                    password: first_password(),
                    force_change_password: true,
                };
                let detail = json!({ "userPrincipalName": new.user_principal_name, "displayName": new.display_name,
                    "mailNickname": new.mail_nickname, "usageLocation": location });
                let created =
                    write(ctx, crate::plan::users::STAGE, "create-user", detail, graph.create_user(&new)).await?;
                // POST's answer may leave out usageLocation and licences: read them back. A directory that has not
                // caught up yet answers nothing, and the usage location is then set again, which is harmless.
                let created = graph.user_by_upn(&upn).await?.unwrap_or(created);
                out.created.push(upn.clone());
                out.outcome.done.push(format!("{upn}: account created"));
                created
            }
        };
        if !user.usage_location.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(&location)) {
            let detail = json!({ "user": user.user_principal_name, "usageLocation": location,
                "was": user.usage_location });
            write(
                ctx,
                crate::plan::users::STAGE,
                "set-usage-location",
                detail,
                graph.set_usage_location(&user.id, &location),
            )
            .await?;
            user.usage_location = Some(location.clone());
            out.usage_location_set.push(upn.clone());
            out.outcome.done.push(format!("{upn}: usage location set to {location}"));
        }
        if let Some(sku) = &sku {
            if !m.recipient_type.needs_licence() {
                out.outcome.skipped.push(format!("{upn}: {} mailbox, no licence needed", m.recipient_type.label()));
            } else if user.assigned_licenses.iter().any(|l| l.sku_id.eq_ignore_ascii_case(sku)) {
                out.outcome.skipped.push(format!("{upn}: licence assigned already"));
            } else {
                let detail = json!({ "user": user.user_principal_name, "skuId": sku });
                write(ctx, crate::plan::users::STAGE, "assign-license", detail, graph.assign_license(&user.id, sku))
                    .await?;
                out.licensed.push(upn.clone());
                out.outcome.done.push(format!("{upn}: licence assigned"));
            }
        }
    }
    ctx.progress("cloud accounts", (out.created.len() + out.existing.len()) as u64, Some(total));
    out.outcome.summary = summary(&out, total);
    Ok(out)
}

fn summary(out: &UsersOutcome, total: u64) -> String {
    let o = &out.outcome;
    if o.nothing_done() && !o.cancelled {
        return format!(
            "Nothing to do: all {} exist with their usage location and licence.",
            plural(total as usize, "account", "accounts")
        );
    }
    let mut s = format!(
        "{}: {} created, {} usage locations set, {} licences assigned, {} existed already.",
        if o.cancelled { "Stopped" } else { "Done" },
        out.created.len(),
        out.usage_location_set.len(),
        out.licensed.len(),
        out.existing.len()
    );
    if !out.created.is_empty() {
        s.push_str(
            " New accounts have a random first password that nobody knows: reset it in the Microsoft 365 admin center when handing each account over.",
        );
    }
    s
}

/// What the tenant has for a mailbox's address.
enum Found {
    /// The mailbox's own account: its UPN is the mailbox's primary SMTP address.
    Own(User),
    /// Another account holds the address (by UPN above, so as a proxy address), named by its UPN.
    HeldBy(String),
    Nothing,
}

/// The account a mailbox moves to, by the rule the no-collisions check uses (`plan::users::collisions`).
async fn find(graph: &GraphClient, m: &Mailbox) -> Result<Found, M365Error> {
    let address = m.primary_smtp.trim();
    if let Some(u) = graph.user_by_upn(address).await? {
        return Ok(Found::Own(u));
    }
    Ok(match graph.users_by_proxy_address(address).await?.into_iter().next() {
        Some(other) => Found::HeldBy(other.user_principal_name),
        None => Found::Nothing,
    })
}

fn display_name(m: &Mailbox) -> String {
    let name = m.display_name.trim();
    if name.is_empty() { m.primary_smtp.trim().to_owned() } else { name.to_owned() }
}

/// The alias: the address's local part with only the characters Exchange allows in `mailNickname`.
fn mail_nickname(address: &str) -> String {
    let local = address.split('@').next().unwrap_or_default();
    let nick: String = local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    let nick = nick.trim_matches('.').to_owned();
    if nick.is_empty() { format!("user{}", &uuid::Uuid::new_v4().simple().to_string()[..8]) } else { nick }
}

/// A random first password from the operating system's CSPRNG-seeded generator, with every character class
/// Entra ID's complexity rule counts.
fn first_password() -> Secret {
    const CLASSES: [&[u8]; 4] =
        [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"!#%+-=?@^_~"];
    let mut rng = rand::rng();
    let mut chars: Vec<u8> = CLASSES.iter().map(|c| c[rng.random_range(0..c.len())]).collect();
    let all: Vec<u8> = CLASSES.concat();
    while chars.len() < PASSWORD_LENGTH {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    // Fisher–Yates, so the guaranteed classes are not always first.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.random_range(0..=i));
    }
    Secret::new(String::from_utf8_lossy(&chars).into_owned())
}

/// Reads back an account write a crash cut short (stage 3's and stage 9's): `create-user` is done when the
/// account exists, `set-usage-location` when it has the location, `assign-license` when it holds the SKU.
pub async fn read_back(graph: &GraphClient, action: &str, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let upn = field(detail, if action == "create-user" { "userPrincipalName" } else { "user" })?;
    let user = graph.user_by_upn(upn).await.map_err(|e| e.to_string())?;
    let Some(user) = user else { return Ok(ReadBack::not_done(format!("there is no account {upn}"))) };
    Ok(match action {
        "create-user" => ReadBack::done(format!("the account {upn} exists")),
        "set-usage-location" => {
            let want = field(detail, "usageLocation")?;
            let now = user.usage_location.unwrap_or_else(|| "unset".to_owned());
            ReadBack::from(
                now.eq_ignore_ascii_case(want),
                format!("{upn} has usage location {now}"),
                format!("{upn} has usage location {now}, not {want}"),
            )
        }
        _ => {
            let sku = field(detail, "skuId")?;
            let there = user.assigned_licenses.iter().any(|l| l.sku_id.eq_ignore_ascii_case(sku));
            ReadBack::from(
                there,
                format!("{upn} holds the licence {sku}"),
                format!("{upn} does not hold the licence {sku}"),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_passwords_are_long_mixed_and_different() {
        let a = first_password();
        let b = first_password();
        assert_ne!(a.expose(), b.expose());
        let p = a.expose();
        assert_eq!(p.len(), PASSWORD_LENGTH);
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_digit()));
        assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert!(!format!("{a:?}").contains(p));
    }

    #[test]
    fn the_alias_keeps_only_allowed_characters() {
        assert_eq!(mail_nickname("sarah.jones@contoso.com"), "sarah.jones");
        assert_eq!(mail_nickname("o'brien (sales)@contoso.com"), "obriensales");
        assert!(mail_nickname("'@contoso.com").starts_with("user"));
    }
}
