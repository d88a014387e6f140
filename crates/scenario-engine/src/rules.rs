//! The decision rules (docs/rules.md), and the model they read: pure.
//!
//! Nothing here does I/O, reads the clock, makes ids or keeps state:
//! "now" is an argument, storage is the caller's, and
//! [`evaluate`] is a function of (snapshot, scenario, rules, now) that
//! allocates nothing. Rendering (the sentence of
//! [`Decision::reason_sentence`], the JSON of [`Decision::metadata_json`],
//! the stored key of [`DedupeKey::render`]) allocates, at the edge, only
//! for the decisions that are kept.
//!
//! - The mentor model: [`Mentor`], [`MentorStatus`], [`Pause`],
//!   [`PauseReason`], [`Certification`], [`Preferences`].
//! - What one decision reads: [`MentorSnapshot`], and the notifications
//!   sent so far behind the cooldown and once-only checks: [`History`]
//!   ([`NoHistory`], [`OwnedHistory`]) and [`DedupeKey`].
//! - What is decided on: [`Scenario`] ([`ScenarioType`], [`MilestoneType`])
//!   under [`Rules`] (the evaluation time zone and the cooldown).
//! - The decision: [`evaluate`] gives a [`Decision`] with its
//!   [`ReasonCode`] and [`Metadata`] ([`ExpiryFacts`]).
//! - Time: [`calendar_days_between`], [`format_instant`],
//!   [`truncate_to_seconds`].
//! - Wire names that match nothing ([`UnknownName`]) and parameters out of
//!   bounds ([`OutOfRange`]).

mod calendar;
mod config;
mod decision;
mod evaluate;
mod mentor;
mod scenario;
mod snapshot;

pub use calendar::{calendar_days_between, format_instant, truncate_to_seconds};
pub use config::{
    COOLDOWN_DAYS_RANGE, DEFAULT_COOLDOWN_DAYS, DEFAULT_EXPIRY_STAGES, DEFAULT_LEAD_TIME_DAYS,
    DEFAULT_THRESHOLD_DAYS, LEAD_TIME_DAYS_RANGE, OutOfRange, Rules, THRESHOLD_DAYS_RANGE,
};
pub use decision::{Decision, ExpiryFacts, Metadata, ReasonCode};
pub use evaluate::evaluate;
pub use mentor::{Certification, Mentor, MentorStatus, Pause, PauseReason, Preferences};
pub use scenario::{MilestoneType, Scenario, ScenarioType, UnknownName};
pub use snapshot::{DedupeKey, History, MentorSnapshot, NoHistory, OwnedHistory};

// For the service layer's own bounded parameters (the retry policy).
pub(crate) use config::in_range;
