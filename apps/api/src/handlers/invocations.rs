//! `/api/v1/scheduler-invocations`: the seven endpoints of the
//! scheduler-invocations contract (docs/api.md; the runs in docs/runs.md).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use run_log::RunUpdate;
use scenario_engine::rules::MentorStatus;
use scenario_engine::service::MentorFilter;

use crate::dto::invocation::{
    ActivePeerMentorsDto, ActivePeerMentorsQuery, EvaluationBatchBody, EvaluationBatchDto,
    InvocationBody, InvocationDeleted, InvocationDetailDto, InvocationDto, InvocationListQuery,
    InvocationUpdateBody,
};
use crate::dto::run::BatchWindowQuery;
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody, LockConflictBody};
use crate::extract::{Json, JsonOrEmpty};
use crate::idempotency;

use crate::state::AppState;
use runtime::InvocationRequest;

type Result<T> = std::result::Result<T, ApiError>;

/// The request as idempotency compares it: the parsed body, re-serialised.
fn canonical(body: &impl serde::Serialize) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

/// Scheduler invocations (scenario-evaluation runs, scheduled and ad hoc), newest first.
#[utoipa::path(get, path = "/api/v1/scheduler-invocations", tag = "scheduler-invocations",
    params(InvocationListQuery),
    responses(
        (status = 200, description = "`{data: [Invocation], pagination: {page, limit, total}}`"),
        (status = 400, body = ErrorBody),
        (status = 422, description = "Unknown `status` (listing the valid ones) or bad paging", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<InvocationListQuery>,
) -> Result<HttpResponse> {
    let status = query.status()?;
    let page = page_request(query.page, query.limit)?;
    let rt = state.runtime.clone();
    let paged = web::block(move || rt.list_invocations(status, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, InvocationDto::from)))
}

/// One invocation with its batch results (all, or the window asked for).
#[utoipa::path(get, path = "/api/v1/scheduler-invocations/{id}", tag = "scheduler-invocations",
    params(("id" = String, Path, description = "Run id (run_...)"), BatchWindowQuery),
    responses(
        (status = 200, body = InvocationDetailDto),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`batch_after` or `batch_limit` out of range", body = ErrorBody),
    ))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<BatchWindowQuery>,
) -> Result<HttpResponse> {
    let window = query.window()?;
    let rt = state.runtime.clone();
    let run =
        super::read_detail(&state.store, window, move || rt.invocation(&path, window)).await??;
    Ok(HttpResponse::Ok().json(InvocationDetailDto::from(run)))
}

