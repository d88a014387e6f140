//! The inactivity rule: calendar days since the last activity, in the evaluation zone.

use super::*;

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
