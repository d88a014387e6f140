//! Claims on a run's planned batches: any instance evaluates the batches
//! it claimed, whichever instance holds the run (docs/operations.md,
//! "Several instances"). A claim is `claimed_by` and `claim_expires_at` on
//! the batch's `run_batches` row; a batch is finished when its
//! `batch_results` row exists, as before.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use run_log::PlannedBatch;

use crate::conn::{AnyConnection, write_tx};
use crate::convert::to_millis;
use crate::error::StorageError;
use crate::schema::{batch_results, run_batches};

/// Claims up to `limit` unfinished, unclaimed (or lapsed at `now`) batches
/// of the run from index `from` on for `owner` until `until`, in index
/// order, in one write transaction: on PostgreSQL the candidates are locked
/// `FOR UPDATE SKIP LOCKED`, so racing claimers take different batches;
/// SQLite has one writer. A finished batch is one with a batch result:
/// the claim reads the plan and the batch results from `from` on only,
/// whatever plan the database chose for it. (Written as an anti-join,
/// `NOT EXISTS`, a claim took 40-55 ms late in a 100,000-mentor run on
/// PostgreSQL; docs/benchmarks.md.)
pub(super) fn claim(
    conn: &mut AnyConnection,
    run_id: &str,
    owner: &str,
    (now, until): (DateTime<Utc>, DateTime<Utc>),
    from: i64,
    limit: u32,
) -> Result<Vec<PlannedBatch>, StorageError> {
    let now = to_millis(now);
    write_tx(conn, |c| -> Result<Vec<PlannedBatch>, StorageError> {
        macro_rules! candidates {
            () => {
                run_batches::table
                    .filter(run_batches::run_id.eq(run_id))
                    .filter(run_batches::batch_index.ge(from))
                    .filter(
                        run_batches::batch_index.ne_all(
                            batch_results::table
                                .filter(batch_results::run_id.eq(run_id))
                                .filter(batch_results::batch_index.ge(from))
                                .select(batch_results::batch_index),
                        ),
                    )
                    .filter(
                        run_batches::claimed_by
                            .is_null()
                            .or(run_batches::claim_expires_at.le(now)),
                    )
                    .order(run_batches::batch_index.asc())
                    .limit(i64::from(limit))
                    .select((
                        run_batches::batch_index,
                        run_batches::first_user_id,
                        run_batches::last_user_id,
                        run_batches::user_count,
                    ))
            };
        }
        let rows: Vec<(i64, String, String, i64)> = match c {
            AnyConnection::Postgres(pg) => candidates!().for_update().skip_locked().load(pg)?,
            AnyConnection::Sqlite(s) => candidates!().load(s)?,
        };
        let indices: Vec<i64> = rows.iter().map(|r| r.0).collect();
        if !indices.is_empty() {
            diesel::update(
                run_batches::table
                    .filter(run_batches::run_id.eq(run_id))
                    .filter(run_batches::batch_index.eq_any(&indices)),
            )
            .set((
                run_batches::claimed_by.eq(owner),
                run_batches::claim_expires_at.eq(to_millis(until)),
            ))
            .execute(c)?;
        }
        Ok(rows
            .into_iter()
            .map(
                |(batch_index, first_user_id, last_user_id, user_count)| PlannedBatch {
                    batch_index,
                    first_user_id,
                    last_user_id,
                    user_count,
                },
            )
            .collect())
    })
}

/// Lets `owner`'s claims on the run's unfinished batches lapse now.
pub(super) fn release(
    conn: &mut AnyConnection,
    run_id: &str,
    owner: &str,
) -> Result<(), StorageError> {
    diesel::update(
        run_batches::table
            .filter(run_batches::run_id.eq(run_id))
            .filter(run_batches::claimed_by.eq(owner))
            .filter(
                run_batches::batch_index.ne_all(
                    batch_results::table
                        .filter(batch_results::run_id.eq(run_id))
                        .select(batch_results::batch_index),
                ),
            ),
    )
    .set(run_batches::claim_expires_at.eq(Some(0_i64)))
    .execute(conn)?;
    Ok(())
}
