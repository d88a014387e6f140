//! One job registry, three contract views of it, one set of handlers.
//!
//! `/api/v1/scheduler/jobs` names a job by its name, `/api/v1/cron/jobs`
//! by its id, and `/api/v1/certification-cron` by its id among the
//! certification expiry checks only. Beyond the key, the views differ only
//! in words: which field names they use, in which order, which endpoints
//! they have (`trigger` or `execute`, `last-result`). A [`JobView`] is that
//! description, as data; [`SCHEDULER`], [`CRON`] and [`CERTIFICATION`] are
//! the three. The handlers (`handlers/jobs.rs`), the wire forms
//! (`job_view/wire.rs`) and the OpenAPI paths (`job_view/openapi.rs`) read
//! nothing else, so a view's answers cannot drift from its description.
//!
//! To change what a view shows, change its constant below; the recorded
//! answers in `tests/api/snapshots/` show every byte of each view.

mod openapi;
mod wire;

pub use openapi::{paths, schemas};
pub use wire::{CreateBody, DeletedOut, DetailOut, JobOut, RunOut, TriggeredOut, UpdateBody};

use runtime::JobKey;
use scheduler_core::Handler;

/// A field of a job, under the name a view gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobField {
    /// `job_` + ULID.
    Id,
    /// The unique name.
    Name,
    /// The cron expression as given.
    Expression,
    /// Whether it fires on schedule.
    Enabled,
    /// `active` or `disabled`.
    Status,
    /// Start of the last finished real run.
    LastRunAt,
    /// Status of the last finished real run.
    LastRunStatus,
    /// The next scheduled instant; null when disabled.
    NextRunAt,
    /// IANA zone of the expression.
    Timezone,
    /// Canonical handler name.
    Handler,
    /// Handler parameters.
    Params,
    /// When it was registered.
    CreatedAt,
    /// When it last changed.
    UpdatedAt,
}

/// What a job's detail shows after the job's own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailField {
    /// Whether a running run holds the job's lock.
    LockAcquired,
    /// The next five instants; empty when disabled.
    Upcoming,
    /// The last finished real run's `result_summary`, or null.
    LastRunResult,
    /// Duration of the last finished real run, or null.
    LastRunDurationMs,
}

/// A field of a run in a view's run list and `last-result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunField {
    /// The job's name.
    JobName,
    /// The job's id.
    JobId,
    /// The run's id.
    RunId,
    /// When it started.
    StartedAt,
    /// When it finished; null while running.
    CompletedAt,
    /// `running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.
    Status,
    /// The handler's summary (skipped and missed runs: `count`, ...).
    Result,
}

/// A field of the answer to a trigger (202).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggeredField {
    /// The job's name.
    JobName,
    /// The job's id.
    JobId,
    /// When the run started.
    TriggeredAt,
    /// The run.
    RunId,
    /// `running`.
    Status,
    /// Whether it is a dry run.
    DryRun,
    /// Always true: the run holds the job's lock.
    LockAcquired,
}

/// A field of the answer to a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedField {
    /// Always true.
    Deleted,
    /// The job's name.
    JobName,
    /// The job's id.
    JobId,
    /// When it was deleted (and its running run, if any, cancelled).
    CancelledAt,
}

/// A field of a create or update body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyField {
    /// The unique name, 1-128 printable characters (spaces allowed).
    Name,
    /// 5 or 6 fields, or a nickname such as `@daily`.
    Expression,
    /// Canonical name or alias; on update it must name the job's handler.
    Handler,
    /// Enable or disable (default true).
    Enabled,
    /// IANA zone (default `UTC`).
    Timezone,
    /// Handler parameters (an object).
    Params,
}

/// A request body: its name (in messages and the OpenAPI document), its
/// fields in order, and which of them must be there.
#[derive(Debug)]
pub struct BodySpec {
    /// The schema's name, e.g. `CreateCronJobBody`.
    pub name: &'static str,
    /// Wire names, in order.
    pub names: &'static [&'static str],
    /// What each name is, in the same order.
    pub fields: &'static [BodyField],
    /// The fields that must be present.
    pub required: &'static [BodyField],
}

/// A response: its schema name and its fields in order.
#[derive(Debug)]
pub struct Shape<F: 'static> {
    /// The schema's name, e.g. `CronJobDto`.
    pub name: &'static str,
    /// Wire name and field, in the order they are written.
    pub fields: &'static [(&'static str, F)],
}

