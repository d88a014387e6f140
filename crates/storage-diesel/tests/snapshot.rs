//! `Store::snapshot`: several reads on one thread in one read transaction.
//! On SQLite they see one state of the database, whatever commits
//! meanwhile; on PostgreSQL each read runs on its own. Either way every
//! connection goes back to the pool, also when the reads panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

#[allow(
    dead_code,
    reason = "shared with repository.rs; this binary uses part of it"
)]
mod common;

use scenario_engine::service::MentorRepository;
use storage_diesel::testdb::TestDb;
use storage_diesel::{Backend, Store};

use common::{create, t0};

/// Whether `user_id` is there, read through the repository.
fn there(store: &Store, user_id: &str) -> bool {
    store.get_mentor(user_id).unwrap().is_some()
}

/// Deletes `user_id` from another thread, through the store's own writer.
fn delete_elsewhere(store: &Store, user_id: &str) {
    let other = store.clone();
    let user_id = user_id.to_owned();
    std::thread::spawn(move || assert!(other.delete_mentor(&user_id).unwrap()))
        .join()
        .unwrap();
}

fn all_idle(store: &Store) {
    let pool = store.pool_state();
    assert_eq!(pool.idle_connections, pool.connections, "{pool:?}");
}

fn reads_in_a_snapshot_see_one_state(db: &TestDb) {
    let store = Store::open(db.url(), 4).unwrap();
    create(&store, "usr_a", t0());
    create(&store, "usr_b", t0());
    let (before, during) = store.snapshot(|| {
        let before = there(&store, "usr_a");
        delete_elsewhere(&store, "usr_a");
        (before, there(&store, "usr_a"))
    });
    assert!(before);
    match store.backend() {
        // One read transaction: the delete committed after it began.
        Backend::Sqlite => assert!(during, "a read in the snapshot saw a later commit"),
        // Each read on its own: the second sees the delete.
        Backend::Postgres => assert!(!during),
    }
    assert!(
        !there(&store, "usr_a"),
        "after the snapshot, reads see the delete"
    );
    all_idle(&store);

    // A snapshot inside a snapshot is the same one; a write after a
    // snapshot works (no transaction was left open).
    let nested = store.snapshot(|| store.snapshot(|| there(&store, "usr_b")));
    assert!(nested);
    assert!(store.delete_mentor("usr_b").unwrap());
    all_idle(&store);
}

fn a_panic_in_a_snapshot_leaves_the_pool_whole(db: &TestDb) {
    let store = Store::open(db.url(), 2).unwrap();
    create(&store, "usr_a", t0());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.snapshot(|| {
            assert!(there(&store, "usr_a"));
            panic!("a read failed");
        })
    }));
    assert!(panicked.is_err());
    all_idle(&store);
    // The thread holds no snapshot any more: a delete elsewhere is seen.
    delete_elsewhere(&store, "usr_a");
    assert!(!store.snapshot(|| there(&store, "usr_a")));
    create(&store, "usr_a", t0());
    assert!(there(&store, "usr_a"));
    all_idle(&store);
}

#[test]
fn sqlite_reads_in_a_snapshot_see_one_state() {
    reads_in_a_snapshot_see_one_state(&TestDb::sqlite());
}

#[test]
fn postgres_reads_in_a_snapshot_run_each_on_their_own() {
    let Some(db) = TestDb::postgres() else { return };
    reads_in_a_snapshot_see_one_state(&db);
}

#[test]
fn sqlite_a_panic_in_a_snapshot_leaves_the_pool_whole() {
    a_panic_in_a_snapshot_leaves_the_pool_whole(&TestDb::sqlite());
}

#[test]
fn postgres_a_panic_in_a_snapshot_leaves_the_pool_whole() {
    let Some(db) = TestDb::postgres() else { return };
    a_panic_in_a_snapshot_leaves_the_pool_whole(&db);
}
