//! The certification jobs over storage: stream every mentor page by page,
//! decide with [`check_mentor`] / [`lift_reason`], and write the outcome
//! through the scenario engine's ports and services.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scenario_engine::rules::{MentorStatus, Pause, Rules, Scenario};
use scenario_engine::service::{
    EvaluateRequest, EvaluationError, EvaluationService, MentorRecord, MentorRepository,
    StoreError, snapshot,
};

use crate::check::{AUTO_PAUSE_REASON, check_mentor, lift_reason};
use crate::report::{ExpiryReport, ReportLine};
use crate::summary::{AutoLiftSummary, ExpiryCheckSummary};

/// Mentors read per page.
pub const PAGE_SIZE: u32 = 200;

/// Why a job stopped early.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Reading the mentors failed: the run cannot go on.
    #[error("reading mentors failed")]
    Store(#[from] StoreError),
    /// The run was cancelled between two pages.
    #[error("cancelled")]
    Cancelled,
}

/// One run of a job: its id (for the evaluations it records), whether it is
/// a dry run, its "now", a cancellation probe checked between pages, and
/// where failures with single mentors are reported (the application logs
/// them; the run's `errors` count carries them into the summary).
pub struct RunContext<'a> {
    /// The run's id.
    pub run_id: &'a str,
    /// Compute and record, change nothing, enqueue nothing.
    pub dry_run: bool,
    /// The instant the run decides at.
    pub now: DateTime<Utc>,
    /// Returns `true` once the run should stop.
    pub cancelled: &'a dyn Fn() -> bool,
    /// Called with the user id and the error when one mentor fails.
    pub report_error: &'a dyn Fn(&str, &dyn std::error::Error),
}

/// The certification jobs.
#[derive(Clone)]
pub struct ExpiryJobs {
    mentors: Arc<dyn MentorRepository>,
    evaluations: EvaluationService,
}

impl ExpiryJobs {
    /// Jobs over `mentors`, recording through `evaluations`.
    pub fn new(mentors: Arc<dyn MentorRepository>, evaluations: EvaluationService) -> Self {
        Self {
            mentors,
            evaluations,
        }
    }

    /// The same jobs, deciding under other rules (a job's own evaluation
    /// time zone, docs/scheduling.md).
    #[must_use]
    pub fn with_rules(&self, rules: Rules) -> Self {
        Self {
            mentors: Arc::clone(&self.mentors),
            evaluations: self.evaluations.with_rules(rules),
        }
    }

    /// The rules the jobs decide under.
    pub fn rules(&self) -> &Rules {
        self.evaluations.rules()
    }

    /// Calls `f` on every mentor (with `status` when given), page by page.
    fn each_mentor(
        &self,
        status: Option<MentorStatus>,
        ctx: &RunContext<'_>,
        mut f: impl FnMut(MentorRecord),
    ) -> Result<(), JobError> {
        let mut after: Option<String> = None;
        loop {
            if (ctx.cancelled)() {
                return Err(JobError::Cancelled);
            }
            let page = self
                .mentors
                .mentors_after(after.as_deref(), status, PAGE_SIZE)?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some(last.mentor.user_id.clone());
            let full = page.len() == PAGE_SIZE as usize;
            page.into_iter().for_each(&mut f);
            if !full {
                return Ok(());
            }
        }
    }

    /// The nightly expiry check (`certification_expiry_check`): pauses
    /// active mentors with an expired required certification and records a
    /// certification-expiry decision (with its reminder) for every mentor
    /// who has certifications. A dry run counts what it would do.
    ///
    /// # Errors
    /// [`JobError`] when mentors cannot be read or the run is cancelled;
    /// a failure with one mentor is counted in `errors` and the run goes on.
    pub fn expiry_check(
        &self,
        ctx: &RunContext<'_>,
        lead_time_days: u32,
    ) -> Result<ExpiryCheckSummary, JobError> {
        let mut summary = ExpiryCheckSummary::default();
        self.each_mentor(None, ctx, |record| {
            match self.check_one(ctx, lead_time_days, &record) {
                Ok((expired, paused, reminded)) => summary.add(expired, paused, reminded),
                Err(e) => {
                    summary.mentors_checked += 1;
                    summary.errors += 1;
                    (ctx.report_error)(&record.mentor.user_id, &e);
                }
            }
        })?;
        Ok(summary)
    }

