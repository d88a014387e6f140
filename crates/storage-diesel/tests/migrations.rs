//! Migrations when several processes start together, and a database that
//! a newer version migrated, on SQLite and PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::{Arc, Barrier};

use diesel::connection::SimpleConnection;
use storage_diesel::Store;
use storage_diesel::testdb::TestDb;

/// Four stores opened at the same instant on one empty database all come
/// up, and the database ends fully migrated.
fn stores_opened_together_on_an_empty_database_all_come_up(url: &str) {
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, barrier) = (url.to_owned(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                Store::open(&url, 1).map(|_| ()).map_err(|e| {
                    let mut chain = e.to_string();
                    let mut source = std::error::Error::source(&e);
                    while let Some(s) = source {
                        chain.push_str(&format!(": {s}"));
                        source = s.source();
                    }
                    chain
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    assert!(Store::open(url, 1).unwrap().ready().unwrap());
}

#[test]
fn stores_opened_together_on_an_empty_sqlite_database_all_come_up() {
    let db = TestDb::sqlite();
    stores_opened_together_on_an_empty_database_all_come_up(db.url());
}

#[test]
fn stores_opened_together_on_an_empty_postgres_database_all_come_up() {
    let Some(db) = TestDb::postgres_empty() else {
        return;
    };
    stores_opened_together_on_an_empty_database_all_come_up(db.url());
}

/// A database with a migration this build does not know (a newer version
/// migrated it) is refused with a message that names it.
fn a_database_from_a_newer_version_is_refused(url: &str) {
    let store = Store::open(url, 1).unwrap();
    store
        .conn()
        .unwrap()
        .batch_execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000001')")
        .unwrap();
    drop(store);
    let refused = Store::open(url, 1).err().expect("refused");
    let message = refused.to_string();
    assert!(
        message.contains("29991231000001") && message.contains("newer version"),
        "{message}"
    );
}

#[test]
fn a_sqlite_database_from_a_newer_version_is_refused() {
    let db = TestDb::sqlite();
    a_database_from_a_newer_version_is_refused(db.url());
}

#[test]
fn a_postgres_database_from_a_newer_version_is_refused() {
    let Some(db) = TestDb::postgres() else { return };
    a_database_from_a_newer_version_is_refused(db.url());
}
