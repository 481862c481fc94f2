//! The service's five success criteria (SERVICE.md, "Success Criteria") and the checks of the plan that prove
//! each, with the verdict that follows from their recorded results. Pure: a criterion is met only when every check
//! that proves it has a verdict, none failed, and at least one passed.

use crate::plan::check::{CheckResult, Outcome, Override};
use crate::plan::{CheckId, final_sync, migrate, mx, post, users, verify};
use crate::project::state::ProjectState;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One success criterion of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criterion {
    Access,
    Migrated,
    TransportRules,
    MailFlow,
    Protection,
}

impl Criterion {
    pub const ALL: [Criterion; 5] =
        [Criterion::Access, Criterion::Migrated, Criterion::TransportRules, Criterion::MailFlow, Criterion::Protection];

    /// Its number in the service description.
    pub fn number(self) -> u8 {
        match self {
            Criterion::Access => 1,
            Criterion::Migrated => 2,
            Criterion::TransportRules => 3,
            Criterion::MailFlow => 4,
            Criterion::Protection => 5,
        }
    }

    /// The criterion as the customer signed it.
    pub fn text(self) -> &'static str {
        match self {
            Criterion::Access => {
                "Users can access Exchange Online on their desktop PCs, mobile phones, and tablets from any place, \
                 any time"
            }
            Criterion::Migrated => {
                "Your Exchange Server successfully migrated to the new tenant Microsoft 365 and is accessible by all \
                 users"
            }
            Criterion::TransportRules => "All necessary Transport rules have been created and are working",
            Criterion::MailFlow => "Mail can be sent and received using Exchange Online",
            Criterion::Protection => "Exchange Online Protection is configured and working",
        }
    }

    /// The checks whose results prove it, in plan order.
    pub fn evidence(self) -> &'static [CheckId] {
        match self {
            // Licensed accounts, the Autodiscover CNAME (with the MX) in the world's resolvers, and a healthy
            // service are what lets every client find and open its mailbox.
            Criterion::Access => &[
                CheckId::Users(users::Check::LicencesAvailable),
                CheckId::Post(post::Check::LicencesAssigned),
                CheckId::Mx(mx::Check::DnsPropagation),
                CheckId::Post(post::Check::ServiceHealth),
            ],
            Criterion::Migrated => &[
                CheckId::Migrate(migrate::Check::BatchState),
                CheckId::Migrate(migrate::Check::MailboxProgress),
                CheckId::Verify(verify::Check::ItemCounts),
                CheckId::Verify(verify::Check::FailuresExplained),
                CheckId::FinalSync(final_sync::Check::LastSyncAfterMx),
                CheckId::FinalSync(final_sync::Check::BatchCompleted),
                CheckId::FinalSync(final_sync::Check::X500Present),
            ],
            Criterion::TransportRules => &[CheckId::Post(post::Check::TransportRulesEnabled)],
            // Inbound mail reaches Exchange Online only once the MX has propagated.
            Criterion::MailFlow => &[CheckId::Mx(mx::Check::DnsPropagation), CheckId::Post(post::Check::MailFlow)],
            Criterion::Protection => &[CheckId::Post(post::Check::EopPolicies)],
        }
    }
}

/// Whether the evidence shows a criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Met,
    /// A check that proves it failed (overridden or not).
    NotMet,
    /// A check that proves it has not run, or none passed.
    NotShown,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::NotMet => "not met",
            Verdict::NotShown => "not shown",
        }
    }
}

/// One check's part in the evidence: its latest recorded result and the override of its failure, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub stage: u8,
    pub check: String,
    pub title: String,
    pub outcome: Outcome,
    pub evidence: Option<String>,
    pub at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#override: Option<Override>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionEvidence {
    pub criterion: Criterion,
    pub number: u8,
    pub text: String,
    pub verdict: Verdict,
    pub checks: Vec<Evidence>,
}

/// The verdict from the outcomes of the checks that prove a criterion.
pub fn verdict(outcomes: &[Outcome]) -> Verdict {
    if outcomes.contains(&Outcome::Fail) {
        Verdict::NotMet
    } else if !outcomes.is_empty() && outcomes.iter().all(|o| o.is_acceptable()) && outcomes.contains(&Outcome::Pass) {
        Verdict::Met
    } else {
        Verdict::NotShown
    }
}

