//! Embedding the engine through its public API only: a nightly run over a
//! few mentors that keeps an `OwnedHistory` per mentor, as a storage adapter
//! would keep its outbox.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use scenario_engine::evaluate;
use scenario_engine::rules::{
    Certification, DEFAULT_LEAD_TIME_DAYS, DEFAULT_THRESHOLD_DAYS, Decision, MentorSnapshot,
    MentorStatus, Metadata, MilestoneType, OwnedHistory, Preferences, ReasonCode, Rules, Scenario,
    ScenarioType,
};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// What the embedder's store holds for one mentor.
struct StoredMentor {
    user_id: String,
    status: MentorStatus,
    created_at: DateTime<Utc>,
    last_active_at: Option<DateTime<Utc>>,
    sessions_count: u32,
    first_session_at: Option<DateTime<Utc>>,
    milestones_achieved_at: [Option<DateTime<Utc>>; 4],
    certifications: Vec<Certification>,
    preferences: Preferences,
    history: OwnedHistory,
}

impl StoredMentor {
    fn new(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            status: MentorStatus::Active,
            created_at: utc(2025, 1, 1, 0, 0, 0),
            last_active_at: None,
            sessions_count: 0,
            first_session_at: None,
            milestones_achieved_at: [None; 4],
            certifications: Vec::new(),
            preferences: Preferences::default(),
            history: OwnedHistory::new(user_id),
        }
    }

    fn snapshot(&self) -> MentorSnapshot<'_> {
        MentorSnapshot {
            user_id: &self.user_id,
            status: self.status,
            created_at: self.created_at,
            last_active_at: self.last_active_at,
            sessions_count: self.sessions_count,
            first_session_at: self.first_session_at,
            milestones_achieved_at: self.milestones_achieved_at,
            certifications: &self.certifications,
            preferences: self.preferences,
            history: &self.history,
        }
    }
}

/// One fired decision, kept in owned form: a `Decision` borrows the
/// snapshot, and so the history it must be recorded into.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fired {
    user_id: String,
    scenario_type: ScenarioType,
    reason_code: ReasonCode,
    dedupe_key: String,
    reason: String,
}

/// What a decision leaves behind once the snapshot is gone.
struct Outcome {
    fired: Option<Fired>,
    reason_code: ReasonCode,
    newly_achieved: Option<(MilestoneType, DateTime<Utc>)>,
}

fn outcome(user_id: &str, d: &Decision<'_>) -> Outcome {
    let fired = match (d.should_notify, d.dedupe_key) {
        (false, _) => None,
        (true, None) => panic!("a firing decision has a dedupe key: {d:?}"),
        (true, Some(key)) => Some(Fired {
            user_id: user_id.to_owned(),
            scenario_type: d.scenario_type,
            reason_code: d.reason_code,
            dedupe_key: key.render(user_id),
            reason: d.reason_sentence(),
        }),
    };
    let newly_achieved = match d.metadata {
        Metadata::Milestone {
            milestone_type,
            achieved_at: Some(at),
            newly_achieved: true,
            ..
        } => Some((milestone_type, at)),
        _ => None,
    };
    Outcome {
        fired,
        reason_code: d.reason_code,
        newly_achieved,
    }
}

/// Evaluates one mentor on one scenario and, like a real run, records what
/// fired (and a newly achieved milestone) before the next decision.
fn decide_and_record(
    m: &mut StoredMentor,
    scenario: &Scenario,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Outcome {
    let out = outcome(&m.user_id, &evaluate(&m.snapshot(), scenario, rules, now));
    if let Some((milestone_type, at)) = out.newly_achieved {
        m.milestones_achieved_at[milestone_type.index()] = Some(at);
    }
    if let Some(f) = &out.fired {
        m.history
            .record_rendered(f.scenario_type, f.dedupe_key.clone(), now);
    }
    out
}

fn scenarios() -> Vec<Scenario> {
    let mut all = vec![Scenario::Inactivity {
        threshold_days: DEFAULT_THRESHOLD_DAYS,
    }];
    all.extend(MilestoneType::ALL.map(|milestone_type| Scenario::Milestone { milestone_type }));
    all.push(Scenario::CertificationExpiry {
        lead_time_days: DEFAULT_LEAD_TIME_DAYS,
    });
    all
}

/// A nightly run at 08:00 UTC: every mentor, every scenario.
fn nightly_run(mentors: &mut [StoredMentor], rules: &Rules, now: DateTime<Utc>) -> Vec<Fired> {
    let mut fired = Vec::new();
    for m in mentors.iter_mut() {
        for scenario in scenarios() {
            fired.extend(decide_and_record(m, &scenario, rules, now).fired);
        }
    }
    fired
}

fn fired_for<'f>(fired: &'f [Fired], user_id: &str) -> Vec<&'f Fired> {
    fired.iter().filter(|f| f.user_id == user_id).collect()
}

