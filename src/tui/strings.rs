//! Every sentence the wizard shows, in one place, so wording stays consistent and is easy to review.

use crate::plan::StageId;

pub const APP_NAME: &str = "cutover";
pub const STAGES_TITLE: &str = "Stages";
pub const FORM_HEADER: &str = "Kickoff form";
pub const TASKS_HEADER: &str = "Tasks";
pub const SETTINGS_HEADER: &str = "Settings";
pub const CHECKS_HEADER: &str = "Checks";
pub const BUDGET_LABEL: &str = "Budget";
pub const TENANT_LABEL: &str = "Tenant";
pub const CUTOVER_LABEL: &str = "Cutover";
pub const MAILBOXES_LABEL: &str = "Mailboxes";
pub const NOT_SET: &str = "—";
pub const REQUIRED_MARK: &str = "*";
pub const OVERRIDDEN: &str = "overridden";

pub fn demo_without_keyring(error: &str) -> String {
    format!("The demo could not keep the simulated server's password ({error}); the stages that need it will ask.")
}

pub fn demo_banner(scenario: &str, speed: f64) -> String {
    format!("DEMO on the simulator ({scenario}, clock {speed}x): no real tenant or server is touched.")
}

pub const HELP_TITLE: &str = " Help ";
/// What the help says besides the keys.
pub const HELP_LEGEND: &[(&str, &str)] = &[
    ("", ""),
    ("○ ◐ ✓ ! ✗", "not started, in progress, done, done by override, failed"),
    ("locked", "a stage opens once the stage before it is done"),
];

pub fn too_small(cols: u16, rows: u16, min_cols: u16, min_rows: u16) -> String {
    format!("The terminal is {cols}x{rows}; cutover needs at least {min_cols}x{min_rows}.")
}
pub const TOO_SMALL_FIX: &str =
    "Make the window larger or the font smaller: the screen comes back as it was, and work under way goes on.";
pub const TOO_SMALL_QUIT: &str = "q quits.";
pub const TOO_SMALL_QUIT_ASKED: &str = "Quit cutover? Everything is saved. y quits, n stays.";
pub const TOO_SMALL_QUESTION_WAITS: &str = "A question waits on the full screen; q does nothing until it is answered.";
pub const QUIT_TITLE: &str = " Quit ";
pub const QUIT_QUESTION: &str = "Quit cutover? Everything is saved.";

pub const OVERRIDE_TITLE: &str = " Override a failed check ";
pub const OVERRIDE_PROMPT: &str =
    "Write why the project goes on despite this failure. It is kept in the audit log and the closeout report.";

pub const SAVED: &str = "Saved.";
/// The detail panel's note when it holds more than it shows.
pub fn detail_scroll(above: u16, below: u16) -> String {
    match (above, below) {
        (0, below) => format!(" ↓ {below} more · J "),
        (above, 0) => format!(" ↑ {above} above · K "),
        (above, below) => format!(" ↑ {above} · ↓ {below} more · J K "),
    }
}

pub const REMOVALS_TITLE: &str = "Remove mailboxes from the project?";

pub fn removals_question(file: &str, removed: usize, previous: usize) -> String {
    format!(
        "{file} lacks {removed} of the project's {previous} mailboxes. Nothing has changed yet. Remove them only if \
         they are really gone from the source server; if the export was filtered, export it again without a filter \
         (assets/Get-CutoverInventory.ps1)."
    )
}

pub fn removals_kept(file: &str) -> String {
    format!("{file} was not imported: the project keeps its mailboxes.")
}

pub const PASTE_NOWHERE: &str = "Nothing takes a paste here: press Enter on a field first, then paste.";

