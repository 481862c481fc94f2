//! Stage 9's send-test-mail and the mail-flow check. The task sends, through Graph `sendMail`, one message from
//! the first migrated user mailbox to the engineer's test address (the stage 9 setting) and one from it to the
//! second migrated mailbox, each with a subject that names it and its time, and keeps them in `state.json` for
//! the check. Each send is audited; sending again sends new messages (a test is a new test). The check reads
//! `Get-MessageTraceV2` for each and for the inbound test (`plan::post::mailflow`). Sending as another user
//! takes, for an app, the application permission Mail.Send (granted up front; Graph's 403 says so), and for a
//! signed-in engineer the delegated Mail.Send.Shared, asked for only when the task runs
//! (`runner::signin::consent`), with Send As on the sending mailbox: given for the sends
//! ([`ensure_send_as`]) and taken back after them when this task gave it.

use crate::m365::M365Error;
use crate::m365::exo::{ExoClient, MessageTrace};
use crate::m365::graph::GraphClient;
use crate::plan::post::STAGE;
use crate::plan::post::mailflow::{self, Direction, TestMail};
use crate::plan::source::migrating;
use crate::project::ProjectState;
use crate::project::audit::{self, AuditRecord, Found, Phase};
use crate::protocol::Event;
use crate::runner::jobs::JobContext;
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use chrono::Duration;
use serde_json::json;

/// The trace is read from a little before the first test (clocks differ) to now.
const SLACK_MINUTES: i64 = 10;

/// How far back a read-back looks in the trace: Get-MessageTraceV2 goes back 10 days at most.
const TRACE_DAYS: i64 = 9;

/// The two test mails to send: from the first migrated user mailbox, to the test address and to the second.
pub struct Sends {
    from: String,
    to: Vec<(Direction, String)>,
}

/// What to send, or why nothing can be: asked before any permission is.
pub fn sends(state: &ProjectState) -> Result<Sends, TaskError> {
    let Some(to) = state.post.test_address.clone() else {
        return Err(TaskError::BadInput {
            what: "no test mail address is set".to_owned(),
            fix: "set the stage 9 setting Test mail address (`cutover set test-mail-address ADDRESS`) to an outside mailbox you can read".to_owned(),
        });
    };
    let migrated: Vec<&crate::inventory::Mailbox> =
        state.inventory.as_deref().map(|i| migrating(i).collect()).unwrap_or_default();
    let Some((first, second)) = mailflow::senders(&migrated) else {
        return Err(TaskError::BadInput {
            what: "the inventory has fewer than two user mailboxes to send between".to_owned(),
            fix: "import the inventory in stage 2".to_owned(),
        });
    };
    Ok(Sends {
        from: first.primary_smtp.trim().to_owned(),
        to: vec![(Direction::Outbound, to), (Direction::Internal, second.primary_smtp.trim().to_owned())],
    })
}

/// Sends the two test mails; returns what was sent, for [`keep`].
pub async fn send(
    ctx: &JobContext,
    graph: &GraphClient,
    sends: &Sends,
) -> Result<(TaskOutcome, Vec<TestMail>), TaskError> {
    let Sends { from, to } = sends;
    let total = to.len() as u64;
    let mut sent = Vec::new();
    for (i, (direction, recipient)) in to.iter().cloned().enumerate() {
        let subject = mailflow::subject(direction, graph.clock().now());
        ctx.progress(format!("sending the {} test mail", direction.word()), i as u64, Some(total));
        let text = format!(
            "A test message of the cutover migration, sent through Microsoft Graph from {from} to {recipient}. No reply is needed."
        );
        let detail = json!({ "from": from, "to": recipient, "subject": subject });
        write(ctx, STAGE, "send-test-mail", detail, graph.send_mail(from, &recipient, &subject, &text)).await?;
        // On Microsoft's clock, which the trace's times are on: known from the send's answer at the latest.
        let at = graph.clock().now();
        sent.push(TestMail { direction, from: from.clone(), to: recipient, subject, sent_at: at });
    }
    let done: Vec<String> = sent.iter().map(|t| format!("{} → {}: \"{}\"", t.from, t.to, t.subject)).collect();
    let outcome = TaskOutcome {
        summary: format!(
            "Sent 2 test mails from {from}. Now send one from an outside mailbox to {from}, wait a few minutes, and run the checks: mail-flow finds all three in the message trace."
        ),
        done,
        ..TaskOutcome::default()
    };
    Ok((outcome, sent))
}

