//! Identifiers from ULIDs.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use ulid::Ulid;

use crate::service::{IdSource, ulid_millis};

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
    /// use scenario_engine::service::IdSource;
    /// use scenario_engine::adapters::UlidIds;
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::service::id_bounds_at;

    /// The largest time a ULID holds: 48 bits of milliseconds.
    const ULID_MAX_MILLIS: u64 = (1 << 48) - 1;

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
