//! The failure catalogue: every failed or stalled mailbox mapped to a known cause and its fix, matched on
//! Exchange's error text and exception names. An error not in the catalogue is an unknown cause that keeps
//! Exchange's text verbatim: never hidden, never guessed. Pure.

use crate::plan::migrate::MigrateSettings;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::view::MailboxView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A known reason a mailbox does not migrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Cause {
    /// The source mailbox is hidden from address lists: a cutover batch does not migrate it.
    HiddenFromAddressLists,
    /// A proxy address of the mailbox already belongs to another object in the tenant.
    ProxyAddressInUse,
    /// The migration account lacks FullAccess / Receive As on the source mailbox.
    MigrationAccountRights,
    /// Exchange Online has no licence for the mailbox.
    MissingLicence,
    /// The target mailbox is over its quota.
    TargetOverQuota,
    /// Too many large or corrupt items were skipped: the sync stops until they are approved.
    SkippedItems,
    /// The job was poisoned (it crashed the migration service repeatedly).
    PoisonedJob,
    /// The job timed out talking to the source (`SyncTimeoutException`).
    SyncTimeout,
    /// A permanent failure of the job (`MigrationPermanentException`) with no more specific cause.
    PermanentFailure,
    /// No error, but the counters have not moved for the stall setting.
    Stalled,
    /// Not in the catalogue: Exchange's text is shown as it is.
    Unknown,
}

impl Cause {
    pub const ALL: [Cause; 11] = [
        Cause::HiddenFromAddressLists,
        Cause::ProxyAddressInUse,
        Cause::MigrationAccountRights,
        Cause::MissingLicence,
        Cause::TargetOverQuota,
        Cause::SkippedItems,
        Cause::PoisonedJob,
        Cause::SyncTimeout,
        Cause::PermanentFailure,
        Cause::Stalled,
        Cause::Unknown,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Cause::HiddenFromAddressLists => "hidden from address lists",
            Cause::ProxyAddressInUse => "a proxy address is used by another object",
            Cause::MigrationAccountRights => "the migration account lacks rights on the mailbox",
            Cause::MissingLicence => "no Exchange Online licence",
            Cause::TargetOverQuota => "the target mailbox is over quota",
            Cause::SkippedItems => "large or corrupt items skipped",
            Cause::PoisonedJob => "poisoned migration job",
            Cause::SyncTimeout => "the sync timed out (stalled)",
            Cause::PermanentFailure => "permanent migration failure",
            Cause::Stalled => "stalled: counters not moving",
            Cause::Unknown => "unknown cause",
        }
    }

    pub fn fix(self) -> &'static str {
        match self {
            Cause::HiddenFromAddressLists => {
                "On the source, Set-Mailbox <user> -HiddenFromAddressListsEnabled $false, wait for the batch to pick \
                 it up (or retry), and hide it again in Exchange Online after the move."
            }
            Cause::ProxyAddressInUse => {
                "Find the object holding the address in the tenant (Get-Recipient -Identity <address>), remove the \
                 address from it or delete the stale object, then retry the mailbox."
            }
            Cause::MigrationAccountRights => {
                "Give the migration account FullAccess on the mailbox (Add-MailboxPermission <user> -User <account> \
                 -AccessRights FullAccess), or Receive As on its database, and make sure the mailbox is not a \
                 protected admin account (AdminSDHolder); then retry."
            }
            Cause::MissingLicence => {
                "Assign an Exchange Online licence to the user (stage 3), with a usage location, then retry; an \
                 unlicensed migrated mailbox is disabled after 30 days."
            }
            Cause::TargetOverQuota => {
                "Reduce the source mailbox (archive or delete old mail), or give the user a licence with a larger \
                 mailbox or an archive, then retry."
            }
            Cause::SkippedItems => {
                "Review the skipped items in the user's migration report, approve them \
                 (Set-MigrationBatch -ApproveSkippedItems, or raise BadItemLimit / LargeItemLimit) and retry."
            }
            Cause::PoisonedJob => {
                "Remove the mailbox from the batch (Remove-MigrationUser) and let it sync again, or retry; if it \
                 poisons again, open a Microsoft support case with the job's report."
            }
            Cause::SyncTimeout => {
                "Check the source server: Outlook Anywhere load, the RPC proxy, throttling and network drops; then \
                 retry the mailbox (Start-MigrationUser). Lower MaxConcurrentMigrations if many time out."
            }
            Cause::PermanentFailure => {
                "Read the detail in Get-MigrationUserStatistics <user> -IncludeReport, fix what it names, then \
                 retry the mailbox."
            }
            Cause::Stalled => {
                "Check Get-MigrationUserStatistics <user> -IncludeReport for a stall reason (StalledDueTo…), the \
                 source server's load and the network; retry the mailbox if nothing moves."
            }
            Cause::Unknown => {
                "Read Exchange's text below and Get-MigrationUserStatistics <user> -IncludeReport; search the \
                 exception name in Microsoft's documentation."
            }
        }
    }
}