#[test]
fn a_second_evaluation_within_the_cooldown_does_not_fire() {
    let mut m = StoredMentor::new("usr_idle");
    m.last_active_at = Some(utc(2026, 3, 16, 14, 22, 0));
    let rules = Rules::default();
    let inactivity = Scenario::inactivity(Some(7)).unwrap();

    let first = decide_and_record(&mut m, &inactivity, &rules, utc(2026, 3, 25, 8, 0, 0));
    let fired = first.fired.expect("the first evaluation fires");
    assert_eq!(
        fired.reason,
        "User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied"
    );
    assert_eq!(fired.dedupe_key, "inactivity:usr_idle:2026-03-25");

    let again = decide_and_record(&mut m, &inactivity, &rules, utc(2026, 3, 25, 8, 5, 0));
    assert!(again.fired.is_none());
    assert_eq!(again.reason_code, ReasonCode::CooldownActive);

    let next_day = decide_and_record(&mut m, &inactivity, &rules, utc(2026, 3, 26, 8, 0, 0));
    assert_eq!(next_day.reason_code, ReasonCode::CooldownActive);

    // Exactly three days of elapsed time later, the cooldown is over.
    let after_cooldown = decide_and_record(&mut m, &inactivity, &rules, utc(2026, 3, 28, 8, 0, 0));
    assert_eq!(after_cooldown.reason_code, ReasonCode::ThresholdReached);
}

#[test]
fn a_nightly_run_over_several_mentors_fires_each_nudge_as_the_rules_allow() {
    let mut idle = StoredMentor::new("usr_idle");
    idle.last_active_at = Some(utc(2026, 3, 16, 14, 22, 0));

    let mut busy = StoredMentor::new("usr_busy");
    busy.sessions_count = 9;
    busy.first_session_at = Some(utc(2025, 6, 1, 10, 0, 0));

    let mut certified = StoredMentor::new("usr_cert");
    certified.certifications.push(Certification {
        certification_id: "cert_safety_003".to_owned(),
        name: "Child safety".to_owned(),
        issued_at: Some(utc(2024, 4, 25, 0, 0, 0)),
        expires_at: utc(2026, 4, 10, 0, 0, 0),
        required: true,
    });

    let mut paused = StoredMentor::new("usr_paused");
    paused.status = MentorStatus::Paused;
    paused.sessions_count = 60;

    let mut muted = StoredMentor::new("usr_muted");
    muted.preferences = Preferences {
        all: false,
        ..Preferences::default()
    };

    let mut mentors = vec![idle, busy, certified, paused, muted];
    let rules = Rules::default();
    let mut nights = Vec::new();
    for night in 0..20 {
        let now = utc(2026, 3, 25, 8, 0, 0) + TimeDelta::days(night);
        if night == 2 {
            // usr_busy is active daily and completes the tenth session on night 2.
            mentors[1].sessions_count = 10;
        }
        mentors[1].last_active_at = Some(now - TimeDelta::hours(1));
        mentors[2].last_active_at = Some(now - TimeDelta::hours(2));
        nights.push(nightly_run(&mut mentors, &rules, now));
    }

    // The idle mentor is reminded every 3 days: the cooldown holds the rest.
    let idle_nights: Vec<usize> = nights
        .iter()
        .enumerate()
        .filter(|(_, f)| !fired_for(f, "usr_idle").is_empty())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(idle_nights, [0, 3, 6, 9, 12, 15, 18]);
    assert!(
        nights
            .iter()
            .flatten()
            .filter(|f| f.user_id == "usr_idle")
            .all(|f| f.scenario_type == ScenarioType::Inactivity)
    );

    // The busy mentor gets first_session_completed on night 0 and sessions_10
    // once, three days later (the milestone cooldown), and never again.
    let busy: Vec<(usize, &str)> = nights
        .iter()
        .enumerate()
        .flat_map(|(n, f)| {
            fired_for(f, "usr_busy")
                .into_iter()
                .map(move |f| (n, f.dedupe_key.as_str()))
        })
        .collect();
    assert_eq!(
        busy,
        [
            (0, "milestone:usr_busy:first_session_completed"),
            (3, "milestone:usr_busy:sessions_10")
        ]
    );
    // The run recorded when sessions_10 was first seen reached, so the later
    // congratulation carries that time.
    assert_eq!(
        mentors[1].milestones_achieved_at[MilestoneType::Sessions10.index()],
        Some(utc(2026, 3, 27, 8, 0, 0))
    );

    // The certification (expiring 2026-04-10T00:00Z, 16 days after night 0)
    // is reminded at stage 30 on night 0; it reaches stage 14 on night 2,
    // inside the cooldown, so that reminder goes out on night 3; stage 7 on
    // night 9, stage 1 on night 15, and then it has expired: stage 0 is
    // never seen for a certification that expires at midnight UTC.
    let cert: Vec<(usize, &str)> = nights
        .iter()
        .enumerate()
        .flat_map(|(n, f)| {
            fired_for(f, "usr_cert")
                .into_iter()
                .map(move |f| (n, f.dedupe_key.as_str()))
        })
        .collect();
    assert_eq!(
        cert,
        [
            (
                0,
                "certification_expiry:usr_cert:cert_safety_003:2026-04-10T00:00:00Z:30"
            ),
            (
                3,
                "certification_expiry:usr_cert:cert_safety_003:2026-04-10T00:00:00Z:14"
            ),
            (
                9,
                "certification_expiry:usr_cert:cert_safety_003:2026-04-10T00:00:00Z:7"
            ),
            (
                15,
                "certification_expiry:usr_cert:cert_safety_003:2026-04-10T00:00:00Z:1"
            ),
        ]
    );

    // Paused and muted mentors are never notified.
    assert!(
        nights
            .iter()
            .flatten()
            .all(|f| f.user_id != "usr_paused" && f.user_id != "usr_muted")
    );
}

