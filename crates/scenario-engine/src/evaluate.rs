//! The decision rules of SPEC section 4.
//!
//! [`evaluate`] is the only entry point. It reads a borrowed
//! [`MentorSnapshot`], allocates nothing and never reads the clock, so a run
//! can decide millions of times per second and a test can pin every instant.

use chrono::{DateTime, Months, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::calendar::{days_between_dates, local_date};
use crate::decision::{Decision, ExpiryFacts, Metadata, ReasonCode};
use crate::mentor::{Certification, MentorStatus};
use crate::rules::{DEFAULT_EXPIRY_STAGES, Rules};
use crate::scenario::{MilestoneType, Scenario, ScenarioType};
use crate::snapshot::{DedupeKey, History, MentorSnapshot};

/// Decides whether to notify mentor `m` about scenario `s` at `now`.
///
/// The checks run in the order of SPEC section 4, and
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
///    [`Preferences::allows`](crate::Preferences::allows) says no.
/// 4. **Cooldown**: [`ReasonCode::CooldownActive`] when the newest counting
///    notification of this scenario type ([`History::last_notified_at`]) is
///    less than `rules.cooldown_days × 24 h` of elapsed time before `now`.
///    Exactly the cooldown elapsed is satisfied; a cooldown of 0 is always
///    satisfied unless that notification lies in the future.
/// 5. **Once only**: [`ReasonCode::AlreadyNotified`] when the decision's
///    [`DedupeKey`] is already taken ([`History::is_taken`]). For milestones
///    and expiry stages, whose keys never free up, this check comes before
///    the cooldown (SPEC section 15: a repeat answers `already_notified`);
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
/// (see [`calendar_days_between`](crate::calendar_days_between)).
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
///   `newly_achieved: true`, which the caller records (SPEC section 15).
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
/// use scenario_engine::{
///     evaluate, MentorSnapshot, MentorStatus, Metadata, NoHistory, Preferences, ReasonCode,
///     Rules, Scenario,
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

    // Both are reported whichever check decides (SPEC section 4: "each reported").
    let preference_enabled = m.preferences.allows(scenario_type);
    let cooldown_satisfied = cooldown_satisfied(m.history, scenario_type, rules.cooldown_days, now);

    let reason_code = match m.status {
        MentorStatus::Paused => ReasonCode::MentorPaused,
        MentorStatus::Inactive => ReasonCode::MentorInactive,
        MentorStatus::Active => match rule.dedupe_key {
            None => rule.code,
            Some(_) if !preference_enabled => ReasonCode::PreferenceDisabled,
            // SPEC section 15: a repeated milestone or expiry-stage evaluation
            // answers already_notified even inside the cooldown; once-only is
            // the lasting reason. Inactivity keeps cooldown first.
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
        // SPEC section 15: "the time of the first evaluation that saw it reached".
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
/// notification of `scenario`; elapsed time, not calendar days (SPEC section 4).
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
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::{Europe, Pacific};

    use super::*;
    use crate::mentor::Preferences;
    use crate::snapshot::{NoHistory, OwnedHistory};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn date(y: i32, mo: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap()
    }

    /// An active mentor created long ago, with no activity, sessions or
    /// certifications, default preferences and no history.
    fn mentor() -> MentorSnapshot<'static> {
        MentorSnapshot {
            user_id: "usr_1",
            status: MentorStatus::Active,
            created_at: utc(2025, 1, 1, 0, 0, 0),
            last_active_at: None,
            sessions_count: 0,
            first_session_at: None,
            milestones_achieved_at: [None; 4],
            certifications: &[],
            preferences: Preferences::default(),
            history: &NoHistory,
        }
    }

    fn cert(id: &str, expires_at: DateTime<Utc>) -> Certification {
        Certification {
            certification_id: id.to_owned(),
            name: format!("{id} name"),
            issued_at: None,
            expires_at,
            required: false,
        }
    }

    fn inactivity_7() -> Scenario {
        Scenario::Inactivity { threshold_days: 7 }
    }

    fn milestone_of(milestone_type: MilestoneType) -> Scenario {
        Scenario::Milestone { milestone_type }
    }

    fn expiry(lead_time_days: u32) -> Scenario {
        Scenario::CertificationExpiry { lead_time_days }
    }

    fn rules() -> Rules {
        Rules::default()
    }

    fn days_inactive(d: &Decision<'_>) -> i64 {
        match d.metadata {
            Metadata::Inactivity { days_inactive, .. } => days_inactive,
            other => panic!("not inactivity metadata: {other:?}"),
        }
    }

    fn expiry_facts<'a>(d: &Decision<'a>) -> Option<ExpiryFacts<'a>> {
        match d.metadata {
            Metadata::CertificationExpiry { certification, .. } => certification,
            other => panic!("not expiry metadata: {other:?}"),
        }
    }

    fn milestone_meta(d: &Decision<'_>) -> (Option<DateTime<Utc>>, bool) {
        match d.metadata {
            Metadata::Milestone {
                achieved_at,
                newly_achieved,
                ..
            } => (achieved_at, newly_achieved),
            other => panic!("not milestone metadata: {other:?}"),
        }
    }

    // ---- inactivity ----

    #[test]
    fn contract_example_last_active_nine_days_ago_fires_with_threshold_seven() {
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 16, 14, 22, 0)),
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 8, 0, 0));
        assert!(d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::ThresholdReached);
        assert_eq!(
            d.metadata,
            Metadata::Inactivity {
                threshold_days: 7,
                days_inactive: 9,
                last_active_at: Some(utc(2026, 3, 16, 14, 22, 0)),
            }
        );
        assert_eq!(
            d.dedupe_key,
            Some(DedupeKey::Inactivity {
                date: date(2026, 3, 25)
            })
        );
        assert!(d.preference_enabled);
        assert!(d.cooldown_satisfied);
        assert_eq!(d.cooldown_days, 3);
        assert_eq!(d.scenario_type, ScenarioType::Inactivity);
    }

    #[test]
    fn inactivity_fires_when_the_threshold_is_exactly_reached() {
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 18, 23, 59, 0)),
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 0, 1, 0));
        assert_eq!(days_inactive(&d), 7);
        assert!(d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::ThresholdReached);
    }

    #[test]
    fn inactivity_does_not_fire_one_day_short_of_the_threshold() {
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 19, 0, 0, 0)),
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 23, 59, 59));
        assert_eq!(days_inactive(&d), 6);
        assert!(!d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::ThresholdNotReached);
        assert_eq!(d.dedupe_key, None);
    }

    #[test]
    fn a_mentor_never_active_counts_from_created_at() {
        let m = MentorSnapshot {
            created_at: utc(2026, 3, 10, 12, 0, 0),
            last_active_at: None,
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 8, 0, 0));
        assert_eq!(
            d.metadata,
            Metadata::Inactivity {
                threshold_days: 7,
                days_inactive: 15,
                last_active_at: None
            }
        );
        assert!(d.should_notify);
    }

    #[test]
    fn inactivity_counts_across_a_month_boundary() {
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 1, 31, 18, 0, 0)),
            ..mentor()
        };
        let d = evaluate(
            &m,
            &Scenario::Inactivity { threshold_days: 29 },
            &rules(),
            utc(2026, 3, 1, 6, 0, 0),
        );
        assert_eq!(days_inactive(&d), 29);
        assert!(d.should_notify);
    }

    #[test]
    fn inactivity_counts_across_a_year_boundary() {
        let m = MentorSnapshot {
            last_active_at: Some(utc(2025, 12, 31, 23, 59, 59)),
            ..mentor()
        };
        let d = evaluate(
            &m,
            &Scenario::Inactivity { threshold_days: 1 },
            &rules(),
            utc(2026, 1, 1, 0, 0, 0),
        );
        assert_eq!(days_inactive(&d), 1);
        assert!(d.should_notify);
    }

    #[test]
    fn inactivity_counts_the_leap_day() {
        let m = MentorSnapshot {
            last_active_at: Some(utc(2028, 2, 28, 10, 0, 0)),
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2028, 3, 6, 9, 0, 0));
        assert_eq!(days_inactive(&d), 7);
        assert!(d.should_notify);
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2028, 3, 5, 23, 0, 0));
        assert_eq!(days_inactive(&d), 6);
        assert!(!d.should_notify);
    }

    #[test]
    fn auckland_evaluation_zone_changes_the_count_and_the_dedupe_date() {
        // 14:22Z on the 16th is the 17th in Auckland (UTC+13); 08:00Z on the
        // 25th is 21:00 on the 25th there: 8 days, not 9.
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 16, 14, 22, 0)),
            ..mentor()
        };
        let auckland = Rules {
            timezone: Pacific::Auckland,
            ..rules()
        };
        let now = utc(2026, 3, 25, 8, 0, 0);
        let d = evaluate(
            &m,
            &Scenario::Inactivity { threshold_days: 9 },
            &auckland,
            now,
        );
        assert_eq!(days_inactive(&d), 8);
        assert_eq!(d.reason_code, ReasonCode::ThresholdNotReached);
        let d = evaluate(
            &m,
            &Scenario::Inactivity { threshold_days: 9 },
            &rules(),
            now,
        );
        assert_eq!(days_inactive(&d), 9);
        assert_eq!(d.reason_code, ReasonCode::ThresholdReached);

        // 12:00Z on the 25th is already the 26th in Auckland.
        let d = evaluate(&m, &inactivity_7(), &auckland, utc(2026, 3, 25, 12, 0, 0));
        assert_eq!(
            d.dedupe_key,
            Some(DedupeKey::Inactivity {
                date: date(2026, 3, 26)
            })
        );
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 12, 0, 0));
        assert_eq!(
            d.dedupe_key,
            Some(DedupeKey::Inactivity {
                date: date(2026, 3, 25)
            })
        );
    }

    #[test]
    fn inactivity_over_a_dst_change_counts_calendar_days_in_oslo() {
        // Oslo springs forward on 2026-03-29. Last active 23:30 local on the
        // 28th (22:30Z); evaluated 00:30 local on 4 April (22:30Z on the 3rd):
        // 7 calendar days in Oslo, 6 in UTC, with fewer than 7 × 24 hours elapsed.
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 28, 22, 30, 0)),
            ..mentor()
        };
        let now = utc(2026, 4, 3, 22, 30, 0);
        let oslo = Rules {
            timezone: Europe::Oslo,
            ..rules()
        };
        let d = evaluate(&m, &inactivity_7(), &oslo, now);
        assert_eq!(days_inactive(&d), 7);
        assert!(d.should_notify);
        let d = evaluate(&m, &inactivity_7(), &rules(), now);
        assert_eq!(days_inactive(&d), 6);
        assert!(!d.should_notify);
    }

    #[test]
    fn inactivity_with_cooldown_zero_still_fires_once_per_local_day() {
        let now = utc(2026, 3, 25, 8, 0, 0);
        let mut history = OwnedHistory::new("usr_1");
        history.record(
            &DedupeKey::Inactivity {
                date: date(2026, 3, 25),
            },
            now,
        );
        let m = MentorSnapshot {
            history: &history,
            ..mentor()
        };
        let no_cooldown = Rules {
            cooldown_days: 0,
            ..rules()
        };

        let later_today = evaluate(
            &m,
            &inactivity_7(),
            &no_cooldown,
            utc(2026, 3, 25, 20, 0, 0),
        );
        assert!(later_today.cooldown_satisfied);
        assert_eq!(later_today.reason_code, ReasonCode::AlreadyNotified);
        assert!(!later_today.should_notify);

        let tomorrow = evaluate(&m, &inactivity_7(), &no_cooldown, utc(2026, 3, 26, 0, 0, 0));
        assert_eq!(tomorrow.reason_code, ReasonCode::ThresholdReached);
        assert!(tomorrow.should_notify);
    }

    // ---- milestones ----

    #[test]
    fn count_milestones_are_reached_at_their_session_count() {
        let now = utc(2026, 3, 26, 9, 21, 0);
        for (milestone_type, needed) in [
            (MilestoneType::FirstSessionCompleted, 1),
            (MilestoneType::Sessions10, 10),
            (MilestoneType::Sessions50, 50),
        ] {
            let short = MentorSnapshot {
                sessions_count: needed - 1,
                ..mentor()
            };
            let d = evaluate(&short, &milestone_of(milestone_type), &rules(), now);
            assert_eq!(
                d.reason_code,
                ReasonCode::MilestoneNotReached,
                "{milestone_type} at {}",
                needed - 1
            );
            assert!(!d.should_notify);
            assert_eq!(d.dedupe_key, None);
            assert_eq!(milestone_meta(&d), (None, false));

            let reached = MentorSnapshot {
                sessions_count: needed,
                ..mentor()
            };
            let d = evaluate(&reached, &milestone_of(milestone_type), &rules(), now);
            assert_eq!(
                d.reason_code,
                ReasonCode::MilestoneReached,
                "{milestone_type} at {needed}"
            );
            assert!(d.should_notify);
            assert_eq!(d.dedupe_key, Some(DedupeKey::Milestone { milestone_type }));
        }
    }

    #[test]
    fn a_newly_reached_count_milestone_is_achieved_now() {
        let now = utc(2026, 3, 26, 9, 21, 0);
        let m = MentorSnapshot {
            sessions_count: 12,
            ..mentor()
        };
        let d = evaluate(&m, &milestone_of(MilestoneType::Sessions10), &rules(), now);
        assert_eq!(
            d.metadata,
            Metadata::Milestone {
                milestone_type: MilestoneType::Sessions10,
                achieved_at: Some(now),
                newly_achieved: true,
                sessions_count: 12,
            }
        );
    }

    #[test]
    fn a_recorded_achievement_time_wins_over_now() {
        let recorded = utc(2026, 3, 26, 9, 0, 0);
        let mut achieved = [None; 4];
        achieved[MilestoneType::FirstSessionCompleted.index()] = Some(recorded);
        let m = MentorSnapshot {
            sessions_count: 1,
            milestones_achieved_at: achieved,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &milestone_of(MilestoneType::FirstSessionCompleted),
            &rules(),
            utc(2026, 3, 26, 9, 21, 0),
        );
        assert_eq!(milestone_meta(&d), (Some(recorded), false));
        assert!(d.should_notify);
    }

    #[test]
    fn a_recorded_time_for_another_milestone_is_not_used() {
        let mut achieved = [None; 4];
        achieved[MilestoneType::FirstSessionCompleted.index()] = Some(utc(2025, 6, 1, 0, 0, 0));
        let m = MentorSnapshot {
            sessions_count: 10,
            milestones_achieved_at: achieved,
            ..mentor()
        };
        let now = utc(2026, 3, 26, 9, 21, 0);
        let d = evaluate(&m, &milestone_of(MilestoneType::Sessions10), &rules(), now);
        assert_eq!(milestone_meta(&d), (Some(now), true));
    }

    #[test]
    fn one_year_active_is_reached_twelve_months_after_the_first_session() {
        let first = utc(2025, 3, 26, 10, 0, 0);
        let m = MentorSnapshot {
            sessions_count: 3,
            first_session_at: Some(first),
            ..mentor()
        };
        let scenario = milestone_of(MilestoneType::OneYearActive);

        let before = evaluate(&m, &scenario, &rules(), utc(2026, 3, 26, 9, 59, 59));
        assert_eq!(before.reason_code, ReasonCode::MilestoneNotReached);
        assert_eq!(milestone_meta(&before), (None, false));

        let at = evaluate(&m, &scenario, &rules(), utc(2026, 3, 26, 10, 0, 0));
        assert_eq!(at.reason_code, ReasonCode::MilestoneReached);
        assert!(at.should_notify);
        // The anniversary follows from the data, so it is not "newly achieved".
        assert_eq!(
            milestone_meta(&at),
            (Some(utc(2026, 3, 26, 10, 0, 0)), false)
        );

        let later = evaluate(&m, &scenario, &rules(), utc(2026, 5, 1, 0, 0, 0));
        assert_eq!(
            milestone_meta(&later),
            (Some(utc(2026, 3, 26, 10, 0, 0)), false)
        );
    }

    #[test]
    fn one_year_active_from_a_leap_day_is_reached_on_february_28() {
        let m = MentorSnapshot {
            sessions_count: 1,
            first_session_at: Some(utc(2028, 2, 29, 12, 0, 0)),
            ..mentor()
        };
        let scenario = milestone_of(MilestoneType::OneYearActive);
        let before = evaluate(&m, &scenario, &rules(), utc(2029, 2, 28, 11, 59, 59));
        assert_eq!(before.reason_code, ReasonCode::MilestoneNotReached);
        let at = evaluate(&m, &scenario, &rules(), utc(2029, 2, 28, 12, 0, 0));
        assert_eq!(at.reason_code, ReasonCode::MilestoneReached);
        assert_eq!(
            milestone_meta(&at),
            (Some(utc(2029, 2, 28, 12, 0, 0)), false)
        );
    }

    #[test]
    fn one_year_active_is_never_reached_without_a_first_session() {
        let m = MentorSnapshot {
            sessions_count: 0,
            first_session_at: None,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &milestone_of(MilestoneType::OneYearActive),
            &rules(),
            utc(2040, 1, 1, 0, 0, 0),
        );
        assert_eq!(d.reason_code, ReasonCode::MilestoneNotReached);
        assert_eq!(d.dedupe_key, None);
    }

    #[test]
    fn a_milestone_already_notified_does_not_fire_again() {
        let mut history = OwnedHistory::new("usr_1");
        history.record(
            &DedupeKey::Milestone {
                milestone_type: MilestoneType::Sessions10,
            },
            utc(2025, 1, 1, 0, 0, 0),
        );
        let m = MentorSnapshot {
            sessions_count: 11,
            history: &history,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &milestone_of(MilestoneType::Sessions10),
            &rules(),
            utc(2026, 3, 26, 0, 0, 0),
        );
        assert!(d.cooldown_satisfied);
        assert_eq!(d.reason_code, ReasonCode::AlreadyNotified);
        assert!(!d.should_notify);
        // Another milestone is unaffected.
        let d = evaluate(
            &m,
            &milestone_of(MilestoneType::FirstSessionCompleted),
            &rules(),
            utc(2026, 3, 26, 0, 0, 0),
        );
        assert_eq!(d.reason_code, ReasonCode::MilestoneReached);
    }

    // ---- certification expiry ----

    fn expiry_at(days_ahead: i64) -> (DateTime<Utc>, DateTime<Utc>) {
        let now = utc(2026, 3, 26, 9, 22, 0);
        (
            now,
            utc(2026, 3, 26, 18, 0, 0) + TimeDelta::days(days_ahead),
        )
    }

    fn stage_for(lead: u32, days_ahead: i64) -> (i64, Option<u32>, ReasonCode) {
        let (now, expires) = expiry_at(days_ahead);
        let certs = [cert("cert_a", expires)];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(lead), &rules(), now);
        let facts = expiry_facts(&d).unwrap();
        (facts.days_until_expiry, facts.stage, d.reason_code)
    }

    #[test]
    fn contract_example_expiry_thirty_days_ahead_is_stage_thirty() {
        let certs = [cert("cert_safety_003", utc(2026, 4, 25, 0, 0, 0))];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(30), &rules(), utc(2026, 3, 26, 9, 22, 0));
        assert!(d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::ExpiryWithinLeadTime);
        assert_eq!(
            d.metadata,
            Metadata::CertificationExpiry {
                lead_time_days: 30,
                certification: Some(ExpiryFacts {
                    certification_id: "cert_safety_003",
                    expires_at: utc(2026, 4, 25, 0, 0, 0),
                    days_until_expiry: 30,
                    stage: Some(30),
                }),
            }
        );
        assert_eq!(
            d.dedupe_key,
            Some(DedupeKey::CertificationExpiry {
                certification_id: "cert_safety_003",
                expires_at: utc(2026, 4, 25, 0, 0, 0),
                stage: 30,
            })
        );
    }

    #[test]
    fn lead_thirty_stages_are_30_14_7_1_0() {
        for (days, stage) in [
            (30, 30),
            (29, 30),
            (20, 30),
            (15, 30),
            (14, 14),
            (10, 14),
            (8, 14),
            (7, 7),
            (2, 7),
            (1, 1),
            (0, 0),
        ] {
            assert_eq!(
                stage_for(30, days),
                (days, Some(stage), ReasonCode::ExpiryWithinLeadTime),
                "day {days}"
            );
        }
        assert_eq!(
            stage_for(30, 31),
            (31, None, ReasonCode::ExpiryNotWithinLeadTime)
        );
    }

    #[test]
    fn lead_forty_five_adds_a_stage_forty_five_above_thirty() {
        assert_eq!(
            stage_for(45, 46),
            (46, None, ReasonCode::ExpiryNotWithinLeadTime)
        );
        assert_eq!(stage_for(45, 45).1, Some(45));
        assert_eq!(stage_for(45, 31).1, Some(45));
        assert_eq!(stage_for(45, 30).1, Some(30));
        assert_eq!(stage_for(45, 14).1, Some(14));
    }

    #[test]
    fn lead_ten_stages_are_10_7_1_0() {
        for (days, stage) in [(10, 10), (8, 10), (7, 7), (2, 7), (1, 1), (0, 0)] {
            assert_eq!(stage_for(10, days).1, Some(stage), "day {days}");
        }
        assert_eq!(stage_for(10, 11).1, None);
    }

    #[test]
    fn lead_zero_has_only_the_expiry_day_stage() {
        assert_eq!(
            stage_for(0, 0),
            (0, Some(0), ReasonCode::ExpiryWithinLeadTime)
        );
        assert_eq!(
            stage_for(0, 1),
            (1, None, ReasonCode::ExpiryNotWithinLeadTime)
        );
    }

    #[test]
    fn expiry_stage_covers_every_day_of_every_lead_time() {
        for lead in [0, 1, 2, 7, 13, 14, 15, 29, 30, 31, 45, 3650] {
            for days in 0..=i64::from(lead) {
                let stage = expiry_stage(days, lead).unwrap();
                assert!(
                    i64::from(stage) >= days && stage <= lead,
                    "lead {lead} day {days} stage {stage}"
                );
            }
            assert_eq!(expiry_stage(i64::from(lead) + 1, lead), None);
        }
    }

    #[test]
    fn expired_certifications_are_ignored() {
        let now = utc(2026, 3, 26, 9, 22, 0);
        let certs = [
            cert("cert_old", utc(2026, 3, 26, 9, 22, 0)),
            cert("cert_older", utc(2025, 1, 1, 0, 0, 0)),
        ];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(30), &rules(), now);
        assert_eq!(d.reason_code, ReasonCode::NoCertification);
        assert_eq!(
            d.metadata,
            Metadata::CertificationExpiry {
                lead_time_days: 30,
                certification: None
            }
        );
        assert_eq!(d.dedupe_key, None);

        let certs = [
            cert("cert_old", utc(2026, 3, 20, 0, 0, 0)),
            cert("cert_new", utc(2026, 4, 2, 0, 0, 0)),
        ];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(30), &rules(), now);
        assert_eq!(expiry_facts(&d).unwrap().certification_id, "cert_new");
    }

    #[test]
    fn the_certification_that_expires_soonest_is_chosen_with_ties_to_the_smallest_id() {
        let now = utc(2026, 3, 26, 9, 22, 0);
        let certs = [
            cert("cert_c", utc(2026, 6, 1, 0, 0, 0)),
            cert("cert_b", utc(2026, 4, 10, 0, 0, 0)),
            cert("cert_a", utc(2026, 4, 10, 0, 0, 0)),
            cert("cert_d", utc(2026, 5, 1, 0, 0, 0)),
        ];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(30), &rules(), now);
        let facts = expiry_facts(&d).unwrap();
        assert_eq!(facts.certification_id, "cert_a");
        assert_eq!(facts.days_until_expiry, 15);
        assert_eq!(facts.stage, Some(30));
    }

    #[test]
    fn a_mentor_without_certifications_gets_no_certification() {
        let d = evaluate(&mentor(), &expiry(30), &rules(), utc(2026, 3, 26, 0, 0, 0));
        assert!(!d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::NoCertification);
        assert_eq!(expiry_facts(&d), None);
    }

    #[test]
    fn a_certification_beyond_the_lead_time_does_not_fire() {
        let certs = [cert("cert_a", utc(2026, 6, 1, 0, 0, 0))];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(30), &rules(), utc(2026, 3, 26, 9, 22, 0));
        assert_eq!(d.reason_code, ReasonCode::ExpiryNotWithinLeadTime);
        assert_eq!(expiry_facts(&d).unwrap().stage, None);
        assert_eq!(expiry_facts(&d).unwrap().days_until_expiry, 67);
        assert_eq!(d.dedupe_key, None);
    }

    #[test]
    fn an_expiry_stage_fires_once_and_the_next_stage_fires_again() {
        let expires = utc(2026, 4, 25, 0, 0, 0);
        let certs = [cert("cert_a", expires)];
        let no_cooldown = Rules {
            cooldown_days: 0,
            ..rules()
        };
        let mut history = OwnedHistory::new("usr_1");

        let day_30 = utc(2026, 3, 26, 9, 0, 0);
        let stage_30 = DedupeKey::CertificationExpiry {
            certification_id: "cert_a",
            expires_at: expires,
            stage: 30,
        };
        let m = MentorSnapshot {
            certifications: &certs,
            history: &history,
            ..mentor()
        };
        let first = evaluate(&m, &expiry(30), &no_cooldown, day_30);
        assert!(first.should_notify);
        assert_eq!(first.dedupe_key, Some(stage_30));
        history.record(&stage_30, day_30);

        // Days 29 to 15 are still stage 30: already notified.
        let m = MentorSnapshot {
            certifications: &certs,
            history: &history,
            ..mentor()
        };
        let day_20 = evaluate(&m, &expiry(30), &no_cooldown, utc(2026, 4, 5, 9, 0, 0));
        assert_eq!(expiry_facts(&day_20).unwrap().stage, Some(30));
        assert_eq!(day_20.reason_code, ReasonCode::AlreadyNotified);

        // Day 14 is a new stage.
        let day_14 = evaluate(&m, &expiry(30), &no_cooldown, utc(2026, 4, 11, 9, 0, 0));
        assert_eq!(expiry_facts(&day_14).unwrap().stage, Some(14));
        assert!(day_14.should_notify);
    }

    #[test]
    fn a_renewed_certification_starts_its_stages_afresh() {
        let mut history = OwnedHistory::new("usr_1");
        let old_expiry = utc(2026, 4, 25, 0, 0, 0);
        history.record(
            &DedupeKey::CertificationExpiry {
                certification_id: "cert_a",
                expires_at: old_expiry,
                stage: 30,
            },
            utc(2025, 3, 26, 9, 0, 0),
        );
        let now = utc(2026, 3, 26, 9, 0, 0);

        let certs = [cert("cert_a", old_expiry)];
        let m = MentorSnapshot {
            certifications: &certs,
            history: &history,
            ..mentor()
        };
        assert_eq!(
            evaluate(&m, &expiry(30), &rules(), now).reason_code,
            ReasonCode::AlreadyNotified
        );

        let renewed = [cert("cert_a", utc(2026, 4, 20, 0, 0, 0))];
        let m = MentorSnapshot {
            certifications: &renewed,
            history: &history,
            ..mentor()
        };
        let d = evaluate(&m, &expiry(30), &rules(), now);
        assert!(d.should_notify);
        assert_eq!(expiry_facts(&d).unwrap().stage, Some(30));
    }

    #[test]
    fn days_until_expiry_counts_local_dates_in_the_evaluation_zone() {
        // 12:00Z on the 26th is already 01:00 on the 27th in Auckland, while
        // the expiry (00:00Z on 25 April) is 12:00 on 25 April there: 29 days.
        let certs = [cert("cert_a", utc(2026, 4, 25, 0, 0, 0))];
        let m = MentorSnapshot {
            certifications: &certs,
            ..mentor()
        };
        let auckland = Rules {
            timezone: Pacific::Auckland,
            ..rules()
        };
        let d = evaluate(&m, &expiry(30), &auckland, utc(2026, 3, 26, 12, 0, 0));
        assert_eq!(expiry_facts(&d).unwrap().days_until_expiry, 29);
        let d = evaluate(&m, &expiry(30), &rules(), utc(2026, 3, 26, 12, 0, 0));
        assert_eq!(expiry_facts(&d).unwrap().days_until_expiry, 30);
    }

    // ---- status, preference, cooldown, order ----

    #[test]
    fn a_paused_mentor_is_never_notified_but_gets_the_numbers() {
        let m = MentorSnapshot {
            status: MentorStatus::Paused,
            last_active_at: Some(utc(2026, 3, 16, 14, 22, 0)),
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 8, 0, 0));
        assert!(!d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::MentorPaused);
        assert_eq!(days_inactive(&d), 9);
        assert_eq!(
            d.dedupe_key,
            Some(DedupeKey::Inactivity {
                date: date(2026, 3, 25)
            })
        );
    }

    #[test]
    fn an_inactive_mentor_is_never_notified() {
        let m = MentorSnapshot {
            status: MentorStatus::Inactive,
            sessions_count: 1,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &milestone_of(MilestoneType::FirstSessionCompleted),
            &rules(),
            utc(2026, 3, 25, 8, 0, 0),
        );
        assert!(!d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::MentorInactive);
    }

    #[test]
    fn status_comes_before_the_rule() {
        let m = MentorSnapshot {
            status: MentorStatus::Paused,
            last_active_at: Some(utc(2026, 3, 24, 0, 0, 0)),
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 8, 0, 0));
        assert_eq!(d.reason_code, ReasonCode::MentorPaused);
        assert_eq!(d.dedupe_key, None);
    }

    #[test]
    fn each_scenario_preference_mutes_only_its_scenario() {
        let certs = [cert("cert_a", utc(2026, 4, 1, 0, 0, 0))];
        let base = MentorSnapshot {
            sessions_count: 1,
            certifications: &certs,
            ..mentor()
        };
        let now = utc(2026, 3, 25, 8, 0, 0);
        let scenarios = [
            inactivity_7(),
            milestone_of(MilestoneType::FirstSessionCompleted),
            expiry(30),
        ];
        let switched_off = [
            Preferences {
                inactivity: false,
                ..Preferences::default()
            },
            Preferences {
                milestone: false,
                ..Preferences::default()
            },
            Preferences {
                certification_expiry: false,
                ..Preferences::default()
            },
        ];
        for (i, preferences) in switched_off.into_iter().enumerate() {
            let m = MentorSnapshot {
                preferences,
                ..base
            };
            for (j, scenario) in scenarios.iter().enumerate() {
                let d = evaluate(&m, scenario, &rules(), now);
                if i == j {
                    assert_eq!(
                        d.reason_code,
                        ReasonCode::PreferenceDisabled,
                        "{scenario:?}"
                    );
                    assert!(!d.preference_enabled);
                    assert!(!d.should_notify);
                    assert!(d.dedupe_key.is_some());
                } else {
                    assert!(d.preference_enabled, "{scenario:?}");
                    assert!(d.should_notify, "{scenario:?}");
                }
            }
        }
    }

    #[test]
    fn the_master_switch_mutes_every_scenario() {
        let certs = [cert("cert_a", utc(2026, 4, 1, 0, 0, 0))];
        let m = MentorSnapshot {
            sessions_count: 1,
            certifications: &certs,
            preferences: Preferences {
                all: false,
                ..Preferences::default()
            },
            ..mentor()
        };
        for scenario in [
            inactivity_7(),
            milestone_of(MilestoneType::FirstSessionCompleted),
            expiry(30),
        ] {
            let d = evaluate(&m, &scenario, &rules(), utc(2026, 3, 25, 8, 0, 0));
            assert_eq!(d.reason_code, ReasonCode::PreferenceDisabled);
            assert!(!d.preference_enabled);
        }
    }

    fn notified_at(at: DateTime<Utc>) -> OwnedHistory {
        let mut history = OwnedHistory::new("usr_1");
        history.record(
            &DedupeKey::Inactivity {
                date: at.date_naive(),
            },
            at,
        );
        history
    }

    #[test]
    fn cooldown_is_satisfied_once_exactly_the_cooldown_has_elapsed() {
        let last = utc(2026, 3, 22, 8, 0, 0);
        let history = notified_at(last);
        let m = MentorSnapshot {
            history: &history,
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), last + TimeDelta::days(3));
        assert!(d.cooldown_satisfied);
        assert!(d.should_notify);
    }

    #[test]
    fn cooldown_is_active_one_second_before_it_has_elapsed() {
        let last = utc(2026, 3, 22, 8, 0, 0);
        let history = notified_at(last);
        let m = MentorSnapshot {
            history: &history,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &inactivity_7(),
            &rules(),
            last + TimeDelta::days(3) - TimeDelta::seconds(1),
        );
        assert!(!d.cooldown_satisfied);
        assert!(!d.should_notify);
        assert_eq!(d.reason_code, ReasonCode::CooldownActive);
    }

    #[test]
    fn cooldown_is_elapsed_time_not_calendar_days() {
        // Three calendar days later but 1 minute short of 72 hours.
        let last = utc(2026, 3, 22, 8, 0, 0);
        let history = notified_at(last);
        let m = MentorSnapshot {
            history: &history,
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 7, 59, 0));
        assert!(!d.cooldown_satisfied);
    }

    #[test]
    fn a_cooldown_of_zero_is_always_satisfied() {
        let last = utc(2026, 3, 25, 8, 0, 0);
        let history = notified_at(utc(2026, 3, 24, 8, 0, 0));
        let m = MentorSnapshot {
            history: &history,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &inactivity_7(),
            &Rules {
                cooldown_days: 0,
                ..rules()
            },
            last,
        );
        assert!(d.cooldown_satisfied);
        assert_eq!(d.cooldown_days, 0);
        assert!(d.should_notify);
    }

    #[test]
    fn cooldown_is_per_scenario_type() {
        let now = utc(2026, 3, 25, 8, 0, 0);
        let history = notified_at(now - TimeDelta::hours(1));
        let m = MentorSnapshot {
            sessions_count: 1,
            history: &history,
            ..mentor()
        };
        let d = evaluate(
            &m,
            &milestone_of(MilestoneType::FirstSessionCompleted),
            &rules(),
            now,
        );
        assert!(d.cooldown_satisfied);
        assert!(d.should_notify);
    }

    #[test]
    fn a_paused_mentor_with_preference_off_reports_mentor_paused_and_the_preference() {
        let history = notified_at(utc(2026, 3, 25, 7, 0, 0));
        let m = MentorSnapshot {
            status: MentorStatus::Paused,
            preferences: Preferences {
                inactivity: false,
                ..Preferences::default()
            },
            history: &history,
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 8, 0, 0));
        assert_eq!(d.reason_code, ReasonCode::MentorPaused);
        assert!(!d.preference_enabled);
        assert!(!d.cooldown_satisfied);
    }

    #[test]
    fn a_rule_that_does_not_match_reports_the_rule_before_preference_and_cooldown() {
        let history = notified_at(utc(2026, 3, 25, 7, 0, 0));
        let m = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 24, 0, 0, 0)),
            preferences: Preferences {
                all: false,
                ..Preferences::default()
            },
            history: &history,
            ..mentor()
        };
        let d = evaluate(&m, &inactivity_7(), &rules(), utc(2026, 3, 25, 8, 0, 0));
        assert_eq!(d.reason_code, ReasonCode::ThresholdNotReached);
        assert!(!d.preference_enabled);
        assert!(!d.cooldown_satisfied);
    }

    #[test]
    fn preference_comes_first_then_once_only_before_cooldown_for_milestones() {
        let now = utc(2026, 3, 25, 8, 0, 0);
        let mut history = OwnedHistory::new("usr_1");
        history.record(
            &DedupeKey::Milestone {
                milestone_type: MilestoneType::Sessions10,
            },
            now,
        );
        let m = MentorSnapshot {
            sessions_count: 10,
            preferences: Preferences {
                milestone: false,
                ..Preferences::default()
            },
            history: &history,
            ..mentor()
        };
        let scenario = milestone_of(MilestoneType::Sessions10);
        assert_eq!(
            evaluate(&m, &scenario, &rules(), now).reason_code,
            ReasonCode::PreferenceDisabled
        );
        let m = MentorSnapshot {
            preferences: Preferences::default(),
            ..m
        };
        // SPEC section 15: a repeat inside the cooldown answers already_notified,
        // and still reports the cooldown.
        let repeat = evaluate(&m, &scenario, &rules(), now);
        assert_eq!(repeat.reason_code, ReasonCode::AlreadyNotified);
        assert!(!repeat.cooldown_satisfied);
        let later = now + TimeDelta::days(3);
        assert_eq!(
            evaluate(&m, &scenario, &rules(), later).reason_code,
            ReasonCode::AlreadyNotified
        );
    }

    #[test]
    fn inactivity_reports_the_cooldown_before_the_days_key() {
        let now = utc(2026, 3, 25, 8, 0, 0);
        let mut history = OwnedHistory::new("usr_1");
        history.record(
            &DedupeKey::Inactivity {
                date: now.date_naive(),
            },
            now,
        );
        let m = MentorSnapshot {
            last_active_at: Some(now - TimeDelta::days(30)),
            history: &history,
            ..mentor()
        };
        let scenario = Scenario::Inactivity { threshold_days: 7 };
        assert_eq!(
            evaluate(&m, &scenario, &rules(), now).reason_code,
            ReasonCode::CooldownActive
        );
        let zero = Rules {
            cooldown_days: 0,
            ..rules()
        };
        assert_eq!(
            evaluate(&m, &scenario, &zero, now).reason_code,
            ReasonCode::AlreadyNotified
        );
    }
}
