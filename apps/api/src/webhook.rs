//! The webhook sink: a signed POST of each notification's payload to one
//! URL. The notification worker (in the runtime) calls it; what a status
//! means for the notification (delivered, retried, failed) is decided by
//! `classify_http_status` and the outbox's retry policy.
//!
//! The `X-Signature` header is `sha256=` and the HMAC-SHA256 of
//! `timestamp.body` ([`signature`]), keyed with the configured secret;
//! `X-Timestamp` is the Unix time of the attempt.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use runtime::{Attempt, ErrorChain, Sink};
use scenario_engine::service::{AttemptResult, Notification};
use sha2::Sha256;

/// The shortest secret accepted for signing, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// The most of a failed webhook answer's body kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// The secret's bytes, for signing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(Arc::from(s)))
    }
}

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
        "the webhook sink needs MENTOR_SCHEDULER_WEBHOOK_SECRET of at least {MIN_SECRET_BYTES} bytes to sign its requests"
    )]
    WeakSecret,
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The `X-Signature` of a webhook request: `sha256=` and the lowercase hex
/// HMAC-SHA256, keyed with the secret, of `timestamp + "." + body` (the
/// exact bytes sent).
///
/// ```
/// use mentor_scheduler_api::webhook::signature;
/// assert_eq!(
///     signature(b"0123456789abcdef", 1_774_425_600, br#"{"version":1}"#),
///     "sha256=b21c406d926df1075e94e64278f11ca07ada7841b7b204a7983265903a28aa4d"
/// );
/// ```
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The webhook sink: a POST of the notification's payload to one URL.
#[derive(Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Secret,
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
    /// The webhook sink for `url`, signing with `secret`; each call may take
    /// up to `timeout`.
    ///
    /// # Errors
    /// [`SinkError`] for a URL that is not `http(s)://host...`, a secret
    /// shorter than [`MIN_SECRET_BYTES`], or a client that cannot be built.
    pub fn new(url: &str, secret: &Secret, timeout: Duration) -> Result<Self, SinkError> {
        let url = reqwest::Url::parse(url).map_err(|e| SinkError::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(SinkError::InvalidUrl(format!(
                "scheme `{}` with host {:?}",
                url.scheme(),
                url.host_str()
            )));
        }
        if secret.expose().len() < MIN_SECRET_BYTES {
            return Err(SinkError::WeakSecret);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect is a receiver to reconfigure, not to follow: a 3xx
            // fails the notification (classify_http_status).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mentor-scheduler/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SinkError::Client)?;
        Ok(Self {
            client,
            url,
            secret: secret.clone(),
        })
    }

    async fn post(&self, n: &Notification, timestamp: i64) -> AttemptResult {
        // The stored payload is the wire body; these bytes are signed and sent.
        let body = match serde_json::to_vec(&n.payload) {
            Ok(b) => b,
            Err(e) => return AttemptResult::Permanent(format!("payload does not serialise: {e}")),
        };
        let sig = signature(self.secret.expose(), timestamp, &body);
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Notification-Id", n.id.as_str())
            .header("X-Timestamp", timestamp.to_string())
            .header("X-Signature", sig)
            .body(body)
            .send()
            .await;
        let mut resp = match sent {
            // Connection errors and timeouts: the receiver may be back later.
            // The error is formatted without its URL (it may hold a token).
            Err(e) => return AttemptResult::Retryable(ErrorChain(&e.without_url()).to_string()),
            Ok(r) => r,
        };
        let status = resp.status();
        let class = classify_http_status(status.as_u16());
        if class == StatusClass::Delivered {
            return AttemptResult::Delivered;
        }
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
            StatusClass::Retryable => AttemptResult::Retryable(error),
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

    fn deliver<'a>(&'a self, n: &'a Notification, _attempt: u32, timestamp: i64) -> Attempt<'a> {
        Box::pin(self.post(n, timestamp))
    }
}

/// How a webhook's HTTP status classifies an attempt (docs/operations.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusClass {
    /// 2xx.
    Delivered,
    /// 408, 429 and 5xx.
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

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Independent value: printf '1774425600.{"version":1}' |
        //   openssl dgst -sha256 -hmac 0123456789abcdef
        assert_eq!(
            signature(b"0123456789abcdef", 1_774_425_600, br#"{"version":1}"#),
            "sha256=b21c406d926df1075e94e64278f11ca07ada7841b7b204a7983265903a28aa4d"
        );
        assert_ne!(
            signature(b"0123456789abcdef", 1_774_425_601, br#"{"version":1}"#),
            signature(b"0123456789abcdef", 1_774_425_600, br#"{"version":1}"#)
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret: Secret = "s3cr3t-s3cr3t-s3cr3t".parse().unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        let sink = WebhookSink::new(
            "https://hooks.example.org/abc/TOKEN?key=TOKEN",
            &secret,
            Duration::from_secs(1),
        )
        .unwrap();
        let shown = format!("{sink:?} {}", sink.describe());
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("TOKEN"),
            "{shown}"
        );
        assert!(shown.contains("https://hooks.example.org/"), "{shown}");
    }

    #[test]
    fn a_webhook_needs_an_http_url_and_a_long_enough_secret() {
        let good: Secret = "0123456789abcdef".parse().unwrap();
        let short: Secret = "0123456789abcde".parse().unwrap();
        let t = Duration::from_secs(1);
        assert!(WebhookSink::new("http://127.0.0.1:9/hook", &good, t).is_ok());
        assert!(matches!(
            WebhookSink::new("http://127.0.0.1:9/hook", &short, t),
            Err(SinkError::WeakSecret)
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
