//! Stage 3, Users / directory sync: the rules over what the tenant reports. Directory sync must be off, the
//! Exchange Online licences must cover the mailboxes, and no address that moves may already belong to another
//! object. Pure: the Graph client turns its answers into the plain types here.

use super::check::{CheckResult, Outcome};
use super::kickoff::group_thousands;
use super::settings::Setting;
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use crate::inventory::Mailbox;
use crate::inventory::risk::{RiskFlag, Thresholds, flags};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(3);

plan_ids! {
    /// The tasks of stage 3; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        ChooseProvisioning = "choose-provisioning",
        CreateUsers = "create-users",
        SetUsageLocation = "set-usage-location",
        AssignLicences = "assign-licences",
    }
}

plan_ids! {
    /// The checks of stage 3; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        DirsyncOff = "dirsync-off",
        LicencesAvailable = "licences-available",
        NoCollisions = "no-collisions",
    }
}

/// Stage 3 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Users / directory sync",
    help: "Decide how the cloud accounts come to be, and make sure nothing in the tenant stands in the way.",
    tasks: &[
        TaskDef {
            id: TaskId::Users(Task::ChooseProvisioning),
            title: "Choose how accounts are made",
            help: "Let the cutover batch provision them (the default, as Exchange does), or pre-create them with a usage location and a licence.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Users(Task::CreateUsers),
            title: "Create cloud user accounts",
            help: "Only when pre-creating: one account per source mailbox.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Users(Task::SetUsageLocation),
            title: "Set usage location",
            help: "Required before a licence can be assigned.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Users(Task::AssignLicences),
            title: "Assign Exchange Online licences",
            help: "Within 30 days of migration, or the mailboxes are disabled.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Users(Check::DirsyncOff),
            title: "Directory sync is off",
            help: "A cutover migration requires directory synchronisation to be off in the tenant.",
        },
        CheckDef {
            id: CheckId::Users(Check::LicencesAvailable),
            title: "Enough licences",
            help: "Exchange Online licences available for every mailbox.",
        },
        CheckDef {
            id: CheckId::Users(Check::NoCollisions),
            title: "No UPN or SMTP collisions",
            help: "No address that moves is already used by another object in the tenant.",
        },
    ],
    settings: &[Setting::Provisioning, Setting::UsageLocation, Setting::Licence],
};

/// Who creates the cloud accounts. In a cutover the batch provisions them from the source mailboxes (Exchange's
/// default); pre-creating them lets the usage location and licences be set before the batch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Provisioning {
    #[default]
    ByBatch,
    PreCreate,
}

/// The engineer's stage-3 choices.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct UsersSettings {
    #[serde(default)]
    pub provisioning: Provisioning,
    /// ISO 3166-1 alpha-2 country code, required before a licence can be assigned.
    #[serde(default)]
    pub usage_location: Option<String>,
    /// The subscription to assign, by `skuPartNumber`; none: the first one that gives a mailbox.
    #[serde(default)]
    pub licence: Option<String>,
}

/// Service plans that give a user an Exchange Online mailbox. `EXCHANGE_S_FOUNDATION` (in many non-mail SKUs)
/// and the archive add-ons do not.
const MAILBOX_PLANS: [&str; 4] =
    ["EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_DESKLESS", "EXCHANGE_S_ESSENTIALS"];
/// The plan a shared mailbox over 50 GB needs (Exchange Online Plan 2, also in E3 and E5).
const PLAN_2: &str = "EXCHANGE_S_ENTERPRISE";

/// Whether a service plan (by `servicePlanName`) gives a mailbox; government variants (`…_GOV`) count too.
pub fn gives_mailbox(service_plan_name: &str) -> bool {
    MAILBOX_PLANS
        .iter()
        .any(|p| service_plan_name == *p || service_plan_name.strip_prefix(p).is_some_and(|rest| rest.starts_with('_')))
}

