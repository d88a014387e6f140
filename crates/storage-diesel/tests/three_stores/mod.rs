//! The expansion shared by the port contract tests: one `#[test]` per case
//! and store (`memory::case`, `sqlite::case`, `postgres::case`), each case a
//! function taking `&Arc<Store>`. The PostgreSQL arm returns early when
//! `TestDb::postgres` is `None` (a printed notice; never under `CI=true`).

/// `three_store_tests![InMemoryThing::default() => case_a, case_b];`
macro_rules! three_store_tests {
    ($memory:expr => $($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $case() {
                    super::$case(&std::sync::Arc::new($memory));
                }
            )*
        }
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    let db = storage_diesel::testdb::TestDb::sqlite();
                    super::$case(&std::sync::Arc::new(storage_diesel::Store::open(db.url(), 4).unwrap()));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let Some(db) = storage_diesel::testdb::TestDb::postgres() else { return };
                    super::$case(&std::sync::Arc::new(storage_diesel::Store::open(db.url(), 4).unwrap()));
                }
            )*
        }
    };
}
