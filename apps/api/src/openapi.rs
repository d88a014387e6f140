//! The OpenAPI document: the handlers' annotations, plus the paths and
//! schemas of the three job views, made from their descriptions
//! (`job_view/openapi.rs`). A test checks that every route of
//! [`crate::routes::table`] is in it, and nothing else.

use actix_web::HttpResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};

use crate::dto::{self, evaluation, invocation, job, mentor, notification, run};
use crate::error;
use crate::handlers::{
    certifications, evaluations, health, invocations, mentors, notifications, runs, schedules,
};
use crate::job_view;

mod complete;
mod fields;

/// The annotated part of the API: everything but the job views.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mentor Scheduler",
        description = "Decides which volunteer peer mentors to nudge, records every decision with its reason, and enqueues and delivers notifications. The doubled contract paths (`/api/v1/x/api/v1/x/...`) are aliases of the canonical paths documented here."
    ),
    paths(
        health::healthz,
        health::readyz,
        crate::observe::metrics,
        document,
        mentors::list,
        mentors::get,
        mentors::upsert,
        mentors::delete,
        mentors::activity,
        mentors::put_certification,
        mentors::delete_certification,
        mentors::set_preferences,
        mentors::pause,
        mentors::lift_pause,
        mentors::import,
        certifications::expiring,
        evaluations::list,
        evaluations::get,
        evaluations::create,
        evaluations::override_evaluation,
        evaluations::delete,
        evaluations::evaluate_inactivity,
        evaluations::evaluate_milestone,
        evaluations::evaluate_certification_expiry,
        evaluations::should_notify,
        invocations::list,
        invocations::get,
        invocations::create,
        invocations::update,
        invocations::delete,
        invocations::active_peer_mentors,
        invocations::evaluation_batch,
        runs::list,
        runs::get,
        runs::cancel,
        runs::report,
        schedules::preview,
        notifications::list,
        notifications::get,
        notifications::retry,
    ),
    components(schemas(
        error::ErrorBody,
        error::ErrorDetail,
        error::LockConflictBody,
        dto::Pagination,
        mentor::MentorDto,
        mentor::PauseDto,
        mentor::CertificationDto,
        mentor::PreferencesDto,
        mentor::MentorBody,
        mentor::ActivityBody,
        mentor::CertificationBody,
        mentor::MentorCertificationDto,
        mentor::PreferencesBody,
        mentor::PauseBody,
        mentor::MentorDeleted,
        mentor::CertificationDeleted,
        mentor::ImportLineBody,
        mentor::ImportCertificationBody,
        mentor::ImportSummaryDto,
        dto::expiring::ExpiringCertificationDto,
        evaluation::EvaluationDto,
        evaluation::CreateEvaluationBody,
        evaluation::InactivityBody,
        evaluation::MilestoneBody,
        evaluation::CertificationExpiryBody,
        evaluation::OverrideBody,
        evaluation::EvaluationDeleted,
        evaluation::ShouldNotifyDto,
        job::TriggerBody,
        invocation::InvocationDto,
        invocation::InvocationDetailDto,
        invocation::InvocationBody,
        invocation::InvocationUpdateBody,
        invocation::InvocationDeleted,
        invocation::ActivePeerMentorDto,
        invocation::ActivePeerMentorsDto,
        invocation::EvaluationBatchBody,
        invocation::EvaluationBatchDto,
        invocation::BatchUserResultDto,
        run::RunDto,
        run::RunDetailDto,
        run::BatchResultDto,
        run::PreviewDto,
        notification::NotificationDto,
    ))
)]
struct Annotated;

/// The whole API.
#[derive(Debug)]
pub struct ApiDoc;

impl OpenApi for ApiDoc {
    fn openapi() -> utoipa::openapi::OpenApi {
        let mut doc = Annotated::openapi();
        // Every operation takes a bearer token when tokens are configured
        // (a read token for GET and HEAD); the probes take none.
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "MENTOR_SCHEDULER_ADMIN_TOKENS may do everything, MENTOR_SCHEDULER_READ_TOKENS only GET and HEAD; with no token configured the service is open (and serves loopback only).",
                    ))
                    .build(),
            ),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        for probe in ["/healthz", "/readyz"] {
            if let Some(get) = doc.paths.paths.get_mut(probe).and_then(|p| p.get.as_mut()) {
                get.security = Some(vec![SecurityRequirement::default()]);
            }
        }
        for view in job_view::ALL {
            doc.paths.merge(job_view::paths(view));
            let components = doc.components.get_or_insert_with(Default::default);
            for (name, schema) in job_view::schemas(view) {
                components.schemas.insert(name.to_owned(), schema);
            }
        }
        doc
    }
}

/// The document as served: what utoipa writes from the annotations and the
/// job views, completed with every status, field rule and link
/// (`openapi/complete.rs`). Built once.
pub fn served() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document did not serialise");
            serde_json::Value::Null
        });
        complete::complete(&mut doc);
        doc
    })
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(served())
}
