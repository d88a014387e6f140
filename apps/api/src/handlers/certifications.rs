//! `/api/v1/certifications/expiring`: the required certifications that
//! expire soon, across mentors (docs/api.md, "Certifications expiring soon";
//! beyond the contracts, for the coordinator dashboard).

use actix_web::{HttpResponse, web};
use chrono::TimeDelta;
use scenario_engine::service::MentorError;

use crate::dto::expiring::{ExpiringCertificationDto, ExpiringQuery};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Required certifications that expire from now to `within_days` days
/// from now, soonest first.
#[utoipa::path(get, path = "/api/v1/certifications/expiring", tag = "mentors", params(ExpiringQuery),
    responses(
        (status = 200, description = "`{data: [ExpiringCertification], pagination: {page, limit, total}}`, soonest first"),
        (status = 400, description = "A non-integer `within_days`, `page` or `limit`, or an unknown query parameter", body = ErrorBody),
        (status = 422, description = "`within_days` outside 1-366, or bad paging", body = ErrorBody),
    ))]
pub async fn expiring(
    state: web::Data<AppState>,
    query: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = query.within_days()?;
    let page = page_request(query.page, query.limit)?;
    let now = state.runtime.now();
    let until = now + TimeDelta::days(days);
    let store = state.store.clone();
    let paged = web::block(move || store.expiring_required_certifications(now, until, page))
        .await?
        .map_err(MentorError::Store)?;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, |c| {
        ExpiringCertificationDto::at(now, c)
    })))
}
