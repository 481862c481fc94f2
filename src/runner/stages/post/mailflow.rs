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
use crate::protocol::Event;
use crate::runner::jobs::JobContext;
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use chrono::Duration;
use serde_json::json;

/// The trace is read from a little before the first test (clocks differ) to now.
const SLACK_MINUTES: i64 = 10;

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

/// Gives `trustee` (the signed-in engineer) Send As on the sending mailbox unless it holds it; true when it was
/// given here, so that it is taken back after the sends.
pub async fn ensure_send_as(
    ctx: &JobContext,
    exo: &ExoClient,
    sends: &Sends,
    trustee: &str,
) -> Result<bool, TaskError> {
    let held = exo.get_recipient_permissions(&sends.from, trustee).await?.items;
    if held.iter().any(|p| p.is_send_as_for(trustee)) {
        return Ok(false);
    }
    let detail = json!({ "mailbox": sends.from, "trustee": trustee });
    write(ctx, STAGE, "add-send-as", detail, exo.add_send_as(&sends.from, trustee)).await?;
    Ok(true)
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