#[test]
fn a_milestone_fires_once_ever_even_without_a_cooldown() {
    let mut m = StoredMentor::new("usr_1");
    m.sessions_count = 1;
    let rules = Rules::default().with_cooldown_days(0).unwrap();
    let first_session = Scenario::Milestone {
        milestone_type: MilestoneType::FirstSessionCompleted,
    };
    let now = utc(2026, 3, 26, 9, 21, 0);

    let first = decide_and_record(&mut m, &first_session, &rules, now);
    assert_eq!(first.reason_code, ReasonCode::MilestoneReached);
    assert_eq!(
        first.newly_achieved,
        Some((MilestoneType::FirstSessionCompleted, now))
    );

    for days in [0, 1, 30, 365] {
        let later = decide_and_record(&mut m, &first_session, &rules, now + TimeDelta::days(days));
        assert!(later.fired.is_none());
        assert_eq!(later.reason_code, ReasonCode::AlreadyNotified);
        // The recorded achievement time is reused, not replaced.
        assert_eq!(later.newly_achieved, None);
    }
    let d = evaluate(
        &m.snapshot(),
        &first_session,
        &rules,
        now + TimeDelta::days(400),
    );
    assert_eq!(
        d.metadata_json(),
        serde_json::json!({
            "milestone_type": "first_session_completed",
            "achieved_at": "2026-03-26T09:21:00Z",
            "sessions_count": 1
        })
    );
    assert_eq!(
        d.reason_sentence(),
        "Milestone first_session_completed already notified"
    );
}

#[test]
fn decisions_can_be_rendered_for_the_wire_after_evaluation() {
    let mut m = StoredMentor::new("usr_mentor_7821");
    m.certifications.push(Certification {
        certification_id: "cert_safety_003".to_owned(),
        name: "Child safety".to_owned(),
        issued_at: None,
        expires_at: utc(2026, 4, 25, 0, 0, 0),
        required: false,
    });
    let d = evaluate(
        &m.snapshot(),
        &Scenario::certification_expiry(Some(30)).unwrap(),
        &Rules::default(),
        utc(2026, 3, 26, 9, 22, 0),
    );
    assert!(d.should_notify);
    assert_eq!(d.reason_code.as_str(), "expiry_within_lead_time");
    assert_eq!(
        d.metadata_json(),
        serde_json::json!({
            "lead_time_days": 30,
            "certification_id": "cert_safety_003",
            "expiry_date": "2026-04-25T00:00:00Z",
            "days_until_expiry": 30,
            "stage": 30
        })
    );
    assert_eq!(
        d.dedupe_key.map(|k| k.render("usr_mentor_7821")).as_deref(),
        Some("certification_expiry:usr_mentor_7821:cert_safety_003:2026-04-25T00:00:00Z:30")
    );
}
