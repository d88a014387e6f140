//! `/api/v1/mentors`: the data the decisions are made on (docs/api.md,
//! "Mentors").

use actix_web::{HttpRequest, HttpResponse, web};
use scenario_engine::service::{ImportOutcome, MentorUpsert};

use crate::dto::mentor::{
    ActivityBody, CertificationBody, CertificationDeleted, CertificationDto, ImportSummaryDto,
    MentorBody, MentorCertificationDto, MentorDeleted, MentorDto, MentorListQuery, PauseBody,
    PreferencesBody, PreferencesDto,
};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::import::{NdjsonLines, require_ndjson, spool};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// Creates or updates a mentor.
#[utoipa::path(put, path = "/api/v1/mentors/{user_id}", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    request_body = MentorBody,
    responses(
        (status = 201, description = "Created", body = MentorDto),
        (status = 200, description = "Updated", body = MentorDto),
        (status = 409, description = "Status change of a paused mentor", body = ErrorBody),
        (status = 422, description = "Invalid value or missing org_id on create", body = ErrorBody),
    ))]
pub async fn upsert(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<MentorBody>,
) -> Result<HttpResponse> {
    let upsert = MentorUpsert::try_from(body.into_inner())?;
    let mentors = state.runtime.mentors.clone();
    let (record, created) = web::block(move || mentors.upsert(&path, upsert)).await??;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(MentorDto::from(record)))
}

/// One mentor with certifications and preferences.
#[utoipa::path(get, path = "/api/v1/mentors/{user_id}", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    responses((status = 200, body = MentorDto), (status = 404, body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let mentors = state.runtime.mentors.clone();
    let record = super::read(&state.store, move || mentors.get(&path)).await??;
    Ok(HttpResponse::Ok().json(MentorDto::from(record)))
}

/// Mentors ordered by `user_id`, filtered by organisation and status.
#[utoipa::path(get, path = "/api/v1/mentors", tag = "mentors", params(MentorListQuery),
    responses((status = 200, description = "`{data: [Mentor], pagination}`"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<MentorListQuery>,
) -> Result<HttpResponse> {
    let filter = query.filter()?;
    let page = page_request(query.page, query.limit)?;
    let mentors = state.runtime.mentors.clone();
    let paged = web::block(move || mentors.list(&filter, page)).await??;
    Ok(HttpResponse::Ok().json(ListBody::of(paged, page, MentorDto::from)))
}

/// Erases a mentor and every record about them.
#[utoipa::path(delete, path = "/api/v1/mentors/{user_id}", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    responses((status = 200, body = MentorDeleted), (status = 404, body = ErrorBody)))]
pub async fn delete(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let user_id = path.into_inner();
    let mentors = state.runtime.mentors.clone();
    let id = user_id.clone();
    web::block(move || mentors.delete(&id)).await??;
    Ok(HttpResponse::Ok().json(MentorDeleted {
        deleted: true,
        user_id,
    }))
}

/// Records an activity event (idempotent by `event_id`).
#[utoipa::path(post, path = "/api/v1/mentors/{user_id}/activity", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    request_body = ActivityBody,
    responses(
        (status = 201, description = "Recorded", body = MentorDto),
        (status = 200, description = "Replay of an event already recorded", body = MentorDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "event_id reused with a different body", body = ErrorBody),
    ))]
pub async fn activity(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<ActivityBody>,
) -> Result<HttpResponse> {
    let event = body.into_inner().try_into()?;
    let mentors = state.runtime.mentors.clone();
    let result = web::block(move || mentors.record_activity(&path, event)).await??;
    let mut response = if result.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(MentorDto::from(result.record)))
}

/// Creates or replaces a certification.
#[utoipa::path(put, path = "/api/v1/mentors/{user_id}/certifications/{certification_id}", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id"), ("certification_id" = String, Path, description = "Certification id")),
    request_body = CertificationBody,
    responses(
        (status = 201, description = "Created", body = MentorCertificationDto),
        (status = 200, description = "Replaced", body = MentorCertificationDto),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn put_certification(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Json<CertificationBody>,
) -> Result<HttpResponse> {
    let (user_id, certification_id) = path.into_inner();
    let cert = body.into_inner().into_certification(certification_id)?;
    let dto = CertificationDto::from(&cert);
    let mentors = state.runtime.mentors.clone();
    let id = user_id.clone();
    let (_, created) = web::block(move || mentors.put_certification(&id, cert)).await??;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(MentorCertificationDto {
        user_id,
        certification: dto,
    }))
}

