//! `/api/v1/runs`: the runs of every job (docs/api.md, "Jobs and runs";
//! beyond the contracts).

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};

use crate::dto::run::{BatchWindowQuery, ReportQuery, RunDetailDto, RunDto, RunListQuery};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use runtime::Report;

type Result<T> = std::result::Result<T, ApiError>;

/// Runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunListQuery),
    responses(
        (status = 200, description = "`{data: [Run], pagination: {page, limit, total}}`"),
        (status = 400, body = ErrorBody),
        (status = 422, description = "Unknown `status`, `trigger` or `kind` (listing the valid ones), or bad paging", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<RunListQuery>,
) -> Result<HttpResponse> {
    let filter = query.filter()?;
    let page = page_request(query.page, query.limit)?;
    let rt = state.runtime.clone();
    let paged = web::block(move || rt.list_runs(&filter, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, RunDto::from)))
}

/// One run, with its batch results (all, or the window asked for).
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id (run_...)"), BatchWindowQuery),
    responses(
        (status = 200, body = RunDetailDto),
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
    let run = super::read_detail(&state.store, window, move || {
        rt.run_with_batches(&path, window)
    })
    .await??;
    Ok(HttpResponse::Ok().json(RunDetailDto::from(run)))
}

/// Cancels a running run: its processing stops at the next page or batch.
/// Repeating it on a cancelled run is a 200 that changes nothing.
#[utoipa::path(post, path = "/api/v1/runs/{id}/cancel", tag = "runs",
    params(("id" = String, Path, description = "Run id (run_...)")),
    responses(
        (status = 200, body = RunDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the run finished otherwise", body = ErrorBody),
    ))]
pub async fn cancel(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let rt = state.runtime.clone();
    let run = web::block(move || rt.cancel_run(&path)).await??;
    Ok(HttpResponse::Ok().json(RunDto::from(run)))
}

/// The report of a `weekly_expiry_report` run that succeeded, as JSON (the
/// run's result) or CSV (one row per certification).
#[utoipa::path(get, path = "/api/v1/runs/{id}/report", tag = "runs",
    params(("id" = String, Path, description = "Run id (run_...)"), ReportQuery),
    responses(
        (status = 200, description = "The report: `application/json` or `text/csv`"),
        (status = 404, description = "Unknown run, another kind of run, or a run that did not succeed", body = ErrorBody),
        (status = 422, description = "Unknown `format`", body = ErrorBody),
    ))]
pub async fn report(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse> {
    let format = query.format()?;
    let id = path.into_inner();
    let rt = state.runtime.clone();
    let run_id = id.clone();
    let report = web::block(move || rt.report(&run_id, format)).await??;
    Ok(match report {
        Report::Json(value) => HttpResponse::Ok().json(value),
        Report::Csv(csv) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(format!(
                    "expiry-report-{id}.csv"
                ))],
            })
            .body(csv),
    })
}
