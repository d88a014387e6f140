//! `/api/v1/scenario-trigger-evaluations`: the nine endpoints of the contract.

use actix_web::{HttpResponse, web};
use scenario_engine::rules::Scenario;
use scenario_engine::service::{EvaluateRequest, EvaluationOverride};

use crate::dto::evaluation::{
    CertificationExpiryBody, CreateEvaluationBody, EvaluationDeleted, EvaluationDto,
    EvaluationListQuery, InactivityBody, MilestoneBody, OverrideBody, ShouldNotifyDto,
    ShouldNotifyQuery,
};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

async fn evaluate_and_record(
    state: &AppState,
    user_id: String,
    scenario: Scenario,
    dry_run: Option<bool>,
) -> Result<HttpResponse> {
    scenario_engine::service::validate_platform_id("user_id", &user_id)?;
    let request = EvaluateRequest {
        user_id,
        scenario,
        dry_run: dry_run.unwrap_or(false),
        run_id: None,
    };
    let rt = state.runtime.clone();
    let record = web::block(move || rt.evaluate(request)).await??;
    Ok(HttpResponse::Created().json(EvaluationDto::from(record)))
}

/// Evaluations, newest first.
#[utoipa::path(get, path = "/api/v1/scenario-trigger-evaluations", tag = "evaluations", params(EvaluationListQuery),
    responses(
        (status = 200, description = "`{data: [Evaluation], pagination: {page, limit, total}}`"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<EvaluationListQuery>,
) -> Result<HttpResponse> {
    let filter = query.filter()?;
    let page = page_request(query.page, query.limit)?;
    let evaluations = state.runtime.evaluations.clone();
    let shape = super::PageShape {
        unfiltered: filter.is_unfiltered(),
        first: page.page == 1,
        one_mentor: filter.is_one_mentor(),
    };
    let paged =
        super::read_page(&state.store, shape, move || evaluations.list(&filter, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, EvaluationDto::from)))
}

/// One evaluation.
#[utoipa::path(get, path = "/api/v1/scenario-trigger-evaluations/{id}", tag = "evaluations",
    params(("id" = String, Path, description = "Evaluation id (trg_...)")),
    responses((status = 200, body = EvaluationDto), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let evaluations = state.runtime.evaluations.clone();
    let record = super::read(&state.store, move || evaluations.get(&path)).await??;
    Ok(HttpResponse::Ok().json(EvaluationDto::from(record)))
}

/// Evaluates a mentor for any scenario and records the decision.
#[utoipa::path(post, path = "/api/v1/scenario-trigger-evaluations", tag = "evaluations",
    request_body = CreateEvaluationBody,
    responses(
        (status = 201, body = EvaluationDto),
        (status = 400, body = ErrorBody), (status = 404, description = "Unknown user", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    body: Json<CreateEvaluationBody>,
) -> Result<HttpResponse> {
    let scenario = body.scenario()?;
    let body = body.into_inner();
    evaluate_and_record(&state, body.user_id, scenario, body.dry_run).await
}

/// Overrides `should_notify` and/or replaces the metadata.
#[utoipa::path(put, path = "/api/v1/scenario-trigger-evaluations/{id}", tag = "evaluations",
    params(("id" = String, Path, description = "Evaluation id (trg_...)")),
    request_body = OverrideBody,
    responses((status = 200, body = EvaluationDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn override_evaluation(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<OverrideBody>,
) -> Result<HttpResponse> {
    let change = EvaluationOverride::try_from(body.into_inner())?;
    let evaluations = state.runtime.evaluations.clone();
    let record = web::block(move || evaluations.override_evaluation(&path, &change)).await??;
    Ok(HttpResponse::Ok().json(EvaluationDto::from(record)))
}

/// Deletes an evaluation; its notification stays.
#[utoipa::path(delete, path = "/api/v1/scenario-trigger-evaluations/{id}", tag = "evaluations",
    params(("id" = String, Path, description = "Evaluation id (trg_...)")),
    responses((status = 200, body = EvaluationDeleted), (status = 404, body = ErrorBody)))]
pub async fn delete(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let id = path.into_inner();
    let evaluations = state.runtime.evaluations.clone();
    let deleted_id = id.clone();
    web::block(move || evaluations.delete(&id)).await??;
    Ok(HttpResponse::Ok().json(EvaluationDeleted {
        success: true,
        deleted_id,
    }))
}

/// Inactivity evaluation against a threshold.
#[utoipa::path(post, path = "/api/v1/scenario-trigger-evaluations/evaluate/inactivity", tag = "evaluations",
    request_body = InactivityBody,
    responses((status = 201, body = EvaluationDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn evaluate_inactivity(
    state: web::Data<AppState>,
    body: Json<InactivityBody>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let scenario = Scenario::inactivity(body.threshold_days)?;
    evaluate_and_record(&state, body.user_id, scenario, body.dry_run).await
}

/// Milestone evaluation.
#[utoipa::path(post, path = "/api/v1/scenario-trigger-evaluations/evaluate/milestone", tag = "evaluations",
    request_body = MilestoneBody,
    responses((status = 201, body = EvaluationDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn evaluate_milestone(
    state: web::Data<AppState>,
    body: Json<MilestoneBody>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let milestone_type = scenario_engine::rules::MilestoneType::parse(&body.milestone_type)?;
    evaluate_and_record(
        &state,
        body.user_id,
        Scenario::Milestone { milestone_type },
        body.dry_run,
    )
    .await
}

/// Certification-expiry evaluation against a lead time.
#[utoipa::path(post, path = "/api/v1/scenario-trigger-evaluations/evaluate/certification-expiry", tag = "evaluations",
    request_body = CertificationExpiryBody,
    responses((status = 201, body = EvaluationDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn evaluate_certification_expiry(
    state: web::Data<AppState>,
    body: Json<CertificationExpiryBody>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let scenario = Scenario::certification_expiry(body.lead_time_days)?;
    evaluate_and_record(&state, body.user_id, scenario, body.dry_run).await
}

/// Whether a mentor should be notified now; records and enqueues nothing.
#[utoipa::path(get, path = "/api/v1/scenario-trigger-evaluations/users/{user_id}/should-notify", tag = "evaluations",
    params(("user_id" = String, Path, description = "Platform user id"), ShouldNotifyQuery),
    responses((status = 200, body = ShouldNotifyDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn should_notify(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ShouldNotifyQuery>,
) -> Result<HttpResponse> {
    let scenario = query.scenario()?;
    let evaluations = state.runtime.evaluations.clone();
    let answer = web::block(move || evaluations.should_notify(&path, scenario)).await??;
    Ok(HttpResponse::Ok().json(ShouldNotifyDto::from(answer)))
}
