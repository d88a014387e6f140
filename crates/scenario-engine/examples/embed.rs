//! Embedding the rules in a program with its own storage: one mentor
//! evaluated for the three scenarios, then the cooldown at work.
//!
//! Only the pure layer (`scenario_engine::rules`) is used: the program
//! keeps the mentor's facts and the notifications it sent, and hands the
//! rules a borrowed snapshot and "now".
//!
//! Run it with `cargo run -p scenario-engine --example embed`; `cargo test`
//! runs it too, and a wrong decision fails it.

use std::error::Error;

use scenario_engine::chrono::{DateTime, TimeDelta, TimeZone, Utc};
use scenario_engine::evaluate;
use scenario_engine::rules::{
    Certification, Decision, MentorSnapshot, OwnedHistory, ReasonCode, Rules, Scenario,
};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Result<DateTime<Utc>, Box<dyn Error>> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .ok_or_else(|| "not an instant".into())
}

fn show(decision: &Decision<'_>) {
    println!(
        "{:<21} notify: {:<5} {:<24} {}",
        decision.scenario_type.as_str(),
        decision.should_notify,
        decision.reason_code.as_str(),
        decision.reason_sentence()
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let now = utc(2026, 3, 25, 8, 0)?;
    let rules = Rules::default(); // UTC, cooldown 3 days

    // What this program's store knows about the mentor.
    let certifications = vec![Certification {
        certification_id: "cert_safety_003".to_owned(),
        name: "Child safety".to_owned(),
        issued_at: None,
        expires_at: utc(2026, 4, 8, 0, 0)?,
        required: true,
    }];
    // The notifications sent to this mentor so far: none yet.
    let mut history = OwnedHistory::new("usr_mentor_7821");

    let scenarios = [
        Scenario::inactivity(None)?,           // the default threshold: 7 days
        Scenario::milestone("sessions_10")?,   // by its wire name
        Scenario::certification_expiry(None)?, // the default lead time: 30 days
    ];
    let mut sent = Vec::new();
    {
        let mentor = MentorSnapshot {
            last_active_at: Some(utc(2026, 3, 16, 14, 22)?),
            sessions_count: 12,
            first_session_at: Some(utc(2025, 11, 3, 17, 0)?),
            certifications: &certifications,
            history: &history,
            ..MentorSnapshot::new("usr_mentor_7821", utc(2025, 9, 1, 0, 0)?)
        };
        println!("At {now}:");
        for scenario in &scenarios {
            let decision = evaluate(&mentor, scenario, &rules, now);
            show(&decision);
            // Each scenario fires: 9 days inactive, 12 sessions, an expiry in 14 days.
            assert!(decision.should_notify, "{decision:?}");
            if let Some(key) = decision.dedupe_key {
                // The decision borrows the history: render its key now, record it below.
                sent.push((decision.scenario_type, key.render(mentor.user_id)));
            }
        }
    }
    // The program sends the three notifications and remembers them.
    for (scenario_type, key) in sent {
        history.record_rendered(scenario_type, key, now);
    }

    // A day later the mentor is still inactive, but the last inactivity
    // reminder is only a day old: the cooldown holds this one back.
    let tomorrow = now + TimeDelta::days(1);
    let mentor = MentorSnapshot {
        last_active_at: Some(utc(2026, 3, 16, 14, 22)?),
        history: &history,
        ..MentorSnapshot::new("usr_mentor_7821", utc(2025, 9, 1, 0, 0)?)
    };
    let again = evaluate(&mentor, &scenarios[0], &rules, tomorrow);
    println!("At {tomorrow}:");
    show(&again);
    assert!(!again.should_notify);
    assert!(!again.cooldown_satisfied);
    assert_eq!(again.reason_code, ReasonCode::CooldownActive);
    assert_eq!(again.reason_code.as_str(), "cooldown_active");

    // Once the cooldown is over, it fires again.
    let later = now + TimeDelta::days(3);
    let after = evaluate(&mentor, &scenarios[0], &rules, later);
    println!("At {later}:");
    show(&after);
    assert_eq!(after.reason_code, ReasonCode::ThresholdReached);
    Ok(())
}

#[cfg(test)]
#[test]
fn the_example_runs() -> Result<(), Box<dyn Error>> {
    main()
}
