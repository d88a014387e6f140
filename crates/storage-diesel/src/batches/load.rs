//! Reading a batch's subjects: a mentor row per subject and the rows of the
//! four tables around it, in a fixed number of queries whatever the batch's
//! size.

use std::collections::HashMap;

use diesel::prelude::*;
use scenario_engine::rules::{MentorStatus, MilestoneType, OwnedHistory, ScenarioType};
use scenario_engine::service::Subject;

use crate::conn::AnyConnection;
use crate::convert::from_millis;
use crate::error::StorageError;
use crate::mentor_rows::{CertificationRow, MentorRow, record_of};
use crate::schema::{certifications, mentor_milestones, mentors, notification_keys, notifications};

/// Ids per `IN (...)` list when reading a batch: one query per table for
/// any batch up to this size (an `evaluation-batch` names at most 500 ids).
pub(super) const IDS_PER_QUERY: usize = 1000;

/// Counting notifications for the cooldown (docs/rules.md, "Cooldown").
const COUNTING: [&str; 2] = ["pending", "delivered"];

/// What one read of a batch's subjects loaded: a mentor row per subject,
/// and the rows of the four tables around it for (at least) those mentors.
#[derive(Default)]
pub(super) struct Loaded {
    mentors: Vec<MentorRow>,
    certifications: Vec<CertificationRow>,
    milestones: Vec<(String, String, i64)>,
    /// (user, scenario type, status, latest `created_at`).
    last_notified: Vec<(String, String, String, Option<i64>)>,
    /// (user, dedupe key).
    keys: Vec<(String, String)>,
}

/// The rows of the four tables around a batch's mentors whose `user_id`
/// meets `$filter` (with `$col` bound to each table's `user_id` column).
macro_rules! load_around {
    ($c:expr, $mentors:expr, |$col:ident| $filter:expr) => {{
        let c: &mut AnyConnection = $c;
        Ok(Loaded {
            mentors: $mentors,
            certifications: certifications::table
                .filter({
                    let $col = certifications::user_id;
                    $filter
                })
                .order((
                    certifications::user_id.asc(),
                    certifications::certification_id.asc(),
                ))
                .select(CertificationRow::as_select())
                .load(c)?,
            milestones: mentor_milestones::table
                .filter({
                    let $col = mentor_milestones::user_id;
                    $filter
                })
                .select((
                    mentor_milestones::user_id,
                    mentor_milestones::milestone_type,
                    mentor_milestones::achieved_at,
                ))
                .load(c)?,
            // The status is grouped on, not filtered on: with `status IN
            // (...)` in the WHERE clause SQLite's planner picks the (status,
            // next_attempt_at, id) index and scans every pending
            // notification once per batch (measured: 8 of 24 s of a run over
            // 100,000 mentors); grouped, it searches by user_id.
            last_notified: notifications::table
                .filter({
                    let $col = notifications::user_id;
                    $filter
                })
                .group_by((
                    notifications::user_id,
                    notifications::scenario_type,
                    notifications::status,
                ))
                .select((
                    notifications::user_id,
                    notifications::scenario_type,
                    notifications::status,
                    diesel::dsl::max(notifications::created_at),
                ))
                .load(c)?,
            keys: notification_keys::table
                .filter({
                    let $col = notification_keys::user_id;
                    $filter
                })
                .select((notification_keys::user_id, notification_keys::dedupe_key))
                .load(c)?,
        })
    }};
}

/// The subjects of one chunk of ids: five queries, each an `IN (...)` list
/// (of a length diesel prepares anew every time).
pub(super) fn load_chunk(c: &mut AnyConnection, ids: &[&str]) -> Result<Loaded, StorageError> {
    let mentors: Vec<MentorRow> = mentors::table
        .filter(mentors::user_id.eq_any(ids))
        .select(MentorRow::as_select())
        .load(c)?;
    if mentors.is_empty() {
        return Ok(Loaded::default());
    }
    load_around!(c, mentors, |user_id| user_id.eq_any(ids))
}

/// The subjects of the active mentors with a `user_id` in `first..=last`:
/// five range reads, each a fixed statement that stays in diesel's cache
/// and walks its index in order (a run's batch is such a range). The four
/// tables around the mentors may return rows of inactive mentors in the
/// range; [`Loaded::into_subjects`] drops them.
pub(super) fn load_range(
    c: &mut AnyConnection,
    first: &str,
    last: &str,
) -> Result<Loaded, StorageError> {
    let mentors: Vec<MentorRow> = mentors::table
        .filter(mentors::status.eq(MentorStatus::Active.as_str()))
        .filter(mentors::user_id.ge(first))
        .filter(mentors::user_id.le(last))
        .order(mentors::user_id.asc())
        .select(MentorRow::as_select())
        .load(c)?;
    if mentors.is_empty() {
        return Ok(Loaded::default());
    }
    load_around!(c, mentors, |user_id| user_id
        .ge(first)
        .and(user_id.le(last)))
}

impl Loaded {
    /// One subject per mentor row, in the order of the rows; rows of the
    /// other tables about anyone else are ignored.
    pub(super) fn into_subjects(self) -> Result<Vec<Subject>, StorageError> {
        let mut certs_by_user: HashMap<String, Vec<CertificationRow>> = HashMap::new();
        for cert in self.certifications {
            certs_by_user
                .entry(cert.user_id.clone())
                .or_default()
                .push(cert);
        }
        let mut subjects = Vec::with_capacity(self.mentors.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(self.mentors.len());
        for row in self.mentors {
            let certs = certs_by_user.remove(&row.user_id).unwrap_or_default();
            let user_id = row.user_id.clone();
            index.insert(user_id.clone(), subjects.len());
            subjects.push(Subject {
                record: record_of(row, certs)?,
                milestones_achieved_at: [None; 4],
                history: OwnedHistory::new(user_id),
            });
        }
        for (user_id, name, at) in self.milestones {
            if let (Some(&i), Ok(t)) = (index.get(&user_id), MilestoneType::parse(&name)) {
                subjects[i].milestones_achieved_at[t.index()] = Some(from_millis(at)?);
            }
        }
        for (user_id, scenario, status, at) in self.last_notified {
            if !COUNTING.contains(&status.as_str()) {
                continue;
            }
            if let (Some(&i), Ok(t), Some(at)) =
                (index.get(&user_id), ScenarioType::parse(&scenario), at)
            {
                let at = from_millis(at)?;
                let slot = &mut subjects[i].history.last_notified_at[t.index()];
                if slot.is_none_or(|prev| prev < at) {
                    *slot = Some(at);
                }
            }
        }
        for (user_id, key) in self.keys {
            if let Some(&i) = index.get(&user_id) {
                subjects[i].history.taken_keys.push(key);
            }
        }
        Ok(subjects)
    }
}