/// Deletes a certification.
#[utoipa::path(delete, path = "/api/v1/mentors/{user_id}/certifications/{certification_id}", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id"), ("certification_id" = String, Path, description = "Certification id")),
    responses((status = 200, body = CertificationDeleted), (status = 404, body = ErrorBody)))]
pub async fn delete_certification(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (user_id, certification_id) = path.into_inner();
    let mentors = state.runtime.mentors.clone();
    let (u, c) = (user_id.clone(), certification_id.clone());
    web::block(move || mentors.delete_certification(&u, &c)).await??;
    Ok(HttpResponse::Ok().json(CertificationDeleted {
        deleted: true,
        user_id,
        certification_id,
    }))
}

/// Changes notification switches; omitted ones keep their value.
#[utoipa::path(put, path = "/api/v1/mentors/{user_id}/preferences", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    request_body = PreferencesBody,
    responses((status = 200, body = PreferencesDto), (status = 404, body = ErrorBody)))]
pub async fn set_preferences(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<PreferencesBody>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into();
    let mentors = state.runtime.mentors.clone();
    let prefs = web::block(move || mentors.set_preferences(&path, patch)).await??;
    Ok(HttpResponse::Ok().json(PreferencesDto::from(prefs)))
}

/// Pauses a mentor (`requested` or `admin`).
#[utoipa::path(post, path = "/api/v1/mentors/{user_id}/pause", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    request_body = PauseBody,
    responses(
        (status = 200, body = MentorDto), (status = 404, body = ErrorBody),
        (status = 409, description = "A certification_expired pause is in place", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn pause(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<PauseBody>,
) -> Result<HttpResponse> {
    let (reason, until) = body.parse()?;
    let mentors = state.runtime.mentors.clone();
    let record = web::block(move || mentors.pause(&path, reason, until)).await??;
    Ok(HttpResponse::Ok().json(MentorDto::from(record)))
}

/// Lifts a `requested` or `admin` pause.
#[utoipa::path(delete, path = "/api/v1/mentors/{user_id}/pause", tag = "mentors",
    params(("user_id" = String, Path, description = "Platform user id")),
    responses(
        (status = 200, body = MentorDto), (status = 404, body = ErrorBody),
        (status = 409, description = "certification_expired pauses are lifted by the auto-lift job", body = ErrorBody),
    ))]
pub async fn lift_pause(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let mentors = state.runtime.mentors.clone();
    let record = web::block(move || mentors.lift_pause(&path)).await??;
    Ok(HttpResponse::Ok().json(MentorDto::from(record)))
}

/// Imports mentors from NDJSON, all or nothing, in one transaction.
#[utoipa::path(post, path = "/api/v1/mentors/import", tag = "mentors",
    request_body(content = String, content_type = "application/x-ndjson",
        description = "One `ImportLineBody` JSON object per line; blank lines are skipped. Up to `--max-import-bytes` (256 MiB); each line up to `--max-body-bytes` (1 MiB)."),
    responses(
        (status = 200, description = "Every line imported", body = ImportSummaryDto),
        (status = 413, description = "Body over `--max-import-bytes`", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/x-ndjson", body = ErrorBody),
        (status = 422, description = "`invalid_lines`: nothing was written; `details.errors` lists up to 100 `{line, error}` by line number, `details.error_count` counts all, `details.truncated` says whether some were left out", body = ErrorBody),
        (status = 429, description = "`too_many_imports`: `--max-concurrent-imports` imports are in progress; nothing was read or written; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    require_ndjson(&req)?;
    let slot = state.imports.take()?;
    let file = spool(&req, payload, state.http.limits.max_import_bytes).await?;
    let mut lines = NdjsonLines::new(file, state.http.limits.max_body_bytes);
    let mentors = state.runtime.mentors.clone();
    // The slot goes with the import, not with this request: a client that
    // hangs up does not stop the import's transaction.
    let import = move || {
        let _slot = slot;
        mentors.import(&mut lines)
    };
    match web::block(import).await?? {
        ImportOutcome::Imported(counts) => {
            Ok(HttpResponse::Ok().json(ImportSummaryDto::from(counts)))
        }
        ImportOutcome::Rejected(rejected) => Err(ApiError::ImportRejected(rejected)),
    }
}
