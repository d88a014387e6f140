//! Throwaway databases for tests (feature `test-support`).
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a template database
//! named after a hash of the migrations (`ms_tpl_<hash>`) is migrated once
//! and shared by every run with the same migrations; every test gets
//! `CREATE DATABASE ms_test_<ulid> TEMPLATE ms_tpl_<hash>`, dropped
//! `WITH (FORCE)` when the [`TestDb`] is dropped. Leftovers of crashed runs
//! are swept on first use.
//!
//! The admin URL comes from `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When PostgreSQL is
//! unreachable, [`TestDb::postgres`] panics under `CI=true` and otherwise
//! prints one notice and returns `None`, so the caller skips.

// Test support: a database that cannot be made is a failed test, so panicking is the point.
#![allow(clippy::expect_used)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::conn::{AnyConnection, migrate};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

fn url_for(admin: &str, db: &str) -> String {
    // Replace the path (the database name) of the admin URL.
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The migrated template for the current PostgreSQL migrations, or `None`
/// when PostgreSQL is unreachable. It is named after a hash of the
/// migrations and shared by every test run with the same migrations; it is
/// built under a temporary name and renamed when fully migrated, so no run
/// clones a half-migrated template.
fn template() -> Option<&'static str> {
    static TEMPLATE: OnceLock<Option<String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let admin = admin_url();
            let mut conn = match PgConnection::establish(&admin) {
                Ok(c) => c,
                Err(e) => {
                    assert!(!in_ci(), "PostgreSQL is required under CI=true but unreachable at {admin}: {e}");
                    eprintln!("notice: PostgreSQL unreachable at {admin} ({e}); PostgreSQL tests are SKIPPED");
                    return None;
                }
            };
            let name = format!("ms_tpl_{}", env!("MS_PG_MIGRATIONS_HASH"));
            sweep_leftovers(&mut conn);
            ensure_template(&mut conn, &admin, &name);
            Some(name)
        })
        .as_deref()
}

/// Builds the template `name` unless it exists: under a temporary name,
/// migrated, then renamed, so that nobody clones a half-migrated template.
fn ensure_template(conn: &mut PgConnection, admin: &str, name: &str) {
    if database_exists(conn, name) {
        return;
    }
    let building = format!("ms_build_{}", ulid::Ulid::new().to_string().to_lowercase());
    conn.batch_execute(&format!("CREATE DATABASE {building}"))
        .expect("create the template database");
    let mut tconn = AnyConnection::Postgres(
        PgConnection::establish(&url_for(admin, &building))
            .expect("connect to the template database"),
    );
    migrate(&mut tconn).expect("migrate the template database");
    drop(tconn);
    // Another run may have finished the same template first: then ours goes.
    if conn
        .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
        .is_err()
    {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"));
    }
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT COUNT(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Found>(conn)
        .is_ok_and(|f| f.n > 0)
}

/// Drops the leftovers of crashed runs, older than an hour by the time in
/// their ULID (younger ones may belong to a run in progress): `ms_test_*`
/// clones and `ms_build_*` half-built templates (and `ms_template_*` of
/// older versions of this code). Templates (`ms_tpl_*`) are kept: one of
/// another migration set may belong to another checkout testing right now
/// on the same server, and there is one per migration set.
fn sweep_leftovers(conn: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let Ok(names) = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'ms\\_test\\_%' OR datname LIKE 'ms\\_build\\_%' OR datname LIKE 'ms\\_template\\_%'",
    )
    .load::<Name>(conn) else {
        return;
    };
    let cutoff = SystemTime::now() - Duration::from_secs(3600);
    for Name { datname } in names {
        let ulid_part = datname
            .rsplit('_')
            .next()
            .unwrap_or_default()
            .to_uppercase();
        let stale = ulid::Ulid::from_string(&ulid_part).is_ok_and(|u| u.datetime() < cutoff);
        if stale {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"));
        }
    }
}

impl TestDb {
    /// A migrated SQLite database in a temporary file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = dir.path().join("test.db").to_string_lossy().into_owned();
        Self {
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database cloned from the migrated template, or
    /// `None` (after a notice) when PostgreSQL is unreachable outside CI.
    pub fn postgres() -> Option<Self> {
        let template = template()?;
        let admin = admin_url();
        let name = format!("ms_test_{}", ulid::Ulid::new().to_string().to_lowercase());
        let mut conn = PgConnection::establish(&admin).expect("connect to PostgreSQL");
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut attempt = 0;
        // Two clones of one template at the same instant can collide; retry
        // briefly. A template dropped under us (by another checkout's sweep
        // on the same server) is built again.
        while let Err(e) = conn.batch_execute(&sql) {
            attempt += 1;
            assert!(attempt < 20, "create test database {name}: {e}");
            if e.to_string().contains("does not exist") {
                ensure_template(&mut conn, &admin, template);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            url: url_for(&admin, &name),
            pg_name: Some(name),
            _dir: None,
        })
    }

    /// A new, empty PostgreSQL database (no migrations applied), dropped
    /// with the value: for tests of the migrations themselves and of
    /// processes that start on an empty database. `None` as
    /// [`TestDb::postgres`] is.
    pub fn postgres_empty() -> Option<Self> {
        template()?;
        let admin = admin_url();
        let name = format!("ms_test_{}", ulid::Ulid::new().to_string().to_lowercase());
        let mut conn = PgConnection::establish(&admin).expect("connect to PostgreSQL");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create an empty test database");
        Some(Self {
            url: url_for(&admin, &name),
            pg_name: Some(name),
            _dir: None,
        })
    }

    /// A copy of this database as it is now, dropped with the value: the
    /// same data for a second, independent run. On PostgreSQL nobody may
    /// be connected to this one meanwhile (it is the copy's template).
    pub fn copy(&self) -> Self {
        match &self.pg_name {
            Some(source) => {
                let admin = admin_url();
                let name = format!("ms_test_{}", ulid::Ulid::new().to_string().to_lowercase());
                let mut conn = PgConnection::establish(&admin).expect("connect to PostgreSQL");
                conn.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {source}"))
                    .expect("copy the test database");
                Self {
                    url: url_for(&admin, &name),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
            None => {
                let copy = Self::sqlite();
                for suffix in ["", "-wal", "-shm"] {
                    let from = format!("{}{suffix}", self.url);
                    if std::path::Path::new(&from).exists() {
                        std::fs::copy(&from, format!("{}{suffix}", copy.url))
                            .expect("copy the SQLite database");
                    }
                }
                copy
            }
        }
    }

    /// The database URL to open.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = PgConnection::establish(&admin_url())
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_for;

    #[test]
    fn url_for_replaces_the_database_name() {
        assert_eq!(
            url_for("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            url_for("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(url_for("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
