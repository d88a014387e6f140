//! The webhook sink: a POST of each notification's payload to one URL,
//! signed as the Standard Webhooks specification says (docs/operations.md,
//! "Verifying a webhook"). The notification worker (in the runtime) calls
//! it; what a status means for the notification (delivered, retried,
//! failed) is decided by `classify_http_status`, a receiver's `Retry-After`
//! and the outbox's retry policy.
//!
//! Each request carries `webhook-id` (the notification's id, the same on
//! every attempt), `webhook-timestamp` (the Unix time of this attempt) and
//! `webhook-signature` (one `v1,` signature per configured secret, [`SigningKeys::sign`]).

mod retry_after;
mod signing;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use runtime::{Attempt, ErrorChain, Sink};
use scenario_engine::service::{AttemptResult, Clock, Notification};

pub use signing::{
    MAX_SECRET_BYTES, MIN_SECRET_BYTES, SECRET_PREFIX, Secret, SecretError, SigningKeys, sign_v1,
};

/// The most of a failed webhook answer's body kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

/// Why a sink could not be set up (a startup error).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The webhook URL does not parse or is not `http(s)://host...`.
    #[error("MENTOR_SCHEDULER_WEBHOOK_URL is not an http:// or https:// URL: {0}")]
    InvalidUrl(String),
    /// The webhook sink needs a URL.
    #[error("the webhook sink needs MENTOR_SCHEDULER_WEBHOOK_URL (or --webhook-url)")]
    MissingUrl,
    /// The webhook sink signs every request: it needs a secret.
    #[error(
        "the webhook sink needs MENTOR_SCHEDULER_WEBHOOK_SECRET: whsec_ followed by the base64 of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes, to sign its requests"
    )]
    MissingSecret,
    /// A configured secret is not a Standard Webhooks secret.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The webhook sink: a POST of the notification's payload to one URL.
#[derive(Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: reqwest::Url,
    keys: SigningKeys,
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("target", &redacted_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// A URL for logs: scheme, host and port only. Webhook URLs often carry a
/// token in their path or query, and the secret is never logged.
fn redacted_url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{}://{host}:{p}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

impl WebhookSink {
    /// The webhook sink for `url`, signing with every secret of `secret`
    /// ([`SigningKeys::parse`]); each call may take up to `timeout`.
    ///
    /// # Errors
    /// [`SinkError`] for a URL that is not `http(s)://host...`, a secret
    /// that is not `whsec_` and the base64 of [`MIN_SECRET_BYTES`] to
    /// [`MAX_SECRET_BYTES`] bytes, or a client that cannot be built.
    pub fn new(url: &str, secret: &Secret, timeout: Duration) -> Result<Self, SinkError> {
        let url = reqwest::Url::parse(url).map_err(|e| SinkError::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(SinkError::InvalidUrl(format!(
                "scheme `{}` with host {:?}",
                url.scheme(),
                url.host_str()
            )));
        }
        let keys = SigningKeys::parse(secret.expose())?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect is a receiver to reconfigure, not to follow: a 3xx
            // fails the notification (classify_http_status).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mentor-scheduler/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SinkError::Client)?;
        Ok(Self { client, url, keys })
    }

    async fn post(&self, n: &Notification, clock: &dyn Clock) -> AttemptResult {
        // The stored payload is the wire body; these bytes are signed and sent.
        let body = n.payload.as_str().as_bytes().to_vec();
        // The time of this attempt, read as it is signed: a retry is signed anew.
        let timestamp = clock.now().timestamp();
        let signature = self.keys.sign(&n.id, timestamp, &body);
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", n.id.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        // The timestamp counts whole seconds, and the first retries come
        // sooner than a second (0.5-1 s by default). A retry within the same
        // second would carry this attempt's timestamp and signature again,
        // which a receiver that rejects replays (a signature or an (id,
        // timestamp) seen before) refuses. So no retry is due before the
        // next second.
        let next_second = DateTime::from_timestamp(timestamp.saturating_add(1), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut resp = match sent {
            // Connection errors and timeouts: the receiver may be back later.
            // The error is formatted without its URL (it may hold a token).
            Err(e) => {
                return AttemptResult::RetryAfter {
                    error: ErrorChain(&e.without_url()).to_string(),
                    not_before: next_second,
                };
            }
            Ok(r) => r,
        };
        let status = resp.status();
        let class = classify_http_status(status.as_u16());
        if class == StatusClass::Delivered {
            return AttemptResult::Delivered;
        }
        let asked = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after::retry_after(v, clock.now()));
        // A little of the answer helps whoever reads `last_error`.
        let snippet = match resp.chunk().await {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes)
                .chars()
                .take(ERROR_BODY_CHARS)
                .collect::<String>(),
            _ => String::new(),
        };
        let error = if snippet.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {}", snippet.trim())
        };
        match class {
            StatusClass::Retryable => AttemptResult::RetryAfter {
                error,
                not_before: asked.map_or(next_second, |at| at.max(next_second)),
            },
            StatusClass::Permanent | StatusClass::Delivered => AttemptResult::Permanent(error),
        }
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn describe(&self) -> String {
        redacted_url(&self.url)
    }

    fn deliver<'a>(
        &'a self,
        n: &'a Notification,
        _attempt: u32,
        clock: &'a dyn Clock,
    ) -> Attempt<'a> {
        Box::pin(self.post(n, clock))
    }
}

