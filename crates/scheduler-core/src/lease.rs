//! Run leases: a run holds its job's lock for a while and renews it with a
//! heartbeat; a lease that ran out means the process holding it died, and
//! another instance may take the run over (docs/scheduling.md, "Leases and
//! takeover").

use chrono::{DateTime, TimeDelta, Utc};

/// How long a lease lasts without renewal: 30 s, the default of
/// `--lease-seconds` (docs/operations.md).
pub const DEFAULT_LEASE_TTL: TimeDelta = TimeDelta::seconds(30);

/// How often a running job renews its lease: every 10 s, a third of the
/// default lease (docs/runs.md, "Leases, heartbeats and takeover").
pub const DEFAULT_HEARTBEAT: TimeDelta = TimeDelta::seconds(10);

/// How late a scheduled instant may still fire after downtime: 1 hour
/// (docs/scheduling.md, "Misfires after downtime").
pub const DEFAULT_MISFIRE_DEADLINE: TimeDelta = TimeDelta::hours(1);

/// Who holds a run and until when.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use scheduler_core::{DEFAULT_HEARTBEAT, DEFAULT_LEASE_TTL, Lease};
///
/// let start = Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap();
/// let mut lease = Lease::new("instance-a", start, DEFAULT_LEASE_TTL);
/// let beat = start + DEFAULT_HEARTBEAT;
/// lease.renew(beat, DEFAULT_LEASE_TTL);
/// assert!(!lease.is_expired(beat + TimeDelta::seconds(29)));
/// assert!(lease.is_expired(beat + TimeDelta::seconds(30)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder, for example an instance id.
    pub owner: String,
    /// The instant the lease runs out unless renewed.
    pub expires_at: DateTime<Utc>,
}

impl Lease {
    /// A lease for `owner` from `now`, lasting `ttl`.
    pub fn new(owner: impl Into<String>, now: DateTime<Utc>, ttl: TimeDelta) -> Self {
        Self {
            owner: owner.into(),
            expires_at: now + ttl,
        }
    }

    /// Extends the lease to `now + ttl`. A renewal never shortens it.
    pub fn renew(&mut self, now: DateTime<Utc>, ttl: TimeDelta) {
        self.expires_at = self.expires_at.max(now + ttl);
    }

    /// Whether the lease ran out: true from `expires_at` on.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// Whether `owner` holds the lease at `now`.
    pub fn is_held_by(&self, owner: &str, now: DateTime<Utc>) -> bool {
        self.owner == owner && !self.is_expired(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_are_those_of_spec_section_15() {
        assert_eq!(DEFAULT_LEASE_TTL, TimeDelta::seconds(30));
        assert_eq!(DEFAULT_HEARTBEAT, TimeDelta::seconds(10));
        assert_eq!(DEFAULT_MISFIRE_DEADLINE, TimeDelta::hours(1));
        // A missed heartbeat or two must not lose the lease.
        assert!(DEFAULT_HEARTBEAT * 2 < DEFAULT_LEASE_TTL);
    }

    #[test]
    fn a_lease_expires_at_its_ttl_unless_renewed() {
        let lease = Lease::new("a", at("2026-03-26T02:00:00Z"), DEFAULT_LEASE_TTL);
        assert_eq!(lease.expires_at, at("2026-03-26T02:00:30Z"));
        assert!(!lease.is_expired(at("2026-03-26T02:00:29Z")));
        assert!(lease.is_expired(at("2026-03-26T02:00:30Z")));
    }

    #[test]
    fn renewing_extends_from_the_heartbeat_and_never_shortens() {
        let mut lease = Lease::new("a", at("2026-03-26T02:00:00Z"), DEFAULT_LEASE_TTL);
        lease.renew(at("2026-03-26T02:00:10Z"), DEFAULT_LEASE_TTL);
        assert_eq!(lease.expires_at, at("2026-03-26T02:00:40Z"));
        lease.renew(at("2026-03-26T02:00:11Z"), TimeDelta::seconds(1));
        assert_eq!(lease.expires_at, at("2026-03-26T02:00:40Z"));
    }

    #[test]
    fn only_the_owner_holds_an_unexpired_lease() {
        let lease = Lease::new("a", at("2026-03-26T02:00:00Z"), DEFAULT_LEASE_TTL);
        assert!(lease.is_held_by("a", at("2026-03-26T02:00:05Z")));
        assert!(!lease.is_held_by("b", at("2026-03-26T02:00:05Z")));
        assert!(!lease.is_held_by("a", at("2026-03-26T02:01:00Z")));
    }
}
