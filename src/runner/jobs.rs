//! Long work beside the runner's command loop: network checks, sign-in, writes to the tenant or the source,
//! watches. A job runs in its own task, reports progress as events, stops at its next safe point once
//! cancelled, and hands what it found to the runner as changes: as it goes ([`JobContext::record`], so a watch
//! that runs for hours keeps what it saw) and once when it ends. Only the runner touches the project, applying
//! the changes in the order they came.

use super::Event;
use crate::crash;
use crate::plan::StageId;
use crate::project::audit::Touches;
use crate::project::{AuditLog, AuditRecord, Phase, Project, ProjectError, audit};
pub use crate::protocol::JobId;
use chrono::Utc;
use futures::future::BoxFuture;
use std::future::Future;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a finished job hands back: the runner applies it to the project and sends the event it returns.
pub type Apply = Box<dyn FnOnce(&mut Project) -> Event + Send>;

/// A change a job hands the runner while it goes on; it may have nothing to tell the wizard.
pub type Update = Box<dyn FnOnce(&mut Project) -> Option<Event> + Send>;

/// What a job sends the runner: a change to apply now and go on, or the last one.
pub enum JobMsg {
    Update(Update),
    Finished(Apply),
}

/// Work to start: a label for the screen, the stage it is for (none: the sign-in) and the task itself.
pub struct Job {
    pub label: String,
    pub stage: Option<StageId>,
    pub work: Box<dyn FnOnce(JobContext) -> BoxFuture<'static, Apply> + Send>,
}

impl Job {
    pub fn new<F, Fut>(label: impl Into<String>, work: F) -> Job
    where
        F: FnOnce(JobContext) -> Fut + Send + 'static,
        Fut: Future<Output = Apply> + Send + 'static,
    {
        Job { label: label.into(), stage: None, work: Box::new(move |ctx| Box::pin(work(ctx))) }
    }

    /// The job is the work of `stage`: the wizard's stop key on that stage stops it.
    pub fn for_stage(mut self, stage: StageId) -> Job {
        self.stage = Some(stage);
        self
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("label", &self.label).finish_non_exhaustive()
    }
}

/// A running job's handle on the world: its id, its cancellation, progress, and the audit path for writes.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub id: JobId,
    pub cancel: CancellationToken,
    events: mpsc::UnboundedSender<Event>,
    updates: Option<mpsc::UnboundedSender<(JobId, JobMsg)>>,
    audit: AuditLog,
}

/// Why an audited write did not happen or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AuditedError<E> {
    /// The "about to" record could not be written, so the write was not attempted.
    #[error("the audit log could not record the change, so it was not made: {0}")]
    NotRecorded(ProjectError),
    #[error("{0}")]
    Failed(E),
}

impl JobContext {
    pub fn new(id: JobId, events: mpsc::UnboundedSender<Event>, audit: AuditLog) -> JobContext {
        JobContext { id, cancel: CancellationToken::new(), events, updates: None, audit }
    }

    /// A context whose [`record`](Self::record)ed changes go to the runner on `updates`.
    pub fn with_updates(mut self, updates: mpsc::UnboundedSender<(JobId, JobMsg)>) -> JobContext {
        self.updates = Some(updates);
        self
    }

    /// Hands the runner a change to apply and record now, while the job goes on: what a long watch saw is
    /// kept even if it is stopped or the wizard dies later. Without a runner (a test) the change is dropped.
    pub fn record(&self, apply: Update) {
        if let Some(updates) = &self.updates {
            let _ = updates.send((self.id, JobMsg::Update(apply)));
        }
    }

