"""Upserts projects through HubSpot's official Python client (hubspot-api-client), unchanged,
against the emulator at EMULATOR_URL. Exits non-zero on any surprise."""

import os
import sys

from hubspot import HubSpot
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.objects.exceptions import ApiException

base_url = os.environ["EMULATOR_URL"]
client = HubSpot(access_token=os.environ["EMULATOR_TOKEN"], host=base_url)
batch_api = client.crm.objects.batch_api


def upsert(inputs):
    body = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id=code,
                id_property="project_code",
                object_write_trace_id=f"py-{code}",
                properties=properties,
            )
            for code, properties in inputs
        ]
    )
    return batch_api.upsert(
        object_type="projects",
        batch_input_simple_public_object_batch_input_upsert=body,
    )


def check(condition, message):
    if not condition:
        print(f"python: FAILED: {message}", file=sys.stderr)
        sys.exit(1)


created = upsert(
    [
        ("PY-1", {"hs_name": "Python one", "hs_pipeline": "default"}),
        ("PY-2", {"hs_name": "Python two"}),
        ("PY-3", {"hs_name": "Python three"}),
    ]
)
check(str(created.status).upper() == "COMPLETE", f"status {created.status}")
check(len(created.results) == 3, f"{len(created.results)} results")
check(all(r.new for r in created.results), "all three created")
by_trace = {r.object_write_trace_id: r for r in created.results}
check(set(by_trace) == {"py-PY-1", "py-PY-2", "py-PY-3"}, f"trace ids {set(by_trace)}")

updated = upsert([("PY-1", {"hs_name": "Python one, renamed"})])
result = updated.results[0]
check(result.new is False, "the second upsert updates")
check(result.id == by_trace["py-PY-1"].id, "same record id")
check(result.properties["hs_name"] == "Python one, renamed", "new name")
check(result.properties["hs_pipeline"] == "default", "untouched property kept")

# An error answer surfaces as the client's ApiException with HubSpot's body.
try:
    batch_api.upsert(
        object_type="projects",
        batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[SimplePublicObjectBatchInputUpsert(id="x", id_property="hs_name", properties={})]
        ),
    )
    check(False, "a non-unique idProperty is refused")
except ApiException as error:
    check(error.status == 400, f"status {error.status}")
    check("non-unique" in error.body, f"body {error.body}")

# OAuth: the client's own token API refreshes at the emulator's /oauth/v1/token, and the
# access token it gets writes.
oauth = HubSpot(host=base_url).oauth.tokens_api
tokens = oauth.create(
    grant_type="refresh_token",
    client_id=os.environ["EMULATOR_OAUTH_CLIENT_ID"],
    client_secret=os.environ["EMULATOR_OAUTH_CLIENT_SECRET"],
    refresh_token=os.environ["EMULATOR_OAUTH_REFRESH_TOKEN"],
)
check(tokens.token_type == "bearer", f"token type {tokens.token_type}")
check(tokens.expires_in == 1800, f"expires in {tokens.expires_in}")
app = HubSpot(access_token=tokens.access_token, host=base_url)
written = app.crm.objects.batch_api.upsert(
    object_type="projects",
    batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id="PY-OAUTH", id_property="project_code", properties={"hs_name": "Python through OAuth"}
            )
        ]
    ),
)
check(written.results[0].new is True, "written with the OAuth access token")

# A wrong secret is HubSpot's 400.
from hubspot.oauth.exceptions import ApiException as OAuthApiException

try:
    oauth.create(
        grant_type="refresh_token",
        client_id=os.environ["EMULATOR_OAUTH_CLIENT_ID"],
        client_secret="not-the-secret",
        refresh_token=os.environ["EMULATOR_OAUTH_REFRESH_TOKEN"],
    )
    check(False, "a wrong client secret is refused")
except OAuthApiException as error:
    check(error.status == 400, f"status {error.status}")
    check("BAD_CLIENT_SECRET" in error.body, f"body {error.body}")

print("python: hubspot-api-client upserted 3 projects, updated 1, and wrote 1 through OAuth")
