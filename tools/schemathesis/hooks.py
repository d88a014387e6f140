"""schemathesis hooks for tools/schemathesis.sh.

- The NDJSON mentor import: the document describes its body as the array
  of its lines; this writes that array as the import reads it, one JSON
  object per line.
- Idempotency keys: schemathesis draws header values from a small pool and
  sends the same `Idempotency-Key` with unrelated requests. The server then
  replays the first answer, as the header promises, and a run created and
  deleted long before comes back. A client sends one key per operation it
  means, so in the stateful phase a well-formed generated key is made
  unique; a malformed one is left as drawn, to test its rejection.
- One job, three addresses: a job is `/api/v1/scheduler/jobs/{job_name}`,
  `/api/v1/cron/jobs/{id}` and `/api/v1/certification-cron/{id}`, and a PUT
  may rename it. schemathesis's `ensure_resource_availability` counts as a
  removal only a DELETE of the same address or a write to the same path,
  so a job renamed, or deleted through another of its addresses, reads to
  it as "created resource not found". `ensure_resource_availability_jobs`
  runs that check unchanged, except on a job address after a successful PUT
  or DELETE of a job in the same scenario (tools/schemathesis.sh excludes
  the built-in check in its favour).
"""

import json
import re
import uuid

import schemathesis
from schemathesis.specs.openapi.checks import ensure_resource_availability

WELL_FORMED_KEY = re.compile(r"[!-~]{1,255}")
# The path templates of one job's addresses and of what lies below them.
JOB_ADDRESS = re.compile(r"^/api/v1/(scheduler/jobs|cron/jobs|certification-cron)/\{")


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    lines = value if isinstance(value, list) else [value]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    # Only the stateful phase chains a creation to its readers; the other
    # phases' header probes (a missing header, a malformed one) stay as drawn.
    meta = case.meta
    if meta is None or str(getattr(meta.phase.name, "value", meta.phase.name)) != "stateful":
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and WELL_FORMED_KEY.fullmatch(value):
                headers[name] = uuid.uuid4().hex


@schemathesis.check
def ensure_resource_availability_jobs(ctx, response, case):
    if response.status_code == 404 and JOB_ADDRESS.match(case.path) and _job_changed_before(ctx, case):
        return None
    return ensure_resource_availability(ctx, response, case)


def _job_changed_before(ctx, case):
    """Whether a PUT or DELETE of some job succeeded earlier in the scenario."""
    for prior in ctx.internals.find_all_cases():
        if prior.id == case.id:
            break
        if prior.operation.method.upper() not in ("PUT", "DELETE") or not JOB_ADDRESS.match(prior.path):
            continue
        prior_response = ctx.internals.find_response(case_id=prior.id)
        if prior_response is not None and 200 <= prior_response.status_code < 300:
            return True
    return False
