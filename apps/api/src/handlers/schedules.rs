//! `/api/v1/schedules/preview`: when would an expression fire? (docs/api.md,
//! "Jobs and runs"; beyond the contracts.)

use actix_web::{HttpResponse, web};

use crate::dto::run::{PreviewDto, PreviewQuery};
use crate::error::{ApiError, ErrorBody};

use crate::state::AppState;

/// The next firing instants of an expression in a zone, by exactly the
/// rules the scheduler fires by (DST included), with a description.
#[utoipa::path(get, path = "/api/v1/schedules/preview", tag = "schedules", params(PreviewQuery),
    responses(
        (status = 200, body = PreviewDto),
        (status = 400, description = "`expression` missing or `count` not an integer", body = ErrorBody),
        (status = 422, description = "`invalid_cron`, `unknown_timezone`, bad `from`, `count` outside 1-100", body = ErrorBody),
    ))]
pub async fn preview(
    state: web::Data<AppState>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, count) = query.window(state.runtime.now())?;
    let preview = runtime::preview(&query.expression, query.timezone(), from, count)?;
    Ok(HttpResponse::Ok().json(PreviewDto::from(preview)))
}
