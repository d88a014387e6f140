//! Mentor records as the engine sees them.

use chrono::{DateTime, Utc};

use super::scenario::{ScenarioType, UnknownName};

/// Whether a mentor takes part in evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MentorStatus {
    /// Evaluated and notified.
    Active,
    /// Paused (see [`Pause`]): never notified.
    Paused,
    /// No longer mentoring: never notified.
    Inactive,
}

impl MentorStatus {
    /// Every status.
    pub const ALL: [MentorStatus; 3] = [Self::Active, Self::Paused, Self::Inactive];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Inactive => "inactive",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`UnknownName`] listing the statuses.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownName::new("status", s, Self::ALL.iter().map(|t| t.as_str())))
    }
}

/// Why a mentor is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PauseReason {
    /// A required certification expired; made and lifted only by the expiry jobs.
    CertificationExpired,
    /// The mentor asked for a break.
    Requested,
    /// A coordinator paused the mentor.
    Admin,
}

impl PauseReason {
    /// Every pause reason.
    pub const ALL: [PauseReason; 3] = [Self::CertificationExpired, Self::Requested, Self::Admin];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CertificationExpired => "certification_expired",
            Self::Requested => "requested",
            Self::Admin => "admin",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`UnknownName`] listing the reasons.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownName::new("reason", s, Self::ALL.iter().map(|t| t.as_str())))
    }
}

/// A pause on a mentor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// Why.
    pub reason: PauseReason,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Until when, if the pause ends by itself.
    pub until: Option<DateTime<Utc>>,
}

/// A mentor's certification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    /// Platform id, for example `cert_safety_003`.
    pub certification_id: String,
    /// Human-readable name.
    pub name: String,
    /// When it was issued, if known.
    pub issued_at: Option<DateTime<Utc>>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Whether an expired certification pauses the mentor.
    pub required: bool,
}

/// Notification switches; every switch defaults to on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preferences {
    /// Master switch: `false` mutes every scenario.
    pub all: bool,
    /// Inactivity reminders.
    pub inactivity: bool,
    /// Milestone congratulations.
    pub milestone: bool,
    /// Certification expiry reminders.
    pub certification_expiry: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            all: true,
            inactivity: true,
            milestone: true,
            certification_expiry: true,
        }
    }
}

impl Preferences {
    /// Whether the mentor accepts notifications of `scenario`.
    ///
    /// ```
    /// use scenario_engine::rules::{Preferences, ScenarioType};
    /// let muted = Preferences { all: false, ..Preferences::default() };
    /// assert!(!muted.allows(ScenarioType::Inactivity));
    /// assert!(Preferences::default().allows(ScenarioType::Milestone));
    /// ```
    pub const fn allows(&self, scenario: ScenarioType) -> bool {
        self.all
            && match scenario {
                ScenarioType::Inactivity => self.inactivity,
                ScenarioType::Milestone => self.milestone,
                ScenarioType::CertificationExpiry => self.certification_expiry,
            }
    }
}

/// A mentor as stored (docs/architecture.md, "Data model").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mentor {
    /// Platform id, for example `usr_mentor_7821`.
    pub user_id: String,
    /// Organisation, for example `org_oslo_01`.
    pub org_id: String,
    /// Current status.
    pub status: MentorStatus,
    /// The pause, when `status` is [`MentorStatus::Paused`].
    pub pause: Option<Pause>,
    /// Last activity, if any.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Completed sessions.
    pub sessions_count: u32,
    /// The first completed session, if any.
    pub first_session_at: Option<DateTime<Utc>>,
    /// When the mentor was first seen.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}
