//! The nightly expiry check of one mentor: auto-pause and the reminder.

use chrono::{DateTime, Utc};
use scenario_engine::evaluate;
use scenario_engine::rules::{
    Certification, Decision, Mentor, MentorSnapshot, MentorStatus, PauseReason, Rules, Scenario,
};

/// What the nightly check decides for one mentor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentorCheck<'a> {
    /// The required certifications that have expired (`expires_at <= now`).
    pub expired_required: Vec<&'a Certification>,
    /// Whether to pause the mentor with reason `certification_expired`: an
    /// active mentor with an expired required certification. Mentors who
    /// are already paused (for any reason) or inactive are left as they are.
    pub pause: bool,
    /// The certification-expiry reminder decision, by the scenario engine's
    /// rules (preference, cooldown, once per stage). A mentor being paused
    /// by this check is decided on as paused, so gets no reminder.
    pub reminder: Decision<'a>,
}

/// Decides the nightly check for one mentor.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use cert_expiry::check_mentor;
/// use scenario_engine::rules::{
///     Certification, MentorSnapshot, MentorStatus, NoHistory, Preferences, Rules,
/// };
///
/// let now = Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap();
/// let certs = [Certification {
///     certification_id: "cert_safety_003".into(),
///     name: "Safety".into(),
///     issued_at: None,
///     expires_at: Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap(),
///     required: true,
/// }];
/// let snapshot = MentorSnapshot {
///     user_id: "usr_1",
///     status: MentorStatus::Active,
///     created_at: now,
///     last_active_at: None,
///     sessions_count: 0,
///     first_session_at: None,
///     milestones_achieved_at: [None; 4],
///     certifications: &certs,
///     preferences: Preferences::default(),
///     history: &NoHistory,
/// };
/// let check = check_mentor(&snapshot, 30, &Rules::default(), now);
/// assert!(check.pause);
/// assert!(!check.reminder.should_notify);
/// ```
pub fn check_mentor<'a>(
    snapshot: &MentorSnapshot<'a>,
    lead_time_days: u32,
    rules: &Rules,
    now: DateTime<Utc>,
) -> MentorCheck<'a> {
    let expired_required: Vec<&Certification> = snapshot
        .certifications
        .iter()
        .filter(|c| c.required && c.expires_at <= now)
        .collect();
    let pause = snapshot.status == MentorStatus::Active && !expired_required.is_empty();
    let as_decided = MentorSnapshot {
        status: if pause {
            MentorStatus::Paused
        } else {
            snapshot.status
        },
        ..*snapshot
    };
    let reminder = evaluate(
        &as_decided,
        &Scenario::CertificationExpiry { lead_time_days },
        rules,
        now,
    );
    MentorCheck {
        expired_required,
        pause,
        reminder,
    }
}

/// Why a pause is lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiftReason {
    /// Every required certification is valid again.
    CertificationRenewed,
    /// A self-requested pause reached its `until`.
    RequestedPauseEnded,
}

impl LiftReason {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CertificationRenewed => "certification_renewed",
            Self::RequestedPauseEnded => "requested_pause_ended",
        }
    }
}

/// Whether the auto-lift job lifts this mentor's pause at `now`: a
/// `certification_expired` pause once every required certification is valid
/// (`expires_at > now`), a `requested` pause whose `until` has passed.
/// `admin` pauses are lifted only by a coordinator.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use cert_expiry::{LiftReason, lift_reason};
/// use scenario_engine::rules::{Mentor, MentorStatus, Pause, PauseReason};
///
/// let now = Utc.with_ymd_and_hms(2026, 3, 26, 6, 0, 0).unwrap();
/// let mentor = Mentor {
///     user_id: "usr_1".into(),
///     org_id: "org_1".into(),
///     status: MentorStatus::Paused,
///     pause: Some(Pause { reason: PauseReason::Requested, since: now - TimeDelta::days(9), until: Some(now - TimeDelta::hours(1)) }),
///     last_active_at: None,
///     sessions_count: 0,
///     first_session_at: None,
///     created_at: now,
///     updated_at: now,
/// };
/// assert_eq!(lift_reason(&mentor, &[], now), Some(LiftReason::RequestedPauseEnded));
/// ```
pub fn lift_reason(
    mentor: &Mentor,
    certifications: &[Certification],
    now: DateTime<Utc>,
) -> Option<LiftReason> {
    let pause = mentor.pause.as_ref()?;
    match pause.reason {
        PauseReason::CertificationExpired => certifications
            .iter()
            .filter(|c| c.required)
            .all(|c| c.expires_at > now)
            .then_some(LiftReason::CertificationRenewed),
        PauseReason::Requested => pause
            .until
            .filter(|u| *u <= now)
            .map(|_| LiftReason::RequestedPauseEnded),
        PauseReason::Admin => None,
    }
}

