//! What the engine needs to know about one mentor to decide: the snapshot
//! and the notification history behind the cooldown and once-only rules.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use super::calendar::{write_date, write_instant};
use super::mentor::{Certification, MentorStatus, Preferences};
use super::scenario::{MilestoneType, ScenarioType};

/// Everything [`evaluate`](crate::evaluate) reads about one mentor.
///
/// Borrowed, so that a caller evaluating many mentors builds no copies.
/// [`MentorSnapshot::new`] gives a mentor with nothing recorded yet; set
/// the fields that differ with struct update syntax:
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::MentorSnapshot;
/// let created = Utc.with_ymd_and_hms(2025, 1, 10, 0, 0, 0).unwrap();
/// let mentor = MentorSnapshot { sessions_count: 12, ..MentorSnapshot::new("usr_1", created) };
/// assert_eq!((mentor.sessions_count, mentor.last_active_at), (12, None));
/// ```
#[derive(Clone, Copy)]
pub struct MentorSnapshot<'a> {
    /// Platform id; used only to render dedupe keys and sentences at the edge.
    pub user_id: &'a str,
    /// Current status: paused and inactive mentors are never notified.
    pub status: MentorStatus,
    /// When the mentor was first seen; inactivity counts from here when
    /// `last_active_at` is `None`.
    pub created_at: DateTime<Utc>,
    /// Last activity, if any.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Completed sessions.
    pub sessions_count: u32,
    /// The first completed session, if any.
    pub first_session_at: Option<DateTime<Utc>>,
    /// When each milestone was reached, as recorded from activity events or
    /// an earlier evaluation, indexed by [`MilestoneType::index`].
    pub milestones_achieved_at: [Option<DateTime<Utc>>; 4],
    /// The mentor's certifications, in any order.
    pub certifications: &'a [Certification],
    /// Notification switches.
    pub preferences: Preferences,
    /// Notifications already enqueued for this mentor.
    pub history: &'a dyn History,
}

impl<'a> MentorSnapshot<'a> {
    /// An active mentor first seen at `created_at`, with no activity, no
    /// sessions, no milestones, no certifications, default preferences
    /// and no notification history ([`NoHistory`]).
    pub fn new(user_id: &'a str, created_at: DateTime<Utc>) -> Self {
        Self {
            user_id,
            status: MentorStatus::Active,
            created_at,
            last_active_at: None,
            sessions_count: 0,
            first_session_at: None,
            milestones_achieved_at: [None; 4],
            certifications: &[],
            preferences: Preferences::default(),
            history: &NoHistory,
        }
    }
}

/// The history is a trait object, so it shows as `..`.
impl fmt::Debug for MentorSnapshot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MentorSnapshot")
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("last_active_at", &self.last_active_at)
            .field("sessions_count", &self.sessions_count)
            .field("first_session_at", &self.first_session_at)
            .field("milestones_achieved_at", &self.milestones_achieved_at)
            .field("certifications", &self.certifications)
            .field("preferences", &self.preferences)
            .finish_non_exhaustive()
    }
}

/// The once-only identity of a notification (docs/rules.md, "Once only: dedupe
/// keys").
///
/// Two decisions with equal keys for the same mentor must not both be
/// notified; storage keeps the rendered keys in a table that is never pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DedupeKey<'a> {
    /// One inactivity reminder per local evaluation date.
    Inactivity {
        /// The evaluation date in the evaluation time zone.
        date: NaiveDate,
    },
    /// One congratulation per milestone, ever.
    Milestone {
        /// Which milestone.
        milestone_type: MilestoneType,
    },
    /// One reminder per stage per certification expiry date.
    CertificationExpiry {
        /// The certification.
        certification_id: &'a str,
        /// Its expiry instant: a renewed certification starts its stages afresh.
        expires_at: DateTime<Utc>,
        /// The reminder stage in days (for example 30, 14, 7, 1, 0).
        stage: u32,
    },
}

