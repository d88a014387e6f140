//! Certification expiry jobs of Mentor Scheduler (pure): what the nightly
//! expiry check, the pause auto-lift and the weekly report decide.
//!
//! - [`check_mentor`]: for one mentor, whether an expired **required**
//!   certification pauses them (`certification_expired`), and the
//!   certification-expiry reminder, decided by the scenario engine's own
//!   rules (preference, cooldown, once per stage).
//! - [`lift_reason`]: whether a pause is lifted: a `certification_expired`
//!   pause once every required certification is valid again, a `requested`
//!   pause whose `until` passed.
//! - [`ExpiryReport`]: certifications expiring within N days, per
//!   organisation, as JSON and CSV.
//!
//! The crate refuses to know about storage, HTTP, async and the clock; the
//! job handlers in the application load mentors, call these functions and
//! write the outcome.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use cert_expiry::{ExpiryCheckSummary, check_mentor};
//! use scenario_engine::rules::{
//!     Certification, MentorSnapshot, MentorStatus, NoHistory, Preferences, Rules,
//! };
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap();
//! let certs = [Certification {
//!     certification_id: "cert_safety_003".into(),
//!     name: "Safety".into(),
//!     issued_at: None,
//!     expires_at: Utc.with_ymd_and_hms(2026, 4, 25, 0, 0, 0).unwrap(),
//!     required: true,
//! }];
//! let snapshot = MentorSnapshot {
//!     user_id: "usr_mentor_4402",
//!     status: MentorStatus::Active,
//!     created_at: now,
//!     last_active_at: None,
//!     sessions_count: 0,
//!     first_session_at: None,
//!     milestones_achieved_at: [None; 4],
//!     certifications: &certs,
//!     preferences: Preferences::default(),
//!     history: &NoHistory,
//! };
//! let check = check_mentor(&snapshot, 30, &Rules::default(), now);
//! let mut summary = ExpiryCheckSummary::default();
//! summary.add(!check.expired_required.is_empty(), check.pause, check.reminder.should_notify);
//! assert_eq!(summary.reminders_sent, 1); // 30 days ahead: the first reminder stage
//! assert_eq!(summary.auto_paused, 0);
//! ```
#![warn(missing_docs)]

mod check;
mod jobs;
mod report;
mod summary;

pub use check::{AUTO_PAUSE_REASON, LiftReason, MentorCheck, check_mentor, lift_reason};
pub use jobs::{ExpiryJobs, JobError, PAGE_SIZE, RunContext};
pub use report::{DEFAULT_REPORT_DAYS, ExpiryReport, ReportLine};
pub use summary::{AutoLiftSummary, ExpiryCheckSummary};
