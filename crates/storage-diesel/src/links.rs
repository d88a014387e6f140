//! The links PostgreSQL's writers keep instead of foreign keys
//! (migrations 000015 and 000016): the mentor of an evaluation, of a
//! notification and of a dedupe key, and a notification's evaluation. A
//! foreign key there checks every inserted row with a query of its own;
//! these take one statement per batch or per delete. SQLite keeps the
//! keys, so the mentor check is PostgreSQL's only, and the rest runs on
//! both (on SQLite the keys then find nothing left to do).

use diesel::prelude::*;

use crate::conn::AnyConnection;
use crate::error::StorageError;
use crate::schema::{evaluations, mentors, notification_keys, notifications};

/// Takes a key-share lock on the mentors `user_ids` names (PostgreSQL),
/// as the foreign key's check of each row did, in one statement: erasing
/// one of them waits until this transaction ends, and then sees its rows
/// ([`erase_about`]). Fails with [`StorageError::MentorGone`] when
/// one of them does not exist (erased since it was read), as the foreign
/// key did. `user_ids` may repeat; on SQLite they are not even read.
pub(crate) fn hold_mentors<'a>(
    c: &mut AnyConnection,
    user_ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), StorageError> {
    let AnyConnection::Postgres(pg) = c else {
        return Ok(());
    };
    let mut wanted: Vec<&str> = user_ids.into_iter().collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let held: Vec<String> = mentors::table
        .filter(mentors::user_id.eq_any(&wanted))
        .select(mentors::user_id)
        .for_key_share()
        .load(pg)?;
    if held.len() == wanted.len() {
        Ok(())
    } else {
        Err(StorageError::MentorGone)
    }
}

/// Deletes a mentor's dedupe keys, notifications and evaluations, in the
/// transaction that deleted the mentor's row: a writer holding the mentor
/// ([`hold_mentors`]) has committed by then, so its rows are seen and go
/// too.
pub(crate) fn erase_about(c: &mut AnyConnection, user_id: &str) -> QueryResult<()> {
    diesel::delete(notification_keys::table.filter(notification_keys::user_id.eq(user_id)))
        .execute(c)?;
    diesel::delete(notifications::table.filter(notifications::user_id.eq(user_id))).execute(c)?;
    let ids: Vec<String> = evaluations::table
        .filter(evaluations::user_id.eq(user_id))
        .select(evaluations::id)
        .load(c)?;
    unlink_notifications(c, &ids)?;
    diesel::delete(evaluations::table.filter(evaluations::user_id.eq(user_id))).execute(c)?;
    Ok(())
}

/// Unlinks the notifications that name the evaluations `ids` (their
/// `evaluation_id` becomes null: the outbox row stays), before those
/// evaluations are deleted, as the key's `ON DELETE SET NULL` did.
pub(crate) fn unlink_notifications(c: &mut AnyConnection, ids: &[String]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(notifications::table.filter(notifications::evaluation_id.eq_any(ids)))
        .set(notifications::evaluation_id.eq(None::<String>))
        .execute(c)
}
