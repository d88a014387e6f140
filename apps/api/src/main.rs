//! `mentor-scheduler`: serve the API (the default), migrate the database,
//! import mentors from NDJSON, or insert demo mentors.

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::HttpServer;
use anyhow::Context;
use clap::Parser;
use mentor_scheduler_api::config::{Cli, Command};
use mentor_scheduler_api::demo;
use mentor_scheduler_api::import::NdjsonLines;
use mentor_scheduler_api::shutdown::{Signals, drain_on_signal};
use mentor_scheduler_api::state::AppState;
use runtime::{Ports, Runtime, RuntimeConfig};
use scenario_engine::adapters::SystemClock;
use scenario_engine::rules::truncate_to_seconds;
use scenario_engine::service::{Clock, ImportOutcome, MentorService};
use storage_diesel::{Backend, Store};

/// mimalloc instead of the system allocator: a scenario-evaluation run
/// allocates and frees many small strings per decision, and glibc's
/// allocator was a quarter of a run's time (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logging(format: &str, to_stderr: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours for a person at a terminal only: a log file or a collector
    // gets plain text.
    let terminal = if to_stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(terminal);
    match (format, to_stderr) {
        ("json", false) => builder.json().init(),
        ("json", true) => builder.json().with_writer(std::io::stderr).init(),
        ("text", false) => builder.init(),
        ("text", true) => builder.with_writer(std::io::stderr).init(),
        (other, _) => anyhow::bail!("unknown log format `{other}`: use `text` or `json`"),
    }
    Ok(())
}

