//! Generated identifiers (`trg_`, `ntf_`, ... plus a ULID) as a port, the
//! bounds of the ids of an instant, and the checks of platform ids.

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
/// use scenario_engine::service::{IdSource, id_bounds_at};
/// use scenario_engine::adapters::UlidIds;
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

/// Checks a platform id: 1-128 characters, no control characters (docs/api.md,
/// "Identifiers and timestamps").
///
/// # Errors
/// [`InvalidId`] saying what is wrong.
///
/// ```
/// use scenario_engine::service::validate_platform_id;
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

/// An id that fails [`validate_platform_id`] cannot exist, so a lookup by it
/// is "not found" without asking storage (which may refuse such bytes:
/// PostgreSQL text cannot hold NUL).
pub(crate) fn lookup_id(value: &str) -> bool {
    validate_platform_id("id", value).is_ok()
}
