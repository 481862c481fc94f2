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

/// The CSV text, every field quoted as Export-Csv does.
pub fn csv(world: &World) -> Result<String, csv::Error> {
    let primary = world.scenario.primary_domain().to_string();
    let others: Vec<&String> = world.scenario.tenant.domains.iter().skip(1).collect();
    let mut out = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(Vec::new());
    out.write_record(COLUMNS)?;
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
            "UserMailbox",
            &bytes(m.size_gb),
            &m.items.to_string(),
            &bytes(m.recoverable_items_gb),
            "None",
            if m.hidden { "True" } else { "False" },
            "",
            "",
            &database,
            &legacy,
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
