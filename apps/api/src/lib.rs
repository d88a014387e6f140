//! The actix-web shell of Mentor Scheduler: routing, JSON (de)serialisation,
//! the mapping of errors to statuses, configuration, the webhook sink, and
//! the app factory shared by `main` and the tests. Jobs, runs, the
//! scheduler loop and the notification worker live in the `runtime` crate,
//! which knows nothing of HTTP.

pub mod config;
pub mod demo;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod idempotency;
pub mod import;
pub mod job_view;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod webhook;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};

use crate::error::ApiError;
use crate::state::AppState;

/// Builds the application: state, extractor error handlers (so every bad
/// input gets the error body of docs/api.md), routes and the JSON 404.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.limits.max_body_bytes;
    App::new()
        .app_data(web::Data::new(state))
        // Bodies are read by `extract::Json`, which ignores the content type
        // (curl -d sends a form type; the body is JSON either way).
        .app_data(web::PayloadConfig::new(limit))
        .app_data(
            web::QueryConfig::default().error_handler(|err, _req| ApiError::from_query(err).into()),
        )
        .app_data(
            web::PathConfig::default().error_handler(|err, _req| ApiError::from_path(err).into()),
        )
        .wrap(
            actix_web::middleware::Logger::new("%a \"%r\" %s %b %Dms")
                .log_target("mentor_scheduler::http"),
        )
        .configure(routes::configure)
        .default_service(web::to(routes::not_found))
}