fn gives_plan_2(service_plan_name: &str) -> bool {
    service_plan_name == PLAN_2 || service_plan_name.strip_prefix(PLAN_2).is_some_and(|rest| rest.starts_with('_'))
}

/// One subscribed SKU, as far as licences go (`subscribedSkus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuCount {
    pub sku_part_number: String,
    /// `appliesTo` is `User`: only those can be assigned.
    pub assignable: bool,
    /// `prepaidUnits.enabled`.
    pub enabled: u32,
    /// `prepaidUnits.warning`: in the grace period after expiry.
    pub warning: u32,
    pub consumed: u32,
    /// The `servicePlanName`s of its service plans.
    pub service_plans: Vec<String>,
}

impl SkuCount {
    fn free(&self) -> u32 {
        self.enabled.saturating_sub(self.consumed)
    }

    fn gives_mailbox(&self) -> bool {
        self.assignable && self.service_plans.iter().any(|p| gives_mailbox(p))
    }

    fn gives_plan_2(&self) -> bool {
        self.assignable && self.service_plans.iter().any(|p| gives_plan_2(p))
    }
}

/// How many licences the inventory needs: one per user mailbox, and Plan 2 for shared mailboxes over 50 GB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LicenceNeed {
    pub mailbox: u32,
    /// Of those, how many must be Exchange Online Plan 2.
    pub plan_2: u32,
}

pub fn licence_need(mailboxes: &[Mailbox], t: &Thresholds) -> LicenceNeed {
    let mut need = LicenceNeed::default();
    for m in mailboxes {
        let shared_over = flags(m, false, t).iter().any(|f| matches!(f, RiskFlag::SharedNeedsLicence(_)));
        if m.recipient_type.needs_licence() || shared_over {
            need.mailbox += 1;
        }
        if shared_over {
            need.plan_2 += 1;
        }
    }
    need
}

/// `dirsync-off`: `onPremisesSyncEnabled` of the organization (`null` when it never synced).
pub fn dirsync_check(on_premises_sync_enabled: Option<bool>, now: DateTime<Utc>) -> CheckResult {
    match on_premises_sync_enabled {
        Some(true) => CheckResult::new(
            Outcome::Fail,
            "Directory synchronisation is on (onPremisesSyncEnabled is true). A cutover migration needs it off: turn it off (Microsoft Graph: onPremisesSyncEnabled false on the organization; it can take up to 72 hours), or choose a staged or hybrid migration.",
            now,
        ),
        Some(false) => CheckResult::new(
            Outcome::Pass,
            "Directory synchronisation is off (it was on once; onPremisesSyncEnabled is false).",
            now,
        ),
        None => CheckResult::new(
            Outcome::Pass,
            "Directory synchronisation has never been on (onPremisesSyncEnabled is null).",
            now,
        ),
    }
}

