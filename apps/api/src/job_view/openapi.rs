//! The OpenAPI paths and schemas of each [`JobView`], made from its
//! description: the document cannot list a field the view does not write.

use utoipa::IntoParams;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};

use super::{
    BodyField, BodySpec, DeletedField, DetailField, JobField, JobView, KeyKind, RUN_FACTS,
    RunField, TriggeredField,
};
use crate::dto::job::{JobListQuery, PageOnlyQuery};

/// A property: its type, whether it may be null, and a sentence.
struct Prop(Type, bool, &'static str);

fn schema(p: &Prop) -> RefOr<Schema> {
    let Prop(ty, nullable, doc) = p;
    if matches!(ty, Type::Array) {
        return ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(*doc))
            .into();
    }
    let ty = if *nullable {
        SchemaType::from_iter([ty.clone(), Type::Null])
    } else {
        SchemaType::from(ty.clone())
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .description(Some(*doc))
        .into()
}

impl JobField {
    fn prop(self) -> Prop {
        match self {
            Self::Id => Prop(Type::String, false, "`job_` + ULID."),
            Self::Name => Prop(Type::String, false, "The unique name."),
            Self::Expression => Prop(Type::String, false, "The cron expression as given."),
            Self::Enabled => Prop(Type::Boolean, false, "Whether it fires on schedule."),
            Self::Status => Prop(Type::String, false, "`active` or `disabled`."),
            Self::LastRunAt => Prop(Type::String, true, "Start of the last finished real run."),
            Self::LastRunStatus => {
                Prop(Type::String, true, "Status of the last finished real run.")
            }
            Self::NextRunAt => Prop(
                Type::String,
                true,
                "The next scheduled instant; null when disabled.",
            ),
            Self::Timezone => Prop(Type::String, false, "IANA time zone of the expression."),
            Self::Handler => Prop(Type::String, false, "Canonical handler name."),
            Self::Params => Prop(Type::Object, false, "Handler parameters."),
            Self::CreatedAt => Prop(Type::String, false, "When it was registered."),
            Self::UpdatedAt => Prop(Type::String, false, "When it last changed."),
        }
    }
}

impl DetailField {
    fn prop(self) -> Prop {
        match self {
            Self::LockAcquired => Prop(
                Type::Boolean,
                false,
                "Whether a running run holds the job's lock.",
            ),
            Self::Upcoming => Prop(
                Type::Array,
                false,
                "The next 5 instants; empty when disabled.",
            ),
            Self::LastRunResult => Prop(
                Type::Object,
                true,
                "The last finished real run's `result_summary`, or null.",
            ),
            Self::LastRunDurationMs => Prop(
                Type::Integer,
                true,
                "Duration of the last finished real run, or null.",
            ),
        }
    }
}

impl RunField {
    fn prop(self) -> Prop {
        match self {
            Self::JobName => Prop(Type::String, false, "The job's name."),
            Self::JobId => Prop(Type::String, false, "The job's id."),
            Self::RunId => Prop(Type::String, false, "The run."),
            Self::StartedAt => Prop(Type::String, false, "When it started."),
            Self::CompletedAt => Prop(Type::String, true, "When it finished; null while running."),
            Self::Status => Prop(
                Type::String,
                false,
                "`running`, `success`, `failed`, `cancelled`, `skipped` or `missed`.",
            ),
            Self::Result => Prop(
                Type::Object,
                true,
                "The handler's summary (skipped and missed runs: `count`, ...).",
            ),
        }
    }
}

/// The run facts every view shows, in [`RUN_FACTS`] order.
const FACTS: [Prop; 6] = [
    Prop(Type::String, false, "`schedule` or `manual`."),
    Prop(Type::String, true, "Who triggered it by hand."),
    Prop(Type::String, true, "Why, if given."),
    Prop(Type::Boolean, false, "Whether it was a dry run."),
    Prop(Type::Integer, true, "Its duration, once finished."),
    Prop(Type::String, true, "Why it failed."),
];

impl TriggeredField {
    fn prop(self) -> Prop {
        match self {
            Self::JobName => Prop(Type::String, false, "The job's name."),
            Self::JobId => Prop(Type::String, false, "The job's id."),
            Self::TriggeredAt => Prop(Type::String, false, "When the run started."),
            Self::RunId => Prop(Type::String, false, "The run (`GET /api/v1/runs/{id}`)."),
            Self::Status => Prop(Type::String, false, "`running`."),
            Self::DryRun => Prop(Type::Boolean, false, "Whether it is a dry run."),
            Self::LockAcquired => Prop(Type::Boolean, false, "Always true."),
        }
    }
}

impl DeletedField {
    fn prop(self) -> Prop {
        match self {
            Self::Deleted => Prop(Type::Boolean, false, "Always true."),
            Self::JobName => Prop(Type::String, false, "The deleted job's name."),
            Self::JobId => Prop(Type::String, false, "The deleted job's id."),
            Self::CancelledAt => Prop(
                Type::String,
                false,
                "When it was deleted (and its running run, if any, cancelled).",
            ),
        }
    }
}

impl BodyField {
    fn prop(self) -> Prop {
        match self {
            Self::Name => Prop(Type::String, false, "Unique, 1-128 printable characters."),
            Self::Expression => Prop(
                Type::String,
                false,
                "5 or 6 fields, or a nickname such as `@daily`.",
            ),
            Self::Handler => Prop(
                Type::String,
                false,
                "Canonical name or alias; on update, the job's own handler.",
            ),
            Self::Enabled => Prop(Type::Boolean, false, "Enable or disable (default true)."),
            Self::Timezone => Prop(Type::String, false, "IANA zone (default `UTC`)."),
            Self::Params => Prop(Type::Object, false, "Handler parameters."),
        }
    }
}

/// An object schema of `props` (name, property), every non-null one required.
fn object(doc: &str, props: impl IntoIterator<Item = (&'static str, Prop)>) -> RefOr<Schema> {
    let mut o = ObjectBuilder::new().description(Some(doc));
    for (name, p) in props {
        if !p.1 {
            o = o.required(name);
        }
        o = o.property(name, schema(&p));
    }
    o.into()
}

fn body(spec: &BodySpec, doc: &str) -> RefOr<Schema> {
    let mut o = ObjectBuilder::new().description(Some(doc));
    for (name, f) in spec.names.iter().zip(spec.fields) {
        let Prop(ty, _, doc) = f.prop();
        // An optional field may also be given as null.
        let required = spec.required.contains(f);
        if required {
            o = o.required(*name);
        }
        o = o.property(*name, schema(&Prop(ty, !required, doc)));
    }
    o.into()
}

/// The component schemas of `view`, by name.
pub fn schemas(view: &JobView) -> Vec<(&'static str, RefOr<Schema>)> {
    let job = || view.job.fields.iter().map(|&(n, f)| (n, f.prop()));
    let run = view
        .run
        .fields
        .iter()
        .map(|&(n, f)| (n, f.prop()))
        .chain(RUN_FACTS.into_iter().zip(FACTS));
    vec![
        (view.job.name, object("A job.", job())),
        (
            view.detail.name,
            object(
                "One job, with its lock and upcoming instants.",
                job().chain(view.detail.fields.iter().map(|&(n, f)| (n, f.prop()))),
            ),
        ),
        (view.run.name, object("A run of the job.", run)),
        (
            view.triggered.name,
            object(
                "A run just started; it continues in the background.",
                view.triggered.fields.iter().map(|&(n, f)| (n, f.prop())),
            ),
        ),
        (
            view.deleted.name,
            object(
                "A deleted job.",
                view.deleted.fields.iter().map(|&(n, f)| (n, f.prop())),
            ),
        ),
        (view.create.name, body(&view.create, "A new job.")),
        (
            view.update.name,
            body(&view.update, "Every field optional, at least one."),
        ),
    ]
}

fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn response(description: &str, schema: Option<RefOr<Schema>>) -> utoipa::openapi::Response {
    let r = ResponseBuilder::new().description(description);
    match schema {
        Some(s) => r
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(s)).build(),
            )
            .build(),
        None => r.build(),
    }
}

