//! Generated identifiers (`trg_`, `ntf_`, ... plus a ULID) and platform ids.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use ulid::Ulid;

/// The prefix of every evaluation id (`trg_…`).
pub const EVALUATION_ID_PREFIX: &str = "trg";

/// The prefix of every notification id (`ntf_…`).
pub const NOTIFICATION_ID_PREFIX: &str = "ntf";

/// Where generated ids come from, so that tests can fix them.
pub trait IdSource: Send + Sync {
    /// A new id: `prefix`, an underscore, then a ULID, for example `trg_01J...`.
    fn next_id(&self, prefix: &str) -> String;

    /// A new id for a row stamped `at` (an evaluation's `evaluated_at`, a
    /// notification's `created_at`): `prefix`, an underscore, then a ULID
    /// whose time is `at` to the millisecond ([`ulid_millis`]).
    ///
    /// Must: the ULID's time is `at`'s millisecond, so that for ids of one
    /// prefix, ordering by id is ordering by (`at`, id). Storage relies on
    /// it: one index on the id serves both orders (docs/architecture.md,
    /// "Ids carry their instant").
    fn id_at(&self, prefix: &str, at: DateTime<Utc>) -> String;
}

/// ULIDs from a monotonic generator: ids made in one process sort in
/// creation order, even within one millisecond; [`IdSource::id_at`] ids of
/// one instant sort in creation order too.
#[derive(Default)]
pub struct UlidIds(Mutex<UlidState>);

#[derive(Default)]
struct UlidState {
    /// Behind [`IdSource::next_id`]: the wall clock, never going back.
    generator: ulid::Generator,
    /// The last id of [`IdSource::id_at`].
    last_at: Option<Ulid>,
}

impl std::fmt::Debug for UlidIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UlidIds")
    }
}

impl UlidIds {
    /// A fresh generator.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, UlidState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl IdSource for UlidIds {
    fn next_id(&self, prefix: &str) -> String {
        // The generator only fails when 2^80 ids were made in one millisecond;
        // a fresh random ULID is then still unique enough.
        let id = self
            .state()
            .generator
            .generate()
            .unwrap_or_else(|_| Ulid::new());
        format!("{prefix}_{id}")
    }

    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::{IdSource, UlidIds};
    /// let ids = UlidIds::new();
    /// let at = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let (a, b) = (ids.id_at("trg", at), ids.id_at("trg", at));
    /// let later = ids.id_at("trg", at + chrono::Duration::milliseconds(1));
    /// assert!(a < b && b < later);
    /// let ulid: ulid::Ulid = a["trg_".len()..].parse().unwrap();
    /// assert_eq!(ulid.timestamp_ms() as i64, at.timestamp_millis());
    /// ```
    fn id_at(&self, prefix: &str, at: DateTime<Utc>) -> String {
        let ms = ulid_millis(at);
        let mut state = self.state();
        // Within one millisecond: the next of the last (an overflow after
        // 2^80 ids of one millisecond takes a fresh random one).
        let id = state
            .last_at
            .filter(|last| last.timestamp_ms() == ms)
            .and_then(|last| last.increment())
            .unwrap_or_else(|| {
                Ulid::from_datetime(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
            });
        state.last_at = Some(id);
        format!("{prefix}_{id}")
    }
}

/// The largest time a ULID holds: 48 bits of milliseconds (the year 10889).
const ULID_MAX_MILLIS: u64 = (1 << 48) - 1;

/// The millisecond a ULID of [`IdSource::id_at`] carries for `at`: `at`'s
/// milliseconds since the Unix epoch, held within what a ULID can carry
/// (instants before 1970 as the epoch itself).
pub fn ulid_millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis())
        .unwrap_or(0)
        .min(ULID_MAX_MILLIS)
}

/// The smallest id of `prefix` that [`IdSource::id_at`] can make for `at`,
/// and the largest: bounds on ids for a range of instants. Every id made
/// for `at` lies within them, and ids made for an earlier or a later
/// millisecond lie outside.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::{id_bounds_at, IdSource, UlidIds};
/// let at = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
/// let (first, last) = id_bounds_at("trg", at);
/// let id = UlidIds::new().id_at("trg", at);
/// assert!(first <= id && id <= last);
/// assert!(last < id_bounds_at("trg", at + chrono::Duration::milliseconds(1)).0);
/// ```
pub fn id_bounds_at(prefix: &str, at: DateTime<Utc>) -> (String, String) {
    let ms = ulid_millis(at);
    (
        format!("{prefix}_{}", Ulid::from_parts(ms, 0)),
        format!("{prefix}_{}", Ulid::from_parts(ms, u128::MAX)),
    )
}