pub fn pasted_first_line(lines: usize) -> String {
    format!("Pasted the first of {lines} lines: a field holds one line.")
}
pub const EDIT_CANCELLED: &str = "Edit cancelled; nothing changed.";
pub const SELECT_FAILED_CHECK: &str = "Select a failed check to override it.";
pub const ALREADY_OVERRIDDEN: &str = "This check is already overridden.";
pub const KICKOFF_TASKS_BY_FORM: &str = "Kickoff tasks are done by filling in the form above.";
pub const IMPORT_TITLE: &str = " Import the mailbox inventory ";
pub const REPORT_TITLE: &str = " Inventory import ";
pub const IMPORT_PROMPT: &str =
    "Path of the CSV written by assets/Get-CutoverInventory.ps1 in the Exchange Management Shell:";
pub const IMPORT_PATH_NEEDED: &str = "Type the path of the inventory CSV, e.g. ~/contoso/cutover-inventory.csv";
pub const IMPORTING: &str = "Importing…";
pub const ONLY_IN_STAGE_2: &str = "The inventory belongs to stage 2 (Source health check).";
pub const ONLY_IN_MAILBOXES: &str = "Open the mailbox table first: m in stage 2.";
pub const NO_INVENTORY: &str = "No inventory yet: press i to import the CSV.";
pub const MAILBOXES_TITLE: &str = "Mailboxes";
pub const NO_MAILBOX_MATCHES: &str = "No mailbox matches this filter and search.";
pub const MAILBOX_COLUMNS_WIDE: [&str; 8] = ["", "Name", "Address", "Size", "Items", "Rec. Items", "Type", "Flags"];
pub const MAILBOX_COLUMNS: [&str; 4] = ["", "Name", "Size", MAILBOX_FLAGS];
pub const MAILBOX_COLUMNS_ITEMS: [&str; 5] = ["", "Name", "Size", "Items", MAILBOX_FLAGS];
pub const MAILBOX_COLUMNS_RECOVERABLE: [&str; 5] = ["", "Name", "Size", "Rec. Items", MAILBOX_FLAGS];
pub const MAILBOX_FLAGS: &str = "Flags";
pub const REQUIRED: &str = "required";
pub const OPTIONAL: &str = "optional";
pub const NEVER_LOGGED_ON: &str = "never logged on";
pub const DATABASE_UNKNOWN: &str = "database unknown";

pub fn archive(archive: &crate::inventory::Archive) -> String {
    use crate::inventory::Archive;
    match archive {
        Archive::None => "no archive".to_owned(),
        Archive::Local => "on-premises archive".to_owned(),
        Archive::Hosted => "archive in Exchange Online".to_owned(),
        Archive::Unknown(s) => format!("archive {s}"),
    }
}

pub fn last_logon(at: &chrono::DateTime<chrono::Utc>) -> String {
    format!("last logon {}", at.format("%Y-%m-%d"))
}

pub fn forwards_to(address: &str) -> String {
    format!("forwards to {address}")
}

pub fn locked(stage: StageId) -> String {
    crate::plan::gating::locked_reason(stage).unwrap_or_default()
}

pub const NOTHING_DONE: &str = "Nothing was done.";
pub const RESTART_TITLE: &str = "Restart a failed mailbox";

pub fn restart_question(address: &str, cause: &str) -> String {
    format!(
        "Restart the sync of {address} (Start-MigrationUser)? Its last failure: {cause}. Restart it once the cause \
         is fixed at the source, or it fails again."
    )
}

pub const APPROVE_TITLE: &str = "Approve skipped items";

pub fn approve_question(address: &str, skipped: u64) -> String {
    format!(
        "Approve the {skipped} skipped item(s) of {address} (Set-MigrationUser -ApproveSkippedItems)? They are not \
         migrated: the batch can complete without them. The task lists them first in its outcome and the audit log."
    )
}

pub fn no_skipped(address: &str) -> String {
    format!("{address} has no skipped items to approve.")
}

pub fn not_failed(address: &str) -> String {
    format!("{address} is not failed: only a failed mailbox is restarted.")
}

