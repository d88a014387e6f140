//! Configuration by flags and environment variables (docs/operations.md,
//! "Configuration").

use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use runtime::{DeliveryConfig, LogSink, Ports, RuntimeConfig, Sink};
use scenario_engine::rules::Rules;
use scenario_engine::service::{DeliveryWindow, RetryPolicy};

use anyhow::Context;

use crate::access::{TokenList, Tokens};
use crate::state::{BodyLimits, HttpSettings};
use crate::webhook::{Secret, SinkError, WebhookSink};

/// Default SQLite database, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "./data/mentor-scheduler.db";

/// Mentor Scheduler: decides which peer mentors to nudge, and records why.
#[derive(Debug, Parser)]
#[command(name = "mentor-scheduler", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub drain: crate::shutdown::DrainArgs,

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
    #[arg(long, env = "MENTOR_SCHEDULER_MAX_BODY_BYTES", default_value_t = crate::state::DEFAULT_MAX_BODY_BYTES, global = true)]
    pub max_body_bytes: usize,

    /// Largest accepted NDJSON import body in bytes (`POST /api/v1/mentors/import`; 413 past it).
    #[arg(long, env = "MENTOR_SCHEDULER_MAX_IMPORT_BYTES", default_value_t = crate::state::DEFAULT_MAX_IMPORT_BYTES, global = true)]
    pub max_import_bytes: usize,

    /// NDJSON imports in progress at once (1-64); one more is a 429 with `Retry-After`.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_MAX_CONCURRENT_IMPORTS",
        default_value_t = crate::state::DEFAULT_MAX_CONCURRENT_IMPORTS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64),
        global = true
    )]
    pub max_concurrent_imports: usize,

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

    /// Database connections of the HTTP handlers (the runs have a pool of their own, --db-run-pool-size).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DB_POOL_SIZE",
        default_value_t = 8,
        global = true
    )]
    pub db_pool_size: u32,

    /// Database connections of the runs, the scheduler loop and the
    /// notification worker, a pool apart from the handlers' (default:
    /// --run-threads + --commit-threads + 3).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DB_RUN_POOL_SIZE",
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    pub db_run_pool_size: Option<u32>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "MENTOR_SCHEDULER_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Threads that process runs at once (1-64); more runs wait their turn, `running`.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_RUN_THREADS",
        default_value_t = runtime::DEFAULT_RUN_THREADS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64),
        global = true
    )]
    pub run_threads: usize,

    /// Threads that commit a scenario-evaluation run's batches at once, each
    /// on its own connection (1-8; default: 2 on PostgreSQL, 1 on SQLite,
    /// which has one writer at a time).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_COMMIT_THREADS",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=8),
        global = true
    )]
    pub commit_threads: Option<usize>,

    /// How long a run's lease lasts without renewal, in seconds; a run whose
    /// lease lapses is taken as abandoned.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_LEASE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub lease_seconds: u32,

    /// Days of runs, evaluations, delivered and cancelled notifications and activity events that retention keeps (dedupe keys are kept forever).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_RETENTION_DAYS",
        default_value_t = 180,
        global = true
    )]
    pub retention_days: u32,

    /// The most jobs that can be registered (1-1000000); creating one more is a 422.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_MAX_JOBS",
        default_value_t = scheduler_core::DEFAULT_MAX_JOBS,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000),
        global = true
    )]
    pub max_jobs: u64,

    /// Where notifications go: `log` or `webhook` (default: `webhook` when
    /// a webhook URL is set, else `log`).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_NOTIFICATION_SINK",
        value_enum,
        global = true
    )]
    pub notification_sink: Option<SinkKind>,

    /// The webhook sink's URL (`http://` or `https://`).
    #[arg(long, env = "MENTOR_SCHEDULER_WEBHOOK_URL", global = true)]
    pub webhook_url: Option<String>,

    /// The webhook signing secret: `whsec_` and the base64 of 24-64 random
    /// bytes; during a rotation the new and the old one, separated by a space
    /// or a comma (prefer the environment variable: flags show in process lists).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_WEBHOOK_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub webhook_secret: Option<Secret>,

    /// How long one webhook call may take, in seconds (1-60).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_WEBHOOK_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub webhook_timeout_seconds: u64,

    /// Delivery attempts of one notification before it is `failed` (1-100).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DELIVERY_MAX_ATTEMPTS",
        default_value_t = 8,
        global = true
    )]
    pub delivery_max_attempts: i64,

    /// The first retry's backoff in milliseconds (1-3600000); each further
    /// retry doubles it, with jitter, up to 10 minutes.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DELIVERY_BACKOFF_BASE_MS",
        default_value_t = 1000,
        global = true
    )]
    pub delivery_backoff_base_ms: i64,

    /// Local hours of delivery in the evaluation time zone, `HH:MM-HH:MM`
    /// (`22:00-06:00` wraps midnight); unset delivers around the clock.
    #[arg(long, env = "MENTOR_SCHEDULER_DELIVERY_WINDOW", global = true)]
    pub delivery_window: Option<String>,

    /// Notifications the worker claims per batch (1-500).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DELIVERY_BATCH_SIZE",
        default_value_t = 50,
        global = true
    )]
    pub delivery_batch_size: u32,

    /// Seed 500 demo mentors across 5 organisations at start, into an
    /// empty database only (`serve`; a database with mentors is left alone).
    #[arg(long, env = "MENTOR_SCHEDULER_DEMO", global = true)]
    pub demo: bool,

    /// Bearer tokens that may do everything, comma-separated, each at least
    /// 16 bytes (use the environment variable: flags show in process lists).
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_ADMIN_TOKENS",
        hide_env_values = true,
        global = true
    )]
    pub admin_tokens: Option<TokenList>,

    /// Bearer tokens that may only read (`GET`, `HEAD`), comma-separated.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_READ_TOKENS",
        hide_env_values = true,
        global = true
    )]
    pub read_tokens: Option<TokenList>,

    /// Serve a non-loopback address without any token: everyone who reaches
    /// the port may do everything. Refused without this flag.
    #[arg(long, env = "MENTOR_SCHEDULER_INSECURE", global = true)]
    pub insecure: bool,

    /// Log format: `text` or `json`.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: String,
}

