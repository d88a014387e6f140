//! The typed outcome of one evaluation. Rendering (the sentence and the JSON
//! metadata) happens at the edge, so that deciding allocates nothing.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::calendar::format_instant;
use super::scenario::{MilestoneType, ScenarioType};
use super::snapshot::DedupeKey;

/// Why a decision came out as it did: a stable machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// Inactivity: `days_inactive >= threshold_days`.
    ThresholdReached,
    /// Inactivity: not inactive long enough.
    ThresholdNotReached,
    /// Milestone: reached (and every later check passed).
    MilestoneReached,
    /// Milestone: not reached yet.
    MilestoneNotReached,
    /// Certification expiry: within the lead time, at a new reminder stage.
    ExpiryWithinLeadTime,
    /// Certification expiry: the soonest expiry is further away than the lead time.
    ExpiryNotWithinLeadTime,
    /// Certification expiry: no certification that has not expired yet.
    NoCertification,
    /// The mentor switched this scenario (or everything) off.
    PreferenceDisabled,
    /// A notification of this scenario was enqueued within the cooldown.
    CooldownActive,
    /// This milestone, expiry stage or day was already notified.
    AlreadyNotified,
    /// The mentor is paused.
    MentorPaused,
    /// The mentor is inactive.
    MentorInactive,
}

impl ReasonCode {
    /// Every code.
    pub const ALL: [ReasonCode; 12] = [
        Self::ThresholdReached,
        Self::ThresholdNotReached,
        Self::MilestoneReached,
        Self::MilestoneNotReached,
        Self::ExpiryWithinLeadTime,
        Self::ExpiryNotWithinLeadTime,
        Self::NoCertification,
        Self::PreferenceDisabled,
        Self::CooldownActive,
        Self::AlreadyNotified,
        Self::MentorPaused,
        Self::MentorInactive,
    ];

    /// The stable wire form, for example `cooldown_active`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ThresholdReached => "threshold_reached",
            Self::ThresholdNotReached => "threshold_not_reached",
            Self::MilestoneReached => "milestone_reached",
            Self::MilestoneNotReached => "milestone_not_reached",
            Self::ExpiryWithinLeadTime => "expiry_within_lead_time",
            Self::ExpiryNotWithinLeadTime => "expiry_not_within_lead_time",
            Self::NoCertification => "no_certification",
            Self::PreferenceDisabled => "preference_disabled",
            Self::CooldownActive => "cooldown_active",
            Self::AlreadyNotified => "already_notified",
            Self::MentorPaused => "mentor_paused",
            Self::MentorInactive => "mentor_inactive",
        }
    }

    /// Whether this is a rule's firing code: a decision carries one exactly
    /// when it notifies.
    ///
    /// ```
    /// use scenario_engine::rules::ReasonCode;
    /// assert!(ReasonCode::ThresholdReached.fires());
    /// assert!(!ReasonCode::CooldownActive.fires());
    /// ```
    pub const fn fires(self) -> bool {
        matches!(
            self,
            Self::ThresholdReached | Self::MilestoneReached | Self::ExpiryWithinLeadTime
        )
    }

    /// Parses the wire form.
    ///
    /// # Errors
    /// [`UnknownName`](crate::rules::UnknownName) listing the codes.
    pub fn parse(s: &str) -> Result<Self, crate::rules::UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                crate::rules::UnknownName::new(
                    "reason_code",
                    s,
                    Self::ALL.iter().map(|t| t.as_str()),
                )
            })
    }
}

/// The facts behind a certification-expiry decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryFacts<'a> {
    /// The certification that expires soonest and has not expired.
    pub certification_id: &'a str,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Calendar days from now to `expires_at` in the evaluation time zone.
    pub days_until_expiry: i64,
    /// The reminder stage the day count falls in, when within the lead time.
    pub stage: Option<u32>,
}

/// The numbers behind a decision, per scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata<'a> {
    /// Inactivity.
    Inactivity {
        /// The threshold applied.
        threshold_days: u32,
        /// Calendar days since the last activity (or since creation).
        days_inactive: i64,
        /// The last activity, if any.
        last_active_at: Option<DateTime<Utc>>,
    },
    /// Milestone.
    Milestone {
        /// The milestone evaluated.
        milestone_type: MilestoneType,
        /// When it was reached, if it was.
        achieved_at: Option<DateTime<Utc>>,
        /// `true` when this evaluation is the first to see the milestone
        /// reached and `achieved_at` is its own time: the caller records it.
        newly_achieved: bool,
        /// Completed sessions.
        sessions_count: u32,
    },
    /// Certification expiry.
    CertificationExpiry {
        /// The lead time applied.
        lead_time_days: u32,
        /// The certification looked at, if there is one that has not expired.
        certification: Option<ExpiryFacts<'a>>,
    },
}

