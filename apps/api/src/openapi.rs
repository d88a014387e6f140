//! The OpenAPI document, generated from the handlers' annotations. A test
//! checks that every route of [`crate::routes::table`] is in it.

use utoipa::OpenApi;

use crate::dto::{self, evaluation, mentor};
use crate::error;
use crate::handlers::{evaluations, health, mentors};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mentor Scheduler",
        description = "Decides which volunteer peer mentors to nudge, records every decision with its reason, and enqueues notifications. The doubled contract paths (`/api/v1/x/api/v1/x/...`) are aliases of the canonical paths documented here."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::openapi,
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
        evaluations::list,
        evaluations::get,
        evaluations::create,
        evaluations::override_evaluation,
        evaluations::delete,
        evaluations::evaluate_inactivity,
        evaluations::evaluate_milestone,
        evaluations::evaluate_certification_expiry,
        evaluations::should_notify,
    ),
    components(schemas(
        error::ErrorBody,
        error::ErrorDetail,
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
        evaluation::EvaluationDto,
        evaluation::CreateEvaluationBody,
        evaluation::InactivityBody,
        evaluation::MilestoneBody,
        evaluation::CertificationExpiryBody,
        evaluation::OverrideBody,
        evaluation::EvaluationDeleted,
        evaluation::ShouldNotifyDto,
    ))
)]
pub struct ApiDoc;