/// Gives `trustee` (the signed-in engineer) Send As on the sending mailbox unless it holds it; true when this
/// task gave it, now or in an earlier run that did not take it back (cut short by a crash, or its sends failed),
/// so that it is taken back after the sends. One held before any run of the task is left as it is.
pub async fn ensure_send_as(
    ctx: &JobContext,
    exo: &ExoClient,
    sends: &Sends,
    trustee: &str,
) -> Result<bool, TaskError> {
    let held = exo.get_recipient_permissions(&sends.from, trustee).await?.items;
    if held.iter().any(|p| p.is_send_as_for(trustee)) {
        let (records, _) = ctx.audit().read().map_err(|e| TaskError::BadInput {
            what: format!(
                "the audit log, which tells whether this task gave the Send As it holds, could not be read ({e})"
            ),
            fix: "fix the file named, then run the task again".to_owned(),
        })?;
        return Ok(given_by_us(&records, &sends.from, trustee));
    }
    let detail = json!({ "mailbox": sends.from, "trustee": trustee });
    write(ctx, STAGE, "add-send-as", detail, exo.add_send_as(&sends.from, trustee)).await?;
    Ok(true)
}

/// Whether this task gave `trustee` Send As on `mailbox` and has not taken it back: the task gives it only after
/// a read found it missing, so any give it began since the last take-back that happened is its own, even one
/// recorded failed (a timed-out answer may hide a give Exchange made).
fn given_by_us(records: &[AuditRecord], mailbox: &str, trustee: &str) -> bool {
    let same = |r: &AuditRecord| {
        let d = audit::write_detail(r);
        let is = |key: &str, want: &str| d[key].as_str().is_some_and(|v| v.eq_ignore_ascii_case(want));
        r.stage == Some(STAGE) && is("mailbox", mailbox) && is("trustee", trustee)
    };
    let gave_or_took_back = |r: &AuditRecord| match (r.action.as_str(), r.phase) {
        ("add-send-as", Phase::AboutTo) | ("remove-send-as", Phase::Done) => true,
        ("remove-send-as", Phase::Checked) => r.found() == Some(Found::Done),
        _ => false,
    };
    records.iter().rev().find(|r| same(r) && gave_or_took_back(r)).is_some_and(|r| r.action == "add-send-as")
}

/// Takes back the Send As [`ensure_send_as`] gave, once the sends are done.
pub async fn remove_send_as(ctx: &JobContext, exo: &ExoClient, sends: &Sends, trustee: &str) -> Result<(), TaskError> {
    let held = exo.get_recipient_permissions(&sends.from, trustee).await?.items;
    if !held.iter().any(|p| p.is_send_as_for(trustee)) {
        return Ok(());
    }
    let detail = json!({ "mailbox": sends.from, "trustee": trustee });
    write(ctx, STAGE, "remove-send-as", detail, exo.remove_send_as(&sends.from, trustee)).await.map(|_| ())
}

/// Reads back a Send As write a crash cut short.
pub async fn read_back_send_as(
    exo: &ExoClient,
    action: &str,
    detail: &serde_json::Value,
) -> Result<crate::runner::resume::ReadBack, String> {
    use crate::runner::resume::{ReadBack, field};
    let (mailbox, trustee) = (field(detail, "mailbox")?, field(detail, "trustee")?);
    let held = exo.get_recipient_permissions(mailbox, trustee).await.map_err(|e| e.to_string())?.items;
    let holds = held.iter().any(|p| p.is_send_as_for(trustee));
    let (done, evidence) = match (action, holds) {
        ("add-send-as", true) | ("remove-send-as", false) => {
            (true, format!("{trustee} holds Send As on {mailbox}: {holds}"))
        }
        _ => (false, format!("{trustee} holds Send As on {mailbox}: {holds}")),
    };
    Ok(if done { ReadBack::done(evidence) } else { ReadBack::not_done(evidence) })
}