/// Why one mailbox failed or stalled, for the checks, the screen and the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub cause: Cause,
    /// Exchange's error text, verbatim; `None` when it gave none.
    pub error: Option<String>,
}

impl Explanation {
    pub fn is_known(&self) -> bool {
        self.cause != Cause::Unknown
    }

    /// "a proxy address is used by another object. Fix: …" and, for an unknown cause, Exchange's text.
    pub fn line(&self) -> String {
        match (&self.cause, &self.error) {
            (Cause::Unknown, Some(e)) => format!("unknown cause: Exchange says \"{e}\". {}", self.cause.fix()),
            (Cause::Unknown, None) => format!("unknown cause: Exchange gave no error text. {}", self.cause.fix()),
            (c, _) => format!("{}. Fix: {}", c.title(), c.fix()),
        }
    }
}

/// The patterns of each cause, lower-case, in the order tried: the specific before the general, so an access
/// denied wrapped in a permanent exception is the account's rights, not "permanent failure".
const PATTERNS: &[(Cause, &[&str])] = &[
    (Cause::HiddenFromAddressLists, &["hidden from address list", "hiddenfromaddresslists"]),
    (
        Cause::ProxyAddressInUse,
        &["proxyaddress", "proxy address", "is already being used", "recipientaddressinuse", "already in use"],
    ),
    (
        Cause::MigrationAccountRights,
        &["migrationmrspermanentexception", "access is denied", "access denied", "accessdenied", "unauthorized"],
    ),
    (Cause::MissingLicence, &["licence", "license"]),
    (Cause::TargetOverQuota, &["quota", "mailboxisfull", "exceeds the maximum"]),
    // Before the skipped items: a poisoned job's text may advise checking the mailbox "for corruption".
    (Cause::PoisonedJob, &["poison"]),
    (
        Cause::SkippedItems,
        &["toomanybaditems", "toomanylargeitems", "bad item", "large item", "corrupt", "skipped item"],
    ),
    (Cause::SyncTimeout, &["synctimeoutexception", "timed out", "timeout"]),
    (Cause::PermanentFailure, &["migrationpermanentexception"]),
];

/// The cause of an error text, from the catalogue; `Unknown` when nothing matches.
pub fn classify(error: &str) -> Cause {
    let text = error.to_lowercase();
    PATTERNS
        .iter()
        .find(|(_, needles)| needles.iter().any(|n| text.contains(n)))
        .map_or(Cause::Unknown, |(cause, _)| *cause)
}

/// Why a mailbox needs attention, or `None` when it does not (not failed, not stalled). A stalled mailbox with no
/// error text is [`Cause::Stalled`].
pub fn explain(m: &MailboxView, settings: &MigrateSettings, now: DateTime<Utc>) -> Option<Explanation> {
    let h = health(m, settings, now);
    if !h.needs_attention() {
        return None;
    }
    let error = m.error().map(str::to_owned);
    let stalled = h == Health::Stalled;
    let cause = match &error {
        // A stalled mailbox whose leftover text names nothing known is still, first of all, stalled.
        Some(e) => match classify(e) {
            Cause::Unknown if stalled => Cause::Stalled,
            c => c,
        },
        None if stalled => Cause::Stalled,
        None => Cause::Unknown,
    };
    Some(Explanation { cause, error })
}

