//! The decision rules (docs/rules.md).
//!
//! [`evaluate`] is the only entry point. It reads a borrowed
//! [`MentorSnapshot`], allocates nothing and never reads the clock, so a run
//! can decide millions of times per second and a test can pin every instant.

use chrono::{DateTime, Months, TimeDelta, Utc};
use chrono_tz::Tz;

use super::calendar::{days_between_dates, local_date};
use super::config::{DEFAULT_EXPIRY_STAGES, Rules};
use super::decision::{Decision, ExpiryFacts, Metadata, ReasonCode};
use super::mentor::{Certification, MentorStatus};
use super::scenario::{MilestoneType, Scenario, ScenarioType};
use super::snapshot::{DedupeKey, History, MentorSnapshot};

/// Decides whether to notify mentor `m` about scenario `s` at `now`.
///
/// The checks run in the order of docs/rules.md ("The checks, in order"), and
/// [`Decision::reason_code`] is the first one that fails, or the rule's
/// firing code ([`ReasonCode::ThresholdReached`],
/// [`ReasonCode::MilestoneReached`], [`ReasonCode::ExpiryWithinLeadTime`])
/// when all pass:
///
/// 1. **Status**: a paused mentor gets [`ReasonCode::MentorPaused`], an
///    inactive one [`ReasonCode::MentorInactive`].
/// 2. **The rule** of the scenario (inactivity threshold, milestone reached,
///    certification within the lead time); see [`Scenario`].
/// 3. **Preference**: [`ReasonCode::PreferenceDisabled`] when
///    [`Preferences::allows`](crate::rules::Preferences::allows) says no.
/// 4. **Cooldown**: [`ReasonCode::CooldownActive`] when the newest counting
///    notification of this scenario type ([`History::last_notified_at`]) is
///    less than `rules.cooldown_days × 24 h` of elapsed time before `now`.
///    Exactly the cooldown elapsed is satisfied; a cooldown of 0 is always
///    satisfied unless that notification lies in the future.
/// 5. **Once only**: [`ReasonCode::AlreadyNotified`] when the decision's
///    [`DedupeKey`] is already taken ([`History::is_taken`]). For milestones
///    and expiry stages, whose keys never free up, this check comes before
///    the cooldown (so a repeat answers `already_notified`);
///    for inactivity it comes after. Every scenario
///    has a key: one per local day for inactivity (which matters when the
///    cooldown is 0), one per milestone, one per certification expiry date
///    and reminder stage. The history is asked only when this check decides.
///
/// Whatever check stops the decision, the rest of it is filled in:
/// [`Decision::preference_enabled`] and [`Decision::cooldown_satisfied`] are
/// always computed, and [`Decision::metadata`] always carries the rule's
/// numbers, for paused and inactive mentors too. [`Decision::dedupe_key`] is
/// `Some` whenever the rule itself matched, even if the status or a later
/// check stopped the notification, and `None` when the rule did not match.
///
/// Day counts are calendar-day differences in `rules.timezone`
/// (see [`calendar_days_between`](crate::rules::calendar_days_between)).
///
/// # The rules
///
/// - **Inactivity**: `days_inactive` counts from `last_active_at`, or from
///   `created_at` for a mentor never active, and the rule matches when
///   `days_inactive >= threshold_days`.
/// - **Milestone**: count milestones are reached when `sessions_count` is at
///   least [`MilestoneType::sessions_needed`]; `one_year_active` when `now`
///   is at or after the first session plus 12 calendar months (a first
///   session on 29 February reaches it on 28 February). `achieved_at` is the
///   recorded time from [`MentorSnapshot::milestones_achieved_at`] if there
///   is one, else the anniversary for `one_year_active`, else `now` with
///   `newly_achieved: true`, which the caller records (docs/rules.md,
///   "Milestones").
/// - **Certification expiry**: looks at the certification with the smallest
///   `expires_at` after `now` (required or not; ties go to the smallest
///   `certification_id`). It matches when `days_until_expiry <=
///   lead_time_days`, at the smallest reminder stage at or above the day
///   count. The stages are `lead_time_days`, the
///   [`DEFAULT_EXPIRY_STAGES`] below it, and 0.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::evaluate;
/// use scenario_engine::rules::{
///     MentorSnapshot, MentorStatus, Metadata, NoHistory, Preferences, ReasonCode, Rules,
///     Scenario,
/// };
///
/// let mentor = MentorSnapshot {
///     user_id: "usr_mentor_7821",
///     status: MentorStatus::Active,
///     created_at: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).unwrap(),
///     last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap()),
///     sessions_count: 4,
///     first_session_at: None,
///     milestones_achieved_at: [None; 4],
///     certifications: &[],
///     preferences: Preferences::default(),
///     history: &NoHistory,
/// };
/// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
/// let decision = evaluate(&mentor, &Scenario::Inactivity { threshold_days: 7 }, &Rules::default(), now);
///
/// assert!(decision.should_notify);
/// assert_eq!(decision.reason_code, ReasonCode::ThresholdReached);
/// assert!(matches!(decision.metadata, Metadata::Inactivity { days_inactive: 9, .. }));
/// ```
pub fn evaluate<'a>(
    m: &MentorSnapshot<'a>,
    s: &Scenario,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Decision<'a> {
    let scenario_type = s.scenario_type();
    let rule = match *s {
        Scenario::Inactivity { threshold_days } => {
            inactivity(m, threshold_days, rules.timezone, now)
        }
        Scenario::Milestone { milestone_type } => milestone(m, milestone_type, now),
        Scenario::CertificationExpiry { lead_time_days } => {
            certification_expiry(m.certifications, lead_time_days, rules.timezone, now)
        }
    };

    // Both are reported whichever check decides.
    let preference_enabled = m.preferences.allows(scenario_type);
    let cooldown_satisfied = cooldown_satisfied(m.history, scenario_type, rules.cooldown_days, now);

    let reason_code = match m.status {
        MentorStatus::Paused => ReasonCode::MentorPaused,
        MentorStatus::Inactive => ReasonCode::MentorInactive,
        MentorStatus::Active => match rule.dedupe_key {
            None => rule.code,
            Some(_) if !preference_enabled => ReasonCode::PreferenceDisabled,
            // A repeated milestone or expiry-stage evaluation answers
            // already_notified even inside the cooldown; once-only is the
            // lasting reason (docs/rules.md). Inactivity keeps cooldown first.
            Some(key) if key.is_once_ever() && m.history.is_taken(&key) => {
                ReasonCode::AlreadyNotified
            }
            Some(_) if !cooldown_satisfied => ReasonCode::CooldownActive,
            Some(key) if m.history.is_taken(&key) => ReasonCode::AlreadyNotified,
            Some(_) => rule.code,
        },
    };

    Decision {
        scenario_type,
        should_notify: reason_code.fires(),
        reason_code,
        preference_enabled,
        cooldown_satisfied,
        cooldown_days: rules.cooldown_days,
        metadata: rule.metadata,
        dedupe_key: rule.dedupe_key,
    }
}

