//! `mentor-scheduler`: serve the API, or migrate the database.

use std::sync::Arc;

use actix_web::HttpServer;
use anyhow::Context;
use clap::Parser;
use mentor_scheduler_api::config::{Cli, Command};
use mentor_scheduler_api::runtime::RuntimeConfig;
use mentor_scheduler_api::state::AppState;
use scenario_engine::{Rules, SystemClock, UlidIds};
use storage_diesel::Store;

fn init_logging(format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        "json" => builder.json().init(),
        "text" => builder.init(),
        other => anyhow::bail!("unknown log format `{other}`: use `text` or `json`"),
    }
    Ok(())
}

fn rules(cli: &Cli) -> anyhow::Result<Rules> {
    let timezone: chrono_tz::Tz = cli.evaluation_timezone.parse().map_err(|_| {
        anyhow::anyhow!("unknown evaluation time zone `{}`", cli.evaluation_timezone)
    })?;
    Ok(Rules {
        timezone,
        ..Rules::default()
    }
    .with_cooldown_days(cli.cooldown_days)?)
}

/// A redacted form of the database URL for logs: no password.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(&cli.log_format)?;
    let rules = rules(&cli)?;
    let url = cli.database_url.clone();
    let pool_size = cli.db_pool_size;
    let store = actix_web::rt::task::spawn_blocking(move || Store::open(&url, pool_size))
        .await?
        .with_context(|| format!("opening the database {}", redacted(&cli.database_url)))?;
    tracing::info!(database = %redacted(&cli.database_url), backend = store.backend().as_str(), "database ready, migrations applied");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            println!("migrations applied to {}", redacted(&cli.database_url));
            Ok(())
        }
        Command::Serve => {
            anyhow::ensure!(
                (5..=3600).contains(&cli.lease_seconds),
                "--lease-seconds must be between 5 and 3600"
            );
            anyhow::ensure!(
                (1..=36500).contains(&cli.retention_days),
                "--retention-days must be between 1 and 36500"
            );
            let config = RuntimeConfig {
                lease_ttl: chrono::TimeDelta::seconds(i64::from(cli.lease_seconds)),
                retention_days: i64::from(cli.retention_days),
                ..RuntimeConfig::default()
            };
            let state = AppState::with_runtime_config(
                store,
                Arc::new(SystemClock),
                Arc::new(UlidIds::new()),
                rules,
                cli.max_body_bytes,
                config,
            )
            .with_max_import_bytes(cli.max_import_bytes);
            let runtime = state.runtime.clone();
            if actix_web::rt::task::spawn_blocking(move || runtime.seed_default_jobs()).await?? {
                tracing::info!("registered the default jobs");
            }
            actix_web::rt::spawn(mentor_scheduler_api::runtime::scheduler_loop(
                state.runtime.clone(),
            ));
            let mut server =
                HttpServer::new(move || mentor_scheduler_api::build_app(state.clone()));
            if let Some(w) = cli.workers {
                server = server.workers(w);
            }
            let server = server
                .bind(&cli.bind)
                .with_context(|| format!("binding {}", cli.bind))?;
            tracing::info!(bind = %cli.bind, "listening; OpenAPI at /api/v1/openapi.json");
            server.run().await?;
            Ok(())
        }
    }
}