/// Each criterion with its checks' recorded results and its verdict.
pub fn assess(state: &ProjectState) -> Vec<CriterionEvidence> {
    Criterion::ALL
        .iter()
        .map(|&criterion| {
            let checks: Vec<Evidence> = criterion.evidence().iter().map(|&id| evidence(state, id)).collect();
            let outcomes: Vec<Outcome> = checks.iter().map(|c| c.outcome).collect();
            CriterionEvidence {
                criterion,
                number: criterion.number(),
                text: criterion.text().to_owned(),
                verdict: verdict(&outcomes),
                checks,
            }
        })
        .collect()
}

fn evidence(state: &ProjectState, id: CheckId) -> Evidence {
    let record = state.stage(id.stage());
    let result: Option<&CheckResult> = record.and_then(|r| r.result(id));
    Evidence {
        stage: id.stage().number(),
        check: id.as_str().to_owned(),
        title: id.def().title.to_owned(),
        outcome: result.map_or(Outcome::NotRun, |r| r.outcome),
        evidence: result.map(|r| r.evidence.clone()),
        at: result.map(|r| r.at),
        r#override: record.and_then(|r| r.active_override(id)).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid")
    }

    #[test]
    fn each_criterion_is_proved_by_checks_of_the_plan_and_every_stage_9_check_proves_one() {
        assert_eq!(Criterion::ALL.map(Criterion::number), [1, 2, 3, 4, 5]);
        for c in Criterion::ALL {
            assert!(!c.evidence().is_empty(), "criterion {} has no evidence", c.number());
            for id in c.evidence() {
                assert_eq!(CheckId::parse(id.stage(), id.as_str()), Some(*id), "{id} is a check of its stage");
            }
        }
        assert!(Criterion::Migrated.evidence().iter().any(|c| c.stage().number() == 5));
        assert!(Criterion::Migrated.evidence().iter().any(|c| c.stage().number() == 6));
        assert!(Criterion::Migrated.evidence().iter().any(|c| c.stage().number() == 8));
        assert_eq!(Criterion::TransportRules.evidence(), [CheckId::Post(post::Check::TransportRulesEnabled)]);
        assert!(Criterion::MailFlow.evidence().contains(&CheckId::Post(post::Check::MailFlow)));
        assert_eq!(Criterion::Protection.evidence(), [CheckId::Post(post::Check::EopPolicies)]);
        for check in post::Check::ALL {
            let id = CheckId::Post(*check);
            assert!(Criterion::ALL.iter().any(|c| c.evidence().contains(&id)), "{id} proves no criterion");
        }
    }

    #[test]
    fn a_criterion_is_met_only_with_a_pass_and_no_failure_or_gap() {
        use Outcome::*;
        assert_eq!(verdict(&[Pass, Warn]), Verdict::Met);
        assert_eq!(verdict(&[Pass]), Verdict::Met);
        assert_eq!(verdict(&[Warn, Warn]), Verdict::NotShown, "no passing check");
        assert_eq!(verdict(&[Pass, NotRun]), Verdict::NotShown);
        assert_eq!(verdict(&[]), Verdict::NotShown);
        assert_eq!(verdict(&[Pass, Fail]), Verdict::NotMet);
        assert_eq!(verdict(&[NotRun, Fail]), Verdict::NotMet);
    }

    #[test]
    fn an_overridden_failure_is_shown_with_its_reason_and_leaves_the_criterion_not_met() {
        let mut state = ProjectState::new("p", at(), false);
        let id = CheckId::Post(post::Check::EopPolicies);
        let record = state.stage_mut(id.stage());
        record.record_check(id, CheckResult::new(Outcome::Fail, "DMARC missing", at()));
        record.overrides.insert(
            id.as_str().to_owned(),
            Override { reason: "customer adds DMARC".into(), by: "eng".into(), at: at() },
        );
        let t = CheckId::Post(post::Check::TransportRulesEnabled);
        state.stage_mut(t.stage()).record_check(t, CheckResult::new(Outcome::Pass, "3 of 3 enabled", at()));
        let all = assess(&state);
        let protection = &all[4];
        assert_eq!((protection.number, protection.verdict), (5, Verdict::NotMet));
        assert_eq!(protection.checks[0].r#override.as_ref().map(|o| o.by.as_str()), Some("eng"));
        assert_eq!(all[2].verdict, Verdict::Met);
        assert_eq!((all[2].checks[0].at, all[2].checks[0].evidence.as_deref()), (Some(at()), Some("3 of 3 enabled")));
        assert_eq!(all[0].verdict, Verdict::NotShown, "nothing ran for criterion 1");
    }
}
