//! `IdempotencyStore` on diesel: the first answer of each `Idempotency-Key`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use run_log::{
    Claim, IDEMPOTENCY_WINDOW, IN_PROGRESS_WINDOW, IdempotencyStore, StoreError, StoredAnswer,
};

use crate::Store;
use crate::conn::AnyConnection;
use crate::convert::to_millis;
use crate::error::StorageError;
use crate::schema::idempotency_keys as k;

#[derive(Insertable)]
#[diesel(table_name = k, treat_none_as_default_value = false)]
struct KeyInsert<'a> {
    scope: &'a str,
    idempotency_key: &'a str,
    request: &'a str,
    status_code: Option<i32>,
    response: Option<&'a str>,
    created_at: i64,
}

type Stored = (String, Option<i32>, Option<String>, i64);

fn claim(
    c: &mut AnyConnection,
    scope: &str,
    key: &str,
    request: &str,
    now: DateTime<Utc>,
) -> Result<Claim, StorageError> {
    let row = KeyInsert {
        scope,
        idempotency_key: key,
        request,
        status_code: None,
        response: None,
        created_at: to_millis(now),
    };
    // Insert-or-ignore: of two racing claims of a free key, one inserts.
    let inserted = match c {
        AnyConnection::Sqlite(c) => diesel::insert_or_ignore_into(k::table)
            .values(&row)
            .execute(c)?,
        AnyConnection::Postgres(c) => diesel::insert_into(k::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let stored: Option<Stored> = k::table
        .find((scope, key))
        .select((k::request, k::status_code, k::response, k::created_at))
        .first(c)
        .optional()?;
    let Some((stored_request, status, response, created_at)) = stored else {
        // Released between our insert and our read: claim it again.
        return claim(c, scope, key, request, now);
    };
    let expired = created_at <= to_millis(now - IDEMPOTENCY_WINDOW);
    let abandoned = status.is_none() && created_at <= to_millis(now - IN_PROGRESS_WINDOW);
    if expired || abandoned {
        // Past its window, or never answered by a process that died: take
        // it over, compare-and-set on the old claim.
        let n = diesel::update(
            k::table
                .find((scope, key))
                .filter(k::created_at.eq(created_at)),
        )
        .set((
            k::request.eq(request),
            k::status_code.eq(None::<i32>),
            k::response.eq(None::<String>),
            k::created_at.eq(to_millis(now)),
        ))
        .execute(c)?;
        return if n == 1 {
            Ok(Claim::Fresh)
        } else {
            claim(c, scope, key, request, now)
        };
    }
    Ok(match (stored_request == request, status, response) {
        (false, _, _) => Claim::Mismatch,
        (true, Some(status), Some(body)) => Claim::Replay(StoredAnswer {
            status: u16::try_from(status)
                .map_err(|_| StorageError::Corrupt("idempotency_keys.status_code"))?,
            body,
        }),
        (true, _, _) => Claim::InProgress,
    })
}

impl IdempotencyStore for Store {
    fn claim_key(
        &self,
        scope: &str,
        key: &str,
        request: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        self.with_conn(|c| claim(c, scope, key, request, now))
    }

    fn complete_key(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::update(k::table.find((scope, key)))
                .set((
                    k::status_code.eq(Some(i32::from(answer.status))),
                    k::response.eq(Some(&answer.body)),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    fn release_key(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::delete(k::table.find((scope, key))).execute(c)?;
            Ok(())
        })
    }

    fn prune_keys_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.with_conn(|c| {
            let n =
                diesel::delete(k::table.filter(k::created_at.lt(to_millis(cutoff)))).execute(c)?;
            Ok(n as u64)
        })
    }
}