/// The notification sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SinkKind {
    /// A structured log line per notification.
    Log,
    /// A signed POST to `MENTOR_SCHEDULER_WEBHOOK_URL`.
    Webhook,
}

/// Why the delivery settings were refused (a startup error).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryConfigError {
    /// The sink could not be set up.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A bad `MENTOR_SCHEDULER_DELIVERY_WINDOW`.
    #[error(transparent)]
    Window(#[from] scenario_engine::service::InvalidWindow),
    /// Attempts or backoff out of bounds.
    #[error("delivery settings: {0}")]
    Policy(#[from] scenario_engine::rules::OutOfRange),
    /// Another number out of bounds.
    #[error("--{flag} must be between {min} and {max}, got {value}")]
    Bound {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: u64,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
}

fn bounded(
    flag: &'static str,
    value: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, DeliveryConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(DeliveryConfigError::Bound {
            flag,
            value,
            min: *range.start(),
            max: *range.end(),
        })
    }
}

impl Cli {
    /// The delivery worker's settings. The sink is `webhook` when
    /// `--notification-sink webhook` says so or, without that flag, when a
    /// webhook URL is set; else `log`.
    ///
    /// # Errors
    /// [`DeliveryConfigError`] for a webhook without URL or secret, a bad
    /// URL, window or number: the service refuses to start.
    pub fn delivery(&self) -> Result<DeliveryConfig, DeliveryConfigError> {
        let timeout = Duration::from_secs(bounded(
            "webhook-timeout-seconds",
            self.webhook_timeout_seconds,
            1..=60,
        )?);
        let batch_size = bounded(
            "delivery-batch-size",
            u64::from(self.delivery_batch_size),
            1..=500,
        )?;
        let kind = self
            .notification_sink
            .unwrap_or(if self.webhook_url.is_some() {
                SinkKind::Webhook
            } else {
                SinkKind::Log
            });
        let sink: Arc<dyn Sink> = match kind {
            SinkKind::Log => Arc::new(LogSink),
            SinkKind::Webhook => {
                let url = self.webhook_url.as_deref().ok_or(SinkError::MissingUrl)?;
                let secret = self
                    .webhook_secret
                    .as_ref()
                    .ok_or(SinkError::MissingSecret)?;
                Arc::new(WebhookSink::new(url, secret, timeout)?)
            }
        };
        Ok(DeliveryConfig {
            sink,
            policy: RetryPolicy::new(self.delivery_max_attempts, self.delivery_backoff_base_ms)?,
            window: self
                .delivery_window
                .as_deref()
                .filter(|w| !w.trim().is_empty())
                .map(DeliveryWindow::parse)
                .transpose()?,
            batch_size: u32::try_from(batch_size).unwrap_or(runtime::DEFAULT_DELIVERY_BATCH_SIZE),
            claim_ttl: runtime::claim_ttl_for(timeout),
            idle_poll: runtime::DEFAULT_IDLE_POLL,
        })
    }

    /// The decision rules: the evaluation time zone and the cooldown.
    ///
    /// # Errors
    /// An unknown zone, or a cooldown outside 0-365 days.
    pub fn rules(&self) -> anyhow::Result<Rules> {
        let timezone: chrono_tz::Tz = self.evaluation_timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown evaluation time zone `{}`",
                self.evaluation_timezone
            )
        })?;
        Ok(Rules {
            timezone,
            ..Rules::default()
        }
        .with_cooldown_days(self.cooldown_days)?)
    }

    /// Everything the runtime is built from, over `ports`: the rules, the
    /// lease and retention settings, and the notification worker's.
    ///
    /// # Errors
    /// A setting out of bounds or a sink that cannot be set up: the service
    /// refuses to start.
    pub fn runtime_config(&self, ports: Ports) -> anyhow::Result<RuntimeConfig> {
        anyhow::ensure!(
            (5..=3600).contains(&self.lease_seconds),
            "--lease-seconds must be between 5 and 3600"
        );
        anyhow::ensure!(
            (1..=36500).contains(&self.retention_days),
            "--retention-days must be between 1 and 36500"
        );
        Ok(RuntimeConfig {
            rules: self.rules()?,
            lease_ttl: chrono::TimeDelta::seconds(i64::from(self.lease_seconds)),
            retention_days: i64::from(self.retention_days),
            delivery: self.delivery()?,
            ..RuntimeConfig::new(ports)
        })
    }
}

