//! Multi-row `INSERT`s written by hand: the statements a batch of a
//! scenario-evaluation run spends most of its write time in.
//!
//! diesel's `insert_into(t).values(&[row; N])` costs, per bound value, a
//! walk through its `Insertable` tuples three times over (is it a no-op,
//! may it be cached, which `DEFAULT`s does SQLite need) besides the bind
//! itself, and caches the statement only when the row type is `'static`,
//! so every row's strings had to be copied first. Together that was a
//! quarter of the instructions of the thread that commits a run's batches
//! (callgrind; docs/benchmarks.md). A [`Rows`] statement names its SQL and
//! binds each value once, straight from borrowed rows, and is cached per
//! table and row count like diesel's own.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

/// The backends a [`Rows`] statement runs on, with the binds it uses.
pub(crate) trait Binds: Backend {
    /// Binds a `TEXT`.
    fn text<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b str) -> QueryResult<()>;
    /// Binds a nullable `TEXT`.
    fn opt_text<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b Option<&'b str>) -> QueryResult<()>;
    /// Binds a `BIGINT`.
    fn big<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b i64) -> QueryResult<()>;
    /// Binds a nullable `BIGINT`.
    fn opt_big<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b Option<i64>) -> QueryResult<()>;
    /// Binds a `BOOLEAN`.
    fn boolean<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b bool) -> QueryResult<()>;
    /// Refers to the statement's `n`th bound value (from 1) again, without
    /// binding it again: `?n` on SQLite, `$n` on PostgreSQL.
    fn again(out: &mut AstPass<'_, '_, Self>, n: usize);
}

/// The references [`Binds::again`] writes, for the first few values.
const SQLITE_AGAIN: [&str; MAX_SHARED] = ["?1", "?2", "?3", "?4"];
const PG_AGAIN: [&str; MAX_SHARED] = ["$1", "$2", "$3", "$4"];

/// The most values a row may share with the other rows of its statement
/// ([`Values::shared`]).
pub(crate) const MAX_SHARED: usize = 4;

macro_rules! binds {
    ($db:ty, $again:expr) => {
        impl Binds for $db {
            fn again(out: &mut AstPass<'_, '_, Self>, n: usize) {
                out.push_sql($again[n - 1]);
            }
            fn text<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b str) -> QueryResult<()> {
                out.push_bind_param::<Text, str>(v)
            }
            fn opt_text<'b>(
                out: &mut AstPass<'_, 'b, Self>,
                v: &'b Option<&'b str>,
            ) -> QueryResult<()> {
                out.push_bind_param::<Nullable<Text>, _>(v)
            }
            fn big<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b i64) -> QueryResult<()> {
                out.push_bind_param::<BigInt, _>(v)
            }
            fn opt_big<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b Option<i64>) -> QueryResult<()> {
                out.push_bind_param::<Nullable<BigInt>, _>(v)
            }
            fn boolean<'b>(out: &mut AstPass<'_, 'b, Self>, v: &'b bool) -> QueryResult<()> {
                out.push_bind_param::<Bool, _>(v)
            }
        }
    };
}
binds!(Sqlite, SQLITE_AGAIN);
binds!(Pg, PG_AGAIN);

/// The values of one row, bound in the order of [`InsertRow::HEAD`]'s
/// columns: the ones all rows of the statement share ([`Values::shared`],
/// [`Values::again`]), then the row's own ([`Values::own`]); it writes the
/// separating commas.
pub(crate) struct Values<'p, 'a, 'b, DB: Backend> {
    out: &'p mut AstPass<'a, 'b, DB>,
    first_value: bool,
    /// Whether this is the statement's first row, which binds the shared values.
    first_row: bool,
    /// The shared values written in this row so far.
    shared: usize,
    /// Whether a value of the row's own was written (no shared one may follow).
    own: bool,
}