/// One decision: whether to notify, why, and the numbers behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    /// The scenario decided on.
    pub scenario_type: ScenarioType,
    /// Whether to notify the mentor.
    pub should_notify: bool,
    /// The first check that failed, or the firing reason.
    pub reason_code: ReasonCode,
    /// Whether the mentor's preferences allow this scenario.
    pub preference_enabled: bool,
    /// Whether no counting notification of this scenario lies within the cooldown.
    pub cooldown_satisfied: bool,
    /// The cooldown applied, in days.
    pub cooldown_days: u32,
    /// The numbers behind the decision.
    pub metadata: Metadata<'a>,
    /// The key the notification is enqueued under, when the rule itself
    /// matched (whether or not a later check stopped it).
    pub dedupe_key: Option<DedupeKey<'a>>,
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Metadata<'_> {
    /// The scenario these numbers belong to.
    pub const fn scenario_type(&self) -> ScenarioType {
        match self {
            Self::Inactivity { .. } => ScenarioType::Inactivity,
            Self::Milestone { .. } => ScenarioType::Milestone,
            Self::CertificationExpiry { .. } => ScenarioType::CertificationExpiry,
        }
    }

    /// The `evaluation_metadata` object of the contract.
    ///
    /// - inactivity: `threshold_days`, `days_inactive`, `last_active_at`
    ///   (or `null` for a mentor never active);
    /// - milestone: `milestone_type`, `achieved_at` (`null` when not
    ///   reached), `sessions_count`;
    /// - certification expiry: `lead_time_days`, `certification_id`,
    ///   `expiry_date`, `days_until_expiry`, `stage` (all but the lead time
    ///   `null` without a certification; `stage` `null` beyond the lead time).
    ///
    /// Instants are written by [`format_instant`]. `newly_achieved` is
    /// not part of the object: it tells the caller to record `achieved_at`.
    pub fn to_json(&self) -> Value {
        match *self {
            Self::Inactivity {
                threshold_days,
                days_inactive,
                last_active_at,
            } => json!({
                "threshold_days": threshold_days,
                "days_inactive": days_inactive,
                "last_active_at": last_active_at.map(format_instant),
            }),
            Self::Milestone {
                milestone_type,
                achieved_at,
                newly_achieved: _,
                sessions_count,
            } => json!({
                "milestone_type": milestone_type.as_str(),
                "achieved_at": achieved_at.map(format_instant),
                "sessions_count": sessions_count,
            }),
            Self::CertificationExpiry {
                lead_time_days,
                certification,
            } => json!({
                "lead_time_days": lead_time_days,
                "certification_id": certification.map(|c| c.certification_id),
                "expiry_date": certification.map(|c| format_instant(c.expires_at)),
                "days_until_expiry": certification.map(|c| c.days_until_expiry),
                "stage": certification.and_then(|c| c.stage),
            }),
        }
    }
}

