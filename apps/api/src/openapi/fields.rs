//! What each request field and query parameter accepts, stated in JSON
//! Schema from the same constants and parsers the handlers use: the names a
//! parser knows become an `enum`, a bound becomes `minimum`/`maximum`, an id
//! rule becomes a length and a pattern. The document's types say only
//! "string" or "integer"; these rules make "schema-valid" mean "accepted".

use chrono_tz::TZ_VARIANTS;
use run_log::{RunStatus, Trigger};
use runtime::ReportFormat;
use scenario_engine::rules::{MentorStatus, MilestoneType, PauseReason, ReasonCode, ScenarioType};
use scenario_engine::service::{MAX_BATCH_USER_IDS, NotificationStatus};
use scheduler_core::Handler;
use serde_json::{Value, json};

use crate::dto::{self, mentor::MAX_SESSIONS, run::MAX_PREVIEW_COUNT};

/// No control character (Unicode `Cc`, as `char::is_control`).
const NO_CONTROL: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// Something other than whitespace and no control character: a job name.
const PRINTABLE_NAME: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// Control characters but line break, carriage return and tab.
const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// An id the platform gives (`user_id`, `org_id`, ...): 1-128 characters,
/// no control character (`validate_platform_id`).
fn platform_id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": NO_CONTROL})
}

fn names<I: IntoIterator<Item = &'static str>>(names: I) -> Value {
    json!({"type": "string", "enum": names.into_iter().collect::<Vec<_>>()})
}

fn days(min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

fn instant() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// The rule of a field that means the same wherever it appears.
fn by_name(name: &str) -> Option<Value> {
    Some(match name {
        "user_id" | "org_id" | "run_id" | "job_id" | "event_id" | "certification_id" | "id" => {
            platform_id()
        }
        "job_name" | "name" => json!({
            "type": "string", "minLength": 1, "maxLength": 128, "pattern": PRINTABLE_NAME
        }),
        "triggered_by" | "after" => platform_id(),
        "reason" => json!({"type": "string", "maxLength": 1000, "pattern": TEXT}),
        "error_message" => json!({"type": "string", "maxLength": 2000}),
        "timezone" => names(TZ_VARIANTS.iter().map(|tz| tz.name())),
        "handler" => names(Handler::accepted_names()),
        "scenario_type" => names(ScenarioType::ALL.iter().map(|t| t.as_str())),
        "milestone_type" => names(MilestoneType::ALL.iter().map(|t| t.as_str())),
        "reason_code" => names(ReasonCode::ALL.iter().map(|t| t.as_str())),
        "threshold_days" => days(1, 3650),
        "lead_time_days" => days(0, 3650),
        "sessions_count" => days(0, MAX_SESSIONS),
        "page" => days(1, dto::MAX_PAGE),
        "limit" => days(1, dto::MAX_LIMIT),
        "count" => days(1, MAX_PREVIEW_COUNT),
        "within_days" => days(1, dto::expiring::MAX_WITHIN_DAYS),
        "batch_size" => days(1, i64::from(runtime::MAX_BATCH_SIZE)),
        "batch_after" => days(0, dto::run::MAX_BATCH_AFTER),
        "batch_limit" => days(0, dto::run::MAX_BATCH_LIMIT),
        "trigger" => names([Trigger::Schedule, Trigger::Manual].map(Trigger::as_str)),
        "format" => names(ReportFormat::ALL.iter().map(|(n, _)| *n)),
        "kind" => json!({"type": "string", "minLength": 1, "maxLength": 64}),
        "user_ids" => json!({
            "type": "array", "minItems": 1, "maxItems": MAX_BATCH_USER_IDS,
            "uniqueItems": true, "items": platform_id()
        }),
        n if n.ends_with("_at") || n == "from" || n == "to" || n == "until" => instant(),
        _ => return None,
    })
}

/// The rule of `name` in `scope` (a body schema's name, or a list path for
/// a query parameter), where the same name means different things.
pub fn rule(scope: &str, name: &str) -> Option<Value> {
    let status = |all: &mut dyn Iterator<Item = &'static str>| names(all.collect::<Vec<_>>());
    match (scope, name) {
        ("MentorBody" | "ImportLineBody", "status") => Some(names(
            [MentorStatus::Active, MentorStatus::Inactive].map(|s| s.as_str()),
        )),
        ("/api/v1/mentors", "status") => {
            Some(status(&mut MentorStatus::ALL.iter().map(|s| s.as_str())))
        }
        // `certification_expired` pauses are made by the expiry job only.
        ("PauseBody", "reason") => Some(names(
            [PauseReason::Requested, PauseReason::Admin].map(|r| r.as_str()),
        )),
        ("InvocationUpdateBody", "status") => Some(status(
            &mut dto::invocation::PUT_STATUSES.iter().map(|s| s.as_str()),
        )),
        ("/api/v1/notifications", "status") => Some(status(
            &mut NotificationStatus::ALL.iter().map(|s| s.as_str()),
        )),
        ("/api/v1/runs" | "/api/v1/scheduler-invocations", "status") => {
            Some(status(&mut RunStatus::ALL.iter().map(|s| s.as_str())))
        }
        ("/api/v1/runs", "kind") => Some(names(Handler::accepted_names())),
        // In a query a boolean is the word.
        (path, "should_notify" | "dry_run") if path.starts_with('/') => {
            Some(names(["true", "false"]))
        }
        ("/api/v1/scheduler-invocations/active-peer-mentors", "limit") => {
            Some(days(1, i64::from(dto::invocation::ACTIVE_MAX_LIMIT)))
        }
        // Free text kept as given: a certification's name, an activity kind.
        ("CertificationBody" | "ImportCertificationBody", "name") => {
            Some(json!({"type": "string"}))
        }
        // A cron expression is checked by its parser; its grammar is more
        // than a pattern can say (docs/api.md, "Checking the document").
        (_, "cron_expression" | "schedule" | "expression") => None,
        _ => by_name(name),
    }
}
