//! `/api/v1/scheduler/jobs` (contract `nightly-scheduler.txt`): every job,
//! keyed by its name. Beyond the contract's five endpoints: one job, update,
//! and its runs (SPEC section 15).

use actix_web::{HttpResponse, web};
use scheduler_core::{JobPatch, NewJob};

use crate::dto::job::{
    CreateSchedulerJobBody, JobListQuery, PageOnlyQuery, SchedulerJobDeleted,
    SchedulerJobDetailDto, SchedulerJobDto, SchedulerRunDto, SchedulerTriggeredDto, TriggerBody,
    UpdateSchedulerJobBody,
};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody, LockConflictBody, LockView};
use crate::extract::{Json, JsonOrEmpty};
use crate::state::AppState;
use runtime::JobKey;
use runtime::TriggerRequest;

type Result<T> = std::result::Result<T, ApiError>;

/// Every registered job, in registration order.
#[utoipa::path(get, path = "/api/v1/scheduler/jobs", tag = "scheduler", params(JobListQuery),
    responses(
        (status = 200, description = "`{data: [SchedulerJob], pagination: {page, limit, total}}`"),
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
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |j| SchedulerJobDto::from(&j))))
}

/// Registers a job.
#[utoipa::path(post, path = "/api/v1/scheduler/jobs", tag = "scheduler",
    request_body = CreateSchedulerJobBody,
    responses(
        (status = 201, body = SchedulerJobDto),
        (status = 400, body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, `unknown_handler`, `unknown_field`, `invalid_value`", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    body: Json<CreateSchedulerJobBody>,
) -> Result<HttpResponse> {
    let spec = NewJob::from(body.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.create_job(spec)).await??;
    Ok(HttpResponse::Created().json(SchedulerJobDto::from(&job)))
}

/// One job, with its lock and next five instants.
#[utoipa::path(get, path = "/api/v1/scheduler/jobs/{job_name}", tag = "scheduler",
    params(("job_name" = String, Path, description = "The job's name, URL-encoded")),
    responses((status = 200, body = SchedulerJobDetailDto), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let key = JobKey::Name(path.into_inner());
    let rt = state.runtime.clone();
    let detail = web::block(move || rt.job_detail(&key)).await??;
    Ok(HttpResponse::Ok().json(SchedulerJobDetailDto::from(&detail)))
}

/// Changes the expression, zone, parameters, enabled flag or name.
#[utoipa::path(put, path = "/api/v1/scheduler/jobs/{job_name}", tag = "scheduler",
    params(("job_name" = String, Path, description = "The job's name, URL-encoded")),
    request_body = UpdateSchedulerJobBody,
    responses(
        (status = 200, body = SchedulerJobDto),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`duplicate_name`", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, `handler_immutable`, `unknown_field`, `invalid_value`", body = ErrorBody),
    ))]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<UpdateSchedulerJobBody>,
) -> Result<HttpResponse> {
    let patch = JobPatch::try_from(body.into_inner())?;
    let key = JobKey::Name(path.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.update_job(&key, patch)).await??;
    Ok(HttpResponse::Ok().json(SchedulerJobDto::from(&job)))
}

/// Deregisters a job and cancels its running run; its run history stays.
#[utoipa::path(delete, path = "/api/v1/scheduler/jobs/{job_name}", tag = "scheduler",
    params(("job_name" = String, Path, description = "The job's name, URL-encoded")),
    responses((status = 200, body = SchedulerJobDeleted), (status = 404, body = ErrorBody)))]
pub async fn delete(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let key = JobKey::Name(path.into_inner());
    let rt = state.runtime.clone();
    let (job, at) = web::block(move || rt.delete_job(&key)).await??;
    Ok(HttpResponse::Ok().json(SchedulerJobDeleted::from((&job, at))))
}

/// Starts a run now (also of a disabled job); it continues in the background.
#[utoipa::path(post, path = "/api/v1/scheduler/jobs/{job_name}/trigger", tag = "scheduler",
    params(("job_name" = String, Path, description = "The job's name, URL-encoded")),
    request_body(content = Option<TriggerBody>, description = "Optional"),
    responses(
        (status = 202, body = SchedulerTriggeredDto),
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
    let name = path.into_inner();
    let key = JobKey::Name(name.clone());
    let rt = state.runtime.clone();
    let (job, run) = web::block(move || rt.trigger_job(&key, request))
        .await?
        .map_err(|e| {
            ApiError::from_trigger(
                e,
                LockView {
                    job_name: Some(name),
                    ..LockView::default()
                },
            )
        })?;
    Ok(HttpResponse::Accepted().json(SchedulerTriggeredDto::from((&job, &run))))
}

/// The newest finished run (`success`, `failed` or `cancelled`; skipped
/// and missed firings are not runs of the job's work).
#[utoipa::path(get, path = "/api/v1/scheduler/jobs/{job_name}/last-result", tag = "scheduler",
    params(("job_name" = String, Path, description = "The job's name, URL-encoded")),
    responses(
        (status = 200, body = SchedulerRunDto),
        (status = 404, description = "Unknown job, or no finished run yet", body = ErrorBody),
    ))]
pub async fn last_result(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let key = JobKey::Name(path.into_inner());
    let rt = state.runtime.clone();
    let (job, run) = web::block(move || rt.last_result(&key)).await??;
    Ok(HttpResponse::Ok().json(SchedulerRunDto::from((&job, &run))))
}

/// The job's runs, newest first (skipped and missed ones included).
#[utoipa::path(get, path = "/api/v1/scheduler/jobs/{job_name}/runs", tag = "scheduler",
    params(("job_name" = String, Path, description = "The job's name, URL-encoded"), PageOnlyQuery),
    responses(
        (status = 200, description = "`{data: [SchedulerRun], pagination}`"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn runs(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageOnlyQuery>,
) -> Result<HttpResponse> {
    let page = page_request(query.page, query.limit)?;
    let key = JobKey::Name(path.into_inner());
    let rt = state.runtime.clone();
    let (job, paged) = web::block(move || rt.job_runs(&key, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |r| {
        SchedulerRunDto::from((&job, &r))
    })))
}
