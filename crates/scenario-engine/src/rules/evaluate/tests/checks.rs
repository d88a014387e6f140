//! The checks around the rules, in their order: status, preference, cooldown, once only.

use super::*;

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
    // A repeat inside the cooldown answers already_notified, and still
    // reports the cooldown (docs/rules.md, "The checks, in order").
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
