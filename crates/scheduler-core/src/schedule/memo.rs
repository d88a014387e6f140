//! Values kept by the text they were made from, up to a bound: parsed
//! cron expressions ([`super::CronSpec::parse`]) and a schedule's next
//! instants ([`super::Schedule::upcoming`]). Parsing (croner's parser,
//! then the search that proves the expression ever fires) costs more than
//! reading a job from the database, and a service reads the same few
//! expressions all day: every job read, list and scheduler tick parses
//! its job's expression again.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Values by text, at most [`Kept::MOST`]; past that, a text not kept is
/// made again each time (a bound, so that a stream of distinct texts
/// cannot grow the memory).
pub(super) struct Kept<T> {
    map: OnceLock<Mutex<HashMap<String, T>>>,
}

impl<T: Clone> Kept<T> {
    const MOST: usize = 4096;

    pub(super) const fn new() -> Self {
        Self {
            map: OnceLock::new(),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, T>> {
        self.map
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The value kept for `text`, if any.
    pub(super) fn get(&self, text: &str) -> Option<T> {
        self.map().get(text).cloned()
    }

    /// Keeps `value` for `text`, in place of the value kept for it before,
    /// or as a new text while there is room.
    pub(super) fn keep(&self, text: &str, value: &T) {
        let mut map = self.map();
        if let Some(kept) = map.get_mut(text) {
            kept.clone_from(value);
        } else if map.len() < Self::MOST {
            map.insert(text.to_owned(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_value_comes_back_and_others_do_not() {
        let kept = Kept::new();
        kept.keep("7 3 * * 1-5", &1);
        assert_eq!(kept.get("7 3 * * 1-5"), Some(1));
        assert_eq!(kept.get("8 3 * * 1-5"), None);
    }

    #[test]
    fn past_the_bound_nothing_more_is_kept() {
        let kept = Kept::new();
        for i in 0..Kept::<usize>::MOST {
            kept.keep(&i.to_string(), &i);
        }
        kept.keep("one more", &0);
        assert_eq!(kept.get("one more"), None);
        assert_eq!(kept.get("17"), Some(17));
        kept.keep("17", &18);
        assert_eq!(kept.get("17"), Some(18), "a kept text takes a new value");
    }
}
