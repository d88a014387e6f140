//! The decision rules, one file per rule, and the checks around them.

mod certification_expiry;
mod checks;
mod inactivity;
mod milestone;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::{Europe, Pacific};

use super::*;
use crate::rules::{NoHistory, OwnedHistory, Preferences};

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