impl<'a, 'b, DB: Binds> Values<'_, 'a, 'b, DB> {
    /// The pass for the next value.
    fn next(&mut self) -> &mut AstPass<'a, 'b, DB> {
        if !std::mem::take(&mut self.first_value) {
            self.out.push_sql(", ");
        }
        &mut *self.out
    }

    /// The row's next value, when every row of the statement has the same
    /// one (a batch's run, its instant): the first row binds it, the
    /// others refer to it again ([`Binds::again`]), so a statement of `N`
    /// rows binds it once instead of `N` times. A row type's shared values
    /// come before its own, in the same order in every row, and its
    /// [`InsertRow::shares_with`] says when two rows have the same ones.
    pub(crate) fn shared(
        &mut self,
        bind: impl FnOnce(&mut AstPass<'a, 'b, DB>) -> QueryResult<()>,
    ) -> QueryResult<()> {
        debug_assert!(!self.own, "a shared value after the row's own ones");
        debug_assert!(
            self.shared < MAX_SHARED,
            "more than MAX_SHARED shared values"
        );
        self.shared += 1;
        let n = self.shared;
        if self.first_row {
            // The first row's first values: the statement's `n`th bind.
            bind(self.next())
        } else {
            DB::again(self.next(), n);
            Ok(())
        }
    }

    /// The value of the row's `n`th shared value (from 1) again, in another
    /// column of the same row.
    pub(crate) fn again(&mut self, n: usize) {
        debug_assert!((1..=self.shared).contains(&n), "not a shared value yet");
        DB::again(self.next(), n);
    }

    /// The pass for the next value of the row's own.
    pub(crate) fn own(&mut self) -> &mut AstPass<'a, 'b, DB> {
        self.own = true;
        self.next()
    }
}

/// A row of a [`Rows`] statement.
pub(crate) trait InsertRow {
    /// `INSERT INTO table (columns) VALUES `.
    const HEAD: &'static str;
    /// What follows the rows: `""`, `" ON CONFLICT DO NOTHING"`, a
    /// `RETURNING` clause. Both backends read the same SQL.
    const TAIL: &'static str;
    /// A `'static` type naming the statement in diesel's statement cache
    /// (with the row count): one per row type.
    type Tag: 'static;
    /// Binds the row's values, in the order of the columns of `HEAD`:
    /// first its [`Values::shared`] ones, then its own ([`Values::own`]).
    fn bind<'b, DB: Binds>(&'b self, values: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()>;
    /// Whether `other` has the same shared values as this row, so that the
    /// two may go into one statement (a batch's rows are split into
    /// statements where it is false); `true` for a row type without shared
    /// values.
    fn shares_with(&self, other: &Self) -> bool;
}

/// A row whose statement returns one column per inserted row.
pub(crate) trait ReturningRow: InsertRow {
    /// The returned column's SQL type.
    type SqlType: diesel::sql_types::SqlType + diesel::sql_types::SingleValue;
}

/// The statement `INSERT ... VALUES (row), (row), ...` of `N` rows.
pub(crate) struct Rows<'a, R, const N: usize>(pub(crate) &'a [R; N]);

/// The cache key of a [`Rows`] statement: its row type's tag and `N`.
pub(crate) struct Shape<T, const N: usize>(PhantomData<T>);

impl<R: InsertRow, const N: usize> QueryId for Rows<'_, R, N> {
    type QueryId = Shape<R::Tag, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<R: InsertRow, DB: Binds, const N: usize> QueryFragment<DB> for Rows<'_, R, N> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(R::HEAD);
        for (i, row) in self.0.iter().enumerate() {
            debug_assert!(
                i == 0 || self.0[0].shares_with(row),
                "rows with other shared values in one statement"
            );
            out.push_sql(if i == 0 { "(" } else { ", (" });
            row.bind(&mut Values {
                out: &mut out,
                first_value: true,
                first_row: i == 0,
                shared: 0,
                own: false,
            })?;
            out.push_sql(")");
        }
        out.push_sql(R::TAIL);
        Ok(())
    }

    // The SQL depends only on `R` and `N`, never on the values.
    fn is_safe_to_cache_prepared(&self, _: &DB) -> QueryResult<bool> {
        Ok(true)
    }

    fn is_noop(&self, _: &DB) -> QueryResult<bool> {
        Ok(N == 0)
    }
}

impl<R: ReturningRow, const N: usize> Query for Rows<'_, R, N> {
    type SqlType = R::SqlType;
}

