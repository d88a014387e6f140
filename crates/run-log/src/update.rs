//! Changes to a run from outside (docs/runs.md, "Changing a run: PUT"):
//! the state machine, plus the rules for runs the service processes itself
//! and for runs that are over.

use chrono::{DateTime, Utc};

use crate::run::Run;
use crate::status::{IllegalTransition, RunStatus, Transition};

/// A requested change: a new status, an error message, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunUpdate {
    /// The status asked for.
    pub status: Option<RunStatus>,
    /// An error message to attach.
    pub error_message: Option<String>,
}

/// Why a change to a run was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRefused {
    /// The state machine refuses the status change.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// Only the service finishes a run it processes with `success`; from
    /// outside it can be cancelled or failed.
    #[error(
        "run `{0}` is processed by the service: it can be cancelled or failed, not set to success"
    )]
    ProcessedByService(String),
    /// A finished run accepts only a repetition of what it already says.
    #[error("run `{run_id}` is {status}: its record no longer changes")]
    Finished {
        /// The run.
        run_id: String,
        /// Its final status.
        status: RunStatus,
    },
}

impl Run {
    /// Applies a change asked from outside (`PUT` on a scheduler
    /// invocation) at `now`, and says whether anything changed.
    ///
    /// - A `running` run may become `success`, `failed` or `cancelled`
    ///   ([`RunStatus::transition`]), except that a run the service
    ///   processes itself (not [`Run::external`]) never becomes `success`
    ///   from outside. Asking a running run for `running` changes only the
    ///   error message.
    /// - An error message alone is attached to a running run.
    /// - A finished run accepts only what it already says (same status,
    ///   same or no error message): [`Transition::Unchanged`].
    ///
    /// # Errors
    /// [`UpdateRefused`]; the run is left as it was.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use run_log::{Run, RunStatus, RunUpdate, Transition, Trigger};
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 26, 10, 15, 0).unwrap();
    /// let mut run = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0);
    /// run.external = true;
    /// let failed = RunUpdate { status: Some(RunStatus::Failed), error_message: Some("rate limit at batch 2".into()) };
    /// assert_eq!(run.apply_update(&failed, t0).unwrap(), Transition::Changed);
    /// assert_eq!(run.apply_update(&failed, t0).unwrap(), Transition::Unchanged);
    /// let success = RunUpdate { status: Some(RunStatus::Success), error_message: None };
    /// assert!(run.apply_update(&success, t0).is_err());
    /// ```
    pub fn apply_update(
        &mut self,
        change: &RunUpdate,
        now: DateTime<Utc>,
    ) -> Result<Transition, UpdateRefused> {
        if self.status.is_finished() {
            let same_status = change.status.is_none_or(|s| s == self.status);
            let same_message = change
                .error_message
                .as_ref()
                .is_none_or(|m| self.error_message.as_ref() == Some(m));
            if same_status && same_message {
                return Ok(Transition::Unchanged);
            }
            if let Some(to) = change.status.filter(|s| *s != self.status) {
                return Err(IllegalTransition {
                    from: self.status,
                    to,
                }
                .into());
            }
            return Err(UpdateRefused::Finished {
                run_id: self.id.clone(),
                status: self.status,
            });
        }
        match change.status {
            Some(RunStatus::Success) if !self.external => {
                Err(UpdateRefused::ProcessedByService(self.id.clone()))
            }
            None | Some(RunStatus::Running) => match &change.error_message {
                Some(m) if self.error_message.as_ref() != Some(m) => {
                    self.error_message = Some(m.clone());
                    Ok(Transition::Changed)
                }
                _ => Ok(Transition::Unchanged),
            },
            Some(to) => Ok(self.finish(to, now, change.error_message.clone())?),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;
    use crate::run::Trigger;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 26, 10, 15, 0).unwrap()
    }

    fn run(external: bool) -> Run {
        let mut r = Run::start("run_1".into(), "scenario_evaluation", Trigger::Manual, t0());
        r.external = external;
        r
    }

    fn to(status: RunStatus) -> RunUpdate {
        RunUpdate {
            status: Some(status),
            error_message: None,
        }
    }

    #[test]
    fn an_external_run_may_finish_in_any_of_the_three_ways() {
        for status in [RunStatus::Success, RunStatus::Failed, RunStatus::Cancelled] {
            let mut r = run(true);
            let later = t0() + TimeDelta::seconds(4);
            assert_eq!(r.apply_update(&to(status), later), Ok(Transition::Changed));
            assert_eq!(r.status, status);
            assert_eq!(r.duration_ms, Some(4000));
        }
    }

    #[test]
    fn a_run_the_service_processes_is_cancelled_or_failed_but_never_set_to_success() {
        let mut r = run(false);
        assert_eq!(
            r.apply_update(&to(RunStatus::Success), t0()),
            Err(UpdateRefused::ProcessedByService("run_1".into()))
        );
        assert_eq!(r.status, RunStatus::Running);
        let failed = RunUpdate {
            status: Some(RunStatus::Failed),
            error_message: Some("stopped by an operator".into()),
        };
        assert_eq!(r.apply_update(&failed, t0()), Ok(Transition::Changed));
        assert_eq!(r.error_message.as_deref(), Some("stopped by an operator"));
    }

    #[test]
    fn an_error_message_alone_is_attached_to_a_running_run() {
        let mut r = run(true);
        let note = RunUpdate {
            status: None,
            error_message: Some("slow upstream at batch 2".into()),
        };
        assert_eq!(r.apply_update(&note, t0()), Ok(Transition::Changed));
        assert_eq!(r.status, RunStatus::Running);
        assert_eq!(r.apply_update(&note, t0()), Ok(Transition::Unchanged));
        assert_eq!(
            r.apply_update(&to(RunStatus::Running), t0()),
            Ok(Transition::Unchanged)
        );
    }

    #[test]
    fn a_finished_run_takes_only_a_repetition_of_its_record() {
        let mut r = run(true);
        let failed = RunUpdate {
            status: Some(RunStatus::Failed),
            error_message: Some("boom".into()),
        };
        r.apply_update(&failed, t0()).unwrap();
        let before = r.clone();
        assert_eq!(r.apply_update(&failed, t0()), Ok(Transition::Unchanged));
        assert_eq!(
            r.apply_update(&to(RunStatus::Failed), t0()),
            Ok(Transition::Unchanged)
        );
        assert!(matches!(
            r.apply_update(&to(RunStatus::Running), t0()),
            Err(UpdateRefused::Illegal(_))
        ));
        assert!(matches!(
            r.apply_update(&to(RunStatus::Success), t0()),
            Err(UpdateRefused::Illegal(_))
        ));
        let other_message = RunUpdate {
            status: None,
            error_message: Some("another story".into()),
        };
        assert!(matches!(
            r.apply_update(&other_message, t0()),
            Err(UpdateRefused::Finished { .. })
        ));
        assert_eq!(r, before, "a refused change leaves the run as it was");
    }
}