/// Which pause reason the nightly check writes.
pub const AUTO_PAUSE_REASON: PauseReason = PauseReason::CertificationExpired;

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};
    use scenario_engine::rules::{
        DedupeKey, NoHistory, OwnedHistory, Pause, Preferences, ReasonCode,
    };

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap()
    }

    fn cert(id: &str, expires_in_days: i64, required: bool) -> Certification {
        Certification {
            certification_id: id.into(),
            name: id.into(),
            issued_at: None,
            expires_at: now() + TimeDelta::days(expires_in_days),
            required,
        }
    }

    fn snapshot<'a>(certs: &'a [Certification], status: MentorStatus) -> MentorSnapshot<'a> {
        MentorSnapshot {
            user_id: "usr_1",
            status,
            created_at: now() - TimeDelta::days(400),
            last_active_at: None,
            sessions_count: 0,
            first_session_at: None,
            milestones_achieved_at: [None; 4],
            certifications: certs,
            preferences: Preferences::default(),
            history: &NoHistory,
        }
    }

    fn mentor(pause: Option<Pause>) -> Mentor {
        Mentor {
            user_id: "usr_1".into(),
            org_id: "org_1".into(),
            status: if pause.is_some() {
                MentorStatus::Paused
            } else {
                MentorStatus::Active
            },
            pause,
            last_active_at: None,
            sessions_count: 0,
            first_session_at: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn an_active_mentor_with_an_expired_required_certification_is_paused_and_not_reminded() {
        let certs = [cert("a", -1, true), cert("b", 10, false)];
        let check = check_mentor(
            &snapshot(&certs, MentorStatus::Active),
            30,
            &Rules::default(),
            now(),
        );
        assert!(check.pause);
        assert_eq!(check.expired_required.len(), 1);
        assert_eq!(check.reminder.reason_code, ReasonCode::MentorPaused);
    }

    #[test]
    fn an_expired_optional_certification_never_pauses() {
        let certs = [cert("a", -1, false)];
        let check = check_mentor(
            &snapshot(&certs, MentorStatus::Active),
            30,
            &Rules::default(),
            now(),
        );
        assert!(!check.pause);
        assert!(check.expired_required.is_empty());
    }

    #[test]
    fn a_mentor_already_paused_or_inactive_is_left_alone_but_counted() {
        let certs = [cert("a", -1, true)];
        for status in [MentorStatus::Paused, MentorStatus::Inactive] {
            let check = check_mentor(&snapshot(&certs, status), 30, &Rules::default(), now());
            assert!(!check.pause);
            assert_eq!(check.expired_required.len(), 1);
        }
    }

    #[test]
    fn a_certification_expiring_within_the_lead_time_gets_a_reminder_once_per_stage() {
        let certs = [cert("a", 14, true)];
        let fresh = check_mentor(
            &snapshot(&certs, MentorStatus::Active),
            30,
            &Rules::default(),
            now(),
        );
        assert!(fresh.reminder.should_notify);
        let key = fresh.reminder.dedupe_key.unwrap().render("usr_1");
        let mut history = OwnedHistory::new("usr_1");
        history.record_rendered(
            scenario_engine::rules::ScenarioType::CertificationExpiry,
            key,
            now() - TimeDelta::days(5),
        );
        let again = MentorSnapshot {
            history: &history,
            ..snapshot(&certs, MentorStatus::Active)
        };
        let check = check_mentor(&again, 30, &Rules::default(), now());
        assert_eq!(check.reminder.reason_code, ReasonCode::AlreadyNotified);
        assert!(matches!(
            check.reminder.dedupe_key,
            Some(DedupeKey::CertificationExpiry { stage: 14, .. })
        ));
    }

    #[test]
    fn expiry_exactly_now_counts_as_expired() {
        let mut c = cert("a", 0, true);
        c.expires_at = now();
        let certs = [c];
        assert!(
            check_mentor(
                &snapshot(&certs, MentorStatus::Active),
                30,
                &Rules::default(),
                now()
            )
            .pause
        );
    }

    #[test]
    fn a_certification_pause_lifts_once_every_required_certification_is_valid() {
        let pause = Pause {
            reason: PauseReason::CertificationExpired,
            since: now(),
            until: None,
        };
        let m = mentor(Some(pause));
        assert_eq!(
            lift_reason(&m, &[cert("a", -1, true), cert("b", 5, true)], now()),
            None
        );
        assert_eq!(
            lift_reason(
                &m,
                &[
                    cert("a", 300, true),
                    cert("b", 5, true),
                    cert("c", -9, false)
                ],
                now()
            ),
            Some(LiftReason::CertificationRenewed)
        );
    }

    #[test]
    fn a_requested_pause_lifts_when_until_passes_and_admin_pauses_never_lift() {
        let until = now() + TimeDelta::hours(1);
        let m = mentor(Some(Pause {
            reason: PauseReason::Requested,
            since: now(),
            until: Some(until),
        }));
        assert_eq!(lift_reason(&m, &[], now()), None);
        assert_eq!(
            lift_reason(&m, &[], until),
            Some(LiftReason::RequestedPauseEnded)
        );
        let open = mentor(Some(Pause {
            reason: PauseReason::Requested,
            since: now(),
            until: None,
        }));
        assert_eq!(lift_reason(&open, &[], now() + TimeDelta::days(999)), None);
        let admin = mentor(Some(Pause {
            reason: PauseReason::Admin,
            since: now(),
            until: Some(until),
        }));
        assert_eq!(lift_reason(&admin, &[], now() + TimeDelta::days(999)), None);
        assert_eq!(lift_reason(&mentor(None), &[], now()), None);
    }
}