pub const NO_BATCH_VIEW: &str =
    "No view of the batch yet: start the batch (Enter on Start the batch) or run the checks (c) to read it.";
pub const BATCH_TITLE: &str = "Batch";
pub const BATCH_GONE: &str = "removed from Exchange Online";
pub const NO_BATCH_YET: &str = "No cutover batch in Exchange Online yet: create and start it.";
pub const BATCH_COLUMNS_WIDE: [&str; 9] =
    ["", "Mailbox", "Status", "Items", "Skipped", "Moved / estimated", "%", "Last sync", "Error"];
pub const BATCH_COLUMNS: [&str; 5] = ["", "Mailbox", "Status", "Moved", "%"];

pub fn not_available(stage: StageId) -> String {
    format!(
        "Stage {stage} ({}) is not built yet in this version: its tasks and checks do nothing so far.",
        stage.def().title
    )
}

pub const SIGN_IN_TITLE: &str = " Sign in to Microsoft 365 ";
pub const SIGN_IN_WAITING: &str = "Asking the identity platform for a sign-in code…";
pub const SIGN_IN_OPEN: &str = "On any device, open";
pub const SIGN_IN_ENTER: &str = "and enter the code";
pub const SIGN_IN_ACCOUNT: &str =
    "Sign in with a Global Administrator (or Exchange + User Administrator) account of the customer's tenant.";
pub const SIGN_IN_CONTINUES: &str = "cutover continues by itself once you are signed in.";
pub const SIGN_IN_CANCELLED: &str = "Sign-in cancelled; nothing was sent to the tenant.";
pub const CONSENT_TITLE: &str = " Consent to a Microsoft Graph permission ";
pub const CONSENT_CANCELLED: &str = "Consent not given: the task stops before sending anything.";
pub const CONSENT_CONTINUES: &str = "The task goes on by itself once the permission is accepted; Esc stops it.";

/// The consent's code when another dialog is open: it is not hidden behind it.
pub fn consent_waiting(permission: &str, code: &str, uri: &str) -> String {
    format!("A task waits for consent to {permission}: open {uri} and enter the code {code}.")
}

/// Why the consent dialog asks, naming the permission.
pub fn consent_asked(permission: &str) -> String {
    format!(
        "This task needs the Microsoft Graph permission {permission}, which the signed-in account has not consented \
         to yet: cutover asks for it only now. Sign in with the same admin account and accept {permission}."
    )
}
pub const CODE_COPIED: &str = "Code sent to the clipboard (OSC 52; tmux needs set-clipboard on).";
pub const NOTHING_RUNNING: &str = "No work is running.";

pub const PASSWORD_LABEL: &str = "Account password";
pub const PASSWORD_ROW: &str = "Enter to type it; kept in the OS keyring, never on disk";
pub const PASSWORD_HELP: &str = "The migration account's password. cutover keeps it in the OS keyring and sends it only to the source checks and to Exchange Online for the migration endpoint.";
pub const PASSWORD_TITLE: &str = " Source migration account password ";
pub const PASSWORD_PROMPT: &str = "Type the password of the migration account (shown as dots):";
pub const PASSWORD_NEEDED: &str = "The migration endpoint needs the migration account's password.";
pub const PASSWORD_EMPTY: &str = "Type the password, or Esc to cancel.";
pub const PASSWORD_STORED: &str = "Password handed to the OS keyring.";
pub const PASSWORD_NOT_STORED: &str = "Password not stored; nothing changed.";
pub const BATCH_PROVISIONS: &str =
    "The cutover batch creates the cloud accounts (Cloud accounts: batch). Set it to pre-create to do it now.";
pub const NOTHING_TO_COPY: &str =
    "Nothing to copy here: y copies the domains' TXT records in stage 4 once Add email domains has run.";
pub const RECORDS_COPIED: &str = "TXT records sent to the clipboard (OSC 52).";
pub const SKIP_AHEAD_DEMO_ONLY: &str =
    "+ moves the simulated clock on, in cutover demo only: a real tenant's syncs take the time they take.";