/// Keys a view adds to the body of a 409 `lock_held`, each set to the
/// key the request named the job by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey {
    /// `id`.
    Id,
    /// `cron_id`.
    CronId,
    /// `job_name`.
    JobName,
}

/// How a job is named in a view's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// By its exact name (URL-encoded).
    Name,
    /// By id.
    Id,
}

/// One contract's view of the job registry.
#[derive(Debug)]
pub struct JobView {
    /// The OpenAPI tag.
    pub tag: &'static str,
    /// The contract's base path; the doubled alias is this twice.
    pub contract_base: &'static str,
    /// The collection: `GET` lists, `POST` creates.
    pub collection: &'static str,
    /// One job: `GET`, `PUT`, `DELETE`.
    pub item: &'static str,
    /// `POST` starts a run now.
    pub trigger: &'static str,
    /// `GET` lists the job's runs.
    pub runs: &'static str,
    /// `GET` the newest finished run, where the view has it.
    pub last_result: Option<&'static str>,
    /// The path parameter and what it names.
    pub key: (&'static str, KeyKind),
    /// The only handler this view shows and creates, if it is limited to one.
    pub handler: Option<Handler>,
    /// A job.
    pub job: Shape<JobField>,
    /// A job's detail: the job's fields, then these.
    pub detail: Shape<DetailField>,
    /// A run.
    pub run: Shape<RunField>,
    /// The answer to a trigger.
    pub triggered: Shape<TriggeredField>,
    /// The answer to a delete.
    pub deleted: Shape<DeletedField>,
    /// The keys of a lock conflict's body.
    pub lock_keys: &'static [LockKey],
    /// `POST` on the collection.
    pub create: BodySpec,
    /// `PUT` on one job.
    pub update: BodySpec,
}

impl JobView {
    /// How the runtime finds the job a path names.
    pub fn key(&self, key: String) -> JobKey {
        match (self.key.1, self.handler) {
            (KeyKind::Name, _) => JobKey::Name(key),
            (KeyKind::Id, Some(Handler::CertificationExpiryCheck)) => JobKey::CertificationId(key),
            (KeyKind::Id, _) => JobKey::Id(key),
        }
    }
}

/// A view as a type, so that a handler can be generic over it and a
/// request body can be read by its view's field names.
pub trait View: 'static {
    /// The description.
    const VIEW: &'static JobView;
}

/// The scheduler view: the nightly-scheduler contract (docs/api.md).
#[derive(Debug)]
pub struct Scheduler;
/// The cron view: the cron-jobs contract (docs/api.md).
#[derive(Debug)]
pub struct Cron;
/// The certification-cron view: the certification-cron contract (docs/api.md).
#[derive(Debug)]
pub struct Certification;

impl View for Scheduler {
    const VIEW: &'static JobView = &SCHEDULER;
}
impl View for Cron {
    const VIEW: &'static JobView = &CRON;
}
impl View for Certification {
    const VIEW: &'static JobView = &CERTIFICATION;
}

/// What every view shows of a run after its own fields.
pub const RUN_FACTS: [&str; 6] = [
    "trigger",
    "triggered_by",
    "reason",
    "dry_run",
    "duration_ms",
    "error_message",
];