/// Why a platform id (`usr_mentor_7821`, `org_oslo_01`, ...) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct InvalidId {
    /// The field, for example `user_id`.
    pub field: &'static str,
    /// What is wrong.
    pub problem: &'static str,
}

/// Checks a platform id: 1-128 characters, no control characters (SPEC section 3).
///
/// # Errors
/// [`InvalidId`] saying what is wrong.
///
/// ```
/// use scenario_engine::validate_platform_id;
/// assert!(validate_platform_id("user_id", "usr_mentor_7821").is_ok());
/// assert!(validate_platform_id("user_id", "").is_err());
/// assert!(validate_platform_id("user_id", "a\nb").is_err());
/// ```
pub fn validate_platform_id(field: &'static str, value: &str) -> Result<(), InvalidId> {
    if value.is_empty() {
        return Err(InvalidId {
            field,
            problem: "must not be empty",
        });
    }
    if value.chars().count() > 128 {
        return Err(InvalidId {
            field,
            problem: "must be at most 128 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidId {
            field,
            problem: "must not contain control characters",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn ulid_of(id: &str) -> Ulid {
        id.split_once('_').unwrap().1.parse().unwrap()
    }

    #[test]
    fn ids_at_an_instant_carry_it_and_sort_as_instant_then_creation() {
        let ids = UlidIds::new();
        let t0 = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
        let ms = chrono::Duration::milliseconds;
        // Out of order on purpose: a clock that goes back, instants repeated
        // after others, the same instant many times over.
        let instants = [
            t0,
            t0 + ms(5),
            t0,
            t0 - ms(1000),
            t0 + ms(5),
            t0,
            t0 + ms(1),
        ];
        let mut made = Vec::new();
        for (n, at) in instants.iter().enumerate() {
            for k in 0..3 {
                let id = ids.id_at("trg", *at);
                assert_eq!(ulid_of(&id).timestamp_ms(), ulid_millis(*at), "{id}");
                made.push((*at, n * 3 + k, id));
            }
        }
        let mut by_id = made.clone();
        by_id.sort_by(|a, b| a.2.cmp(&b.2));
        let mut by_instant = made.clone();
        by_instant.sort_by_key(|m| m.0);
        // Same instants in the same order; within one instant, each run of
        // ids made one after the other stays in creation order.
        let instants_of =
            |v: &[(DateTime<Utc>, usize, String)]| v.iter().map(|m| m.0).collect::<Vec<_>>();
        assert_eq!(instants_of(&by_id), instants_of(&by_instant));
        for w in by_id.windows(2) {
            if w[0].0 == w[1].0 && w[1].1 == w[0].1 + 1 {
                assert!(w[0].2 < w[1].2);
            }
        }
        let distinct: std::collections::HashSet<_> = made.iter().map(|m| &m.2).collect();
        assert_eq!(distinct.len(), made.len());
    }

    #[test]
    fn bounds_hold_every_id_of_their_instant_and_none_of_another() {
        let ids = UlidIds::new();
        let at = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
        let (first, last) = id_bounds_at("ntf", at);
        for _ in 0..100 {
            let id = ids.id_at("ntf", at);
            assert!(first <= id && id <= last, "{first} {id} {last}");
        }
        let before = ids.id_at("ntf", at - chrono::Duration::milliseconds(1));
        let after = ids.id_at("ntf", at + chrono::Duration::milliseconds(1));
        assert!(before < first && last < after);
    }

    #[test]
    fn instants_a_ulid_cannot_carry_are_held_to_its_range() {
        let before_epoch = Utc.with_ymd_and_hms(1969, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(ulid_millis(before_epoch), 0);
        let far = DateTime::<Utc>::MAX_UTC;
        assert_eq!(ulid_millis(far), ULID_MAX_MILLIS);
        let id = UlidIds::new().id_at("trg", far);
        assert_eq!(ulid_of(&id).timestamp_ms(), ULID_MAX_MILLIS);
    }
}
