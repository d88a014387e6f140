//! Realistic demo mentors: the one generator behind `mentor-scheduler
//! demo-data`, `serve --demo` and the batch-run benchmark
//! (`crates/storage-diesel/benches/batch_run.rs`).
//!
//! Mentor `n` is a pure function of `n` and `now`: the same number always
//! gives the same mentor, whatever was generated before it, so any range can
//! be generated on its own (in chunks, or in parallel) and a benchmark
//! measures the same mix every time. Every instant is relative to `now`, so
//! that a scenario-evaluation run made right after seeding fires real
//! notifications of every scenario type.

use chrono::{DateTime, TimeDelta, Utc};

use crate::rules::{
    Certification, Mentor, MentorStatus, Pause, PauseReason, Preferences, truncate_to_seconds,
};
use crate::service::MentorRecord;

/// The organisations demo mentors belong to, in turn: mentor `n` is in
/// `DEMO_ORGS[(n - 1) % 5]`, so any 500 consecutive mentors are 100 per organisation.
pub const DEMO_ORGS: [&str; 5] = [
    "org_oslo_01",
    "org_bergen_02",
    "org_trondheim_03",
    "org_stavanger_04",
    "org_tromso_05",
];

/// The highest mentor number: ids have seven digits (`usr_demo_9999999`),
/// so that they sort in number order, as keyset pages read them.
pub const MAX_DEMO_MENTORS: u64 = 9_999_999;

/// The id of demo mentor `n`: `usr_demo_` and `n` in seven digits.
///
/// ```
/// assert_eq!(scenario_engine::adapters::demo_user_id(42), "usr_demo_0000042");
/// ```
pub fn demo_user_id(n: u64) -> String {
    format!("usr_demo_{n:07}")
}

/// The draws of one mentor: splitmix64 seeded by the mentor's number, so
/// that mentor `n` does not depend on the mentors before it.
struct Draws(u64);