/// `/api/v1/scheduler/jobs` (the nightly-scheduler contract, docs/api.md):
/// every job, by name.
pub static SCHEDULER: JobView = JobView {
    tag: "scheduler",
    contract_base: "/api/v1/scheduler",
    collection: "/api/v1/scheduler/jobs",
    item: "/api/v1/scheduler/jobs/{job_name}",
    trigger: "/api/v1/scheduler/jobs/{job_name}/trigger",
    runs: "/api/v1/scheduler/jobs/{job_name}/runs",
    last_result: Some("/api/v1/scheduler/jobs/{job_name}/last-result"),
    key: ("job_name", KeyKind::Name),
    handler: None,
    job: Shape {
        name: "SchedulerJobDto",
        fields: &[
            ("job_name", JobField::Name),
            ("cron_expression", JobField::Expression),
            ("is_active", JobField::Enabled),
            ("last_run_at", JobField::LastRunAt),
            ("last_run_status", JobField::LastRunStatus),
            ("next_run_at", JobField::NextRunAt),
            ("id", JobField::Id),
            ("timezone", JobField::Timezone),
            ("handler", JobField::Handler),
            ("status", JobField::Status),
            ("params", JobField::Params),
            ("created_at", JobField::CreatedAt),
            ("updated_at", JobField::UpdatedAt),
        ],
    },
    detail: Shape {
        name: "SchedulerJobDetailDto",
        fields: &[
            ("lock_acquired", DetailField::LockAcquired),
            ("upcoming", DetailField::Upcoming),
        ],
    },
    run: Shape {
        name: "SchedulerRunDto",
        fields: &[
            ("job_name", RunField::JobName),
            ("run_id", RunField::RunId),
            ("started_at", RunField::StartedAt),
            ("completed_at", RunField::CompletedAt),
            ("status", RunField::Status),
            ("result_summary", RunField::Result),
        ],
    },
    triggered: Shape {
        name: "SchedulerTriggeredDto",
        fields: &[
            ("job_name", TriggeredField::JobName),
            ("triggered_at", TriggeredField::TriggeredAt),
            ("run_id", TriggeredField::RunId),
            ("status", TriggeredField::Status),
            ("job_id", TriggeredField::JobId),
            ("dry_run", TriggeredField::DryRun),
        ],
    },
    deleted: Shape {
        name: "SchedulerJobDeleted",
        fields: &[
            ("deleted", DeletedField::Deleted),
            ("job_name", DeletedField::JobName),
            ("cancelled_at", DeletedField::CancelledAt),
            ("job_id", DeletedField::JobId),
        ],
    },
    lock_keys: &[LockKey::JobName],
    create: BodySpec {
        name: "CreateSchedulerJobBody",
        names: &[
            "job_name",
            "cron_expression",
            "handler",
            "is_active",
            "timezone",
            "params",
        ],
        fields: &[
            BodyField::Name,
            BodyField::Expression,
            BodyField::Handler,
            BodyField::Enabled,
            BodyField::Timezone,
            BodyField::Params,
        ],
        required: &[BodyField::Name, BodyField::Expression, BodyField::Handler],
    },
    update: BodySpec {
        name: "UpdateSchedulerJobBody",
        names: &[
            "job_name",
            "cron_expression",
            "timezone",
            "params",
            "is_active",
            "handler",
        ],
        fields: &[
            BodyField::Name,
            BodyField::Expression,
            BodyField::Timezone,
            BodyField::Params,
            BodyField::Enabled,
            BodyField::Handler,
        ],
        required: &[],
    },
};

/// `/api/v1/cron/jobs` (the cron-jobs contract, docs/api.md): every job, by id.
pub static CRON: JobView = JobView {
    tag: "cron",
    contract_base: "/api/v1/cron",
    collection: "/api/v1/cron/jobs",
    item: "/api/v1/cron/jobs/{id}",
    trigger: "/api/v1/cron/jobs/{id}/trigger",
    runs: "/api/v1/cron/jobs/{id}/runs",
    last_result: None,
    key: ("id", KeyKind::Id),
    handler: None,
    job: Shape {
        name: "CronJobDto",
        fields: &[
            ("job_id", JobField::Id),
            ("name", JobField::Name),
            ("schedule", JobField::Expression),
            ("status", JobField::Status),
            ("last_triggered_at", JobField::LastRunAt),
            ("next_trigger_at", JobField::NextRunAt),
            ("last_run_status", JobField::LastRunStatus),
            ("enabled", JobField::Enabled),
            ("timezone", JobField::Timezone),
            ("handler", JobField::Handler),
            ("params", JobField::Params),
            ("created_at", JobField::CreatedAt),
            ("updated_at", JobField::UpdatedAt),
        ],
    },
    detail: Shape {
        name: "CronJobDetailDto",
        fields: &[
            ("lock_acquired", DetailField::LockAcquired),
            ("last_run_duration_ms", DetailField::LastRunDurationMs),
            ("upcoming", DetailField::Upcoming),
        ],
    },
    run: Shape {
        name: "CronRunDto",
        fields: &[
            ("run_id", RunField::RunId),
            ("job_id", RunField::JobId),
            ("started_at", RunField::StartedAt),
            ("completed_at", RunField::CompletedAt),
            ("status", RunField::Status),
            ("result_summary", RunField::Result),
        ],
    },
    triggered: Shape {
        name: "CronTriggeredDto",
        fields: &[
            ("job_id", TriggeredField::JobId),
            ("triggered_at", TriggeredField::TriggeredAt),
            ("lock_acquired", TriggeredField::LockAcquired),
            ("run_id", TriggeredField::RunId),
            ("status", TriggeredField::Status),
            ("dry_run", TriggeredField::DryRun),
        ],
    },
    deleted: Shape {
        name: "CronJobDeleted",
        fields: &[
            ("deleted", DeletedField::Deleted),
            ("job_id", DeletedField::JobId),
        ],
    },
    lock_keys: &[],
    create: BodySpec {
        name: "CreateCronJobBody",
        names: &[
            "name", "schedule", "handler", "enabled", "timezone", "params",
        ],
        fields: &[
            BodyField::Name,
            BodyField::Expression,
            BodyField::Handler,
            BodyField::Enabled,
            BodyField::Timezone,
            BodyField::Params,
        ],
        required: &[BodyField::Name, BodyField::Expression, BodyField::Handler],
    },
    update: BodySpec {
        name: "UpdateCronJobBody",
        names: &[
            "schedule", "enabled", "timezone", "params", "name", "handler",
        ],
        fields: &[
            BodyField::Expression,
            BodyField::Enabled,
            BodyField::Timezone,
            BodyField::Params,
            BodyField::Name,
            BodyField::Handler,
        ],
        required: &[],
    },
};