/// How a webhook's HTTP status classifies an attempt (docs/operations.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusClass {
    /// 2xx.
    Delivered,
    /// 408, 429 and 5xx: retried, not before the receiver's `Retry-After`
    /// if it sends one.
    Retryable,
    /// Everything else: other 4xx, and 1xx and 3xx (the webhook follows no
    /// redirects: a moved receiver is a configuration to fix, not a retry).
    Permanent,
}

/// Classifies a webhook's HTTP status.
fn classify_http_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Delivered,
        408 | 429 | 500..=599 => StatusClass::Retryable,
        _ => StatusClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_classes_are_delivered_retryable_or_permanent() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify_http_status(s), StatusClass::Delivered, "{s}");
        }
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify_http_status(s), StatusClass::Retryable, "{s}");
        }
        for s in [100, 301, 302, 400, 401, 403, 404, 409, 410, 422, 499, 600] {
            assert_eq!(classify_http_status(s), StatusClass::Permanent, "{s}");
        }
    }

    /// Two secrets of a rotation (36 and 33 bytes).
    const SECRETS: &str = "whsec_bWVudG9yLXNjaGVkdWxlci10ZXN0LWtleS0wMTIzNDU2Nzg5 whsec_dGhlLW9sZC1rZXktb2YtYS1yb3RhdGlvbi0wMTIzNDU2";

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret: Secret = SECRETS.parse().unwrap();
        let sink = WebhookSink::new(
            "https://hooks.example.org/abc/TOKEN?key=TOKEN",
            &secret,
            Duration::from_secs(1),
        )
        .unwrap();
        let shown = format!("{secret:?} {sink:?} {}", sink.describe());
        assert!(
            !shown.contains("bWVudG9y") && !shown.contains("dGhlLW9s") && !shown.contains("TOKEN"),
            "{shown}"
        );
        assert!(shown.contains("https://hooks.example.org/"), "{shown}");
    }

    #[test]
    fn a_webhook_needs_an_http_url_and_standard_webhooks_secrets() {
        let good: Secret = SECRETS.parse().unwrap();
        let t = Duration::from_secs(1);
        assert!(WebhookSink::new("http://127.0.0.1:9/hook", &good, t).is_ok());
        let raw: Secret = "0123456789abcdef0123456789".parse().unwrap();
        assert!(matches!(
            WebhookSink::new("http://127.0.0.1:9/hook", &raw, t),
            Err(SinkError::Secret(SecretError::MissingPrefix { .. }))
        ));
        let short: Secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZg==".parse().unwrap();
        assert!(matches!(
            WebhookSink::new("http://127.0.0.1:9/hook", &short, t),
            Err(SinkError::Secret(SecretError::Length { bytes: 16, .. }))
        ));
        for bad in [
            "ftp://example.org/",
            "example.org/hook",
            "unix:/tmp/sock",
            "",
        ] {
            assert!(
                matches!(
                    WebhookSink::new(bad, &good, t),
                    Err(SinkError::InvalidUrl(_))
                ),
                "{bad}"
            );
        }
    }
}
