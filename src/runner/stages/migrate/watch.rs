//! Stage 5's watch of the cutover batch, and its one-cycle read for the checks. A cycle costs at most 2 + the
//! paged `Get-MigrationUser` + one `Get-MigrationUserStatistics` per mailbox the plan asks for (the active ones
//! and those whose counters changed), never one per mailbox per cycle. A failed cycle keeps the last view with
//! its error; the watch goes on by itself at the next interval.

use crate::m365::M365Error;
use crate::m365::exo::ExoClient;
use crate::plan::migrate::poll::{next_interval, which_statistics};
use crate::plan::migrate::view::{BatchView, PollFacts, PollResult, apply_poll};
use crate::plan::migrate::{MigrateSettings, health};
use crate::runner::jobs::JobContext;
use chrono::Utc;

/// How often the demo's watch polls at most.
const DEMO_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The watch's pace: the stage's settings, and whether this is the demo.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub settings: MigrateSettings,
    pub demo: bool,
}

/// Reads one cycle into `view`.
pub async fn cycle(exo: &ExoClient, batch: &str, view: &mut BatchView) -> Result<(), M365Error> {
    let poll = match read(exo, batch, view).await {
        // Removed after the watch had seen it: its last view is what the reports keep.
        Ok(facts) if facts.batch.is_none() && view.batch.is_some() => PollResult::Gone,
        Ok(facts) => PollResult::Read(Box::new(facts)),
        Err(M365Error::Cancelled) => return Err(M365Error::Cancelled),
        Err(e) => PollResult::Failed(e.to_string()),
    };
    apply_poll(view, poll, Utc::now());
    Ok(())
}

async fn read(exo: &ExoClient, batch: &str, view: &BatchView) -> Result<PollFacts, M365Error> {
    let found = exo.get_migration_batch(batch).await?;
    if found.is_none() {
        return Ok(PollFacts::default());
    }
    let users = exo.get_migration_users(Some(batch)).await?.items;
    let mut statistics = Vec::new();
    for identity in which_statistics(view, &users) {
        if let Some(s) = exo.get_migration_user_statistics(&identity).await? {
            statistics.push(s);
        }
    }
    let service_ahead_ms = exo.clock().offset().map(|d| d.num_milliseconds());
    Ok(PollFacts { batch: found, users, statistics, service_ahead_ms })
}

/// Polls until the engineer stops it, handing each cycle's view to `seen` (which records it). The interval
/// follows the plan: short while anything moves, long once all is synced.
pub async fn watch(
    ctx: &JobContext,
    exo: &ExoClient,
    batch: &str,
    pace: Pace,
    mut view: BatchView,
    seen: impl Fn(&BatchView),
) -> BatchView {
    loop {
        match cycle(exo, batch, &mut view).await {
            Ok(()) => seen(&view),
            Err(_) => return view,
        }
        // Nothing is left to follow once the batch is removed.
        if view.gone_at.is_some() {
            return view;
        }
        if !pause(ctx, batch, &view, pace).await {
            return view;
        }
    }
}

/// Tells the screen how far the batch is and waits for the next cycle; false once the job is stopped.
pub async fn pause(ctx: &JobContext, batch: &str, view: &BatchView, pace: Pace) -> bool {
    let Pace { settings, demo } = pace;
    let settings = &settings;
    let counts = health::counts(view, settings, Utc::now());
    let migrated = counts.iter().filter(|(h, _)| h.is_migrated()).map(|(_, n)| *n).sum::<usize>();
    let total = view.mailboxes.len();
    let to_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    ctx.progress(format!("{batch}: initial sync"), to_u64(migrated), Some(to_u64(total)));
    let wait = next_interval(view, settings);
    // The demo's simulated clock runs fast: a real half-minute would skip most of what there is to see.
    let wait = if demo { wait.min(DEMO_POLL) } else { wait };
    let line = match &view.last_error {
        Some(e) => format!("{batch}: the last poll failed ({}); trying again in {} s", e.message, wait.as_secs()),
        None => format!("{batch}: {}; next poll in {} s", health::counts_line(&counts), wait.as_secs()),
    };
    ctx.note(line);
    tokio::select! {
        () = ctx.cancel.cancelled() => false,
        () = tokio::time::sleep(wait) => true,
    }
}