impl Cli {
    /// The HTTP shell's settings: body limits and tokens.
    ///
    /// # Errors
    /// A token that is too short or unprintable.
    pub fn http_settings(&self) -> anyhow::Result<HttpSettings> {
        let tokens = Tokens::new(
            self.admin_tokens.as_ref().map(TokenList::expose),
            self.read_tokens.as_ref().map(TokenList::expose),
        )?;
        Ok(HttpSettings {
            limits: BodyLimits {
                max_body_bytes: self.max_body_bytes,
                max_import_bytes: self.max_import_bytes,
                max_concurrent_imports: self.max_concurrent_imports,
            },
            tokens,
        })
    }

    /// Refuses to serve a non-loopback `--bind` without tokens, unless
    /// `--insecure` says so; says in the log which it is.
    ///
    /// # Errors
    /// An address that does not resolve, or the refusal.
    pub fn check_exposure(&self, tokens: &Tokens) -> anyhow::Result<()> {
        if tokens.configured() {
            tracing::info!("authentication is on: bearer tokens required (but /healthz, /readyz)");
            return Ok(());
        }
        let loopback = crate::access::loopback_only(&self.bind)
            .with_context(|| format!("resolving --bind {}", self.bind))?;
        if loopback {
            tracing::warn!(bind = %self.bind, "authentication is off (no tokens configured): serving loopback only");
            return Ok(());
        }
        anyhow::ensure!(
            self.insecure,
            "--bind {} is reachable from other machines, and no token is configured: set MENTOR_SCHEDULER_ADMIN_TOKENS (and MENTOR_SCHEDULER_READ_TOKENS), or bind 127.0.0.1, or pass --insecure to serve everyone without authentication",
            self.bind
        );
        tracing::warn!(bind = %self.bind, "authentication is off and --insecure was given: anyone who reaches this address may do everything");
        Ok(())
    }
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

#[cfg(test)]
mod tests;
