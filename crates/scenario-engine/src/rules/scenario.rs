//! Scenario and milestone types, and the parameters of one evaluation.

use std::fmt;

use super::config::{
    DEFAULT_LEAD_TIME_DAYS, DEFAULT_THRESHOLD_DAYS, LEAD_TIME_DAYS_RANGE, OutOfRange,
    THRESHOLD_DAYS_RANGE, in_range,
};

/// The three kinds of nudge the engine decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScenarioType {
    /// Remind a mentor who has not been active for a while.
    Inactivity,
    /// Congratulate a mentor on a milestone.
    Milestone,
    /// Warn a mentor before a certification expires.
    CertificationExpiry,
}

impl ScenarioType {
    /// Every scenario type, in the order a run evaluates them.
    pub const ALL: [ScenarioType; 3] =
        [Self::Inactivity, Self::Milestone, Self::CertificationExpiry];

    /// The wire name (`inactivity`, `milestone`, `certification_expiry`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Inactivity => "inactivity",
            Self::Milestone => "milestone",
            Self::CertificationExpiry => "certification_expiry",
        }
    }

    /// A dense index (0, 1, 2), for per-scenario arrays.
    pub const fn index(self) -> usize {
        match self {
            Self::Inactivity => 0,
            Self::Milestone => 1,
            Self::CertificationExpiry => 2,
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`UnknownName`] when `s` is not one of [`ScenarioType::ALL`]'s names;
    /// it lists the valid ones.
    ///
    /// ```
    /// use scenario_engine::rules::ScenarioType;
    /// assert_eq!(ScenarioType::parse("milestone").unwrap(), ScenarioType::Milestone);
    /// assert!(ScenarioType::parse("birthday").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                UnknownName::new("scenario_type", s, Self::ALL.iter().map(|t| t.as_str()))
            })
    }
}

impl fmt::Display for ScenarioType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Milestones a mentor can reach; each is congratulated once, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MilestoneType {
    /// At least one completed session.
    FirstSessionCompleted,
    /// At least ten completed sessions.
    Sessions10,
    /// At least fifty completed sessions.
    Sessions50,
    /// One year since the first completed session.
    OneYearActive,
}

impl MilestoneType {
    /// Every milestone type.
    pub const ALL: [MilestoneType; 4] = [
        Self::FirstSessionCompleted,
        Self::Sessions10,
        Self::Sessions50,
        Self::OneYearActive,
    ];

    /// The wire name, for example `first_session_completed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FirstSessionCompleted => "first_session_completed",
            Self::Sessions10 => "sessions_10",
            Self::Sessions50 => "sessions_50",
            Self::OneYearActive => "one_year_active",
        }
    }

    /// A dense index (0..4), for per-milestone arrays.
    pub const fn index(self) -> usize {
        match self {
            Self::FirstSessionCompleted => 0,
            Self::Sessions10 => 1,
            Self::Sessions50 => 2,
            Self::OneYearActive => 3,
        }
    }

    /// The session count that reaches this milestone, if it is a count.
    pub const fn sessions_needed(self) -> Option<u32> {
        match self {
            Self::FirstSessionCompleted => Some(1),
            Self::Sessions10 => Some(10),
            Self::Sessions50 => Some(50),
            Self::OneYearActive => None,
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`UnknownName`] listing the known milestone types.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                UnknownName::new("milestone_type", s, Self::ALL.iter().map(|t| t.as_str()))
            })
    }
}

impl fmt::Display for MilestoneType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A wire name that matches none of the known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {field} `{value}`; expected one of: {}", .valid.join(", "))]
pub struct UnknownName {
    /// The field that held the name, for example `scenario_type`.
    pub field: &'static str,
    /// The name that was given.
    pub value: String,
    /// The names that would have been accepted.
    pub valid: Vec<&'static str>,
}

impl UnknownName {
    /// Builds the error for `field`, listing `valid`.
    pub fn new<'v>(
        field: &'static str,
        value: &str,
        valid: impl Iterator<Item = &'static str> + 'v,
    ) -> Self {
        Self {
            field,
            value: value.to_owned(),
            valid: valid.collect(),
        }
    }
}

/// One evaluation request: the scenario and its parameters, already validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Fires when the mentor has been inactive for at least `threshold_days` calendar days.
    Inactivity {
        /// Days of inactivity that trigger a reminder (1-3650).
        threshold_days: u32,
    },
    /// Fires once when the mentor has reached the milestone.
    Milestone {
        /// Which milestone.
        milestone_type: MilestoneType,
    },
    /// Fires once per reminder stage when a certification expires within `lead_time_days`.
    CertificationExpiry {
        /// How many days ahead of expiry reminders start (0-3650).
        lead_time_days: u32,
    },
}

impl Scenario {
    /// The scenario type of this request.
    pub const fn scenario_type(&self) -> ScenarioType {
        match self {
            Self::Inactivity { .. } => ScenarioType::Inactivity,
            Self::Milestone { .. } => ScenarioType::Milestone,
            Self::CertificationExpiry { .. } => ScenarioType::CertificationExpiry,
        }
    }
}

impl Scenario {
    /// An inactivity evaluation; `None` takes the default threshold.
    ///
    /// # Errors
    /// [`OutOfRange`] unless `1 <= threshold_days <= 3650`.
    ///
    /// ```
    /// use scenario_engine::rules::Scenario;
    /// assert_eq!(Scenario::inactivity(None).unwrap(), Scenario::Inactivity { threshold_days: 7 });
    /// assert!(Scenario::inactivity(Some(0)).is_err());
    /// ```
    pub fn inactivity(threshold_days: Option<i64>) -> Result<Self, OutOfRange> {
        let threshold_days = match threshold_days {
            None => DEFAULT_THRESHOLD_DAYS,
            Some(v) => in_range("threshold_days", v, THRESHOLD_DAYS_RANGE)?,
        };
        Ok(Self::Inactivity { threshold_days })
    }

    /// A milestone evaluation of the milestone type named `milestone_type`
    /// on the wire (`first_session_completed`, `sessions_10`, `sessions_50`,
    /// `one_year_active`).
    ///
    /// # Errors
    /// [`UnknownName`] listing the known milestone types.
    ///
    /// ```
    /// use scenario_engine::rules::{MilestoneType, Scenario};
    /// assert_eq!(
    ///     Scenario::milestone("sessions_10").unwrap(),
    ///     Scenario::Milestone { milestone_type: MilestoneType::Sessions10 }
    /// );
    /// let unknown = Scenario::milestone("sessions_100").unwrap_err();
    /// assert_eq!(unknown.field, "milestone_type");
    /// assert_eq!(unknown.valid.len(), MilestoneType::ALL.len());
    /// ```
    pub fn milestone(milestone_type: &str) -> Result<Self, UnknownName> {
        let milestone_type = MilestoneType::parse(milestone_type)?;
        Ok(Self::Milestone { milestone_type })
    }

    /// A certification-expiry evaluation; `None` takes the default lead time.
    ///
    /// # Errors
    /// [`OutOfRange`] unless `0 <= lead_time_days <= 3650`.
    pub fn certification_expiry(lead_time_days: Option<i64>) -> Result<Self, OutOfRange> {
        let lead_time_days = match lead_time_days {
            None => DEFAULT_LEAD_TIME_DAYS,
            Some(v) => in_range("lead_time_days", v, LEAD_TIME_DAYS_RANGE)?,
        };
        Ok(Self::CertificationExpiry { lead_time_days })
    }
}