pub const PUBLISH_DEMO_ONLY: &str =
    "p publishes DNS records at the simulated registrar, in cutover demo only; publish real records at the DNS host.";

pub fn txt_record(domain: &str, txt: &str) -> String {
    crate::plan::prepare::txt_instruction(domain, txt, 3_600)
}

pub fn copy_records_hint(demo: bool) -> &'static str {
    if demo {
        "y copy the records  p DEMO ONLY: publish them at the simulated registrar"
    } else {
        "y copy the records to publish at the domain's DNS host"
    }
}

/// What the project found of the writes a crash cut short, read back as it opened: one notice for all.
pub fn resumed(writes: &[crate::protocol::Resumed]) -> String {
    let each: Vec<String> = writes
        .iter()
        .map(|w| {
            let stage = w.stage.map(|s| format!(" (stage {s})")).unwrap_or_default();
            format!("{}{stage} {}", w.action, w.found.word())
        })
        .collect();
    // The findings first: at 80 columns the notice is cut at the edge.
    let noun = if writes.len() == 1 { "write" } else { "writes" };
    format!(
        "After a crash, read back: {}. Nothing was repeated; the audit log has the {noun} and the evidence.",
        each.join("; ")
    )
}

pub fn cancelled(what: &str) -> String {
    format!("{what}: stopped; nothing was recorded.")
}

pub fn signed_in(account: Option<&str>) -> String {
    match account {
        Some(account) => format!("Signed in to Microsoft 365 as {account}; the sign-in is kept in the OS keyring."),
        None => "Signed in to Microsoft 365; the sign-in is kept in the OS keyring.".to_owned(),
    }
}

pub fn sign_in_failed(error: &str) -> String {
    format!("Sign-in failed: {error}")
}

pub fn expires_in(secs: u64) -> String {
    format!("The code expires in {} minutes.", secs.div_ceil(60))
}

pub fn cancelling(label: &str) -> String {
    format!("Cancelling: {label}…")
}

pub fn progress(label: &str, done: u64, total: Option<u64>) -> String {
    match total {
        Some(total) => format!("{label}: {done} of {total}…"),
        None => format!("{label}…"),
    }
}

pub fn refused(what: &str, reason: &str) -> String {
    format!("{what}: {reason}")
}

pub fn failed(what: &str, error: &str) -> String {
    format!("Could not save {what}: {error}")
}

pub fn checked_at(at: &chrono::DateTime<chrono::Utc>) -> String {
    format!("checked {}", at.format("%Y-%m-%d %H:%M UTC"))
}

pub fn overridden_by(by: &str, reason: &str) -> String {
    format!("Overridden by {by}: {reason}")
}

pub fn budget_line(mailboxes: u32, total: &str) -> String {
    format!("$300 + $25 × {} = {total}", crate::plan::kickoff::group_thousands(u64::from(mailboxes)))
}

pub fn budget_pending(hint: &str) -> String {
    format!("$300 + $25 per mailbox ({hint})")
}

pub fn budget_summary(mailboxes: u32, total: &str) -> String {
    format!(
        "{total} ({} {})",
        crate::plan::kickoff::group_thousands(u64::from(mailboxes)),
        MAILBOXES_LABEL.to_lowercase()
    )
}

pub const COMPLETE_TITLE: &str = "Complete the batch";
pub const COMPLETE_QUESTION: &str = "Complete the batch (Complete-MigrationBatch)? Exchange Online runs one last \
     incremental sync of every mailbox, then synchronisation stops for good: mail still reaching the old server \
     after that is not moved. Do it once last-sync-after-mx passes.";
pub const REMOVE_TITLE: &str = "Remove the batch";
pub const REMOVE_QUESTION: &str = "Remove the batch (Remove-MigrationBatch)? Only a Completed (or CompletedWithErrors) \
     batch is removed; a mailbox that did not complete stays on the source for good, and the batch's history and \
     statistics go with it, so export the migration report (stage 6) first.";
