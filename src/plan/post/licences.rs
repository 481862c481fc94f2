//! Stage 9's licences: every migrated mailbox that needs a licence (user and linked mailboxes; shared, room and
//! equipment mailboxes need none) belongs to a user holding a subscription that gives an Exchange Online
//! mailbox (stage 3's rule, `plan::users::gives_mailbox`). A mailbox whose user has none is disabled once the 30
//! days' grace after the move have run out, so the days left are counted from when the batch was created
//! (the move provisions the cloud mailboxes). Pure.

use crate::inventory::Mailbox;
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Duration, Utc};

/// The grace Exchange Online gives a mailbox without a licence before it disables it.
pub const GRACE_DAYS: i64 = 30;

/// A tenant user as far as licences go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLicences {
    pub id: String,
    pub upn: String,
    /// The `skuId` of each assigned licence.
    pub skus: Vec<String>,
    /// Graph assigns no licence to a user without one.
    pub usage_location: Option<String>,
}

/// Who lacks a licence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenceGap {
    /// Users with a mailbox licence already (UPNs).
    pub licensed: Vec<String>,
    /// Users without one.
    pub unlicensed: Vec<UserLicences>,
    /// Migrated mailboxes whose user is not in the tenant.
    pub no_account: Vec<String>,
}

/// The gap of the migrated mailboxes, given the `skuId`s that give a mailbox. A user is found by UPN, then by
/// the mailbox's primary address as UPN (the batch makes the one the other).
pub fn gap(migrated: &[&Mailbox], users: &[UserLicences], mailbox_skus: &[String]) -> LicenceGap {
    let mut out = LicenceGap::default();
    for m in migrated.iter().filter(|m| m.recipient_type.needs_licence()) {
        let wanted = [m.upn.trim(), m.primary_smtp.trim()];
        let user = users.iter().find(|u| wanted.iter().any(|w| !w.is_empty() && u.upn.trim().eq_ignore_ascii_case(w)));
        match user {
            None => out.no_account.push(m.primary_smtp.trim().to_owned()),
            Some(u) if u.skus.iter().any(|s| mailbox_skus.iter().any(|k| k.eq_ignore_ascii_case(s))) => {
                out.licensed.push(u.upn.clone());
            }
            Some(u) => out.unlicensed.push(u.clone()),
        }
    }
    out
}

/// Whole days left of the grace, counted from `moved_at`; negative once it ran out.
pub fn days_left(moved_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (moved_at + Duration::days(GRACE_DAYS) - now).num_days()
}

/// The licences check: Pass when every migrated mailbox's user holds a mailbox licence; Fail otherwise, with
/// the users, the days left and the fix.
pub fn check(gap: &LicenceGap, moved_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> CheckResult {
    let mut parts = vec![format!("{} migrated mailbox user(s) hold an Exchange Online licence.", gap.licensed.len())];
    let failing = !gap.unlicensed.is_empty() || !gap.no_account.is_empty();
    if !gap.unlicensed.is_empty() {
        let names: Vec<&str> = gap.unlicensed.iter().map(|u| u.upn.as_str()).collect();
        parts.push(format!("Without one: {}.", names.join(", ")));
        parts.push(match moved_at.map(|m| days_left(m, now)) {
            Some(d) if d > 0 => format!(
                "{d} of the {GRACE_DAYS} days left before Exchange Online disables their mailboxes: run Assign remaining licences."
            ),
            Some(_) => format!(
                "The {GRACE_DAYS} days after the move have run out: Exchange Online disables these mailboxes; assign the licences now (run Assign remaining licences)."
            ),
            None => format!(
                "Exchange Online disables them {GRACE_DAYS} days after the move (its date is not recorded here): run Assign remaining licences."
            ),
        });
    }
    if !gap.no_account.is_empty() {
        parts.push(format!("No account in the tenant for: {}.", gap.no_account.join(", ")));
    }
    CheckResult::new(if failing { Outcome::Fail } else { Outcome::Pass }, parts.join(" "), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Archive, RecipientType};

    fn mailbox(address: &str, kind: RecipientType) -> Mailbox {
        Mailbox {
            display_name: address.into(),
            primary_smtp: address.into(),
            upn: address.into(),
            proxy_addresses: vec![format!("SMTP:{address}")],
            recipient_type: kind,
            total_item_size: 0,
            item_count: 0,
            deleted_item_size: 0,
            archive: Archive::None,
            hidden: false,
            forwarding: None,
            last_logon: None,
            database: "DB01".into(),
            legacy_exchange_dn: String::new(),
        }
    }

    fn user(id: &str, upn: &str, skus: &[&str]) -> UserLicences {
        UserLicences {
            id: id.into(),
            upn: upn.into(),
            skus: skus.iter().map(|s| (*s).to_owned()).collect(),
            usage_location: None,
        }
    }

    #[test]
    fn only_users_without_a_mailbox_sku_are_unlicensed_and_shared_mailboxes_need_none() {
        let a = mailbox("a@contoso.com", RecipientType::UserMailbox);
        let b = mailbox("B@contoso.com", RecipientType::UserMailbox);
        let shared = mailbox("info@contoso.com", RecipientType::SharedMailbox);
        let gone = mailbox("gone@contoso.com", RecipientType::UserMailbox);
        let users = [
            user("1", "a@contoso.com", &["EXO-SKU"]),
            user("2", "b@contoso.com", &["TEAMS-ONLY"]),
            user("3", "info@contoso.com", &[]),
        ];
        let g = gap(&[&a, &b, &shared, &gone], &users, &["exo-sku".to_owned()]);
        assert_eq!(g.licensed, ["a@contoso.com"]);
        assert_eq!(g.unlicensed, [users[1].clone()]);
        assert_eq!(g.no_account, ["gone@contoso.com"]);
    }

    #[test]
    fn the_days_left_count_down_from_the_move_and_the_check_says_them() {
        let now = Utc::now();
        assert_eq!(days_left(now - Duration::days(12), now), 18);
        assert!(days_left(now - Duration::days(31), now) < 0);
        let g = LicenceGap { unlicensed: vec![user("2", "b@contoso.com", &[])], ..LicenceGap::default() };
        let r = check(&g, Some(now - Duration::days(12)), now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("Without one: b@contoso.com. 18 of the 30 days left"), "{}", r.evidence);
        let late = check(&g, Some(now - Duration::days(40)), now);
        assert!(late.evidence.contains("have run out"), "{}", late.evidence);
        let ok = LicenceGap { licensed: vec!["a@contoso.com".into()], ..LicenceGap::default() };
        assert_eq!(check(&ok, None, now).outcome, Outcome::Pass);
    }
}