/// `licences-available`: the free Exchange Online licences against the need.
pub fn licences_check(skus: &[SkuCount], need: LicenceNeed, now: DateTime<Utc>) -> CheckResult {
    let mail: Vec<&SkuCount> = skus.iter().filter(|s| s.gives_mailbox()).collect();
    // Graph's counts are u32: summed over subscriptions with saturation, so absurd ones cannot overflow.
    let free: u32 = mail.iter().map(|s| s.free()).fold(0, u32::saturating_add);
    let free_plan_2: u32 = mail.iter().filter(|s| s.gives_plan_2()).map(|s| s.free()).fold(0, u32::saturating_add);
    let listed = if mail.is_empty() {
        "no subscription with an Exchange Online mailbox plan".to_owned()
    } else {
        mail.iter()
            .map(|s| format!("{} {} of {} free", s.sku_part_number, s.free(), s.enabled))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let need_text = if need.plan_2 > 0 {
        format!(
            "{} needed ({} of them Exchange Online Plan 2 for shared mailboxes over 50 GB)",
            need.mailbox, need.plan_2
        )
    } else {
        format!("{} needed", need.mailbox)
    };
    let text = format!("{} free Exchange Online licences ({listed}); {need_text}.", group_thousands(free.into()));
    if free < need.mailbox {
        return CheckResult::new(
            Outcome::Fail,
            format!(
                "{text} Buy {} more before the batch: mailboxes without a licence are disabled 30 days after migration.",
                need.mailbox - free
            ),
            now,
        );
    }
    if free_plan_2 < need.plan_2 {
        return CheckResult::new(
            Outcome::Fail,
            format!("{text} Buy {} more with Exchange Online Plan 2.", need.plan_2 - free_plan_2),
            now,
        );
    }
    let in_grace: u32 = mail.iter().map(|s| s.warning).fold(0, u32::saturating_add);
    if in_grace > 0 {
        return CheckResult::new(
            Outcome::Warn,
            format!("{text} {in_grace} licences are in their grace period after expiry: renew the subscription."),
            now,
        );
    }
    CheckResult::new(Outcome::Pass, text, now)
}

/// What kind of directory object holds an address. Each kind is cleaned up with its own tool, so the fix
/// depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    User,
    Group(GroupKind),
    /// An organizational contact (a mail contact or mail user in Exchange Online).
    Contact,
}

/// The group flavours Graph tells apart by `groupTypes`, `mailEnabled` and `securityEnabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// `groupTypes` holds `Unified`.
    Microsoft365,
    /// Mail-enabled, not security-enabled: a distribution list.
    Distribution,
    MailEnabledSecurity,
    /// Not mail-enabled; it holds an address only through leftover proxy addresses.
    Security,
}

impl GroupKind {
    /// From a group's `groupTypes` (`Unified` present or not), `mailEnabled` and `securityEnabled`.
    pub fn of(unified: bool, mail_enabled: bool, security_enabled: bool) -> GroupKind {
        match (unified, mail_enabled, security_enabled) {
            (true, _, _) => GroupKind::Microsoft365,
            (false, true, true) => GroupKind::MailEnabledSecurity,
            (false, true, false) => GroupKind::Distribution,
            (false, false, _) => GroupKind::Security,
        }
    }
}

impl ObjectKind {
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::User => "user",
            ObjectKind::Group(GroupKind::Microsoft365) => "Microsoft 365 group",
            ObjectKind::Group(GroupKind::Distribution) => "distribution group",
            ObjectKind::Group(GroupKind::MailEnabledSecurity) => "mail-enabled security group",
            ObjectKind::Group(GroupKind::Security) => "security group",
            ObjectKind::Contact => "contact",
        }
    }

    /// How to free an address this kind of object holds, in Exchange Online PowerShell where that is the tool
    /// (Graph cannot change a distribution group, a mail-enabled security group or a contact).
    fn fix(self) -> &'static str {
        match self {
            ObjectKind::User => {
                "for a user, remove the address from its proxy addresses (or delete the user if it was created by mistake; a pre-created account must have the mailbox's primary address as its UPN)"
            }
            ObjectKind::Group(GroupKind::Microsoft365) => {
                "for a Microsoft 365 group, Set-UnifiedGroup -Identity <group> -EmailAddresses @{remove='smtp:<address>'} (or delete the group)"
            }
            ObjectKind::Group(_) => {
                "for a distribution or mail-enabled security group, Set-DistributionGroup -Identity <group> -EmailAddresses @{remove='smtp:<address>'} (or Remove-DistributionGroup if it only stood in for the mailbox)"
            }
            ObjectKind::Contact => {
                "for a contact, Remove-MailContact -Identity <contact> (a contact made so people could reach the on-premises mailbox is not needed once the mailbox moves)"
            }
        }
    }
}

/// An object in the tenant's directory and the addresses it holds (`userPrincipalName`, `mail`,
/// `proxyAddresses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryObject {
    pub kind: ObjectKind,
    pub display_name: String,
    pub upn: Option<String>,
    pub addresses: Vec<String>,
}

