//! The reason codes, the sentences and the JSON metadata of decisions.

use chrono::{NaiveDate, TimeZone};
use serde_json::json;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn decision(reason_code: ReasonCode, metadata: Metadata<'_>) -> Decision<'_> {
    Decision {
        scenario_type: metadata.scenario_type(),
        should_notify: reason_code.fires(),
        reason_code,
        preference_enabled: true,
        cooldown_satisfied: true,
        cooldown_days: 3,
        metadata,
        dedupe_key: None,
    }
}

fn inactivity(days_inactive: i64) -> Metadata<'static> {
    Metadata::Inactivity {
        threshold_days: 7,
        days_inactive,
        last_active_at: Some(utc(2026, 3, 16, 14, 22, 0)),
    }
}

fn milestone(
    milestone_type: MilestoneType,
    sessions_count: u32,
    achieved_at: Option<DateTime<Utc>>,
) -> Metadata<'static> {
    Metadata::Milestone {
        milestone_type,
        achieved_at,
        newly_achieved: false,
        sessions_count,
    }
}

fn expiry(days_until_expiry: i64, stage: Option<u32>) -> Metadata<'static> {
    Metadata::CertificationExpiry {
        lead_time_days: 30,
        certification: Some(ExpiryFacts {
            certification_id: "cert_a",
            expires_at: utc(2026, 4, 25, 0, 0, 0),
            days_until_expiry,
            stage,
        }),
    }
}

#[test]
fn reason_codes_round_trip_through_their_wire_names() {
    for code in ReasonCode::ALL {
        assert_eq!(ReasonCode::parse(code.as_str()).unwrap(), code);
        assert_eq!(code.to_string(), code.as_str());
    }
    let err = ReasonCode::parse("nope").unwrap_err();
    assert_eq!(err.valid.len(), ReasonCode::ALL.len());
}

#[test]
fn only_the_three_firing_codes_fire() {
    let firing: Vec<_> = ReasonCode::ALL.into_iter().filter(|c| c.fires()).collect();
    assert_eq!(
        firing,
        [
            ReasonCode::ThresholdReached,
            ReasonCode::MilestoneReached,
            ReasonCode::ExpiryWithinLeadTime
        ]
    );
}

#[test]
fn contract_reason_sentence_for_a_fired_inactivity_decision() {
    let d = decision(ReasonCode::ThresholdReached, inactivity(9));
    assert_eq!(
        d.reason_sentence(),
        "User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied"
    );
}

#[test]
fn inactivity_sentences_say_why_not() {
    let d = decision(ReasonCode::ThresholdNotReached, inactivity(2));
    assert_eq!(
        d.reason_sentence(),
        "User inactive for 2 days; threshold 7 days not reached"
    );
    let d = decision(ReasonCode::ThresholdNotReached, inactivity(1));
    assert_eq!(
        d.reason_sentence(),
        "User inactive for 1 day; threshold 7 days not reached"
    );
    let d = Decision {
        dedupe_key: Some(DedupeKey::Inactivity {
            date: NaiveDate::from_ymd_opt(2026, 3, 25).unwrap(),
        }),
        ..decision(ReasonCode::AlreadyNotified, inactivity(9))
    };
    assert_eq!(
        d.reason_sentence(),
        "Inactivity already notified on 2026-03-25"
    );
}

#[test]
fn check_sentences_name_the_scenario() {
    let d = Decision {
        preference_enabled: false,
        ..decision(ReasonCode::PreferenceDisabled, inactivity(9))
    };
    assert_eq!(
        d.reason_sentence(),
        "Notification preference for inactivity is disabled"
    );
    let d = Decision {
        cooldown_satisfied: false,
        ..decision(
            ReasonCode::CooldownActive,
            milestone(MilestoneType::Sessions10, 10, None),
        )
    };
    assert_eq!(
        d.reason_sentence(),
        "Cooldown active: last milestone notification within 3 days"
    );
    assert_eq!(
        decision(ReasonCode::MentorPaused, inactivity(9)).reason_sentence(),
        "Mentor is paused"
    );
    assert_eq!(
        decision(ReasonCode::MentorInactive, inactivity(9)).reason_sentence(),
        "Mentor is inactive"
    );
}