/// What a scenario's rule found, before the status, preference, cooldown
/// and once-only checks.
struct RuleOutcome<'a> {
    /// The firing code when the rule matched, else why it did not.
    code: ReasonCode,
    metadata: Metadata<'a>,
    /// `Some` exactly when the rule matched.
    dedupe_key: Option<DedupeKey<'a>>,
}

fn inactivity<'a>(
    m: &MentorSnapshot<'a>,
    threshold_days: u32,
    tz: Tz,
    now: DateTime<Utc>,
) -> RuleOutcome<'a> {
    let today = local_date(now, tz);
    let since = m.last_active_at.unwrap_or(m.created_at);
    let days_inactive = days_between_dates(local_date(since, tz), today);
    let metadata = Metadata::Inactivity {
        threshold_days,
        days_inactive,
        last_active_at: m.last_active_at,
    };
    if days_inactive >= i64::from(threshold_days) {
        RuleOutcome {
            code: ReasonCode::ThresholdReached,
            metadata,
            dedupe_key: Some(DedupeKey::Inactivity { date: today }),
        }
    } else {
        RuleOutcome {
            code: ReasonCode::ThresholdNotReached,
            metadata,
            dedupe_key: None,
        }
    }
}

fn milestone<'a>(
    m: &MentorSnapshot<'a>,
    milestone_type: MilestoneType,
    now: DateTime<Utc>,
) -> RuleOutcome<'a> {
    // `Some(anniversary)` for one_year_active: its time follows from the data.
    let (reached, derived_at) = match milestone_type.sessions_needed() {
        Some(needed) => (m.sessions_count >= needed, None),
        None => match m.first_session_at.and_then(one_year_after) {
            Some(anniversary) => (now >= anniversary, Some(anniversary)),
            None => (false, None),
        },
    };
    let (achieved_at, newly_achieved) = if !reached {
        (None, false)
    } else if let Some(recorded) = m.milestones_achieved_at[milestone_type.index()] {
        (Some(recorded), false)
    } else if let Some(derived) = derived_at {
        (Some(derived), false)
    } else {
        // "The time of the first evaluation that saw it reached" (docs/rules.md).
        (Some(now), true)
    };
    let metadata = Metadata::Milestone {
        milestone_type,
        achieved_at,
        newly_achieved,
        sessions_count: m.sessions_count,
    };
    if reached {
        RuleOutcome {
            code: ReasonCode::MilestoneReached,
            metadata,
            dedupe_key: Some(DedupeKey::Milestone { milestone_type }),
        }
    } else {
        RuleOutcome {
            code: ReasonCode::MilestoneNotReached,
            metadata,
            dedupe_key: None,
        }
    }
}

