//! The API tests: one binary, one module per resource. Each test starts the
//! real server (`build_app` on `127.0.0.1:0`) over a fresh database and talks
//! to it with `reqwest`; every case runs on SQLite and on PostgreSQL
//! (`sqlite::name` and `postgres::name`).

mod helpers;

mod access;
mod certification_cron;
mod cron_jobs;
mod dashboard;
mod errors;
mod evaluations;
mod invocations;
mod limits;
mod mentor_import;
mod mentors;
mod notifications;
mod openapi;
mod routes;
mod runs;
mod scheduler_jobs;
mod schedules;
mod scheduling;
mod snapshots;
mod standard_webhooks;