/// One skipped item in a line: its kind, subject, folder and size, as the approve task lists it. The subject and
/// folder come from the mailbox, so control characters are escaped before they reach a terminal.
pub fn skipped_item_line(item: &crate::m365::exo::types::SkippedItem) -> String {
    let clean = |s: &str| crate::safe_text::escape_controls(s, false).into_owned();
    let subject = item.subject.as_deref().map_or_else(|| "(no subject)".to_owned(), |s| format!("\"{}\"", clean(s)));
    let folder = item.folder_name.as_deref().map_or_else(|| "an unnamed folder".to_owned(), clean);
    let kind = match item.kind.name() {
        "" => "item",
        name => name,
    };
    let size = item
        .message_size
        .and_then(crate::m365::exo::ExSize::bytes)
        .map_or_else(|| "size unknown".to_owned(), crate::inventory::size::format_size);
    format!("{kind} {subject} in {folder}, {size}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::m365::exo::values::UserStatus;
    use crate::plan::migrate::view::tests::{read, t0, user};
    use crate::plan::migrate::view::{BatchView, apply_poll};
    use chrono::Duration;

    #[test]
    fn each_cause_is_named_from_exchange_text() {
        let cases = [
            ("The mailbox is hidden from address lists and can't be migrated.", Cause::HiddenFromAddressLists),
            (
                "Error: ProvisioningFailedException: The proxy address \"SMTP:pilar@contoso.com\" is already being used by the proxy addresses or LegacyExchangeDN.",
                Cause::ProxyAddressInUse,
            ),
            ("Error: MigrationMRSPermanentException: Error: Access is denied.", Cause::MigrationAccountRights),
            ("MigrationPermanentException: Access is denied to the mailbox.", Cause::MigrationAccountRights),
            ("The user doesn't have a valid Exchange Online license.", Cause::MissingLicence),
            ("MailboxQuotaExceededException: the target mailbox is over its quota.", Cause::TargetOverQuota),
            ("TooManyLargeItemsPermanentException: Large items were encountered and skipped.", Cause::SkippedItems),
            ("Error: TooManyBadItemsPermanentException: corrupt items", Cause::SkippedItems),
            ("The job has been poisoned and will not be retried.", Cause::PoisonedJob),
            (
                "Error: MigrationPermanentException: The job was quarantined after it failed repeatedly (poisoned \
                 job). If it fails again, check the mailbox for corruption.",
                Cause::PoisonedJob,
            ),
            ("Error: SyncTimeoutException: The job timed out.", Cause::SyncTimeout),
            ("Error: MigrationPermanentException: The job failed.", Cause::PermanentFailure),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), want, "{text}");
        }
        for cause in Cause::ALL {
            assert!(!cause.title().is_empty() && !cause.fix().is_empty());
        }
    }

    #[test]
    fn an_unknown_error_is_kept_verbatim() {
        let settings = MigrateSettings::default();
        let mut view = BatchView::default();
        let mut u = user("a@contoso.com", UserStatus::Failed, 0);
        u.error = Some("Error: FrobnicationException: the flux capacitor <is> \"gone\"".into());
        apply_poll(&mut view, read(vec![u], vec![]), t0());
        let m = view.mailbox("a@contoso.com").expect("mailbox");
        let e = explain(m, &settings, t0()).expect("failed");
        assert_eq!(e.cause, Cause::Unknown);
        assert!(!e.is_known());
        assert_eq!(e.error.as_deref(), Some("Error: FrobnicationException: the flux capacitor <is> \"gone\""));
        assert!(e.line().contains("FrobnicationException: the flux capacitor <is> \"gone\""), "{}", e.line());
    }

    #[test]
    fn stalled_without_an_error_is_stalled_and_a_healthy_one_needs_nothing() {
        let settings = MigrateSettings::default();
        let mut view = BatchView::default();
        apply_poll(&mut view, read(vec![user("a@contoso.com", UserStatus::Syncing, 5)], vec![]), t0());
        let m = view.mailbox("a@contoso.com").expect("mailbox");
        assert_eq!(explain(m, &settings, t0() + Duration::minutes(10)), None);
        let e = explain(m, &settings, t0() + Duration::minutes(61)).expect("stalled");
        assert_eq!(e.cause, Cause::Stalled);
        assert!(e.line().contains("Fix:"), "{}", e.line());
    }

    #[test]
    fn a_skipped_item_is_one_line_with_its_subject_escaped() {
        use crate::m365::exo::{ExSize, SkippedItemKind};
        let mut item = crate::m365::exo::types::SkippedItem {
            kind: SkippedItemKind::LargeItem,
            subject: Some("Scans\x1b[2J".into()),
            folder_name: Some("Inbox".into()),
            sender: None,
            recipient: None,
            message_class: None,
            message_size: Some(ExSize::Bytes(167_772_160)),
            date_sent: None,
            date_received: None,
            failure: None,
        };
        let line = skipped_item_line(&item);
        assert!(line.starts_with("LargeItem \"Scans") && line.ends_with("in Inbox, 160.00 MB"), "{line}");
        assert!(!line.contains('\x1b'), "no escape sequence reaches the terminal: {line}");
        item.kind = SkippedItemKind::Unknown(String::new());
        item.subject = None;
        item.message_size = None;
        assert_eq!(skipped_item_line(&item), "item (no subject) in Inbox, size unknown");
    }
}
