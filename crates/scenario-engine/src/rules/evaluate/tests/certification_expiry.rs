//! The certification-expiry rule: the certification looked at, its reminder stages and days.

use super::*;

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