/// A database URL fit for logs: its password and every query parameter
/// that may hold a secret masked, found by parsing the URL (a SQLite path
/// is shown as it is).
fn redacted(url: &str) -> String {
    mentor_scheduler_api::observe::redacted_database_url(url)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    let command = cli.command.take().unwrap_or(Command::Serve);
    // One-shot commands print their result on stdout; their logs go to stderr.
    init_logging(&cli.log_format, !matches!(command, Command::Serve))?;
    anyhow::ensure!(
        !cli.demo || matches!(command, Command::Serve),
        "--demo seeds an empty database when the service starts (serve); use `demo-data --mentors N` to insert demo mentors otherwise"
    );
    // Checked before the database is opened: a bad setting fails at once.
    cli.rules()?;
    let url = cli.database_url.clone();
    let pool_size = cli.db_pool_size;
    let store = blocking(move || Store::open(&url, pool_size))
        .await?
        .with_context(|| format!("opening the database {}", redacted(&cli.database_url)))?;
    tracing::info!(database = %redacted(&cli.database_url), backend = store.backend().as_str(), "database ready, migrations applied");
    match command {
        Command::Migrate => {
            println!("migrations applied to {}", redacted(&cli.database_url));
            Ok(())
        }
        Command::Import { file } => import(&cli, store, file).await,
        Command::DemoData { mentors } => {
            let started = std::time::Instant::now();
            let now = truncate_to_seconds(SystemClock.now());
            let n = blocking(move || demo::insert_demo_mentors(&store, mentors, now)).await??;
            println!(
                "inserted {n} demo mentors (usr_demo_0000001 to {}) across {} in {:.2} s",
                scenario_engine::adapters::demo_user_id(n),
                demo::organisations(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Serve => serve(cli, store).await,
    }
}

/// Runs blocking work (the database, files) off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    Ok(actix_web::rt::task::spawn_blocking(f).await?)
}

/// `mentor-scheduler import FILE`: the endpoint's path (`MentorService::import`
/// over `NdjsonLines`) on a local file. Bad lines go to stderr as
/// `FILE:LINE: code: message`, and the exit status is 1.
async fn import(cli: &Cli, store: Store, file: PathBuf) -> anyhow::Result<()> {
    let opened =
        std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
    let mentors = MentorService::new(Arc::new(store), Arc::new(SystemClock));
    let mut lines = NdjsonLines::new(opened, cli.max_body_bytes);
    let outcome = blocking(move || mentors.import(&mut lines))
        .await?
        .with_context(|| format!("importing {}", file.display()))?;
    match outcome {
        ImportOutcome::Imported(c) => {
            println!(
                "imported {} mentors from {}: {} created, {} updated",
                c.imported(),
                file.display(),
                c.created,
                c.updated
            );
            Ok(())
        }
        ImportOutcome::Rejected(r) => {
            for (line, e) in &r.errors {
                eprintln!("{}:{line}: {}: {e}", file.display(), e.code());
            }
            if r.truncated() {
                eprintln!(
                    "... and {} more bad lines",
                    r.error_count - r.errors.len() as u64
                );
            }
            anyhow::bail!(
                "{} has {} bad line(s); nothing was imported",
                file.display(),
                r.error_count
            )
        }
    }
}

async fn serve(cli: Cli, store: Store) -> anyhow::Result<()> {
    // The runs, the scheduler loop and the notification worker get a pool
    // of connections apart from the handlers' (docs/operations.md, "Load
    // bounds"): each run thread, the reader and the other committing
    // threads of a scenario run, the tick, the notification worker and
    // the lease keeper hold one at a time.
    let commit_threads = cli.commit_threads.unwrap_or(match store.backend() {
        Backend::Postgres => 2,
        Backend::Sqlite => 1,
    });
    let run_pool_size = cli.db_run_pool_size.unwrap_or(
        u32::try_from(cli.run_threads.saturating_add(commit_threads))
            .unwrap_or(u32::MAX)
            .saturating_add(3),
    );
    let runs_store = {
        let store = store.clone();
        blocking(move || store.with_own_pool(run_pool_size))
            .await?
            .context("opening the runs' database connections")?
    };
    let config = RuntimeConfig {
        max_jobs: cli.max_jobs,
        run_threads: cli.run_threads,
        commit_threads,
        run_ports: Some(Ports::of(Arc::new(runs_store.clone()))),
        ..cli.runtime_config(Ports::of(Arc::new(store.clone())))?
    };
    let http = cli.http_settings()?;
    let drain = cli.drain.limit()?;
    cli.check_exposure(&http.tokens)?;
    if cli.demo {
        let seed = store.clone();
        let now = truncate_to_seconds(SystemClock.now());
        if blocking(move || demo::seed_if_empty(&seed, now)).await?? {
            tracing::info!(
                mentors = demo::DEMO_SEED_MENTORS,
                organisations = %demo::organisations(),
                "--demo: seeded demo mentors into the empty database"
            );
        } else {
            tracing::info!("--demo: the database already has mentors, so it is left alone");
        }
    }
    // The instance id names this process in run leases; the host name
    // is logged beside it, for people.
    tracing::info!(instance = %config.owner, host = %runtime::hostname(), pid = std::process::id(), "instance started");
    let runtime = Arc::new(Runtime::new(config));
    let seeding = runtime.clone();
    if blocking(move || seeding.seed_default_jobs()).await?? {
        tracing::info!("registered the default jobs");
    }
    actix_web::rt::spawn(runtime::scheduler_loop(runtime.clone()));
    let delivery = runtime.delivery.clone();
    let state = AppState::new(runtime, store, http).with_runs_store(runs_store);
    let worker = actix_web::rt::spawn(delivery.clone().run());
    // Signals are ours, not actix's: the first drains (shutdown.rs), a
    // second exits at once.
    let signals = Signals::listen().context("listening for SIGTERM and SIGINT")?;
    let draining = state.runtime.clone();
    let mut server = HttpServer::new(move || mentor_scheduler_api::build_app(state.clone()))
        .disable_signals()
        .shutdown_timeout(drain.as_secs());
    if let Some(w) = cli.workers {
        server = server.workers(w);
    }
    let server = server
        .bind(&cli.bind)
        .with_context(|| format!("binding {}", cli.bind))?
        .run();
    actix_web::rt::spawn(drain_on_signal(signals, draining, server.handle(), drain));
    tracing::info!(bind = %cli.bind, "listening; OpenAPI at /api/v1/openapi.json");
    server.await?;
    // Drained: let the worker write the outcomes of the delivery in hand;
    // anything still claimed after this is retried by another instance
    // once its claim lapses. The drain's bound still holds (shutdown.rs).
    delivery.shutdown();
    let grace = delivery.claim_ttl();
    if actix_web::rt::time::timeout(grace, worker).await.is_err() {
        tracing::warn!(
            ?grace,
            "the notification worker did not stop in time; its claims lapse and are retried"
        );
    }
    Ok(())
}