fn error(description: &str) -> utoipa::openapi::Response {
    response(description, Some(reference("ErrorBody")))
}

/// A list body of `row`.
fn list(row: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .required("data")
        .required("pagination")
        .property("data", ArrayBuilder::new().items(reference(row)))
        .property("pagination", reference("Pagination"))
        .into()
}

/// Every path of `view` with its operations.
pub fn paths(view: &JobView) -> Paths {
    let tag = view.tag;
    let op = |id: &str, summary: &str| {
        OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("{}_{id}", tag.replace('-', "_"))))
            .summary(Some(summary))
    };
    let key = ParameterBuilder::new()
        .name(view.key.0)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(match view.key.1 {
            KeyKind::Name => "The job's name, URL-encoded",
            KeyKind::Id => "Job id (job_...)",
        }))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    let page = || {
        if view.handler.is_some() {
            PageOnlyQuery::into_params(|| Some(ParameterIn::Query))
        } else {
            JobListQuery::into_params(|| Some(ParameterIn::Query))
        }
    };
    let json_body = |name: &str, required| {
        RequestBodyBuilder::new()
            .required(Some(required))
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(reference(name))).build(),
            )
            .build()
    };
    let not_found = error("Unknown job");
    let bad = error("Malformed JSON or query, a wrong type, or a missing field");
    let invalid = error(
        "`invalid_cron`, `unknown_timezone`, `unknown_handler`, `handler_immutable`, `invalid_params`, `unknown_field`, `invalid_value`",
    );
    let mut paths = Paths::new();
    paths.add_path_operation(
        view.collection,
        vec![HttpMethod::Get],
        op("list", "The jobs of this view, in registration order.")
            .parameters(Some(page()))
            .response("200", response("A page of jobs", Some(list(view.job.name))))
            .response("400", bad.clone())
            .response("422", error("Bad paging or an unknown handler")),
    );
    paths.add_path_operation(
        view.collection,
        vec![HttpMethod::Post],
        op("create", "Registers a job.")
            .request_body(Some(json_body(view.create.name, Required::True)))
            .response("201", response("The job", Some(reference(view.job.name))))
            .response("400", bad.clone())
            .response("409", error("`duplicate_name`"))
            .response("422", invalid.clone()),
    );
    paths.add_path_operation(
        view.item,
        vec![HttpMethod::Get],
        op("get", "One job, with its lock and next five instants.")
            .parameter(key.clone())
            .response(
                "200",
                response("The job", Some(reference(view.detail.name))),
            )
            .response("404", not_found.clone()),
    );
    paths.add_path_operation(
        view.item,
        vec![HttpMethod::Put],
        op(
            "update",
            "Changes the expression, zone, parameters, enabled flag or name.",
        )
        .parameter(key.clone())
        .request_body(Some(json_body(view.update.name, Required::True)))
        .response("200", response("The job", Some(reference(view.job.name))))
        .response("400", bad.clone())
        .response("404", not_found.clone())
        .response("409", error("`duplicate_name`"))
        .response("422", invalid),
    );
    paths.add_path_operation(
        view.item,
        vec![HttpMethod::Delete],
        op(
            "delete",
            "Deletes the job and cancels its running run; its run history stays.",
        )
        .parameter(key.clone())
        .response(
            "200",
            response("Deleted", Some(reference(view.deleted.name))),
        )
        .response("404", not_found.clone()),
    );
    let trigger_body = RequestBodyBuilder::new()
        .description(Some("Optional"))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(reference("TriggerBody")))
                .build(),
        )
        .build();
    paths.add_path_operation(
        view.trigger,
        vec![HttpMethod::Post],
        op(
            "trigger",
            "Starts a run now (also of a disabled job); it continues in the background.",
        )
        .parameter(key.clone())
        .request_body(Some(trigger_body))
        .response(
            "202",
            response("The run, `running`", Some(reference(view.triggered.name))),
        )
        .response("400", bad.clone())
        .response("404", not_found.clone())
        .response(
            "409",
            response(
                "A run holds the job's lock",
                Some(reference("LockConflictBody")),
            ),
        )
        .response("422", error("A bad `triggered_by` or `reason`")),
    );
    paths.add_path_operation(
        view.runs,
        vec![HttpMethod::Get],
        op(
            "runs",
            "The job's runs, newest first (skipped and missed ones included).",
        )
        .parameter(key.clone())
        .parameters(Some(PageOnlyQuery::into_params(|| {
            Some(ParameterIn::Query)
        })))
        .response("200", response("A page of runs", Some(list(view.run.name))))
        .response("400", bad)
        .response("404", not_found.clone())
        .response("422", error("Bad paging")),
    );
    if let Some(last) = view.last_result {
        paths.add_path_operation(
            last,
            vec![HttpMethod::Get],
            op("last_result", "The newest finished run (`success`, `failed` or `cancelled`; skipped and missed firings are not runs of the job's work).")
                .parameter(key)
                .response("200", response("The run", Some(reference(view.run.name))))
                .response("404", error("Unknown job, or no finished run yet")),
        );
    }
    paths
}
