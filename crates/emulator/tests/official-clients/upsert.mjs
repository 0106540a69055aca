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

// One bad input makes HubSpot reject the whole batch: a 400 naming the property, nothing
// written.
let rejected;
try {
  await upsert([
    ["NODE-4", { hs_name: "Node four" }],
    ["NODE-5", { no_such_property: "x" }],
  ]);
} catch (error) {
  rejected = error;
}
check(rejected !== undefined, "a batch with an unknown property is rejected");
check(rejected.code === 400, `status ${rejected.code}`);
const said = typeof rejected.body === "string" ? rejected.body : JSON.stringify(rejected.body);
check(said.includes("PROPERTY_DOESNT_EXIST") && said.includes("no_such_property"), `body ${said}`);
// Sent alone, the good input is written.
const alone = await upsert([["NODE-4", { hs_name: "Node four" }]]);
check(alone.results.length === 1 && (alone.results[0]._new === true || alone.results[0]["new"] === true), "NODE-4 created alone");

console.log("node: @hubspot/api-client upserted 4 projects, updated 1, and saw a whole-batch 400");
