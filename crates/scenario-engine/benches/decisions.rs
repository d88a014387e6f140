//! Decisions per second on one thread (the target in docs/benchmarks.md: at
//! least 5 million).
//!
//! Run with `cargo bench -p scenario-engine`. No criterion: a plain loop
//! over 10,000 varied mentors and every scenario, timed with `Instant`, so
//! the figure is the throughput a run's inner loop sees, history lookups
//! included. The result goes into `docs/benchmarks.md` by hand.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use scenario_engine::evaluate;
use scenario_engine::rules::{
    Certification, DedupeKey, History, MentorSnapshot, MentorStatus, MilestoneType, NoHistory,
    OwnedHistory, Preferences, Rules, Scenario, ScenarioType,
};

const MENTORS: usize = 10_000;
const MEASURE_FOR: Duration = Duration::from_secs(2);

/// A small deterministic generator, so that every run measures the same mix.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The owned data the snapshots borrow, as a storage adapter would hold one batch.
struct Mentor {
    user_id: String,
    status: MentorStatus,
    created_at: DateTime<Utc>,
    last_active_at: Option<DateTime<Utc>>,
    sessions_count: u32,
    first_session_at: Option<DateTime<Utc>>,
    milestones_achieved_at: [Option<DateTime<Utc>>; 4],
    certifications: Vec<Certification>,
    preferences: Preferences,
    history: Option<OwnedHistory>,
}

fn build_mentors(now: DateTime<Utc>) -> Vec<Mentor> {
    let mut rng = Lcg(0x5eed);
    let days = |n: u64| TimeDelta::days(i64::try_from(n).unwrap_or(0));
    (0..MENTORS)
        .map(|i| {
            let user_id = format!("usr_mentor_{i:06}");
            let status = match rng.below(20) {
                0 => MentorStatus::Paused,
                1 => MentorStatus::Inactive,
                _ => MentorStatus::Active,
            };
            let created_at = now - days(30 + rng.below(1500));
            let last_active_at =
                (rng.below(10) != 0).then(|| now - days(rng.below(40)) - TimeDelta::minutes(1));
            let sessions_count = u32::try_from(rng.below(80)).unwrap_or(0);
            let first_session_at = (sessions_count > 0).then(|| now - days(rng.below(800)));
            let mut milestones_achieved_at = [None; 4];
            if sessions_count >= 10 && rng.below(2) == 0 {
                milestones_achieved_at[MilestoneType::Sessions10.index()] = Some(now - days(100));
            }
            let certifications = (0..rng.below(4))
                .map(|c| Certification {
                    certification_id: format!("cert_{i}_{c}"),
                    name: "Safety".to_owned(),
                    issued_at: None,
                    // From 20 days ago (expired) to 100 days ahead.
                    expires_at: now - days(20) + days(rng.below(120)),
                    required: c == 0,
                })
                .collect();
            let preferences = Preferences {
                all: rng.below(50) != 0,
                inactivity: rng.below(10) != 0,
                milestone: rng.below(10) != 0,
                certification_expiry: rng.below(10) != 0,
            };
            // Two in five mentors were notified before; their history holds a
            // few taken keys, as an adapter would load it.
            let history = (rng.below(5) < 2).then(|| {
                let mut h = OwnedHistory::new(user_id.clone());
                let at = now - TimeDelta::hours(i64::try_from(rng.below(24 * 10)).unwrap_or(0));
                h.record(
                    &DedupeKey::Inactivity {
                        date: at.date_naive(),
                    },
                    at,
                );
                h.record(
                    &DedupeKey::Milestone {
                        milestone_type: MilestoneType::FirstSessionCompleted,
                    },
                    at,
                );
                if rng.below(2) == 0 {
                    h.record(
                        &DedupeKey::Milestone {
                            milestone_type: MilestoneType::Sessions10,
                        },
                        at,
                    );
                }
                h.record_rendered(
                    ScenarioType::CertificationExpiry,
                    format!("certification_expiry:{user_id}:x"),
                    at,
                );
                h
            });
            Mentor {
                user_id,
                status,
                created_at,
                last_active_at,
                sessions_count,
                first_session_at,
                milestones_achieved_at,
                certifications,
                preferences,
                history,
            }
        })
        .collect()
}