/// Starts an ad-hoc run over all active mentors (202; it continues in the
/// background), or, with `"external": true`, opens a run that an
/// orchestrator feeds through `evaluation-batch`. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/scheduler-invocations", tag = "scheduler-invocations",
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key within 24 h gets the first answer")),
    request_body(content = Option<InvocationBody>, description = "Optional"),
    responses(
        (status = 202, body = InvocationDto),
        (status = 400, body = ErrorBody),
        (status = 409, description = "`lock_held`: a scenario evaluation is running; or `idempotency_in_progress`", body = LockConflictBody),
        (status = 422, description = "Invalid value, or `idempotency_key_reused`", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonOrEmpty<InvocationBody>,
) -> Result<HttpResponse> {
    let key = idempotency::key(&req)?;
    let body = body.into_inner();
    let request_text = canonical(&body);
    let request = InvocationRequest::try_from(body)?;
    let rt = state.runtime.clone();
    idempotency::once(
        &state,
        "scheduler-invocations",
        key,
        request_text,
        || async move {
            let run = web::block(move || rt.start_invocation(request)).await??;
            Ok((
                StatusCode::ACCEPTED,
                serde_json::to_value(InvocationDto::from(run)).unwrap_or_default(),
            ))
        },
    )
    .await
}

/// Changes a run's status along the state machine (`running` to `success`,
/// `failed` or `cancelled`), or attaches an error message. A run the
/// service processes can be cancelled or failed, never set to success; it
/// stops at its next batch. Repeating a finished run's status is a 200
/// that changes nothing; any other change to a finished run is a 409.
#[utoipa::path(put, path = "/api/v1/scheduler-invocations/{id}", tag = "scheduler-invocations",
    params(("id" = String, Path, description = "Run id (run_...)")),
    request_body = InvocationUpdateBody,
    responses(
        (status = 200, body = InvocationDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
        (status = 422, description = "Unknown status, an empty update, or a bad error message", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<InvocationUpdateBody>,
) -> Result<HttpResponse> {
    let change = RunUpdate::try_from(body.into_inner())?;
    let rt = state.runtime.clone();
    let run = web::block(move || rt.update_invocation(&path, &change)).await??;
    Ok(HttpResponse::Ok().json(InvocationDto::from(run)))
}

/// Deletes a finished run with its batch results; the notifications it
/// enqueued stay.
#[utoipa::path(delete, path = "/api/v1/scheduler-invocations/{id}", tag = "scheduler-invocations",
    params(("id" = String, Path, description = "Run id (run_...)")),
    responses(
        (status = 200, body = InvocationDeleted),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`run_running`: cancel it first", body = ErrorBody),
    ))]
pub async fn delete(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let rt = state.runtime.clone();
    let id = web::block(move || rt.delete_invocation(&path)).await??;
    Ok(HttpResponse::Ok().json(InvocationDeleted {
        success: true,
        deleted_id: id,
    }))
}

/// Mentors with status `active`, in `user_id` order, for an orchestrator
/// to cut into batches.
#[utoipa::path(get, path = "/api/v1/scheduler-invocations/active-peer-mentors", tag = "scheduler-invocations",
    params(ActivePeerMentorsQuery),
    responses(
        (status = 200, body = ActivePeerMentorsDto),
        (status = 400, body = ErrorBody),
        (status = 422, description = "Bad paging (`limit` 1-5000) or `org_id`", body = ErrorBody),
    ))]
pub async fn active_peer_mentors(
    state: web::Data<AppState>,
    query: web::Query<ActivePeerMentorsQuery>,
) -> Result<HttpResponse> {
    let page = query.page()?;
    let filter = MentorFilter {
        org_id: query.org_id.clone(),
        status: Some(MentorStatus::Active),
    };
    let mentors = state.runtime.mentors.clone();
    let paged = web::block(move || mentors.list(&filter, page)).await??;
    Ok(HttpResponse::Ok().json(ActivePeerMentorsDto::of(paged, page)))
}

/// Evaluates the given users for every scenario as the next batch of an
/// external run: one transaction with its evaluations, notifications and
/// batch result; the run's totals grow. Unknown users get
/// `notified: false, reason: "unknown_user"`. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/scheduler-invocations/evaluation-batch", tag = "scheduler-invocations",
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key within 24 h gets the first answer")),
    request_body = EvaluationBatchBody,
    responses(
        (status = 200, body = EvaluationBatchDto),
        (status = 400, body = ErrorBody),
        (status = 404, description = "Unknown run", body = ErrorBody),
        (status = 409, description = "`run_finished`, `run_not_external` (the service processes it) or `idempotency_in_progress`", body = ErrorBody),
        (status = 422, description = "Empty, more than 500 or duplicate user ids, or `idempotency_key_reused`", body = ErrorBody),
    ))]
pub async fn evaluation_batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<EvaluationBatchBody>,
) -> Result<HttpResponse> {
    let key = idempotency::key(&req)?;
    let body = body.into_inner();
    let request_text = canonical(&body);
    let rt = state.runtime.clone();
    idempotency::once(
        &state,
        "evaluation-batch",
        key,
        request_text,
        || async move {
            let report =
                web::block(move || rt.evaluation_batch(&body.run_id, body.user_ids)).await??;
            Ok((
                StatusCode::OK,
                serde_json::to_value(EvaluationBatchDto::from(report)).unwrap_or_default(),
            ))
        },
    )
    .await
}