/// `/api/v1/certification-cron` (the certification-cron contract,
/// docs/api.md): the certification expiry checks, by id; any other job is
/// not found here.
pub static CERTIFICATION: JobView = JobView {
    tag: "certification-cron",
    contract_base: "/api/v1/certification-cron",
    collection: "/api/v1/certification-cron",
    item: "/api/v1/certification-cron/{id}",
    trigger: "/api/v1/certification-cron/{id}/execute",
    runs: "/api/v1/certification-cron/{id}/runs",
    last_result: None,
    key: ("id", KeyKind::Id),
    handler: Some(Handler::CertificationExpiryCheck),
    job: Shape {
        name: "CertificationCronDto",
        fields: &[
            ("id", JobField::Id),
            ("name", JobField::Name),
            ("cron_expression", JobField::Expression),
            ("status", JobField::Status),
            ("last_run_at", JobField::LastRunAt),
            ("last_run_status", JobField::LastRunStatus),
            ("next_run_at", JobField::NextRunAt),
            ("created_at", JobField::CreatedAt),
            ("updated_at", JobField::UpdatedAt),
            ("enabled", JobField::Enabled),
            ("timezone", JobField::Timezone),
            ("handler", JobField::Handler),
            ("params", JobField::Params),
        ],
    },
    detail: Shape {
        name: "CertificationCronDetailDto",
        fields: &[
            ("last_run_result", DetailField::LastRunResult),
            ("lock_acquired", DetailField::LockAcquired),
            ("upcoming", DetailField::Upcoming),
        ],
    },
    run: Shape {
        name: "CertificationRunDto",
        fields: &[
            ("run_id", RunField::RunId),
            ("cron_id", RunField::JobId),
            ("started_at", RunField::StartedAt),
            ("completed_at", RunField::CompletedAt),
            ("status", RunField::Status),
            ("result", RunField::Result),
        ],
    },
    triggered: Shape {
        name: "CertificationExecutedDto",
        fields: &[
            ("run_id", TriggeredField::RunId),
            ("cron_id", TriggeredField::JobId),
            ("triggered_at", TriggeredField::TriggeredAt),
            ("status", TriggeredField::Status),
            ("dry_run", TriggeredField::DryRun),
        ],
    },
    deleted: Shape {
        name: "CertificationCronDeleted",
        fields: &[
            ("deleted", DeletedField::Deleted),
            ("id", DeletedField::JobId),
        ],
    },
    lock_keys: &[LockKey::Id, LockKey::CronId],
    create: BodySpec {
        name: "CreateCertificationCronBody",
        names: &["name", "cron_expression", "enabled", "timezone", "params"],
        fields: &[
            BodyField::Name,
            BodyField::Expression,
            BodyField::Enabled,
            BodyField::Timezone,
            BodyField::Params,
        ],
        required: &[BodyField::Name, BodyField::Expression],
    },
    update: BodySpec {
        name: "UpdateCertificationCronBody",
        names: &[
            "cron_expression",
            "enabled",
            "timezone",
            "params",
            "name",
            "handler",
        ],
        fields: &[
            BodyField::Expression,
            BodyField::Enabled,
            BodyField::Timezone,
            BodyField::Params,
            BodyField::Name,
            BodyField::Handler,
        ],
        required: &[],
    },
};

/// The three views.
pub const ALL: [&JobView; 3] = [&SCHEDULER, &CERTIFICATION, &CRON];