    fn check_one(
        &self,
        ctx: &RunContext<'_>,
        lead_time_days: u32,
        record: &MentorRecord,
    ) -> Result<(bool, bool, bool), EvaluationError> {
        if record.certifications.is_empty() {
            return Ok((false, false, false));
        }
        let user_id = &record.mentor.user_id;
        let subject = self.evaluations.load_subject(user_id)?;
        let check = check_mentor(
            &snapshot(&subject),
            lead_time_days,
            self.evaluations.rules(),
            ctx.now,
        );
        let expired = !check.expired_required.is_empty();
        if check.pause && !ctx.dry_run {
            let pause = Pause {
                reason: AUTO_PAUSE_REASON,
                since: ctx.now,
                until: None,
            };
            self.mentors
                .set_status(user_id, MentorStatus::Paused, Some(&pause), ctx.now)?;
        }
        let request = EvaluateRequest {
            user_id: user_id.clone(),
            scenario: Scenario::CertificationExpiry { lead_time_days },
            dry_run: ctx.dry_run,
            run_id: Some(ctx.run_id.to_owned()),
        };
        let recorded =
            self.evaluations
                .record_decision(&subject, check.reminder, &request, ctx.now)?;
        Ok((expired, check.pause, recorded.should_notify))
    }

    /// The pause auto-lift (`pause_auto_lift`): lifts `certification_expired`
    /// pauses whose required certifications are all valid again and
    /// `requested` pauses whose `until` passed. A dry run counts what it
    /// would lift.
    ///
    /// # Errors
    /// [`JobError`] when mentors cannot be read or the run is cancelled.
    pub fn auto_lift(&self, ctx: &RunContext<'_>) -> Result<AutoLiftSummary, JobError> {
        let mut summary = AutoLiftSummary::default();
        self.each_mentor(Some(MentorStatus::Paused), ctx, |record| {
            summary.mentors_checked += 1;
            if lift_reason(&record.mentor, &record.certifications, ctx.now).is_none() {
                return;
            }
            if ctx.dry_run {
                summary.pauses_lifted += 1;
                return;
            }
            match self.mentors.set_status(
                &record.mentor.user_id,
                MentorStatus::Active,
                None,
                ctx.now,
            ) {
                Ok(_) => summary.pauses_lifted += 1,
                Err(e) => {
                    summary.errors += 1;
                    (ctx.report_error)(&record.mentor.user_id, &e);
                }
            }
        })?;
        Ok(summary)
    }

    /// The weekly report (`weekly_expiry_report`): certifications expiring
    /// within `days`, per organisation. Only the kept lines are held in memory.
    ///
    /// # Errors
    /// [`JobError`] when mentors cannot be read or the run is cancelled.
    pub fn weekly_report(
        &self,
        ctx: &RunContext<'_>,
        days: u32,
        timezone: Tz,
    ) -> Result<ExpiryReport, JobError> {
        let horizon = ctx.now + chrono::TimeDelta::days(i64::from(days) + 1);
        let mut lines = Vec::new();
        self.each_mentor(None, ctx, |record| {
            for c in &record.certifications {
                if c.expires_at > ctx.now && c.expires_at <= horizon {
                    lines.push(ReportLine {
                        org_id: record.mentor.org_id.clone(),
                        user_id: record.mentor.user_id.clone(),
                        certification_id: c.certification_id.clone(),
                        name: c.name.clone(),
                        expires_at: c.expires_at,
                        required: c.required,
                    });
                }
            }
        })?;
        Ok(ExpiryReport::build(lines, ctx.now, days, timezone))
    }
}