impl DedupeKey<'_> {
    /// The scenario this key belongs to.
    pub const fn scenario_type(&self) -> ScenarioType {
        match self {
            Self::Inactivity { .. } => ScenarioType::Inactivity,
            Self::Milestone { .. } => ScenarioType::Milestone,
            Self::CertificationExpiry { .. } => ScenarioType::CertificationExpiry,
        }
    }

    /// Whether the key stands for good (a milestone, an expiry stage), as
    /// opposed to one local day of inactivity.
    pub const fn is_once_ever(&self) -> bool {
        !matches!(self, Self::Inactivity { .. })
    }

    /// The stored form, for example `inactivity:usr_1:2026-03-25`,
    /// `milestone:usr_1:sessions_10` or
    /// `certification_expiry:usr_1:cert_a:2026-04-25T00:00:00Z:30`.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use scenario_engine::rules::DedupeKey;
    /// let key = DedupeKey::Inactivity { date: NaiveDate::from_ymd_opt(2026, 3, 25).unwrap() };
    /// assert_eq!(key.render("usr_1"), "inactivity:usr_1:2026-03-25");
    /// ```
    pub fn render(&self, user_id: &str) -> String {
        let mut out = String::with_capacity(64);
        // Writing into a String cannot fail.
        let _ = self.write_rendered(user_id, &mut out);
        out
    }

    /// Writes the stored form of [`DedupeKey::render`] into `out`.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_rendered(&self, user_id: &str, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Self::Inactivity { date } => {
                write!(out, "inactivity:{user_id}:")?;
                write_date(out, *date)
            }
            Self::Milestone { milestone_type } => {
                write!(out, "milestone:{user_id}:{}", milestone_type.as_str())
            }
            Self::CertificationExpiry {
                certification_id,
                expires_at,
                stage,
            } => {
                write!(out, "certification_expiry:{user_id}:{certification_id}:")?;
                write_instant(out, *expires_at)?;
                write!(out, ":{stage}")
            }
        }
    }

    /// Whether `rendered` is exactly [`DedupeKey::render`]`(user_id)`,
    /// decided without allocating: comparison stops at the first piece that
    /// differs, so most stored keys are rejected after a few bytes.
    ///
    /// ```
    /// use scenario_engine::rules::{DedupeKey, MilestoneType};
    /// let key = DedupeKey::Milestone { milestone_type: MilestoneType::Sessions10 };
    /// assert!(key.is_rendered_as("usr_1", "milestone:usr_1:sessions_10"));
    /// assert!(!key.is_rendered_as("usr_1", "milestone:usr_1:sessions_1"));
    /// assert!(!key.is_rendered_as("usr_1", "milestone:usr_1:sessions_100"));
    /// ```
    pub fn is_rendered_as(&self, user_id: &str, rendered: &str) -> bool {
        let mut rest = Prefix(rendered);
        self.write_rendered(user_id, &mut rest).is_ok() && rest.0.is_empty()
    }
}

/// A `fmt::Write` that consumes the expected text piece by piece and fails
/// at the first piece that does not match.
struct Prefix<'s>(&'s str);

impl fmt::Write for Prefix<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.0.strip_prefix(s) {
            Some(rest) => {
                self.0 = rest;
                Ok(())
            }
            None => Err(fmt::Error),
        }
    }
}

/// The notifications already enqueued for one mentor, as the cooldown and
/// once-only rules need them.
///
/// Dry-run decisions never enqueue, so they never appear here.
pub trait History {
    /// The newest `pending` or `delivered` notification of `scenario`
    /// enqueued for this mentor (`failed` and `cancelled` ones do not count
    /// for the cooldown).
    fn last_notified_at(&self, scenario: ScenarioType) -> Option<DateTime<Utc>>;

    /// Whether a notification with this key was ever enqueued for this
    /// mentor, whatever became of it.
    fn is_taken(&self, key: &DedupeKey<'_>) -> bool;
}

/// A history with nothing in it: a mentor never notified.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHistory;

impl History for NoHistory {
    fn last_notified_at(&self, _scenario: ScenarioType) -> Option<DateTime<Utc>> {
        None
    }

    fn is_taken(&self, _key: &DedupeKey<'_>) -> bool {
        false
    }
}

/// An owned history, for tests, embedders and storage adapters that load
/// one mentor's notifications at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedHistory {
    /// Newest counting notification per scenario, by [`ScenarioType::index`].
    pub last_notified_at: [Option<DateTime<Utc>>; 3],
    /// Rendered dedupe keys already taken (see [`DedupeKey::render`]).
    pub taken_keys: Vec<String>,
    /// The user id the keys were rendered for.
    pub user_id: String,
}

