//! Configuration by flags and environment variables (SPEC section 14).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Default SQLite database, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "./data/mentor-scheduler.db";

/// Mentor Scheduler: decides which peer mentors to nudge, and records why.
#[derive(Debug, Parser)]
#[command(name = "mentor-scheduler", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Database: a SQLite path (`./data/x.db`, `sqlite://...`, `file:...`) or `postgres://...`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Largest accepted JSON body in bytes (413 past it).
    #[arg(long, env = "MENTOR_SCHEDULER_MAX_BODY_BYTES", default_value_t = 1 << 20, global = true)]
    pub max_body_bytes: usize,

    /// Largest accepted NDJSON import body in bytes (`POST /api/v1/mentors/import`; 413 past it).
    #[arg(long, env = "MENTOR_SCHEDULER_MAX_IMPORT_BYTES", default_value_t = crate::import::DEFAULT_MAX_IMPORT_BYTES, global = true)]
    pub max_import_bytes: usize,

    /// IANA time zone in which calendar days are counted.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_EVALUATION_TIMEZONE",
        default_value = "UTC",
        global = true
    )]
    pub evaluation_timezone: String,

    /// Cooldown between two notifications of one scenario to one mentor, in days (0-365).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_COOLDOWN_DAYS",
        default_value_t = 3,
        global = true
    )]
    pub cooldown_days: i64,

    /// Database connections in the pool.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DB_POOL_SIZE",
        default_value_t = 8,
        global = true
    )]
    pub db_pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "MENTOR_SCHEDULER_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// How long a run's lease lasts without renewal, in seconds; a run whose
    /// lease lapses is taken as abandoned.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_LEASE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub lease_seconds: u32,

    /// Days of runs and evaluations the retention job keeps (dedupe keys are kept forever).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_RETENTION_DAYS",
        default_value_t = 180,
        global = true
    )]
    pub retention_days: u32,

    /// Seed 500 demo mentors across 5 organisations at start, into an
    /// empty database only (`serve`; a database with mentors is left alone).
    #[arg(long, env = "MENTOR_SCHEDULER_DEMO", global = true)]
    pub demo: bool,

    /// Log format: `text` or `json`.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: String,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import mentors from an NDJSON file, all or nothing, as
    /// `POST /api/v1/mentors/import` does; bad lines are printed and nothing is written.
    Import {
        /// The file: one mentor JSON object per line.
        file: PathBuf,
    },
    /// Insert generated demo mentors (`usr_demo_0000001` onwards, 5
    /// organisations); refused, writing nothing, when any of their ids exists.
    DemoData {
        /// How many (1-9999999).
        #[arg(long, default_value_t = 500)]
        mentors: u64,
    },
}
