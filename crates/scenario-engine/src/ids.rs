//! Generated identifiers (`trg_`, `ntf_`, ... plus a ULID) and platform ids.

use std::sync::Mutex;

/// Where generated ids come from, so that tests can fix them.
pub trait IdSource: Send + Sync {
    /// A new id: `prefix`, an underscore, then a ULID, for example `trg_01J...`.
    fn next_id(&self, prefix: &str) -> String;
}

/// ULIDs from a monotonic generator: ids made in one process sort in
/// creation order, even within one millisecond.
#[derive(Default)]
pub struct UlidIds(Mutex<ulid::Generator>);

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
}

impl IdSource for UlidIds {
    fn next_id(&self, prefix: &str) -> String {
        let mut generator = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The generator only fails when 2^80 ids were made in one millisecond;
        // a fresh random ULID is then still unique enough.
        let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
        format!("{prefix}_{id}")
    }
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
