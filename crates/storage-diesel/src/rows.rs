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
}

macro_rules! binds {
    ($db:ty) => {
        impl Binds for $db {
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
binds!(Sqlite);
binds!(Pg);

/// The values of one row, bound in the order of [`InsertRow::HEAD`]'s
/// columns; [`Values::next`] writes the separating commas.
pub(crate) struct Values<'p, 'a, 'b, DB: Backend> {
    out: &'p mut AstPass<'a, 'b, DB>,
    first: bool,
}

impl<'a, 'b, DB: Binds> Values<'_, 'a, 'b, DB> {
    /// The pass for the next value.
    pub(crate) fn next(&mut self) -> &mut AstPass<'a, 'b, DB> {
        if !std::mem::take(&mut self.first) {
            self.out.push_sql(", ");
        }
        &mut *self.out
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
    /// Binds the row's values, in the order of the columns of `HEAD`.
    fn bind<'b, DB: Binds>(&'b self, values: &mut Values<'_, '_, 'b, DB>) -> QueryResult<()>;
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
            out.push_sql(if i == 0 { "(" } else { ", (" });
            row.bind(&mut Values {
                out: &mut out,
                first: true,
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
            DB::text(v.next(), self.name)?;
            DB::opt_text(v.next(), &self.note)?;
            DB::big(v.next(), &self.n)
        }
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
