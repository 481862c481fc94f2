//! The source's mailbox inventory as `assets/Get-CutoverInventory.ps1` writes it, from the scenario, so a demo
//! imports the same mailboxes the simulated server and the migration engine know (`GET {control_url}/inventory.csv`).

use super::World;
use super::source::legacy_dn;

/// The script's columns, in its order.
const COLUMNS: [&str; 14] = [
    "DisplayName",
    "PrimarySmtpAddress",
    "UserPrincipalName",
    "EmailAddresses",
    "RecipientTypeDetails",
    "TotalItemSizeBytes",
    "ItemCount",
    "TotalDeletedItemSizeBytes",
    "ArchiveState",
    "HiddenFromAddressListsEnabled",
    "ForwardingSmtpAddress",
    "LastLogonTime",
    "Database",
    "LegacyExchangeDN",
];

const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// When someone last opened the mailbox: within the last fortnight, the same for an alias every time (FNV-1a of
/// the alias), as the script writes it (`DateTime.ToString('o')` in UTC: seven digits of a second); empty when no one ever did.
fn last_logon(alias: &str, never: bool, now: chrono::DateTime<chrono::Utc>) -> String {
    if never {
        return String::new();
    }
    let hash = alias.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let minutes = i64::try_from(hash % (14 * 24 * 60)).unwrap_or(0);
    (now - chrono::Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M:%S%.6f0Z").to_string()
}

/// The CSV text, every field quoted as Export-Csv does.
pub fn csv(world: &World) -> Result<String, csv::Error> {
    let primary = world.scenario.primary_domain().to_string();
    let others: Vec<&String> = world.scenario.tenant.domains.iter().skip(1).collect();
    let mut out = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    let now = world.clock.now();
    for (i, m) in world.scenario.mailboxes.iter().enumerate() {
        let address = format!("{}@{primary}", m.alias);
        let legacy = legacy_dn(&m.alias);
        let mut proxies = vec![format!("SMTP:{address}")];
        proxies.extend(others.iter().map(|d| format!("smtp:{}@{d}", m.alias)));
        proxies.push(format!("X500:{legacy}"));
        let bytes = |gb: f64| format!("{:.0}", gb * GB);
        let database = format!("DB{:02}", i % 4 + 1);
        out.write_record([
            m.display_name.as_str(),
            &address,
            &address,
            &proxies.join(";"),
            m.kind.recipient_type_details(),
            &bytes(m.size_gb),
            &m.items.to_string(),
            &bytes(m.recoverable_items_gb),
            "None",
            if m.hidden { "True" } else { "False" },
            "",
            &last_logon(&m.alias, m.never_logged_on, now),
            &database,
            &legacy,
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
