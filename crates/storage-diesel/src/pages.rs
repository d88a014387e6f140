//! A page of a list read newest first along its ids (ids carry their
//! instant, migration 000009), with its total: the evaluation and the
//! notification lists, which share every rule of it.
//!
//! The pages every dashboard reads, the whole list and one mentor's, run
//! statements of a fixed shape on the concrete connection, which come from
//! diesel's statement cache as they are; the other filters build a boxed
//! query, whose SQL is written again at every call.

/// The rows of a page of `$table` (the schema module) from `$rows`, a query
/// of a fixed shape: after the cursor `$after` when there is one, a range
/// of the `id` order the page is read in, so no row before it is read;
/// newest first.
macro_rules! fixed_page {
    ($c:ident, $table:ident, $row:ty, $rows:expr, $after:expr, $limit:expr, $offset:expr) => {
        match $after {
            Some(after) => $crate::conn::per_backend!($c, |c| $rows
                .filter($table::id.lt(after))
                .order($table::id.desc())
                .limit($limit)
                .offset($offset)
                .select(<$row>::as_select())
                .load(c))?,
            None => $crate::conn::per_backend!($c, |c| $rows
                .order($table::id.desc())
                .limit($limit)
                .offset($offset)
                .select(<$row>::as_select())
                .load(c))?,
        }
    };
}
pub(crate) use fixed_page;

/// `(total, rows)` of the page `$page` of `$table` (the schema module,
/// counted as `$counted`) under `$filter`, whose `filtered` function
/// builds the boxed query of any other filter. Its `?` leaves the
/// enclosing closure with a `StorageError`.
macro_rules! newest_first_page {
    ($c:ident, $table:ident, $row:ty, $counted:expr, $filter:expr, $filtered:path, $page:expr) => {{
        let filter = $filter;
        let mentor = filter.user_id.as_deref().filter(|_| filter.is_one_mentor());
        let total =
            $crate::totals::list_total($c, $counted, filter.is_unfiltered(), |c| match mentor {
                Some(user) => $crate::conn::per_backend!(c, |c| $table::table
                    .filter($table::user_id.eq(user))
                    .count()
                    .get_result(c)),
                None => $filtered(filter).count().get_result(c),
            })?;
        let limit = i64::from($page.limit);
        let offset = i64::try_from($page.offset()).unwrap_or(i64::MAX);
        let rows: Vec<$row> = if filter.is_unfiltered() {
            $crate::pages::fixed_page!(
                $c,
                $table,
                $row,
                $table::table,
                &filter.after,
                limit,
                offset
            )
        } else if let Some(user) = mentor {
            $crate::pages::fixed_page!(
                $c,
                $table,
                $row,
                $table::table.filter($table::user_id.eq(user)),
                &filter.after,
                limit,
                offset
            )
        } else {
            let mut q = $filtered(filter);
            if let Some(after) = &filter.after {
                q = q.filter($table::id.lt(after));
            }
            q.order($table::id.desc())
                .limit(limit)
                .offset(offset)
                .select(<$row>::as_select())
                .load($c)?
        };
        (total, rows)
    }};
}
pub(crate) use newest_first_page;