/// Reads back a test mail a crash cut short: done when the message trace holds it (its subject names its time,
/// so it is that send and no other). The trace lags minutes behind a send, so a mail not in it yet is not known
/// either way; running the task again sends new test mails, a new test.
pub async fn read_back_sent(
    exo: &ExoClient,
    detail: &serde_json::Value,
) -> Result<crate::runner::resume::ReadBack, String> {
    use crate::runner::resume::{ReadBack, field};
    let (from, to, subject) = (field(detail, "from")?, field(detail, "to")?, field(detail, "subject")?);
    if exo.clock().offset().is_none() {
        // The window is on Exchange's clock: one read tells it.
        exo.get_organization_config().await.map_err(|e| e.to_string())?;
    }
    let end = exo.clock().now() + Duration::minutes(SLACK_MINUTES);
    let start = end - Duration::days(TRACE_DAYS);
    let rows = exo.get_message_trace(Some(from), Some(to), start, end).await.map_err(|e| e.to_string())?.items;
    Ok(if rows.iter().any(|r| r.subject == subject) {
        ReadBack::done(format!("the message trace holds \"{subject}\" from {from} to {to}"))
    } else {
        ReadBack::unknown(format!(
            "the message trace does not hold \"{subject}\" yet, and a sent mail shows there minutes later; send the test mails again for a new test"
        ))
    })
}

/// Keeps the tests sent in `state.json`, replacing the last ones.
pub fn keep(ctx: &JobContext, sent: Vec<TestMail>) {
    ctx.record(Box::new(move |project| {
        let detail = json!({ "test_mails": sent.iter().map(|t| t.subject.clone()).collect::<Vec<_>>() });
        let changed = project.change(Some(STAGE), "record-test-mails", detail, |state| {
            state.post.test_mails = sent;
            Ok::<(), std::convert::Infallible>(())
        });
        match changed {
            Ok(_) => None,
            Err(e) => Some(Event::Failed { what: "the test mails' record".to_owned(), error: e.to_string() }),
        }
    }));
}

/// The trace rows of each test kept and of the inbound test.
pub async fn traces(
    exo: &ExoClient,
    state: &ProjectState,
) -> Result<(Vec<Vec<MessageTrace>>, Vec<MessageTrace>), M365Error> {
    let tests = &state.post.test_mails;
    let Some(first) = tests.first() else { return Ok((Vec::new(), Vec::new())) };
    if exo.clock().offset().is_none() {
        // The window is on Exchange's clock: one read tells it.
        exo.get_organization_config().await?;
    }
    let start = first.sent_at - Duration::minutes(SLACK_MINUTES);
    let end = exo.clock().now() + Duration::minutes(SLACK_MINUTES);
    let mut each = Vec::new();
    for t in tests {
        each.push(exo.get_message_trace(Some(&t.from), Some(&t.to), start, end).await?.items);
    }
    let inbound = exo.get_message_trace(None, Some(&first.from), start, end).await?.items;
    Ok((each, inbound))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Touches;

    fn record(action: &str, phase: Phase, found: Option<&str>) -> AuditRecord {
        let write = json!({ "mailbox": "sarah@contoso.com", "trustee": "eng@contoso.com" });
        AuditRecord {
            time: chrono::Utc::now(),
            actor: "eng".into(),
            stage: Some(STAGE),
            action: action.into(),
            phase,
            detail: match found {
                Some(f) => json!({ "detail": write, "found": f, "evidence": "read back" }),
                None => write,
            },
            touches: Some(Touches::Outside),
        }
    }

    fn given(records: &[AuditRecord]) -> bool {
        given_by_us(records, "Sarah@contoso.com", "eng@contoso.com")
    }

    #[test]
    fn send_as_given_by_a_run_cut_short_is_taken_back_by_the_next() {
        // Held before any run: not ours to take back.
        assert!(!given(&[]));
        // Given, then the crash: found done when read back, so the next run takes it back.
        let cut = [record("add-send-as", Phase::AboutTo, None), record("add-send-as", Phase::Checked, Some("done"))];
        assert!(given(&cut));
        // Given and taken back: a Send As held now was given by someone else.
        let back = [
            record("add-send-as", Phase::AboutTo, None),
            record("add-send-as", Phase::Done, None),
            record("remove-send-as", Phase::AboutTo, None),
            record("remove-send-as", Phase::Done, None),
        ];
        assert!(!given(&back));
        // A give recorded failed may still have been made (a timed-out answer): held now, it is ours.
        let failed = [record("add-send-as", Phase::AboutTo, None), record("add-send-as", Phase::Failed, None)];
        assert!(given(&failed));
        // A take-back that failed took nothing back.
        let mut not_back = back[..3].to_vec();
        not_back.push(record("remove-send-as", Phase::Failed, None));
        assert!(given(&not_back));
        // A take-back cut short and found done ends it too.
        let mut removed = back[..2].to_vec();
        removed.push(record("remove-send-as", Phase::Checked, Some("done")));
        assert!(!given(&removed));
    }
}