/// Rendering at the edge: these allocate, [`evaluate`](crate::evaluate) does not.
impl Decision<'_> {
    /// The human-readable reason, for the `reason` field and notification
    /// payloads, for example
    /// `User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied`.
    ///
    /// The wording is for people and may change; match on
    /// [`Decision::reason_code`] instead.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::evaluate;
    /// use scenario_engine::rules::{
    ///     MentorSnapshot, MentorStatus, NoHistory, Preferences, Rules, Scenario,
    /// };
    /// let mentor = MentorSnapshot {
    ///     user_id: "usr_mentor_7821",
    ///     status: MentorStatus::Active,
    ///     created_at: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).unwrap(),
    ///     last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap()),
    ///     sessions_count: 0,
    ///     first_session_at: None,
    ///     milestones_achieved_at: [None; 4],
    ///     certifications: &[],
    ///     preferences: Preferences::default(),
    ///     history: &NoHistory,
    /// };
    /// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let decision = evaluate(&mentor, &Scenario::Inactivity { threshold_days: 7 }, &Rules::default(), now);
    /// assert_eq!(
    ///     decision.reason_sentence(),
    ///     "User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied"
    /// );
    /// ```
    pub fn reason_sentence(&self) -> String {
        let cooldown = || format!("cooldown {} satisfied", days(i64::from(self.cooldown_days)));
        match (self.reason_code, self.metadata) {
            (ReasonCode::MentorPaused, _) => "Mentor is paused".to_owned(),
            (ReasonCode::MentorInactive, _) => "Mentor is inactive".to_owned(),
            (ReasonCode::PreferenceDisabled, _) => {
                format!(
                    "Notification preference for {} is disabled",
                    self.scenario_type
                )
            }
            (ReasonCode::CooldownActive, _) => format!(
                "Cooldown active: last {} notification within {}",
                self.scenario_type,
                days(i64::from(self.cooldown_days))
            ),
            (
                ReasonCode::ThresholdReached,
                Metadata::Inactivity {
                    threshold_days,
                    days_inactive,
                    ..
                },
            ) => format!(
                "User inactive for {}; threshold {}; {}",
                days(days_inactive),
                days(i64::from(threshold_days)),
                cooldown()
            ),
            (
                ReasonCode::ThresholdNotReached,
                Metadata::Inactivity {
                    threshold_days,
                    days_inactive,
                    ..
                },
            ) => {
                format!(
                    "User inactive for {}; threshold {} not reached",
                    days(days_inactive),
                    days(i64::from(threshold_days))
                )
            }
            (
                ReasonCode::MilestoneReached,
                Metadata::Milestone {
                    milestone_type,
                    achieved_at,
                    sessions_count,
                    ..
                },
            ) => {
                let at = achieved_at
                    .map(|t| format!(" at {}", format_instant(t)))
                    .unwrap_or_default();
                format!(
                    "Milestone {milestone_type} reached{at} with {}; {}",
                    sessions(sessions_count),
                    cooldown()
                )
            }
            (
                ReasonCode::MilestoneNotReached,
                Metadata::Milestone {
                    milestone_type,
                    sessions_count,
                    ..
                },
            ) => match milestone_type.sessions_needed() {
                Some(needed) => format!(
                    "Milestone {milestone_type} not reached: {sessions_count} of {} completed",
                    sessions(i64::from(needed))
                ),
                None if sessions_count == 0 => {
                    format!("Milestone {milestone_type} not reached: no session completed yet")
                }
                None => format!(
                    "Milestone {milestone_type} not reached: less than one year since the first session"
                ),
            },
            (
                ReasonCode::ExpiryWithinLeadTime,
                Metadata::CertificationExpiry {
                    lead_time_days,
                    certification: Some(c),
                },
            ) => format!(
                "Certification {} expires {} (stage {}); lead time {}; {}",
                c.certification_id,
                expires_in(c.days_until_expiry),
                c.stage.unwrap_or(0),
                days(i64::from(lead_time_days)),
                cooldown()
            ),
            (
                ReasonCode::ExpiryNotWithinLeadTime,
                Metadata::CertificationExpiry {
                    lead_time_days,
                    certification: Some(c),
                },
            ) => format!(
                "Certification {} expires {}; beyond lead time {}",
                c.certification_id,
                expires_in(c.days_until_expiry),
                days(i64::from(lead_time_days))
            ),
            (ReasonCode::NoCertification, _) => "No certification that has not expired".to_owned(),
            (ReasonCode::AlreadyNotified, _) => match self.dedupe_key {
                Some(DedupeKey::Inactivity { date }) => {
                    format!("Inactivity already notified on {}", date.format("%Y-%m-%d"))
                }
                Some(DedupeKey::Milestone { milestone_type }) => {
                    format!("Milestone {milestone_type} already notified")
                }
                Some(DedupeKey::CertificationExpiry {
                    certification_id,
                    expires_at,
                    stage,
                }) => format!(
                    "Certification {certification_id} stage {stage} already notified for expiry {}",
                    format_instant(expires_at)
                ),
                None => format!("{} already notified", self.scenario_type),
            },
            // A decision built by hand can pair a code with another scenario's
            // metadata; evaluate never does. The code still says why.
            (code, _) => code.as_str().to_owned(),
        }
    }

    /// The contract's `evaluation_metadata` object; see [`Metadata::to_json`].
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::rules::{Decision, Metadata, ReasonCode, ScenarioType};
    /// let decision = Decision {
    ///     scenario_type: ScenarioType::Inactivity,
    ///     should_notify: true,
    ///     reason_code: ReasonCode::ThresholdReached,
    ///     preference_enabled: true,
    ///     cooldown_satisfied: true,
    ///     cooldown_days: 3,
    ///     metadata: Metadata::Inactivity {
    ///         threshold_days: 7,
    ///         days_inactive: 9,
    ///         last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap()),
    ///     },
    ///     dedupe_key: None,
    /// };
    /// assert_eq!(
    ///     decision.metadata_json(),
    ///     serde_json::json!({
    ///         "threshold_days": 7,
    ///         "days_inactive": 9,
    ///         "last_active_at": "2026-03-16T14:22:00Z"
    ///     })
    /// );
    /// ```
    pub fn metadata_json(&self) -> Value {
        self.metadata.to_json()
    }
}

/// `1 day`, `9 days`.
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// `1 session`, `12 sessions`.
fn sessions(n: impl Into<i64>) -> String {
    let n = n.into();
    if n == 1 {
        "1 session".to_owned()
    } else {
        format!("{n} sessions")
    }
}

/// `today`, `in 1 day`, `in 14 days`.
fn expires_in(days_until_expiry: i64) -> String {
    if days_until_expiry == 0 {
        "today".to_owned()
    } else {
        format!("in {}", days(days_until_expiry))
    }
}

#[cfg(test)]
mod tests;
