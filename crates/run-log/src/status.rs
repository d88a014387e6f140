//! The run status state machine (docs/runs.md, "Statuses").

use std::fmt;

/// Where a run is.
///
/// ```text
/// running ──► success | failed | cancelled      (finished; never back)
/// skipped, missed                                (recorded finished)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Under way.
    Running,
    /// Finished well.
    Success,
    /// Finished with an error.
    Failed,
    /// Stopped on request.
    Cancelled,
    /// A scheduled firing that did not run because the job's previous run held the lock.
    Skipped,
    /// A scheduled instant that passed while the service was down, past its starting deadline.
    Missed,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [RunStatus; 6] = [
        Self::Running,
        Self::Success,
        Self::Failed,
        Self::Cancelled,
        Self::Skipped,
        Self::Missed,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
            Self::Missed => "missed",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`UnknownStatus`] listing the statuses.
    pub fn parse(s: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownStatus {
                value: s.to_owned(),
                valid: Self::ALL.iter().map(|t| t.as_str()).collect(),
            })
    }

    /// Whether the run is over: everything but `running`.
    pub const fn is_finished(self) -> bool {
        !matches!(self, Self::Running)
    }

    /// Whether the run did work and ended: `success`, `failed` or
    /// `cancelled` (a skipped or missed firing did nothing).
    ///
    /// ```
    /// use run_log::RunStatus;
    /// assert!(RunStatus::Cancelled.did_work());
    /// assert!(!RunStatus::Skipped.did_work() && !RunStatus::Running.did_work());
    /// ```
    pub const fn did_work(self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::Cancelled)
    }

    /// Whether a run in this status may move to `next`.
    ///
    /// `running` may become `success`, `failed` or `cancelled`. Asking a
    /// finished run for the status it already has is allowed and changes
    /// nothing ([`Transition::Unchanged`]); anything else is refused.
    ///
    /// # Errors
    /// [`IllegalTransition`].
    ///
    /// ```
    /// use run_log::{RunStatus, Transition};
    /// assert_eq!(RunStatus::Running.transition(RunStatus::Cancelled).unwrap(), Transition::Changed);
    /// assert_eq!(RunStatus::Success.transition(RunStatus::Success).unwrap(), Transition::Unchanged);
    /// assert!(RunStatus::Failed.transition(RunStatus::Running).is_err());
    /// ```
    pub fn transition(self, next: RunStatus) -> Result<Transition, IllegalTransition> {
        use RunStatus::{Cancelled, Failed, Running, Success};
        match (self, next) {
            (Running, Success | Failed | Cancelled) => Ok(Transition::Changed),
            (from, to) if from == to && from.is_finished() => Ok(Transition::Unchanged),
            (from, to) => Err(IllegalTransition { from, to }),
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an allowed transition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The status changes.
    Changed,
    /// The run already has that status: nothing changes.
    Unchanged,
}

/// A status change the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} run cannot become {to}")]
pub struct IllegalTransition {
    /// The current status.
    pub from: RunStatus,
    /// The status asked for.
    pub to: RunStatus,
}

/// A status name that is not one of [`RunStatus::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{value}`; expected one of: {}", .valid.join(", "))]
pub struct UnknownStatus {
    /// The name given.
    pub value: String,
    /// The accepted names.
    pub valid: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_run_may_finish_in_any_of_the_three_ways() {
        for to in [RunStatus::Success, RunStatus::Failed, RunStatus::Cancelled] {
            assert_eq!(RunStatus::Running.transition(to), Ok(Transition::Changed));
        }
    }

    #[test]
    fn a_finished_run_never_goes_back_or_changes_its_outcome() {
        for from in [
            RunStatus::Success,
            RunStatus::Failed,
            RunStatus::Cancelled,
            RunStatus::Skipped,
            RunStatus::Missed,
        ] {
            for to in RunStatus::ALL {
                let result = from.transition(to);
                if to == from {
                    assert_eq!(result, Ok(Transition::Unchanged), "{from} -> {to}");
                } else {
                    assert_eq!(
                        result,
                        Err(IllegalTransition { from, to }),
                        "{from} -> {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn running_cannot_become_running_skipped_or_missed() {
        for to in [RunStatus::Running, RunStatus::Skipped, RunStatus::Missed] {
            assert!(
                RunStatus::Running.transition(to).is_err(),
                "running -> {to}"
            );
        }
    }

    #[test]
    fn status_names_round_trip_and_unknown_ones_list_the_valid() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Ok(s));
        }
        let err = RunStatus::parse("done").unwrap_err();
        assert_eq!(err.valid.len(), 6);
        assert!(err.to_string().contains("running"));
    }
}
