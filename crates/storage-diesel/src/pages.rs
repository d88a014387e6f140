//! A page of a list read newest first along its ids (ids carry their
//! instant, migration 000009), with its total: the evaluation and the
//! notification lists, which share every rule of it.
//!
//! The pages every dashboard reads, the whole list and one mentor's, are
//! one statement of a fixed shape on the concrete connection, which comes
//! from diesel's statement cache as it is, with the total selected beside
//! each row (`totals::KeptTotal`, `totals::MentorTotal`); the other
//! filters build a boxed query, whose SQL is written again at every call,
//! and count their matches in the same read transaction.

/// The rows of a page of `$table` (the schema module) from `$rows`, a query
/// of a fixed shape, each with `$total`, a scalar subquery giving the
/// page's total: after the cursor `$after` when there is one, a range of
/// the `id` order the page is read in, so no row before it is read; newest
/// first. One statement, so one snapshot of the table, one read lock on
/// SQLite and no transaction around them.
macro_rules! counted_page {
    ($c:ident, $table:ident, $row:ty, $rows:expr, $total:expr, $after:expr, $limit:expr, $offset:expr) => {
        match $after {
            Some(after) => $crate::conn::per_backend!($c, |c| $rows
                .filter($table::id.lt(after))
                .order($table::id.desc())
                .limit($limit)
                .offset($offset)
                .select(($total, <$row>::as_select()))
                .load::<(Option<i64>, $row)>(c))?,
            None => $crate::conn::per_backend!($c, |c| $rows
                .order($table::id.desc())
                .limit($limit)
                .offset($offset)
                .select(($total, <$row>::as_select()))
                .load::<(Option<i64>, $row)>(c))?,
        }
    };
}
pub(crate) use counted_page;

/// `(total, rows)` of the page `$page` of `$table` (the schema module,
/// counted as `$counted`) under `$filter`, whose `filtered` function
/// builds the boxed query of any other filter. Its `?` leaves the
/// enclosing closure with a `StorageError`.
///
/// The pages every dashboard reads, the whole list and one mentor's, are
/// one statement that carries the total in each row
/// ([`counted_page`]); only when such a page is empty (past the end) are
/// the total and the rows read again, in one transaction, as every other
/// filter's page is.
macro_rules! newest_first_page {
    ($c:ident, $table:ident, $row:ty, $counted:expr, $filter:expr, $filtered:path, $page:expr) => {{
        let filter = $filter;
        let mentor = filter.user_id.as_deref().filter(|_| filter.is_one_mentor());
        let limit = i64::from($page.limit);
        let offset = i64::try_from($page.offset()).unwrap_or(i64::MAX);
        // The page of a fixed shape with its total in each row, or `None`
        // for any other filter.
        let fixed = |c: &mut $crate::conn::AnyConnection| {
            let page: Option<Vec<(Option<i64>, $row)>> = if filter.is_unfiltered() {
                Some($crate::pages::counted_page!(
                    c,
                    $table,
                    $row,
                    $table::table,
                    $crate::totals::KeptTotal::of($table::table),
                    &filter.after,
                    limit,
                    offset
                ))
            } else if let Some(user) = mentor {
                Some($crate::pages::counted_page!(
                    c,
                    $table,
                    $row,
                    $table::table.filter($table::user_id.eq(user)),
                    $crate::totals::MentorTotal::of($table::table, user),
                    &filter.after,
                    limit,
                    offset
                ))
            } else {
                None
            };
            Ok::<_, $crate::error::StorageError>(page)
        };
        match fixed($c)? {
            Some(counted) if !counted.is_empty() => {
                let total = u64::try_from(counted[0].0.unwrap_or(0)).unwrap_or(0);
                (total, counted.into_iter().map(|(_, row)| row).collect())
            }
            _ => $c.transaction(
                |c| -> Result<(u64, Vec<$row>), $crate::error::StorageError> {
                    let total =
                        $crate::totals::list_total(c, $counted, filter.is_unfiltered(), |c| {
                            match mentor {
                                Some(user) => $crate::conn::per_backend!(c, |c| $table::table
                                    .filter($table::user_id.eq(user))
                                    .count()
                                    .get_result(c)),
                                None => $filtered(filter).count().get_result(c),
                            }
                        })?;
                    let rows: Vec<$row> = match fixed(c)? {
                        Some(counted) => counted.into_iter().map(|(_, row)| row).collect(),
                        None => {
                            let mut q = $filtered(filter);
                            if let Some(after) = &filter.after {
                                q = q.filter($table::id.lt(after));
                            }
                            q.order($table::id.desc())
                                .limit(limit)
                                .offset(offset)
                                .select(<$row>::as_select())
                                .load(c)?
                        }
                    };
                    Ok((total, rows))
                },
            )?,
        }
    }};
}
pub(crate) use newest_first_page;
