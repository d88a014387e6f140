//! The milestone rule: session counts, one year active, and when a milestone was reached.

use super::*;

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
