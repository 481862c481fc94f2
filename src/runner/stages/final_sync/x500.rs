//! Stage 8's x500-addresses: reads every cloud mailbox (`Get-Mailbox`), diffs them against the inventory's
//! LegacyExchangeDNs (`plan::final_sync::x500`) and adds only the missing `X500:` addresses
//! (`Set-Mailbox -EmailAddresses @{Add=…}`), one audited write per mailbox; a second run writes nothing.

use crate::inventory::Mailbox as SourceMailbox;
use crate::m365::exo::ExoClient;
use crate::plan::final_sync::STAGE;
use crate::plan::final_sync::x500::{cloud_mailbox, diff, holds};
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde_json::json;

pub async fn add_x500(
    ctx: &JobContext,
    exo: &ExoClient,
    inventory: &[SourceMailbox],
) -> Result<TaskOutcome, TaskError> {
    if inventory.is_empty() {
        return Err(TaskError::BadInput {
            what: "the project has no inventory, so the source LegacyExchangeDNs are unknown".to_owned(),
            fix: "import the inventory in stage 2".to_owned(),
        });
    }
    ctx.progress("reading the cloud mailboxes", 0, None);
    let mailboxes = exo.get_mailboxes().await?.items;
    let d = diff(inventory, &mailboxes);
    let total = u64::try_from(d.missing.len()).ok();
    let mut outcome = TaskOutcome {
        skipped: d.present.iter().map(|a| format!("{a}: X500 in place")).collect(),
        ..TaskOutcome::default()
    };
    for (i, m) in d.missing.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        ctx.progress(format!("adding the X500 address of {}", m.identity), u64::try_from(i).unwrap_or(0), total);
        let detail = json!({ "identity": m.identity, "add": m.proxy });
        write(
            ctx,
            STAGE,
            "add-x500-address",
            detail,
            exo.add_email_addresses(&m.identity, std::slice::from_ref(&m.proxy)),
        )
        .await?;
        outcome.done.push(format!("{}: Set-Mailbox -EmailAddresses @{{Add=\"{}\"}}", m.identity, m.proxy));
    }
    let mut summary = match outcome.done.len() {
        0 => format!("Nothing to add: the {} migrated mailboxes hold their X500 address already.", d.present.len()),
        n => format!("Added the X500 address of {n} mailbox(es); {} had it already.", d.present.len()),
    };
    if !d.no_cloud_mailbox.is_empty() {
        summary.push_str(&format!(" No cloud mailbox for: {}.", d.no_cloud_mailbox.join(", ")));
    }
    if !d.no_dn.is_empty() {
        summary.push_str(&format!(" No LegacyExchangeDN in the inventory for: {}.", d.no_dn.join(", ")));
    }
    outcome.summary = summary;
    Ok(outcome)
}
/// Reads back an `add-x500-address` a crash cut short: done when the mailbox holds the address.
pub async fn read_back(exo: &ExoClient, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let (identity, add) = (field(detail, "identity")?, field(detail, "add")?);
    let mailboxes = exo.get_mailboxes().await.map_err(|e| e.to_string())?.items;
    // The same rules as the diff that made the write: the mailbox by its address, the DN in any case.
    let dn = add.split_once(':').map_or(add, |(_, dn)| dn);
    let there = cloud_mailbox(identity, &mailboxes).is_some_and(|m| holds(&m.email_addresses, dn));
    Ok(ReadBack::from(there, format!("{identity} holds {add}"), format!("{identity} does not hold {add}")))
}
