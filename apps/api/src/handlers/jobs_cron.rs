//! `/api/v1/cron/jobs` (contract `cron-jobs.txt`): every job, keyed by id.
//! Beyond the contract's six endpoints: the job's runs (SPEC section 15).

use actix_web::{HttpResponse, web};
use scheduler_core::{JobPatch, NewJob};

use crate::dto::job::{
    CreateCronJobBody, CronJobDeleted, CronJobDetailDto, CronJobDto, CronRunDto, CronTriggeredDto,
    JobListQuery, PageOnlyQuery, TriggerBody, UpdateCronJobBody,
};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody, LockConflictBody, LockView};
use crate::extract::{Json, JsonOrEmpty};
use crate::state::AppState;
use runtime::JobKey;
use runtime::TriggerRequest;

type Result<T> = std::result::Result<T, ApiError>;

/// Every registered job, in registration order.
#[utoipa::path(get, path = "/api/v1/cron/jobs", tag = "cron", params(JobListQuery),
    responses(
        (status = 200, description = "`{data: [CronJob], pagination: {page, limit, total}}`"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<JobListQuery>,
) -> Result<HttpResponse> {
    let handler = query.handler()?;
    let page = page_request(query.page, query.limit)?;
    let rt = state.runtime.clone();
    let paged = web::block(move || rt.list_jobs(handler, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |j| CronJobDto::from(&j))))
}

/// One job, with its lock, last run duration and next five instants.
#[utoipa::path(get, path = "/api/v1/cron/jobs/{id}", tag = "cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    responses((status = 200, body = CronJobDetailDto), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let key = JobKey::Id(path.into_inner());
    let rt = state.runtime.clone();
    let detail = web::block(move || rt.job_detail(&key)).await??;
    Ok(HttpResponse::Ok().json(CronJobDetailDto::from(&detail)))
}

/// Registers a job.
#[utoipa::path(post, path = "/api/v1/cron/jobs", tag = "cron",
    request_body = CreateCronJobBody,
    responses(
        (status = 201, body = CronJobDto),
        (status = 400, body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, `unknown_handler`, `unknown_field`, `invalid_value`", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    body: Json<CreateCronJobBody>,
) -> Result<HttpResponse> {
    let spec = NewJob::from(body.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.create_job(spec)).await??;
    Ok(HttpResponse::Created().json(CronJobDto::from(&job)))
}

/// Changes the schedule, zone, parameters, enabled flag or name.
#[utoipa::path(put, path = "/api/v1/cron/jobs/{id}", tag = "cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    request_body = UpdateCronJobBody,
    responses(
        (status = 200, body = CronJobDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, `handler_immutable`, `unknown_field`, `invalid_value`", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<UpdateCronJobBody>,
) -> Result<HttpResponse> {
    let patch = JobPatch::try_from(body.into_inner())?;
    let key = JobKey::Id(path.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.update_job(&key, patch)).await??;
    Ok(HttpResponse::Ok().json(CronJobDto::from(&job)))
}

/// Unregisters a job and cancels its running run; its run history stays.
#[utoipa::path(delete, path = "/api/v1/cron/jobs/{id}", tag = "cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    responses((status = 200, body = CronJobDeleted), (status = 404, body = ErrorBody)))]
pub async fn delete(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let key = JobKey::Id(path.into_inner());
    let rt = state.runtime.clone();
    let (job, _) = web::block(move || rt.delete_job(&key)).await??;
    Ok(HttpResponse::Ok().json(CronJobDeleted {
        deleted: true,
        job_id: job.id,
    }))
}

/// Starts a run now (also of a disabled job); it continues in the background.
#[utoipa::path(post, path = "/api/v1/cron/jobs/{id}/trigger", tag = "cron",
    params(("id" = String, Path, description = "Job id (job_...)")),
    request_body(content = Option<TriggerBody>, description = "Optional"),
    responses(
        (status = 202, body = CronTriggeredDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A run holds the job's lock", body = LockConflictBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn trigger(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonOrEmpty<TriggerBody>,
) -> Result<HttpResponse> {
    let request = TriggerRequest::try_from(body.into_inner())?;
    let key = JobKey::Id(path.into_inner());
    let rt = state.runtime.clone();
    let (job, run) = web::block(move || rt.trigger_job(&key, request))
        .await?
        .map_err(|e| ApiError::from_trigger(e, LockView::default()))?;
    Ok(HttpResponse::Accepted().json(CronTriggeredDto::from((&job, &run))))
}

/// The job's runs, newest first (skipped and missed ones included).
#[utoipa::path(get, path = "/api/v1/cron/jobs/{id}/runs", tag = "cron",
    params(("id" = String, Path, description = "Job id (job_...)"), PageOnlyQuery),
    responses(
        (status = 200, description = "`{data: [CronRun], pagination}`"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn runs(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageOnlyQuery>,
) -> Result<HttpResponse> {
    let page = page_request(query.page, query.limit)?;
    let key = JobKey::Id(path.into_inner());
    let rt = state.runtime.clone();
    let (job, paged) = web::block(move || rt.job_runs(&key, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |r| CronRunDto::from((&job, &r)))))
}
