//! The required certifications that expire soon: a read for the
//! coordinator dashboard's "expiring soon" view (docs/api.md,
//! "Certifications expiring soon"), beyond the domain's ports.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use scenario_engine::service::{PageRequest, Paged, StoreError};

use crate::Store;
use crate::convert::{from_millis, to_millis};
use crate::error::StorageError;
use crate::schema::{certifications, mentors};

/// One required certification that expires in the window, with its mentor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringCertification {
    /// The mentor.
    pub user_id: String,
    /// The mentor's organisation.
    pub org_id: String,
    /// The mentor's status (`active`, `paused` or `inactive`).
    pub status: String,
    /// The mentor's pause reason, when paused.
    pub pause_reason: Option<String>,
    /// The certification.
    pub certification_id: String,
    /// Its name.
    pub name: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

type Row = (String, String, String, Option<String>, String, String, i64);

impl Store {
    /// The required certifications that expire at or after `from` and
    /// before `until`, soonest first (then by mentor and certification),
    /// one page of them, read off the `expires_at` index.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub fn expiring_required_certifications(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Paged<ExpiringCertification>, StoreError> {
        self.with_conn(|conn| {
            let (from, until) = (to_millis(from), to_millis(until));
            let filtered = || {
                certifications::table
                    .inner_join(mentors::table.on(mentors::user_id.eq(certifications::user_id)))
                    .filter(certifications::required.eq(true))
                    .filter(certifications::expires_at.ge(from))
                    .filter(certifications::expires_at.lt(until))
            };
            let total: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<Row> = filtered()
                .order((
                    certifications::expires_at.asc(),
                    certifications::user_id.asc(),
                    certifications::certification_id.asc(),
                ))
                .limit(i64::from(page.limit))
                .offset(i64::try_from(page.offset()).unwrap_or(i64::MAX))
                .select((
                    certifications::user_id,
                    mentors::org_id,
                    mentors::status,
                    mentors::pause_reason,
                    certifications::certification_id,
                    certifications::name,
                    certifications::expires_at,
                ))
                .load(conn)?;
            let rows = rows
                .into_iter()
                .map(
                    |(user_id, org_id, status, pause_reason, certification_id, name, at)| {
                        Ok(ExpiringCertification {
                            user_id,
                            org_id,
                            status,
                            pause_reason,
                            certification_id,
                            name,
                            expires_at: from_millis(at)?,
                        })
                    },
                )
                .collect::<Result<Vec<_>, StorageError>>()?;
            Ok(Paged {
                rows,
                total: u64::try_from(total).unwrap_or(0),
            })
        })
    }
}
