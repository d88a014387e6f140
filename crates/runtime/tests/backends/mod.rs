//! The expansion shared by the test binaries that run against a bare
//! database rather than the API test server (`runtime.rs`): each
//! `async fn case(db: &TestDb)` becomes `sqlite::case` and `postgres::case`.
//! The PostgreSQL arm returns early when `TestDb::postgres` is `None` (a
//! printed notice; never under `CI=true`).

/// `db_tests![case_a, case_b];`
macro_rules! db_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = storage_diesel::testdb::TestDb::sqlite();
                    super::$case(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = storage_diesel::testdb::TestDb::postgres() else { return };
                    super::$case(&db).await;
                }
            )*
        }
    };
}