pub const REMOVE_ENDPOINT_TITLE: &str = "Remove the migration endpoint";
pub const REMOVE_ENDPOINT_QUESTION: &str = "Remove the migration endpoint (Remove-MigrationEndpoint)? Exchange \
     Online stops reaching the source server; it is refused while a batch is left.";
pub const APPROVE_ALL_TITLE: &str = "Approve the skipped items";
pub const APPROVE_ALL_QUESTION: &str = "Approve the skipped items of every mailbox that has some (stage 6's task, \
     Set-MigrationUser -ApproveSkippedItems)? They stay behind at the source; completion then lets those \
     mailboxes through. Run Complete the batch again after it.";
pub const ADVICE_HEADER: &str = "Not done by cutover, for the customer (kept for the closeout report):";
pub const FINAL_SYNC_KEYS: &str = "m: the batch's mailboxes, live   a: approve the skipped items that block completion";
pub const NO_MX_RECORDS: &str =
    "Nothing to copy yet: run Show the DNS records to set (Enter on it) to read them from the tenant.";
pub const MX_RECORDS_COPIED: &str = "The DNS records (zone-file snippet) sent to the clipboard (OSC 52).";
pub const NO_DNS_VIEW: &str =
    "No view of the DNS yet: record the MX change (Enter on Record the MX change), which starts the watch.";
pub const DNS_TITLE: &str = "DNS propagation";
pub const MX_KEYS_HINT: &str = "y copy the records (zone file)  d the resolver table";
pub const MX_DEMO_KEYS_HINT: &str =
    "y copy the records (zone file)  p DEMO ONLY: apply them at the simulated registrar  d the resolver table";
pub const DNS_TABLE_HINT: &str =
    "Passes when every resolver returns the new records; old answers go once their TTL runs out. Esc back.";

pub const TEST_MAIL_TITLE: &str = "Send a test mail";
pub const TEST_MAIL_QUESTION: &str = "Send two test messages through Microsoft Graph from the first migrated \
     mailbox, to the Test mail address and to the second migrated mailbox? A signed-in account needs \
     Mail.Send.Shared (a code asks for it if never given) and Send As on that mailbox, given for the sends and \
     taken back. Then send one from outside to that mailbox and run the checks.";
pub const EOP_TITLE: &str = "Apply Exchange Online Protection settings";
pub const EOP_QUESTION: &str = "Bring the Default anti-spam and anti-malware policies to the baseline of \
     docs/eop-baseline.md (Microsoft's recommended Standard values; Set-HostedContentFilterPolicy, \
     Set-MalwareFilterPolicy; only the values the check Eop policies shows as different), create a disabled DKIM \
     config for each domain without one, and enable DKIM signing where both selector CNAMEs resolve? SPF and \
     DMARC are the customer's DNS: shown by the check, never written.";
pub const TRANSPORT_RULES_TITLE: &str = "Create transport rules";
pub const TRANSPORT_RULES_QUESTION: &str = "Create the source's transport rules in Exchange Online \
     (New-TransportRule)? Only rules missing by name are created, enabled or not and in the mode the source had \
     them; a rule already there with other settings is shown as a diff and left as it is, and a rule with an \
     on-premises-only part is listed, not created.";
pub const LICENCES_TITLE: &str = "Assign remaining licences";
pub const LICENCES_QUESTION: &str = "Assign an Exchange Online licence (stage 3's Licence setting, or the first \
     subscription that gives a mailbox) to every migrated user who has none (POST /users/{id}/assignLicense)? \
     Users who hold one are left as they are.";
pub const POST_RULES_FILE: &str = "The source's rules come from the stage 9 setting Transport rules file: the \
     cutover-transport-rules-<date>.json that assets/Get-CutoverInventory.ps1 writes beside the inventory.";
