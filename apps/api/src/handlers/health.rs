//! Liveness, readiness and the OpenAPI document.

use actix_web::{HttpResponse, web};
use runtime::ErrorChain;
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers, every migration is applied, and the instance is
/// not draining (a stopping instance answers 503 until it exits).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready")))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.runtime.is_draining() {
        return Ok(HttpResponse::ServiceUnavailable()
            .json(json!({"error": {"code": "not_ready", "message": "draining: the instance is stopping", "details": null}})));
    }
    let store = state.store.clone();
    let backend = store.backend().as_str();
    Ok(match web::block(move || store.ready()).await? {
        Ok(true) => HttpResponse::Ok().json(json!({"status": "ready", "database": backend})),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .json(json!({"error": {"code": "not_ready", "message": "migrations pending", "details": null}})),
        Err(e) => {
            tracing::warn!(error = %ErrorChain(&e), "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"error": {"code": "not_ready", "message": "database unreachable", "details": null}}))
        }
    })
}
