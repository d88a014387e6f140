//! The handlers of the three job views, once: each is generic over the
//! [`View`] it serves and reads the view's description
//! ([`JobView`](crate::job_view::JobView)) for its key, its field names and
//! its answers. The routes mount them once per view (`routes.rs`); their
//! OpenAPI operations come from the same description (`job_view/openapi.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use runtime::TriggerRequest;

use crate::dto::job::{JobListQuery, PageOnlyQuery, TriggerBody};
use crate::dto::{ListBody, page_request};
use crate::error::{ApiError, LockView};
use crate::extract::{Json, JsonOrEmpty};
use crate::job_view::{
    CreateBody, DeletedOut, DetailOut, JobOut, LockKey, RunOut, TriggeredOut, UpdateBody, View,
};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// The jobs of the view, in registration order; the views that show every
/// handler filter by `handler`.
pub async fn list<V: View>(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let view = V::VIEW;
    let (handler, page) = match view.handler {
        Some(only) => {
            let q = web::Query::<PageOnlyQuery>::from_query(req.query_string())
                .map_err(ApiError::from_query)?;
            (Some(only), page_request(q.page, q.limit)?)
        }
        None => {
            let q = web::Query::<JobListQuery>::from_query(req.query_string())
                .map_err(ApiError::from_query)?;
            (q.handler()?, page_request(q.page, q.limit)?)
        }
    };
    let rt = state.runtime.clone();
    let shape = super::PageShape {
        unfiltered: handler.is_none(),
        first: page.page == 1,
        one_mentor: false,
    };
    let paged =
        super::read_page(&state.store, shape, move || rt.list_jobs(handler, page)).await??;
    let body = ListBody::of(paged, page, |job| job);
    Ok(HttpResponse::Ok().json(body.map(|job| JobOut { view, job })))
}

/// One job, with what its detail shows beside it.
pub async fn get<V: View>(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let key = V::VIEW.key(path.into_inner());
    let rt = state.runtime.clone();
    let detail = super::read_together(&state.store, move || rt.job_detail(&key)).await??;
    Ok(HttpResponse::Ok().json(DetailOut {
        view: V::VIEW,
        detail: &detail,
    }))
}

/// Registers a job.
pub async fn create<V: View>(
    state: web::Data<AppState>,
    body: Json<CreateBody<V>>,
) -> Result<HttpResponse> {
    let spec = body.into_inner().into_new_job();
    let rt = state.runtime.clone();
    let job = web::block(move || rt.create_job(spec)).await??;
    Ok(HttpResponse::Created().json(JobOut {
        view: V::VIEW,
        job: &job,
    }))
}

/// Changes the job.
pub async fn update<V: View>(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<UpdateBody<V>>,
) -> Result<HttpResponse> {
    let patch = body.into_inner().into_patch()?;
    let key = V::VIEW.key(path.into_inner());
    let rt = state.runtime.clone();
    let job = web::block(move || rt.update_job(&key, patch)).await??;
    Ok(HttpResponse::Ok().json(JobOut {
        view: V::VIEW,
        job: &job,
    }))
}

/// Deletes the job and cancels its running run; its run history stays.
pub async fn delete<V: View>(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let key = V::VIEW.key(path.into_inner());
    let rt = state.runtime.clone();
    let (job, at) = web::block(move || rt.delete_job(&key)).await??;
    Ok(HttpResponse::Ok().json(DeletedOut {
        view: V::VIEW,
        job: &job,
        at,
    }))
}

/// Starts a run now (also of a disabled job); it continues in the
/// background. A held lock is the 409 of a lock conflict, with the keys the
/// view adds.
pub async fn trigger<V: View>(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonOrEmpty<TriggerBody>,
) -> Result<HttpResponse> {
    let request = TriggerRequest::try_from(body.into_inner())?;
    let named = path.into_inner();
    let lock = lock_view(V::VIEW.lock_keys, &named);
    let key = V::VIEW.key(named);
    let rt = state.runtime.clone();
    let (job, run) = web::block(move || rt.trigger_job(&key, request))
        .await?
        .map_err(|e| ApiError::from_trigger(e, lock))?;
    Ok(HttpResponse::Accepted().json(TriggeredOut {
        view: V::VIEW,
        job: &job,
        run: &run,
    }))
}

/// The job's runs, newest first (skipped and missed ones included).
pub async fn runs<V: View>(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageOnlyQuery>,
) -> Result<HttpResponse> {
    let page = page_request(query.page, query.limit)?;
    let key = V::VIEW.key(path.into_inner());
    let rt = state.runtime.clone();
    let (job, paged) = web::block(move || rt.job_runs(&key, page)).await??;
    let body = ListBody::of(paged, page, |run| run);
    Ok(HttpResponse::Ok().json(body.map(|run| RunOut {
        view: V::VIEW,
        job: &job,
        run,
    })))
}

/// The newest finished run (`success`, `failed` or `cancelled`).
pub async fn last_result<V: View>(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let key = V::VIEW.key(path.into_inner());
    let rt = state.runtime.clone();
    let (job, run) = web::block(move || rt.last_result(&key)).await??;
    Ok(HttpResponse::Ok().json(RunOut {
        view: V::VIEW,
        job: &job,
        run: &run,
    }))
}

/// The keys a lock conflict's body carries in this view: each the key the
/// request named the job by.
fn lock_view(keys: &[LockKey], named: &str) -> LockView {
    let has = |k| keys.contains(&k).then(|| named.to_owned());
    LockView {
        id: has(LockKey::Id),
        cron_id: has(LockKey::CronId),
        job_name: has(LockKey::JobName),
    }
}
