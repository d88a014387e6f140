//! Stopping the service: the first `SIGTERM` or `SIGINT` drains (readiness
//! answers 503, nothing fires or starts, runs stop after their batch in
//! flight and release their leases, then the HTTP server stops taking
//! requests and the notification worker finishes its delivery in hand),
//! all within `--drain-seconds`; a second signal, or the end of that time,
//! exits at once.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use runtime::Runtime;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The drain settings.
#[derive(Debug, Clone, clap::Args)]
pub struct DrainArgs {
    /// Seconds a stopping instance (SIGTERM, SIGINT) takes at most to hand its runs over and stop; a second signal exits at once.
    #[arg(
        long,
        env = "MENTOR_SCHEDULER_DRAIN_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub drain_seconds: u32,
}

impl DrainArgs {
    /// The drain's bound.
    ///
    /// # Errors
    /// Out of 1 to 3600 seconds.
    pub fn limit(&self) -> anyhow::Result<Duration> {
        anyhow::ensure!(
            (1..=3600).contains(&self.drain_seconds),
            "--drain-seconds must be between 1 and 3600"
        );
        Ok(Duration::from_secs(u64::from(self.drain_seconds)))
    }
}

/// The signals that stop the service.
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    /// Listens for `SIGTERM` and `SIGINT` from now on.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the next signal, when it comes.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// Waits for the first signal, then drains `runtime` and stops `server`
/// within `limit`; a second signal or the end of `limit` exits the
/// process at once.
pub async fn drain_on_signal(
    mut signals: Signals,
    runtime: Arc<Runtime>,
    server: ServerHandle,
    limit: Duration,
) {
    let first = signals.next().await;
    tracing::info!(
        signal = first,
        limit_seconds = limit.as_secs(),
        "draining before exit; a second signal exits at once"
    );
    actix_web::rt::spawn(async move {
        tokio::select! {
            second = signals.next() => {
                tracing::warn!(signal = second, "second signal: exiting at once; unreleased leases lapse");
                std::process::exit(130);
            }
            () = actix_web::rt::time::sleep(limit) => {
                tracing::error!(limit_seconds = limit.as_secs(), "the drain took too long: exiting; unreleased leases lapse");
                std::process::exit(1);
            }
        }
    });
    let draining = runtime.clone();
    let idle = actix_web::rt::task::spawn_blocking(move || {
        draining.drain();
        draining.wait_idle(limit)
    })
    .await
    .unwrap_or(false);
    tracing::info!(
        runs_stopped = idle,
        "draining: runs handed over; stopping the HTTP server"
    );
    server.stop(true).await;
}
