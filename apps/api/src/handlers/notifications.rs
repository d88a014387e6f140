//! `/api/v1/notifications`: the outbox, read and retried (beyond the
//! contracts; docs/api.md, "Notifications").

use actix_web::{HttpResponse, web};

use crate::dto::notification::{NotificationDto, NotificationListQuery};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// Notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationListQuery),
    responses(
        (status = 200, description = "`{data: [Notification], pagination: {page, limit, total}}`"),
        (status = 400, description = "A non-integer `page` or `limit`, or an unknown query parameter", body = ErrorBody),
        (status = 422, description = "Unknown `status` or `scenario_type` (listing the valid ones), bad paging, or an id nothing can have", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<NotificationListQuery>,
) -> Result<HttpResponse> {
    let filter = query.filter()?;
    let page = page_request(query.page, query.limit)?;
    let outbox = state.runtime.notifications.clone();
    let shape = super::PageShape {
        unfiltered: filter.is_unfiltered(),
        first: page.page == 1,
        one_mentor: filter.is_one_mentor(),
    };
    let paged = super::read_page(&state.store, shape, move || outbox.list(&filter, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, NotificationDto::from)))
}

/// One notification.
#[utoipa::path(get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "Notification id (ntf_...)")),
    responses((status = 200, body = NotificationDto), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let outbox = state.runtime.notifications.clone();
    let n = super::read(&state.store, move || outbox.get(&path)).await??;
    Ok(HttpResponse::Ok().json(NotificationDto::from(n)))
}

/// Sends a `failed` notification back to `pending`, due now, with a fresh
/// attempt budget (`attempts` starts again from 0).
#[utoipa::path(post, path = "/api/v1/notifications/{id}/retry", tag = "notifications",
    params(("id" = String, Path, description = "Notification id (ntf_...)")),
    responses(
        (status = 200, description = "The notification, `pending` again", body = NotificationDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the notification is not `failed`", body = ErrorBody),
    ))]
pub async fn retry(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let rt = state.runtime.clone();
    let n = web::block(move || rt.retry_notification(&path)).await??;
    Ok(HttpResponse::Ok().json(NotificationDto::from(n)))
}