#[test]
fn milestone_sentences() {
    let at = Some(utc(2026, 3, 26, 9, 0, 0));
    let d = decision(
        ReasonCode::MilestoneReached,
        milestone(MilestoneType::FirstSessionCompleted, 1, at),
    );
    assert_eq!(
        d.reason_sentence(),
        "Milestone first_session_completed reached at 2026-03-26T09:00:00Z with 1 session; cooldown 3 days satisfied"
    );
    let d = decision(
        ReasonCode::MilestoneNotReached,
        milestone(MilestoneType::Sessions10, 4, None),
    );
    assert_eq!(
        d.reason_sentence(),
        "Milestone sessions_10 not reached: 4 of 10 sessions completed"
    );
    let d = decision(
        ReasonCode::MilestoneNotReached,
        milestone(MilestoneType::OneYearActive, 0, None),
    );
    assert_eq!(
        d.reason_sentence(),
        "Milestone one_year_active not reached: no session completed yet"
    );
    let d = decision(
        ReasonCode::MilestoneNotReached,
        milestone(MilestoneType::OneYearActive, 5, None),
    );
    assert_eq!(
        d.reason_sentence(),
        "Milestone one_year_active not reached: less than one year since the first session"
    );
    let d = Decision {
        dedupe_key: Some(DedupeKey::Milestone {
            milestone_type: MilestoneType::Sessions10,
        }),
        ..decision(
            ReasonCode::AlreadyNotified,
            milestone(MilestoneType::Sessions10, 12, at),
        )
    };
    assert_eq!(
        d.reason_sentence(),
        "Milestone sessions_10 already notified"
    );
}

#[test]
fn certification_sentences() {
    let d = decision(ReasonCode::ExpiryWithinLeadTime, expiry(14, Some(14)));
    assert_eq!(
        d.reason_sentence(),
        "Certification cert_a expires in 14 days (stage 14); lead time 30 days; cooldown 3 days satisfied"
    );
    let d = decision(ReasonCode::ExpiryWithinLeadTime, expiry(0, Some(0)));
    assert_eq!(
        d.reason_sentence(),
        "Certification cert_a expires today (stage 0); lead time 30 days; cooldown 3 days satisfied"
    );
    let d = decision(ReasonCode::ExpiryNotWithinLeadTime, expiry(45, None));
    assert_eq!(
        d.reason_sentence(),
        "Certification cert_a expires in 45 days; beyond lead time 30 days"
    );
    let none = Metadata::CertificationExpiry {
        lead_time_days: 30,
        certification: None,
    };
    assert_eq!(
        decision(ReasonCode::NoCertification, none).reason_sentence(),
        "No certification that has not expired"
    );
    let d = Decision {
        dedupe_key: Some(DedupeKey::CertificationExpiry {
            certification_id: "cert_a",
            expires_at: utc(2026, 4, 25, 0, 0, 0),
            stage: 14,
        }),
        ..decision(ReasonCode::AlreadyNotified, expiry(10, Some(14)))
    };
    assert_eq!(
        d.reason_sentence(),
        "Certification cert_a stage 14 already notified for expiry 2026-04-25T00:00:00Z"
    );
}

#[test]
fn a_code_paired_with_foreign_metadata_falls_back_to_the_code() {
    let d = decision(
        ReasonCode::ThresholdReached,
        milestone(MilestoneType::Sessions10, 1, None),
    );
    assert_eq!(d.reason_sentence(), "threshold_reached");
}

#[test]
fn inactivity_metadata_json_matches_the_contract() {
    let d = decision(ReasonCode::ThresholdReached, inactivity(9));
    assert_eq!(
        d.metadata_json(),
        json!({"threshold_days": 7, "days_inactive": 9, "last_active_at": "2026-03-16T14:22:00Z"})
    );
    let never = Metadata::Inactivity {
        threshold_days: 7,
        days_inactive: 15,
        last_active_at: None,
    };
    assert_eq!(
        never.to_json(),
        json!({"threshold_days": 7, "days_inactive": 15, "last_active_at": null})
    );
}

#[test]
fn milestone_metadata_json_matches_the_contract() {
    let at = Some(utc(2026, 3, 26, 9, 0, 0));
    let d = decision(
        ReasonCode::MilestoneReached,
        milestone(MilestoneType::FirstSessionCompleted, 1, at),
    );
    assert_eq!(
        d.metadata_json(),
        json!({"milestone_type": "first_session_completed", "achieved_at": "2026-03-26T09:00:00Z", "sessions_count": 1})
    );
    let not_yet = milestone(MilestoneType::Sessions50, 3, None);
    assert_eq!(
        not_yet.to_json(),
        json!({"milestone_type": "sessions_50", "achieved_at": null, "sessions_count": 3})
    );
}

#[test]
fn certification_metadata_json_matches_the_contract() {
    let d = decision(ReasonCode::ExpiryWithinLeadTime, expiry(30, Some(30)));
    assert_eq!(
        d.metadata_json(),
        json!({
            "lead_time_days": 30,
            "certification_id": "cert_a",
            "expiry_date": "2026-04-25T00:00:00Z",
            "days_until_expiry": 30,
            "stage": 30
        })
    );
    assert_eq!(expiry(45, None).to_json()["stage"], json!(null));
    let none = Metadata::CertificationExpiry {
        lead_time_days: 30,
        certification: None,
    };
    assert_eq!(
        none.to_json(),
        json!({
            "lead_time_days": 30,
            "certification_id": null,
            "expiry_date": null,
            "days_until_expiry": null,
            "stage": null
        })
    );
}
