// Upserts projects through HubSpot's official Node client (@hubspot/api-client), unchanged,
// against the emulator at EMULATOR_URL. Exits non-zero on any surprise.

import { Client } from "@hubspot/api-client";

const client = new Client({
  accessToken: process.env.EMULATOR_TOKEN,
  basePath: process.env.EMULATOR_URL,
});

function check(condition, message) {
  if (!condition) {
    console.error(`node: FAILED: ${message}`);
    process.exit(1);
  }
}

function upsert(inputs) {
  return client.crm.objects.batchApi.upsert("projects", {
    inputs: inputs.map(([code, properties]) => ({
      id: code,
      idProperty: "project_code",
      objectWriteTraceId: `node-${code}`,
      properties,
    })),
  });
}

const created = await upsert([
  ["NODE-1", { hs_name: "Node one", hs_pipeline: "default" }],
  ["NODE-2", { hs_name: "Node two" }],
  ["NODE-3", { hs_name: "Node three" }],
]);
check(String(created.status).toUpperCase() === "COMPLETE", `status ${created.status}`);
check(created.results.length === 3, `${created.results.length} results`);
check(created.results.every((r) => r._new === true || r["new"] === true), "all three created");
const first = created.results.find((r) => r.objectWriteTraceId === "node-NODE-1");
check(first !== undefined, "trace id echoed");

const updated = await upsert([["NODE-1", { hs_name: "Node one, renamed" }]]);
const result = updated.results[0];
check(result._new === false || result["new"] === false, "the second upsert updates");
check(result.id === first.id, "same record id");
check(result.properties.hs_name === "Node one, renamed", "new name");
check(result.properties.hs_pipeline === "default", "untouched property kept");

// A 207 comes back as a normal value, with the failed input in `errors`.
const mixed = await upsert([
  ["NODE-4", { hs_name: "Node four" }],
  ["NODE-5", { no_such_property: "x" }],
]);
check(mixed.results.length === 1, `${mixed.results.length} results in the 207`);
check(mixed.errors && mixed.errors.length === 1, "one error in the 207");
check(mixed.errors[0].context.objectWriteTraceId[0] === "node-NODE-5", "error names its input");

console.log("node: @hubspot/api-client upserted 4 projects, updated 1, and saw 1 per-input error");