impl<R, Conn, const N: usize> RunQueryDsl<Conn> for Rows<'_, R, N> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::query_builder::QueryBuilder;

    struct Pair<'a> {
        name: &'a str,
        note: Option<&'a str>,
        n: i64,
    }

    struct PairTag;

    impl InsertRow for Pair<'_> {
        const HEAD: &'static str = "INSERT INTO t (name, note, n) VALUES ";
        const TAIL: &'static str = " ON CONFLICT DO NOTHING";
        type Tag = PairTag;
        fn bind<'b, DB: Binds>(&'b self, v: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()> {
            DB::text(v.own(), self.name)?;
            DB::opt_text(v.own(), &self.note)?;
            DB::big(v.own(), &self.n)
        }
        fn shares_with(&self, _: &Self) -> bool {
            true
        }
    }

    /// A row whose `batch` and `at` are the same in every row of a
    /// statement, and whose `due` is `at` again.
    struct Shared<'a> {
        batch: &'a str,
        at: i64,
        name: &'a str,
    }

    struct SharedTag;

    impl InsertRow for Shared<'_> {
        const HEAD: &'static str = "INSERT INTO s (batch, at, due, name) VALUES ";
        const TAIL: &'static str = "";
        type Tag = SharedTag;
        fn bind<'b, DB: Binds>(&'b self, v: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()> {
            v.shared(|out| DB::text(out, self.batch))?;
            v.shared(|out| DB::big(out, &self.at))?;
            v.again(2);
            DB::text(v.own(), self.name)
        }
        fn shares_with(&self, other: &Self) -> bool {
            (self.batch, self.at) == (other.batch, other.at)
        }
    }

    fn shared_rows() -> [Shared<'static>; 3] {
        ["a", "b", "c"].map(|name| Shared {
            batch: "run_1",
            at: 1_700_000_000_000,
            name,
        })
    }

    fn sql<DB: Binds>(q: &impl QueryFragment<DB>, backend: DB) -> String
    where
        DB::QueryBuilder: Default,
    {
        let mut b = DB::QueryBuilder::default();
        q.to_sql(&mut b, &backend).unwrap();
        b.finish()
    }

    #[test]
    fn rows_write_one_placeholder_per_value_in_column_order() {
        let rows = [
            Pair {
                name: "a",
                note: None,
                n: 1,
            },
            Pair {
                name: "b",
                note: Some("x"),
                n: 2,
            },
        ];
        let q = Rows(&rows);
        assert_eq!(
            sql::<Sqlite>(&q, Sqlite),
            "INSERT INTO t (name, note, n) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            sql::<Pg>(&q, Pg),
            "INSERT INTO t (name, note, n) VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT DO NOTHING"
        );
    }

    #[test]
    fn shared_values_are_bound_in_the_first_row_and_referred_to_in_the_others() {
        let rows = shared_rows();
        let q = Rows(&rows);
        assert_eq!(
            sql::<Sqlite>(&q, Sqlite),
            "INSERT INTO s (batch, at, due, name) VALUES (?, ?, ?2, ?), (?1, ?2, ?2, ?), (?1, ?2, ?2, ?)"
        );
        assert_eq!(
            sql::<Pg>(&q, Pg),
            "INSERT INTO s (batch, at, due, name) VALUES ($1, $2, $2, $3), ($1, $2, $2, $4), ($1, $2, $2, $5)"
        );
    }

    #[test]
    fn rows_with_shared_values_store_every_value_where_it_belongs() {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, SqliteConnection};
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE s (batch TEXT, at BIGINT, due BIGINT, name TEXT)")
            .unwrap();
        let rows = shared_rows();
        assert_eq!(Rows(&rows).execute(&mut c).unwrap(), 3);
        // A second shape after the first: its own statement, its own values.
        let other = [Shared {
            batch: "run_2",
            at: 5,
            name: "d",
        }];
        assert_eq!(Rows(&other).execute(&mut c).unwrap(), 1);
        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Row {
            #[diesel(sql_type = Text)]
            batch: String,
            #[diesel(sql_type = BigInt)]
            at: i64,
            #[diesel(sql_type = BigInt)]
            due: i64,
            #[diesel(sql_type = Text)]
            name: String,
        }
        let stored: Vec<Row> =
            diesel::sql_query("SELECT batch, at, due, name FROM s ORDER BY name")
                .load(&mut c)
                .unwrap();
        let row = |batch: &str, at: i64, name: &str| Row {
            batch: batch.into(),
            at,
            due: at,
            name: name.into(),
        };
        assert_eq!(
            stored,
            [
                row("run_1", 1_700_000_000_000, "a"),
                row("run_1", 1_700_000_000_000, "b"),
                row("run_1", 1_700_000_000_000, "c"),
                row("run_2", 5, "d"),
            ]
        );
    }

    #[test]
    fn each_row_type_and_count_is_its_own_cached_statement() {
        use std::any::TypeId;
        fn query_id_of<T: QueryId>(_: &T) -> Option<TypeId> {
            T::query_id()
        }
        let name = String::from("a");
        let pair = || Pair {
            name: &name,
            note: None,
            n: 1,
        };
        // Rows borrowing a local string still have a static cache key.
        let (one, two) = ([pair()], [pair(), pair()]);
        assert_eq!(
            query_id_of(&Rows(&one)),
            Some(TypeId::of::<Shape<PairTag, 1>>())
        );
        assert_eq!(
            query_id_of(&Rows(&two)),
            Some(TypeId::of::<Shape<PairTag, 2>>())
        );
        assert_ne!(query_id_of(&Rows(&one)), query_id_of(&Rows(&two)));
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&Rows(&one), &Sqlite).unwrap());
    }
}
