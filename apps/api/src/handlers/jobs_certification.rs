//! `/api/v1/certification-cron` (contract `certification-cron.txt`): the
//! certification expiry check jobs, keyed by id. A job of another handler
//! is not found here (SPEC section 15).

use actix_web::{HttpResponse, web};
use scheduler_core::{Handler, JobPatch, NewJob};

use crate::dto::job::{
    CertificationCronDeleted, CertificationCronDetailDto, CertificationCronDto,
    CertificationExecutedDto, CertificationRunDto, CreateCertificationCronBody, PageOnlyQuery,
    TriggerBody, UpdateCertificationCronBody,
};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody, LockConflictBody, LockView};
use crate::extract::{Json, JsonOrEmpty};
use crate::state::AppState;
use runtime::JobKey;
use runtime::TriggerRequest;

type Result<T> = std::result::Result<T, ApiError>;

/// The certification expiry check jobs, in registration order.
#[utoipa::path(get, path = "/api/v1/certification-cron", tag = "certification-cron", params(PageOnlyQuery),
    responses(
        (status = 200, description = "`{data: [CertificationCron], pagination: {page, limit, total}}`"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<PageOnlyQuery>,
) -> Result<HttpResponse> {
    let page = page_request(query.page, query.limit)?;
    let rt = state.runtime.clone();
    let paged =
        web::block(move || rt.list_jobs(Some(Handler::CertificationExpiryCheck), page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |j| {
        CertificationCronDto::from(&j)
    })))
}

/// One job, with its last result, lock and next five instants.
#[utoipa::path(get, path = "/api/v1/certification-cron/{id}", tag = "certification-cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    responses((status = 200, body = CertificationCronDetailDto), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let key = JobKey::CertificationId(path.into_inner());
    let rt = state.runtime.clone();
    let detail = web::block(move || rt.job_detail(&key)).await??;
    Ok(HttpResponse::Ok().json(CertificationCronDetailDto::from(&detail)))
}

/// Schedules a certification expiry check (`scheduleNightlyRun`).
#[utoipa::path(post, path = "/api/v1/certification-cron", tag = "certification-cron",
    request_body = CreateCertificationCronBody,
    responses(
        (status = 201, body = CertificationCronDto),
        (status = 400, body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, `unknown_field`, `invalid_value`", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    body: Json<CreateCertificationCronBody>,
) -> Result<HttpResponse> {
    let spec = NewJob::from(body.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.create_job(spec)).await??;
    Ok(HttpResponse::Created().json(CertificationCronDto::from(&job)))
}

/// Changes the expression, zone, parameters, enabled flag or name.
#[utoipa::path(put, path = "/api/v1/certification-cron/{id}", tag = "certification-cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    request_body = UpdateCertificationCronBody,
    responses(
        (status = 200, body = CertificationCronDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, `handler_immutable`, `unknown_field`, `invalid_value`", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<UpdateCertificationCronBody>,
) -> Result<HttpResponse> {
    let patch = JobPatch::try_from(body.into_inner())?;
    let key = JobKey::CertificationId(path.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.update_job(&key, patch)).await??;
    Ok(HttpResponse::Ok().json(CertificationCronDto::from(&job)))
}

/// Deletes the job and cancels its running run; its run history stays.
#[utoipa::path(delete, path = "/api/v1/certification-cron/{id}", tag = "certification-cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    responses((status = 200, body = CertificationCronDeleted), (status = 404, body = ErrorBody)))]
pub async fn delete(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let key = JobKey::CertificationId(path.into_inner());
    let rt = state.runtime.clone();
    let (job, _) = web::block(move || rt.delete_job(&key)).await??;
    Ok(HttpResponse::Ok().json(CertificationCronDeleted {
        deleted: true,
        id: job.id,
    }))
}

/// Runs the expiry check now (`executeExpiryCheck`), also for a disabled
/// job; it continues in the background.
#[utoipa::path(post, path = "/api/v1/certification-cron/{id}/execute", tag = "certification-cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    request_body(content = Option<TriggerBody>, description = "Optional"),
    responses(
        (status = 202, body = CertificationExecutedDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A run holds the job's lock", body = LockConflictBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn execute(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonOrEmpty<TriggerBody>,
) -> Result<HttpResponse> {
    let request = TriggerRequest::try_from(body.into_inner())?;
    let id = path.into_inner();
    let key = JobKey::CertificationId(id.clone());
    let rt = state.runtime.clone();
    let (job, run) = web::block(move || rt.trigger_job(&key, request))
        .await?
        .map_err(|e| {
            ApiError::from_trigger(
                e,
                LockView {
                    id: Some(id.clone()),
                    cron_id: Some(id),
                    ..LockView::default()
                },
            )
        })?;
    Ok(HttpResponse::Accepted().json(CertificationExecutedDto::from((&job, &run))))
}

/// The job's runs, newest first (skipped and missed ones included).
#[utoipa::path(get, path = "/api/v1/certification-cron/{id}/runs", tag = "certification-cron",
    params(("id" = String, Path, description = "Job id (job_...)"), PageOnlyQuery),
    responses(
        (status = 200, description = "`{data: [CertificationRun], pagination}`"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn runs(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageOnlyQuery>,
) -> Result<HttpResponse> {
    let page = page_request(query.page, query.limit)?;
    let key = JobKey::CertificationId(path.into_inner());
    let rt = state.runtime.clone();
    let (job, paged) = web::block(move || rt.job_runs(&key, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |r| {
        CertificationRunDto::from((&job, &r))
    })))
}