/// The first session plus 12 calendar months, as chrono counts them (29
/// February plus 12 months is 28 February). `None` only at the end of time.
fn one_year_after(first_session_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    first_session_at.checked_add_months(Months::new(12))
}

fn certification_expiry<'a>(
    certifications: &'a [Certification],
    lead_time_days: u32,
    tz: Tz,
    now: DateTime<Utc>,
) -> RuleOutcome<'a> {
    let Some(cert) = soonest_unexpired(certifications, now) else {
        return RuleOutcome {
            code: ReasonCode::NoCertification,
            metadata: Metadata::CertificationExpiry {
                lead_time_days,
                certification: None,
            },
            dedupe_key: None,
        };
    };
    // A certification that has not expired is at least 0 days away. The
    // floor matters only in a zone whose clocks jump back across midnight,
    // where the local date can briefly step back.
    let days_until_expiry =
        days_between_dates(local_date(now, tz), local_date(cert.expires_at, tz)).max(0);
    let stage = expiry_stage(days_until_expiry, lead_time_days);
    let certification_id = cert.certification_id.as_str();
    let facts = ExpiryFacts {
        certification_id,
        expires_at: cert.expires_at,
        days_until_expiry,
        stage,
    };
    let metadata = Metadata::CertificationExpiry {
        lead_time_days,
        certification: Some(facts),
    };
    match stage {
        Some(stage) => RuleOutcome {
            code: ReasonCode::ExpiryWithinLeadTime,
            metadata,
            dedupe_key: Some(DedupeKey::CertificationExpiry {
                certification_id,
                expires_at: cert.expires_at,
                stage,
            }),
        },
        None => RuleOutcome {
            code: ReasonCode::ExpiryNotWithinLeadTime,
            metadata,
            dedupe_key: None,
        },
    }
}

/// The certification with the smallest `expires_at` after `now`; ties go to
/// the smallest id so that the choice does not depend on the slice order.
fn soonest_unexpired(
    certifications: &[Certification],
    now: DateTime<Utc>,
) -> Option<&Certification> {
    certifications
        .iter()
        .filter(|c| c.expires_at > now)
        .min_by(|a, b| {
            a.expires_at
                .cmp(&b.expires_at)
                .then_with(|| a.certification_id.cmp(&b.certification_id))
        })
}

/// The reminder stage `days_until_expiry` falls in, or `None` beyond the
/// lead time.
///
/// The stages are `lead_time_days`, every default stage below it, and 0. A
/// stage fires when the day count first falls at or below it, so the stage
/// is the smallest one at or above the count: with a lead time of 30, day
/// 20 is still stage 30 and day 10 is stage 14.
pub(crate) fn expiry_stage(days_until_expiry: i64, lead_time_days: u32) -> Option<u32> {
    if days_until_expiry > i64::from(lead_time_days) {
        return None;
    }
    if days_until_expiry <= 0 {
        return Some(0);
    }
    let mut stage = lead_time_days;
    for s in DEFAULT_EXPIRY_STAGES {
        if s < stage && days_until_expiry <= i64::from(s) {
            stage = s;
        }
    }
    Some(stage)
}

/// Whether at least `cooldown_days × 24 h` passed since the newest counting
/// notification of `scenario`; elapsed time, not calendar days (docs/rules.md,
/// "Cooldown").
fn cooldown_satisfied(
    history: &dyn History,
    scenario: ScenarioType,
    cooldown_days: u32,
    now: DateTime<Utc>,
) -> bool {
    match history.last_notified_at(scenario) {
        None => true,
        // u32 days always fit a TimeDelta; MAX keeps the rule total anyway.
        Some(last) => {
            now.signed_duration_since(last)
                >= TimeDelta::try_days(i64::from(cooldown_days)).unwrap_or(TimeDelta::MAX)
        }
    }
}

#[cfg(test)]
mod tests;