/// An address that moves but already belongs to another object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub address: String,
    pub mailbox: String,
    pub holder: String,
    pub kind: ObjectKind,
}

/// `smtp:a@b` or `a@b` as `a@b`, lowercase; other proxy types (X500, SIP, SPO…) are not mail addresses.
fn smtp(address: &str) -> Option<String> {
    let a = address.trim();
    let bare = match a.split_once(':') {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("smtp") => rest,
        Some(_) => return None,
        None => a,
    };
    bare.contains('@').then(|| bare.trim().to_ascii_lowercase())
}

/// Every address that moves and is already held by another object (each holder once, when a contact and a
/// group hold the same address both are named). An account whose UPN is the mailbox's primary address is the
/// mailbox's own pre-created account, not a collision.
pub fn collisions(mailboxes: &[Mailbox], objects: &[DirectoryObject]) -> Vec<Collision> {
    let mut holders: BTreeMap<String, Vec<&DirectoryObject>> = BTreeMap::new();
    for object in objects {
        let mut own = BTreeSet::new();
        for address in object.upn.iter().chain(object.addresses.iter()).filter_map(|a| smtp(a)) {
            if own.insert(address.clone()) {
                holders.entry(address).or_default().push(object);
            }
        }
    }
    let mut found = Vec::new();
    for mailbox in mailboxes {
        let own = mailbox.key();
        let moving = std::iter::once(own.clone()).chain(mailbox.proxy_addresses.iter().filter_map(|a| smtp(a)));
        let mut seen = BTreeSet::new();
        for address in moving.filter(|a| seen.insert(a.clone())) {
            for holder in holders.get(&address).into_iter().flatten() {
                let same_account = holder.kind == ObjectKind::User
                    && holder.upn.as_deref().map(str::to_ascii_lowercase) == Some(own.clone());
                if !same_account {
                    found.push(Collision {
                        address: address.clone(),
                        mailbox: mailbox.primary_smtp.clone(),
                        holder: holder.display_name.clone(),
                        kind: holder.kind,
                    });
                }
            }
        }
    }
    found
}