    /// The project's audit log, for a task whose next step depends on what an earlier run did.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Hands the wizard an event of the job's own, such as the code to show for a sign-in.
    pub fn send(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Tells the screen how far the job is.
    pub fn progress(&self, label: impl Into<String>, done: u64, total: Option<u64>) {
        // The screen may be gone (the wizard closed); the job goes on regardless.
        let _ = self.events.send(Event::JobProgress { id: self.id, label: label.into(), done, total });
    }

    /// Tells the screen what the job waits for, in words.
    pub fn note(&self, note: impl Into<String>) {
        let _ = self.events.send(Event::JobNote { id: self.id, note: note.into() });
    }

    /// Runs `work` with every wait of its requests told to the screen as a note of this job.
    pub fn observed<F: Future>(&self, work: F) -> impl Future<Output = F::Output> + use<F> {
        let ctx = self.clone();
        crate::m365::observed(std::sync::Arc::new(move |n: &crate::m365::RetryNotice| ctx.note(n.to_string())), work)
    }

    /// The one path for a write to the tenant or the source: "about to" is recorded before `write` runs and the
    /// outcome after. If "about to" cannot be recorded the write does not happen, so that a resume never meets
    /// a change it has no record of.
    pub async fn audited<T, E: std::fmt::Display>(
        &self,
        stage: StageId,
        action: &str,
        detail: serde_json::Value,
        write: impl Future<Output = Result<T, E>>,
    ) -> Result<T, AuditedError<E>> {
        let record = |phase, detail| AuditRecord {
            time: Utc::now(),
            actor: audit::current_actor(),
            stage: Some(stage),
            action: action.to_owned(),
            phase,
            detail,
            touches: Some(Touches::Outside),
        };
        self.append(record(Phase::AboutTo, detail.clone())).await.map_err(AuditedError::NotRecorded)?;
        crash::at(crash::Point::AboutTo, action);
        let result = write.await;
        crash::at(crash::Point::Written, action);
        let outcome = match &result {
            Ok(_) => record(Phase::Done, detail),
            Err(e) => record(Phase::Failed, serde_json::json!({ "detail": detail, "error": e.to_string() })),
        };
        if let Err(e) = self.append(outcome).await {
            // The write happened (or failed) already; the "about to" record tells a resume to check the live state.
            tracing::error!(error = %e, action, "could not record the outcome of a write");
        }
        crash::at(crash::Point::Done, action);
        result.map_err(AuditedError::Failed)
    }

    /// Appends to the audit log off the async workers: the append fsyncs, and a slow disk must not stall the
    /// other jobs (the runtime has two workers).
    async fn append(&self, record: AuditRecord) -> Result<(), ProjectError> {
        let audit = self.audit.clone();
        match tokio::task::spawn_blocking(move || audit.append(&record)).await {
            Ok(result) => result,
            Err(e) => Err(ProjectError::Io { path: self.audit.path().to_owned(), source: std::io::Error::other(e) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(dir: &std::path::Path) -> (JobContext, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (JobContext::new(7, tx, AuditLog::new(dir.join("audit.jsonl"))), rx)
    }

    #[tokio::test]
    async fn a_write_is_recorded_before_and_after() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ctx, _rx) = context(dir.path());
        let ok: Result<u32, AuditedError<String>> = ctx
            .audited(crate::plan::prepare::STAGE, "add-domain", serde_json::json!({"domain": "contoso.com"}), async {
                Ok(1)
            })
            .await;
        assert_eq!(ok.ok(), Some(1));
        let failed: Result<u32, AuditedError<String>> = ctx
            .audited(crate::plan::prepare::STAGE, "add-domain", serde_json::json!({"domain": "x.com"}), async {
                Err("403 Forbidden".to_owned())
            })
            .await;
        assert!(matches!(failed, Err(AuditedError::Failed(ref e)) if e == "403 Forbidden"));
        let (records, _) = AuditLog::new(dir.path().join("audit.jsonl")).read().expect("audit");
        let phases: Vec<Phase> = records.iter().map(|r| r.phase).collect();
        assert_eq!(phases, vec![Phase::AboutTo, Phase::Done, Phase::AboutTo, Phase::Failed]);
        assert_eq!(records[3].detail["error"], "403 Forbidden");
    }

    #[tokio::test]
    async fn a_write_whose_intent_cannot_be_recorded_does_not_happen() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (tx, _rx) = mpsc::unbounded_channel();
        let ctx = JobContext::new(1, tx, AuditLog::new(dir.path().join("missing-folder/audit.jsonl")));
        let ran = std::sync::atomic::AtomicBool::new(false);
        let result: Result<(), AuditedError<String>> = ctx
            .audited(crate::plan::prepare::STAGE, "add-domain", serde_json::Value::Null, async {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(matches!(result, Err(AuditedError::NotRecorded(_))));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_wait_of_the_jobs_requests_reaches_the_screen_as_a_note() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ctx, mut rx) = context(dir.path());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url =
            url::Url::parse(&format!("http://{}/v1.0/domains", listener.local_addr().expect("addr"))).expect("url");
        // Accepts and never answers.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let mut policy = crate::m365::RetryPolicy::with_wait_setting(Some("1")).expect("policy");
        policy.notice_every = std::time::Duration::from_millis(200);
        let http = crate::m365::HttpClient::new(policy, None).expect("client");
        let req = crate::m365::http::Request::new(crate::m365::Service::Graph, reqwest::Method::GET, url);
        assert!(ctx.observed(http.send(&req, None)).await.is_err());
        let Some(Event::JobNote { id, note }) = rx.recv().await else { panic!("a note first") };
        assert_eq!(id, 7);
        assert!(note.starts_with("waiting for Microsoft Graph (GET /v1.0/domains): no answer for"), "{note}");
    }

    #[tokio::test]
    async fn progress_reaches_the_screen() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ctx, mut rx) = context(dir.path());
        ctx.progress("verifying contoso.com", 1, Some(3));
        assert_eq!(
            rx.recv().await,
            Some(Event::JobProgress { id: 7, label: "verifying contoso.com".into(), done: 1, total: Some(3) })
        );
    }
}