impl Draws {
    fn for_mentor(n: u64) -> Self {
        Self(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed_5eed_5eed_5eed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` small).
    fn below(&mut self, n: u32) -> u32 {
        u32::try_from(self.next() % u64::from(n)).unwrap_or(0)
    }

    /// Whole days in `0..n`.
    fn days_below(&mut self, n: u32) -> TimeDelta {
        TimeDelta::days(i64::from(self.below(n)))
    }
}

/// Demo mentor number `n` (from 1) as of `now` (truncated to whole seconds).
///
/// The mix, each share drawn per mentor: 20% inactive for 8-67 days (an
/// inactivity reminder at the default threshold of 7), 15% with 1-60
/// sessions whose first session was 30-530 days ago (milestones: first
/// session, 10 and 50 sessions, one year active), 10% with a required
/// certification expiring within 30 days (an expiry reminder), 5% paused at
/// their own request, 5% inactive, and the rest active in the last 5 days
/// (one in twenty of them never active, counted from `created_at`). A third
/// of everyone also holds a certification expiring in 90-690 days, and 4%
/// have switched inactivity reminders off.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::MentorStatus;
/// use scenario_engine::adapters::{DEMO_ORGS, demo_mentor, demo_mentors};
///
/// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
/// let mentors: Vec<_> = demo_mentors(500, now).collect();
/// assert_eq!(mentors.len(), 500);
/// assert_eq!(mentors[0].mentor.user_id, "usr_demo_0000001");
/// assert_eq!(mentors[0].mentor.org_id, DEMO_ORGS[0]);
/// assert_eq!(mentors[499].mentor.org_id, DEMO_ORGS[4]);
/// // Deterministic: the same number and `now` give the same mentor.
/// assert_eq!(demo_mentor(42, now), mentors[41]);
/// // A mix, not 500 copies: some are paused, some hold certifications.
/// assert!(mentors.iter().any(|r| r.mentor.status == MentorStatus::Paused));
/// assert!(mentors.iter().any(|r| !r.certifications.is_empty()));
/// ```
pub fn demo_mentor(n: u64, now: DateTime<Utc>) -> MentorRecord {
    let now = truncate_to_seconds(now);
    let days = TimeDelta::days;
    let mut d = Draws::for_mentor(n);
    let group = d.below(20);
    let mut last_active_at = Some(now - d.days_below(5));
    let mut sessions_count = 0;
    let mut first_session_at = None;
    let mut status = MentorStatus::Active;
    let mut pause = None;
    let mut certifications = Vec::new();
    match group {
        0..=3 => last_active_at = Some(now - days(8) - d.days_below(60)),
        4..=6 => {
            sessions_count = [1, 3, 10, 12, 50, 60][d.below(6) as usize];
            first_session_at = Some(now - days(30) - d.days_below(500));
        }
        7..=8 => certifications.push(Certification {
            certification_id: "cert_safeguarding".to_owned(),
            name: "Safeguarding".to_owned(),
            issued_at: Some(now - days(335)),
            expires_at: now + d.days_below(31) + TimeDelta::hours(12),
            required: true,
        }),
        9 => {
            status = MentorStatus::Paused;
            pause = Some(Pause {
                reason: PauseReason::Requested,
                since: now - days(3),
                until: None,
            });
        }
        10 => status = MentorStatus::Inactive,
        19 => last_active_at = None,
        _ => {}
    }
    if d.below(3) == 0 {
        certifications.push(Certification {
            certification_id: "cert_first_aid".to_owned(),
            name: "First aid".to_owned(),
            issued_at: Some(now - days(100)),
            expires_at: now + days(90) + d.days_below(600),
            required: false,
        });
    }
    // Ordered by id, as stores return them.
    certifications.sort_by(|a, b| a.certification_id.cmp(&b.certification_id));
    let org = DEMO_ORGS[usize::try_from(n.saturating_sub(1) % 5).unwrap_or(0)];
    MentorRecord {
        mentor: Mentor {
            user_id: demo_user_id(n),
            org_id: org.to_owned(),
            status,
            pause,
            last_active_at,
            sessions_count,
            first_session_at,
            created_at: now - days(400),
            updated_at: now - days(1),
        },
        certifications,
        preferences: Preferences {
            inactivity: d.below(25) != 0,
            ..Preferences::default()
        },
    }
}

/// Demo mentors `1..=count` as of `now`, generated one at a time (nothing
/// is held), for [`demo_mentor`]'s mix. `count` is capped at
/// [`MAX_DEMO_MENTORS`].
pub fn demo_mentors(count: u64, now: DateTime<Utc>) -> impl Iterator<Item = MentorRecord> {
    (1..=count.min(MAX_DEMO_MENTORS)).map(move |n| demo_mentor(n, now))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap()
    }

    /// Share of `mentors` matching `f`, in percent.
    fn percent(mentors: &[MentorRecord], f: impl Fn(&MentorRecord) -> bool) -> f64 {
        mentors.iter().filter(|r| f(r)).count() as f64 * 100.0 / mentors.len() as f64
    }

    #[test]
    fn ten_thousand_demo_mentors_have_the_documented_mix() {
        let now = now();
        let m: Vec<MentorRecord> = demo_mentors(10_000, now).collect();
        let near = |p: f64, want: f64| (p - want).abs() < 1.5;
        let status = |s| move |r: &MentorRecord| r.mentor.status == s;
        assert!(near(percent(&m, status(MentorStatus::Paused)), 5.0));
        assert!(near(percent(&m, status(MentorStatus::Inactive)), 5.0));
        let inactive_a_week = |r: &MentorRecord| {
            r.mentor
                .last_active_at
                .is_some_and(|t| now - t >= TimeDelta::days(8))
        };
        assert!(near(percent(&m, inactive_a_week), 20.0));
        assert!(near(percent(&m, |r| r.mentor.sessions_count > 0), 15.0));
        let expiring_soon = |r: &MentorRecord| {
            r.certifications
                .iter()
                .any(|c| c.required && c.expires_at - now <= TimeDelta::days(31))
        };
        assert!(near(percent(&m, expiring_soon), 10.0));
        assert!(near(percent(&m, |r| !r.preferences.inactivity), 4.0));
        let paused_with_a_pause = m
            .iter()
            .filter(|r| r.mentor.status == MentorStatus::Paused)
            .all(|r| r.mentor.pause.is_some());
        assert!(paused_with_a_pause);
        for org in DEMO_ORGS {
            assert_eq!(m.iter().filter(|r| r.mentor.org_id == org).count(), 2_000);
        }
    }

    #[test]
    fn a_demo_mentor_depends_only_on_its_number_and_now() {
        let now = now();
        let from_range: Vec<MentorRecord> = demo_mentors(300, now).skip(199).collect();
        let alone: Vec<MentorRecord> = (200..=300).map(|n| demo_mentor(n, now)).collect();
        assert_eq!(from_range, alone);
        assert_ne!(demo_mentor(1, now), demo_mentor(2, now));
    }

    #[test]
    fn demo_instants_are_whole_seconds_relative_to_now() {
        let now = now() + TimeDelta::milliseconds(750);
        let r = demo_mentor(7, now);
        assert_eq!(
            r.mentor.created_at,
            truncate_to_seconds(now) - TimeDelta::days(400)
        );
        assert_eq!(r.mentor.created_at.timestamp_subsec_millis(), 0);
    }

    #[test]
    fn demo_ids_sort_in_number_order() {
        let ids: Vec<String> = [1, 9, 10, 999, 1_000_000, MAX_DEMO_MENTORS]
            .into_iter()
            .map(demo_user_id)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(demo_mentors(u64::MAX, now()).size_hint().0, 9_999_999);
    }
}
