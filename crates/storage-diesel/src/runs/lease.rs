//! Run leases: renewal, release, takeover, and the fence
//! every write of a run passes. A lease is (`lease_owner`, `lease_epoch`,
//! `lease_expires_at`); a takeover moves the epoch up, and a write under an
//! older epoch matches nothing (docs/operations.md, "Several instances").

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use run_log::{Lease, Renewal, RunStatus};

use crate::conn::{AnyConnection, write_tx};
use crate::convert::to_millis;
use crate::error::StorageError;
use crate::schema::runs;

/// Extends the lease held by (`owner`, `epoch`) to `until`; the stored
/// status, and whether the lease was held.
pub(super) fn renew(
    conn: &mut AnyConnection,
    id: &str,
    owner: &str,
    epoch: i64,
    until: DateTime<Utc>,
) -> Result<Option<Renewal>, StorageError> {
    let n = diesel::update(
        runs::table
            .find(id)
            .filter(runs::status.eq(RunStatus::Running.as_str()))
            .filter(runs::lease_owner.eq(owner))
            .filter(runs::lease_epoch.eq(epoch)),
    )
    .set(runs::lease_expires_at.eq(to_millis(until)))
    .execute(conn)?;
    let status: Option<String> = runs::table
        .find(id)
        .select(runs::status)
        .first(conn)
        .optional()?;
    status
        .map(|s| {
            let status = RunStatus::parse(&s).map_err(|_| StorageError::Corrupt("runs.status"))?;
            Ok(Renewal {
                status,
                held: n > 0,
            })
        })
        .transpose()
}

/// Lets the lease held by (`owner`, `epoch`) lapse at `now`.
pub(super) fn release(
    conn: &mut AnyConnection,
    id: &str,
    owner: &str,
    epoch: i64,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        runs::table
            .find(id)
            .filter(runs::status.eq(RunStatus::Running.as_str()))
            .filter(runs::lease_owner.eq(owner))
            .filter(runs::lease_epoch.eq(epoch)),
    )
    .set(runs::lease_expires_at.eq(to_millis(now)))
    .execute(conn)?;
    Ok(n > 0)
}

/// Takes a lapsed lease for `owner` until `until`, one epoch up; the new
/// epoch, or `None` when the lease was not lapsed (another took it first).
pub(super) fn take_over(
    conn: &mut AnyConnection,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<i64>, StorageError> {
    write_tx(conn, |c| -> Result<Option<i64>, StorageError> {
        // One statement decides: of several racing instances, the first to
        // write moves the lease past `now` and the epoch up, and the others
        // match nothing.
        let n = diesel::update(
            runs::table
                .find(id)
                .filter(runs::status.eq(RunStatus::Running.as_str()))
                .filter(runs::lease_expires_at.le(to_millis(now))),
        )
        .set((
            runs::lease_owner.eq(owner),
            runs::lease_expires_at.eq(to_millis(until)),
            runs::lease_epoch.eq(runs::lease_epoch + 1),
        ))
        .execute(c)?;
        if n == 0 {
            return Ok(None);
        }
        let epoch = runs::table.find(id).select(runs::lease_epoch).first(c)?;
        Ok(Some(epoch))
    })
}

/// Inside a write transaction: fails with [`StorageError::LeaseLost`]
/// unless `lease` (when given) is the run's stored lease. On PostgreSQL the
/// row stays locked until the transaction ends, so a takeover waits for it.
pub(crate) fn fence(
    c: &mut AnyConnection,
    run_id: &str,
    lease: Option<&Lease>,
) -> Result<(), StorageError> {
    let Some(l) = lease else { return Ok(()) };
    let n = diesel::update(
        runs::table
            .find(run_id)
            .filter(runs::lease_owner.eq(&l.owner))
            .filter(runs::lease_epoch.eq(l.epoch)),
    )
    .set(runs::lease_epoch.eq(l.epoch))
    .execute(c)?;
    if n == 0 {
        return Err(StorageError::LeaseLost);
    }
    Ok(())
}
