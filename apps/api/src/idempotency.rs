//! `Idempotency-Key` on the two POSTs of the scheduler invocations
//! (docs/runs.md, "Idempotency keys"): a retry with the same key within 24
//! hours gets the first answer back, and nothing is done again.
//!
//! HTTP plumbing over the [`IdempotencyStore`](run_log::IdempotencyStore) port: the request is
//! identified by its parsed body re-serialised (so whitespace and key order
//! do not matter), the answer kept is the status and JSON body of a success.
//! A request that fails is not kept: its key is released, so a corrected
//! retry does the work.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use run_log::{Claim, StoredAnswer};
use runtime::RuntimeError;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// The header on an answer given back from a first request.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// The longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// The key of `req`, if it has one.
///
/// # Errors
/// 422 `invalid_value` for a key that is empty, longer than
/// [`MAX_KEY_LEN`], or not visible ASCII.
pub fn key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(|k| Some(k.to_owned()))
        .ok_or_else(|| ApiError::Invalid {
            field: Some("Idempotency-Key"),
            message: format!(
                "the Idempotency-Key header must be 1-{MAX_KEY_LEN} visible ASCII characters"
            ),
        })
}

/// Answers `work` at most once per key: without a key it simply runs; with
/// a key seen before for the same `request` (in `scope`) the first answer
/// comes back; with a key seen for another request it is a 422
/// `idempotency_key_reused`; while the first request is still being
/// answered, a 409 `idempotency_in_progress`.
///
/// # Errors
/// Those above, and whatever `work` fails with.
pub async fn once<F, Fut>(
    state: &AppState,
    scope: &'static str,
    key: Option<String>,
    request: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    let Some(key) = key else {
        let (status, body) = work().await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let store = state.runtime.idempotency.clone();
    let now = state.runtime.now();
    let (k, r) = (key.clone(), request);
    let claim = web::block(move || store.claim_key(scope, &k, &r, now))
        .await?
        .map_err(RuntimeError::Runs)?;
    match claim {
        Claim::Replay(answer) => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            Ok(HttpResponse::build(status)
                .content_type("application/json")
                .insert_header((REPLAYED_HEADER, "true"))
                .body(answer.body))
        }
        Claim::InProgress => Err(ApiError::IdempotencyInProgress {
            header: HEADER,
            key,
        }),
        Claim::Mismatch => Err(ApiError::IdempotencyKeyReused {
            header: HEADER,
            key,
        }),
        Claim::Fresh => {
            let outcome = work().await;
            let store = state.runtime.idempotency.clone();
            let (k, answer) = match &outcome {
                Ok((status, body)) => (
                    key,
                    Some(StoredAnswer {
                        status: status.as_u16(),
                        body: body.to_string(),
                    }),
                ),
                Err(_) => (key, None),
            };
            let kept = web::block(move || match answer {
                Some(a) => store.complete_key(scope, &k, &a),
                None => store.release_key(scope, &k),
            })
            .await?;
            if let Err(e) = kept {
                tracing::warn!(error = %e, "keeping an idempotent answer failed");
            }
            let (status, body) = outcome?;
            Ok(HttpResponse::build(status).json(body))
        }
    }
}