/// `no-collisions`: each colliding address with the kind and name of its holder, then the fix for each kind
/// met.
pub fn collisions_check(found: &[Collision], mailboxes: usize, now: DateTime<Utc>) -> CheckResult {
    if found.is_empty() {
        return CheckResult::new(
            Outcome::Pass,
            format!("No address of the {mailboxes} mailboxes is used by another object in the tenant."),
            now,
        );
    }
    const SHOWN: usize = 10;
    let mut listed: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|c| format!("{} (of {}) is held by {} '{}'", c.address, c.mailbox, c.kind.label(), c.holder))
        .collect();
    if found.len() > SHOWN {
        listed.push(format!("and {} more", found.len() - SHOWN));
    }
    let mut fixes: Vec<&str> = Vec::new();
    for c in found {
        let fix = c.kind.fix();
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    let affected: BTreeSet<&str> = found.iter().map(|c| c.mailbox.as_str()).collect();
    CheckResult::new(
        Outcome::Fail,
        format!(
            "{} addresses that move are already used in the tenant: {}. Free them before the batch starts, or the batch fails for {} ({}). Fix: {}.",
            found.len(),
            listed.join("; "),
            if affected.len() == 1 { "that mailbox".to_owned() } else { format!("those {} mailboxes", affected.len()) },
            affected.into_iter().collect::<Vec<_>>().join(", "),
            fixes.join("; ")
        ),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::csv::parse;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
    }

    fn sku(part: &str, enabled: u32, consumed: u32, plans: &[&str]) -> SkuCount {
        SkuCount {
            sku_part_number: part.into(),
            assignable: true,
            enabled,
            warning: 0,
            consumed,
            service_plans: plans.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn only_mailbox_plans_count() {
        assert!(gives_mailbox("EXCHANGE_S_STANDARD"));
        assert!(gives_mailbox("EXCHANGE_S_ENTERPRISE_GOV"));
        assert!(gives_mailbox("EXCHANGE_S_DESKLESS"));
        assert!(!gives_mailbox("EXCHANGE_S_FOUNDATION"));
        assert!(!gives_mailbox("EXCHANGE_S_ARCHIVE_ADDON"));
        assert!(!gives_mailbox("EXCHANGE_S_STANDARDX"));
    }

    #[test]
    fn licences_are_counted_per_mailbox_sku() {
        let skus = [
            sku("SPB", 40, 10, &["EXCHANGE_S_STANDARD", "MCOSTANDARD"]),
            sku("POWER_BI_STANDARD", 1000, 0, &["EXCHANGE_S_FOUNDATION", "BI_AZURE_P0"]),
            sku("ENTERPRISEPACK", 10, 9, &["EXCHANGE_S_ENTERPRISE"]),
        ];
        let ok = licences_check(&skus, LicenceNeed { mailbox: 31, plan_2: 1 }, now());
        assert_eq!(ok.outcome, Outcome::Pass, "{}", ok.evidence);
        assert!(ok.evidence.contains("SPB 30 of 40 free, ENTERPRISEPACK 1 of 10 free"), "{}", ok.evidence);
        assert!(!ok.evidence.contains("POWER_BI"), "{}", ok.evidence);
        let short = licences_check(&skus, LicenceNeed { mailbox: 40, plan_2: 0 }, now());
        assert_eq!(short.outcome, Outcome::Fail);
        assert!(short.evidence.contains("Buy 9 more"), "{}", short.evidence);
        let plan2 = licences_check(&skus, LicenceNeed { mailbox: 5, plan_2: 2 }, now());
        assert_eq!(plan2.outcome, Outcome::Fail);
        assert!(plan2.evidence.contains("Buy 1 more with Exchange Online Plan 2"), "{}", plan2.evidence);
        let none = licences_check(&[], LicenceNeed { mailbox: 1, plan_2: 0 }, now());
        assert!(none.evidence.contains("no subscription with an Exchange Online mailbox plan"));
    }

    #[test]
    fn licences_in_their_grace_period_warn() {
        let mut s = sku("O365_BUSINESS_ESSENTIALS", 20, 5, &["EXCHANGE_S_STANDARD"]);
        s.warning = 20;
        assert_eq!(licences_check(&[s], LicenceNeed { mailbox: 10, plan_2: 0 }, now()).outcome, Outcome::Warn);
    }

    #[test]
    fn directory_sync_must_be_off() {
        assert_eq!(dirsync_check(Some(true), now()).outcome, Outcome::Fail);
        assert!(dirsync_check(Some(true), now()).evidence.contains("72 hours"));
        assert_eq!(dirsync_check(Some(false), now()).outcome, Outcome::Pass);
        assert_eq!(dirsync_check(None, now()).outcome, Outcome::Pass);
    }

    fn mailboxes() -> Vec<Mailbox> {
        let csv = "PrimarySmtpAddress,EmailAddresses,RecipientTypeDetails,TotalItemSizeBytes\n\
            megan@contoso.com,SMTP:megan@contoso.com;smtp:mb@contoso.com;X500:/o=x/cn=megan,UserMailbox,1\n\
            info@contoso.com,SMTP:info@contoso.com,SharedMailbox,60000000000\n\
            room@contoso.com,,RoomMailbox,1\n";
        parse(csv.as_bytes()).expect("parse").mailboxes
    }

    #[test]
    fn the_need_counts_users_and_big_shared_mailboxes() {
        assert_eq!(licence_need(&mailboxes(), &Thresholds::default()), LicenceNeed { mailbox: 2, plan_2: 1 });
    }

    fn object(kind: ObjectKind, name: &str, upn: Option<&str>, addresses: &[&str]) -> DirectoryObject {
        DirectoryObject {
            kind,
            display_name: name.into(),
            upn: upn.map(Into::into),
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn an_address_held_by_another_object_collides_but_a_precreated_account_does_not() {
        let objects = [
            object(ObjectKind::User, "Megan Bowen", Some("Megan@contoso.com"), &["SMTP:megan@contoso.com"]),
            object(
                ObjectKind::Group(GroupKind::Microsoft365),
                "Marketing",
                None,
                &["SMTP:MB@contoso.com", "SIP:mb@contoso.com", "SPO:SPO_1f2e@SPO_72f9"],
            ),
        ];
        let found = collisions(&mailboxes(), &objects);
        assert_eq!(
            found,
            vec![Collision {
                address: "mb@contoso.com".into(),
                mailbox: "megan@contoso.com".into(),
                holder: "Marketing".into(),
                kind: ObjectKind::Group(GroupKind::Microsoft365)
            }]
        );
        let check = collisions_check(&found, 3, now());
        assert_eq!(check.outcome, Outcome::Fail);
        for text in [
            "mb@contoso.com (of megan@contoso.com) is held by Microsoft 365 group 'Marketing'",
            "the batch fails for that mailbox (megan@contoso.com)",
            "Set-UnifiedGroup",
        ] {
            assert!(check.evidence.contains(text), "{text}: {}", check.evidence);
        }
        assert!(!check.evidence.contains("Remove-MailContact"), "{}", check.evidence);
        assert_eq!(collisions_check(&[], 3, now()).outcome, Outcome::Pass);
    }

    #[test]
    fn groups_and_contacts_collide_each_with_its_own_fix() {
        let objects = [
            object(ObjectKind::Group(GroupKind::Distribution), "Accounts Team", None, &["SMTP:Info@Contoso.com"]),
            object(ObjectKind::Contact, "Megan (old address)", None, &["megan@contoso.com", "SMTP:megan@contoso.com"]),
            object(ObjectKind::Contact, "Info forwarder", None, &["smtp:info@contoso.com"]),
            // A pre-created account for another mailbox's address is a collision too.
            object(ObjectKind::User, "Info", Some("info.user@contoso.com"), &["smtp:mb@contoso.com"]),
        ];
        let found = collisions(&mailboxes(), &objects);
        let seen: Vec<(&str, &str, &str)> =
            found.iter().map(|c| (c.address.as_str(), c.kind.label(), c.holder.as_str())).collect();
        assert_eq!(
            seen,
            vec![
                ("megan@contoso.com", "contact", "Megan (old address)"),
                ("mb@contoso.com", "user", "Info"),
                ("info@contoso.com", "distribution group", "Accounts Team"),
                ("info@contoso.com", "contact", "Info forwarder"),
            ],
            "each holder once, in the mailboxes' order"
        );
        let check = collisions_check(&found, 3, now());
        for text in [
            "4 addresses that move",
            "info@contoso.com (of info@contoso.com) is held by distribution group 'Accounts Team'",
            "megan@contoso.com (of megan@contoso.com) is held by contact 'Megan (old address)'",
            "the batch fails for those 2 mailboxes (info@contoso.com, megan@contoso.com)",
            "Set-DistributionGroup",
            "Remove-MailContact",
            "for a user, remove the address",
        ] {
            assert!(check.evidence.contains(text), "{text}: {}", check.evidence);
        }
    }

    #[test]
    fn group_kinds_follow_graphs_three_properties() {
        assert_eq!(GroupKind::of(true, true, false), GroupKind::Microsoft365);
        assert_eq!(GroupKind::of(false, true, false), GroupKind::Distribution);
        assert_eq!(GroupKind::of(false, true, true), GroupKind::MailEnabledSecurity);
        assert_eq!(GroupKind::of(false, false, true), GroupKind::Security);
    }
}
