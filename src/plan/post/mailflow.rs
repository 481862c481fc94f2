//! Stage 9's mail flow: the test messages the task Send a test mail sent (from a migrated mailbox to the
//! engineer's test address, and from it to another migrated mailbox), each looked for in Exchange Online's
//! message trace (`Get-MessageTraceV2`) by sender, recipient and subject; and the inbound test, a message the
//! engineer sends from outside to the first migrated mailbox, found by its sender's domain being none of the
//! customer's. Delivered passes; Failed fails with its status; not there yet or Pending fails with what to
//! wait for. Pure.

use crate::inventory::Mailbox;
use crate::m365::exo::{MessageTrace, TraceStatus};
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which way a test message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From a migrated mailbox to the engineer's test address.
    Outbound,
    /// From one migrated mailbox to another.
    Internal,
}

impl Direction {
    pub fn word(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
    }
}

/// A test message sent, as `state.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestMail {
    pub direction: Direction,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub sent_at: DateTime<Utc>,
}

/// The subject that tells a test message apart in the trace.
pub fn subject(direction: Direction, at: DateTime<Utc>) -> String {
    format!("cutover test mail ({}) {}", direction.word(), at.format("%Y-%m-%d %H:%M:%S UTC"))
}

/// The two migrated user mailboxes the tests send from and to: the first two in the inventory's order.
pub fn senders<'a>(migrated: &[&'a Mailbox]) -> Option<(&'a Mailbox, &'a Mailbox)> {
    let mut users = migrated.iter().filter(|m| m.recipient_type.needs_licence());
    Some((*users.next()?, *users.next()?))
}

/// A test address the engineer gives: one `@` with something either side, no spaces.
pub fn valid_address(s: &str) -> bool {
    let s = s.trim();
    matches!(s.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains('@'))
        && !s.contains(char::is_whitespace)
}

/// What the trace says of one test message.
fn judge(test: &TestMail, rows: &[MessageTrace]) -> (bool, String) {
    let row = rows.iter().find(|r| {
        r.sender.eq_ignore_ascii_case(&test.from)
            && r.recipient.eq_ignore_ascii_case(&test.to)
            && r.subject.trim() == test.subject.trim()
    });
    let what = format!("{} test {} → {}", test.direction.word(), test.from, test.to);
    match row.map(|r| &r.status) {
        Some(TraceStatus::Delivered) => (true, format!("{what}: Delivered.")),
        Some(TraceStatus::Failed) => {
            (false, format!("{what}: Failed (see the message trace in the Exchange admin center)."))
        }
        Some(other) => (false, format!("{what}: {}; run the checks again in a few minutes.", other.word())),
        None => {
            (false, format!("{what}: not in the message trace yet (it can take some minutes); run the checks again."))
        }
    }
}

/// mail-flow over the latest test of each direction and the inbound trace of the first sender.
pub fn check(
    tests: &[TestMail],
    traces: &[Vec<MessageTrace>],
    inbound: &[MessageTrace],
    domains: &[String],
    now: DateTime<Utc>,
) -> CheckResult {
    if tests.is_empty() {
        return CheckResult::new(
            Outcome::Fail,
            "No test mail sent yet: run Send a test mail (it asks for the Graph permission it needs when it runs).",
            now,
        );
    }
    let mut ok = true;
    let mut parts = Vec::new();
    for (t, rows) in tests.iter().zip(traces) {
        let (delivered, line) = judge(t, rows);
        ok &= delivered;
        parts.push(line);
    }
    let first = &tests[0];
    let outside = |address: &str| {
        address.rsplit_once('@').is_none_or(|(_, d)| !domains.iter().any(|ours| ours.eq_ignore_ascii_case(d)))
    };
    let inbound_row = inbound.iter().find(|r| {
        r.recipient.eq_ignore_ascii_case(&first.from)
            && outside(&r.sender)
            && r.received.is_none_or(|at| at >= first.sent_at)
            && r.status == TraceStatus::Delivered
    });
    match inbound_row {
        Some(r) => parts.push(format!("inbound from {} → {}: Delivered.", r.sender, r.recipient)),
        None => {
            ok = false;
            parts.push(format!(
                "inbound: nothing from outside delivered to {} since {} yet: send one from an outside mailbox, then run the checks again.",
                first.from,
                first.sent_at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    CheckResult::new(if ok { Outcome::Pass } else { Outcome::Fail }, parts.join(" "), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(from: &str, to: &str, subject: &str, status: &str, at: DateTime<Utc>) -> MessageTrace {
        MessageTrace {
            received: Some(at),
            sender: from.into(),
            recipient: to.into(),
            subject: subject.into(),
            status: TraceStatus::parse(status),
        }
    }

    #[test]
    fn delivered_passes_failed_and_pending_fail_and_the_inbound_test_waits_for_mail_from_outside() {
        let now = Utc::now();
        let sent = now - chrono::Duration::minutes(10);
        let out = TestMail {
            direction: Direction::Outbound,
            from: "a@contoso.com".into(),
            to: "me@partner.example".into(),
            subject: subject(Direction::Outbound, sent),
            sent_at: sent,
        };
        let internal = TestMail {
            direction: Direction::Internal,
            to: "b@contoso.com".into(),
            subject: subject(Direction::Internal, sent),
            ..out.clone()
        };
        let tests = [out.clone(), internal.clone()];
        let domains = ["contoso.com".to_owned()];
        let delivered = |t: &TestMail, s: &str| vec![row(&t.from, &t.to, &t.subject, s, sent)];
        let from_outside = [row("x@fabrikam.example", "a@contoso.com", "hello", "Delivered", now)];
        let all = [delivered(&out, "Delivered"), delivered(&internal, "Delivered")];
        assert_eq!(check(&tests, &all, &from_outside, &domains, now).outcome, Outcome::Pass);
        let failed = [delivered(&out, "Failed"), delivered(&internal, "Delivered")];
        let r = check(&tests, &failed, &from_outside, &domains, now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("outbound test a@contoso.com → me@partner.example: Failed"), "{}", r.evidence);
        let pending = [delivered(&out, "Pending"), vec![]];
        let r = check(&tests, &pending, &from_outside, &domains, now);
        assert!(
            r.evidence.contains("Pending; run the checks again") && r.evidence.contains("not in the message trace yet")
        );
        let internal_only = [row("b@contoso.com", "a@contoso.com", "hi", "Delivered", now)];
        let r = check(&tests, &all, &internal_only, &domains, now);
        assert_eq!(r.outcome, Outcome::Fail, "mail from our own domain is no inbound test");
        assert!(r.evidence.contains("send one from an outside mailbox"), "{}", r.evidence);
        assert_eq!(check(&[], &[], &[], &domains, now).outcome, Outcome::Fail);
    }

    #[test]
    fn a_test_address_needs_a_local_part_and_a_domain() {
        assert!(valid_address(" engineer@partner.example "));
        assert!(!valid_address("engineer"));
        assert!(!valid_address("a b@partner.example"));
        assert!(!valid_address("@partner.example"));
    }
}