fn snapshot(m: &Mentor) -> MentorSnapshot<'_> {
    MentorSnapshot {
        user_id: &m.user_id,
        status: m.status,
        created_at: m.created_at,
        last_active_at: m.last_active_at,
        sessions_count: m.sessions_count,
        first_session_at: m.first_session_at,
        milestones_achieved_at: m.milestones_achieved_at,
        certifications: &m.certifications,
        preferences: m.preferences,
        history: m
            .history
            .as_ref()
            .map_or(&NoHistory as &dyn History, |h| h as &dyn History),
    }
}

/// Evaluates every (mentor, scenario) pair over and over for `MEASURE_FOR`;
/// returns (decisions, notifications, elapsed).
fn measure(
    snapshots: &[MentorSnapshot<'_>],
    scenarios: &[Scenario],
    rules: &Rules,
    now: DateTime<Utc>,
) -> (u64, u64, Duration) {
    let start = Instant::now();
    let mut decisions = 0_u64;
    let mut notified = 0_u64;
    while start.elapsed() < MEASURE_FOR {
        for m in snapshots {
            for s in scenarios {
                let d = evaluate(black_box(m), black_box(s), black_box(rules), black_box(now));
                notified += u64::from(black_box(d).should_notify);
            }
        }
        decisions += (snapshots.len() * scenarios.len()) as u64;
    }
    (decisions, notified, start.elapsed())
}

fn report(
    label: &str,
    snapshots: &[MentorSnapshot<'_>],
    scenarios: &[Scenario],
    tz: Tz,
    now: DateTime<Utc>,
) {
    let rules = Rules {
        timezone: tz,
        ..Rules::default()
    };
    // Warm up caches and the branch predictor before timing.
    let _ = measure_once(snapshots, scenarios, &rules, now);
    let (decisions, notified, elapsed) = measure(snapshots, scenarios, &rules, now);
    let per_second = decisions as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<28} {decisions:>11} decisions in {:.2} s = {:>6.2} million decisions/s on one thread ({:.1} ns each; {:.1}% notify)",
        elapsed.as_secs_f64(),
        per_second / 1e6,
        1e9 / per_second,
        100.0 * notified as f64 / decisions as f64,
    );
}

fn measure_once(
    snapshots: &[MentorSnapshot<'_>],
    scenarios: &[Scenario],
    rules: &Rules,
    now: DateTime<Utc>,
) -> u64 {
    let mut notified = 0;
    for m in snapshots {
        for s in scenarios {
            notified += u64::from(evaluate(m, s, rules, now).should_notify);
        }
    }
    notified
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent; skip the
    // timing there so the test suite stays fast.
    if !std::env::args().any(|a| a == "--bench") {
        println!("decisions: run with `cargo bench -p scenario-engine` to measure");
        return;
    }
    let now = Utc
        .with_ymd_and_hms(2026, 3, 25, 8, 0, 0)
        .single()
        .unwrap_or_default();
    let mentors = build_mentors(now);
    let snapshots: Vec<_> = mentors.iter().map(snapshot).collect();
    let all = [
        Scenario::Inactivity { threshold_days: 7 },
        Scenario::Milestone {
            milestone_type: MilestoneType::FirstSessionCompleted,
        },
        Scenario::Milestone {
            milestone_type: MilestoneType::Sessions10,
        },
        Scenario::Milestone {
            milestone_type: MilestoneType::Sessions50,
        },
        Scenario::Milestone {
            milestone_type: MilestoneType::OneYearActive,
        },
        Scenario::CertificationExpiry { lead_time_days: 30 },
    ];
    println!(
        "scenario-engine decisions: {MENTORS} mentors x {} scenarios, one thread",
        all.len()
    );
    report(
        "mixed scenarios, UTC",
        &snapshots,
        &all,
        chrono_tz::UTC,
        now,
    );
    report(
        "mixed scenarios, Oslo",
        &snapshots,
        &all,
        chrono_tz::Europe::Oslo,
        now,
    );
    report(
        "inactivity only, UTC",
        &snapshots,
        &all[..1],
        chrono_tz::UTC,
        now,
    );
    report(
        "milestones only, UTC",
        &snapshots,
        &all[1..5],
        chrono_tz::UTC,
        now,
    );
    report(
        "certification only, UTC",
        &snapshots,
        &all[5..],
        chrono_tz::UTC,
        now,
    );
}
