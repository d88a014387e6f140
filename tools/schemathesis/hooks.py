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
"""

import json
import re
import uuid

import schemathesis

WELL_FORMED_KEY = re.compile(r"[!-~]{1,255}")


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