impl OwnedHistory {
    /// An empty history for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            ..Self::default()
        }
    }

    /// Records an enqueued notification, as storage would.
    pub fn record(&mut self, key: &DedupeKey<'_>, at: DateTime<Utc>) {
        let rendered = key.render(&self.user_id);
        self.record_rendered(key.scenario_type(), rendered, at);
    }

    /// Records an enqueued notification whose key was already rendered for
    /// this history's user (see [`DedupeKey::render`]).
    ///
    /// A [`Decision`](crate::rules::Decision) borrows the snapshot, and so the
    /// history it was evaluated against: render its key first, let the
    /// decision go, then record.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::rules::{DedupeKey, History, MilestoneType, OwnedHistory, ScenarioType};
    /// let key = DedupeKey::Milestone { milestone_type: MilestoneType::Sessions10 };
    /// let at = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let mut history = OwnedHistory::new("usr_1");
    /// history.record_rendered(ScenarioType::Milestone, key.render("usr_1"), at);
    /// assert!(history.is_taken(&key));
    /// assert_eq!(history.last_notified_at(ScenarioType::Milestone), Some(at));
    /// ```
    pub fn record_rendered(
        &mut self,
        scenario: ScenarioType,
        rendered_key: String,
        at: DateTime<Utc>,
    ) {
        let slot = &mut self.last_notified_at[scenario.index()];
        if slot.is_none_or(|prev| prev < at) {
            *slot = Some(at);
        }
        self.taken_keys.push(rendered_key);
    }
}

impl History for OwnedHistory {
    fn last_notified_at(&self, scenario: ScenarioType) -> Option<DateTime<Utc>> {
        self.last_notified_at[scenario.index()]
    }

    fn is_taken(&self, key: &DedupeKey<'_>) -> bool {
        // Compared without rendering: this runs on the hot path of a run.
        self.taken_keys
            .iter()
            .any(|k| key.is_rendered_as(&self.user_id, k))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn keys() -> Vec<DedupeKey<'static>> {
        let expires = Utc.with_ymd_and_hms(2026, 4, 25, 0, 0, 0).unwrap();
        vec![
            DedupeKey::Inactivity {
                date: NaiveDate::from_ymd_opt(2026, 3, 25).unwrap(),
            },
            DedupeKey::Inactivity {
                date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            },
            DedupeKey::Milestone {
                milestone_type: MilestoneType::FirstSessionCompleted,
            },
            DedupeKey::Milestone {
                milestone_type: MilestoneType::Sessions10,
            },
            DedupeKey::CertificationExpiry {
                certification_id: "cert_a",
                expires_at: expires,
                stage: 30,
            },
            DedupeKey::CertificationExpiry {
                certification_id: "cert_a",
                expires_at: expires,
                stage: 3,
            },
            DedupeKey::CertificationExpiry {
                certification_id: "cert_ab",
                expires_at: expires,
                stage: 30,
            },
            DedupeKey::CertificationExpiry {
                certification_id: "cert_a",
                expires_at: expires + chrono::TimeDelta::seconds(1),
                stage: 30,
            },
        ]
    }

    #[test]
    fn rendered_keys_have_the_spec_form() {
        let k = keys();
        assert_eq!(k[0].render("usr_1"), "inactivity:usr_1:2026-03-25");
        assert_eq!(k[3].render("usr_1"), "milestone:usr_1:sessions_10");
        assert_eq!(
            k[4].render("usr_1"),
            "certification_expiry:usr_1:cert_a:2026-04-25T00:00:00Z:30"
        );
    }

    #[test]
    fn is_rendered_as_agrees_with_comparing_rendered_strings() {
        let users = ["usr_1", "usr_10", "usr_"];
        let mut candidates = Vec::new();
        for key in keys() {
            for user in users {
                let r = key.render(user);
                candidates.push(r[..r.len() - 1].to_owned());
                candidates.push(format!("{r}0"));
                candidates.push(r);
            }
        }
        candidates.push(String::new());
        for key in keys() {
            for user in users {
                for c in &candidates {
                    assert_eq!(
                        key.is_rendered_as(user, c),
                        key.render(user) == *c,
                        "{key:?} {user} {c}"
                    );
                }
            }
        }
    }

    #[test]
    fn owned_history_takes_exactly_the_recorded_keys() {
        let k = keys();
        let at = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
        let mut history = OwnedHistory::new("usr_1");
        history.record(&k[0], at);
        history.record(&k[4], at - chrono::TimeDelta::days(1));
        assert!(history.is_taken(&k[0]));
        assert!(history.is_taken(&k[4]));
        for other in [&k[1], &k[2], &k[3], &k[5], &k[6], &k[7]] {
            assert!(!history.is_taken(other), "{other:?}");
        }
        assert_eq!(history.last_notified_at(ScenarioType::Inactivity), Some(at));
        assert_eq!(
            history.last_notified_at(ScenarioType::CertificationExpiry),
            Some(at - chrono::TimeDelta::days(1))
        );
        assert_eq!(history.last_notified_at(ScenarioType::Milestone), None);
        // An older notification never moves the newest one back.
        history.record(&k[1], at - chrono::TimeDelta::days(30));
        assert_eq!(history.last_notified_at(ScenarioType::Inactivity), Some(at));
    }
}
