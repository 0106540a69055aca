#!/usr/bin/env bash
# Runs HubSpot's official clients, unchanged, against the emulator: Python `hubspot-api-client`
# (pip, in a throwaway venv) and Node `@hubspot/api-client` (npm, in a throwaway folder). Each
# upserts projects through its generic objects batch upsert (objectType `projects`) with its
# base URL pointed at the emulator, and meets a whole-batch 400; the Python client also
# refreshes an OAuth token at the emulator's token endpoint and writes with it. Then the end
# state is checked through /_emulator/records.
#
# Usage: crates/emulator/tests/official-clients/run.sh
#   EMULATOR_BIN=path   use this emulator binary instead of building the release one
#   KEEP_WORK=1         keep the temporary folder (venv, node_modules, logs)
# Needs cargo (unless EMULATOR_BIN is set), python3 with venv, node and npm, and access to
# the PyPI and npm registries. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
token="official-clients-token"
# An OAuth app for the Python client's token refresh; throwaway values for a local emulator.
oauth_client_id="official-clients-app"
oauth_client_secret="official-clients-secret"
oauth_refresh_token="official-clients-refresh"

work="$(mktemp -d "${TMPDIR:-/tmp}/hubspot-official-clients.XXXXXX")"
emulator_pid=""
cleanup() {
    if [[ -n "$emulator_pid" ]]; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

if [[ -z "${EMULATOR_BIN:-}" ]]; then
    step "building the emulator (release)"
    (cd "$root" && cargo build --release --quiet -p hubspot-projects-emulator --features cli --bin hubspot-projects-emulator)
    target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    EMULATOR_BIN="$target_dir/release/hubspot-projects-emulator"
fi

step "starting $EMULATOR_BIN"
mkfifo "$work/emulator.out"
"$EMULATOR_BIN" --port 0 \
    --token "$token:crm.objects.projects.read,crm.objects.projects.write" \
    --oauth-client "$oauth_client_id:$oauth_client_secret:$oauth_refresh_token" \
    >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
exec 3<"$work/emulator.out"
if ! read -r -t 10 -u 3 first_line; then
    echo "the emulator did not print its address" >&2
    cat "$work/emulator.err" >&2
    exit 1
fi
base_url="${first_line#listening on }"
if [[ "$base_url" != http://127.0.0.1:* ]]; then
    echo "unexpected first line: $first_line" >&2
    exit 1
fi
echo "emulator at $base_url"
export EMULATOR_URL="$base_url" EMULATOR_TOKEN="$token"
export EMULATOR_OAUTH_CLIENT_ID="$oauth_client_id" EMULATOR_OAUTH_CLIENT_SECRET="$oauth_client_secret"
export EMULATOR_OAUTH_REFRESH_TOKEN="$oauth_refresh_token"

step "Python: pip install hubspot-api-client"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check hubspot-api-client
"$work/venv/bin/pip" show hubspot-api-client | grep -E '^(Name|Version):'
"$work/venv/bin/python" "$here/upsert.py"

step "Node: npm install @hubspot/api-client"
mkdir -p "$work/node"
cp "$here/upsert.mjs" "$work/node/"
(cd "$work/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @hubspot/api-client)
node -e 'console.log("@hubspot/api-client " + require(process.argv[1] + "/node_modules/@hubspot/api-client/package.json").version)' "$work/node"
node "$work/node/upsert.mjs"

step "checking the end state through /_emulator/records"
python3 - "$base_url" <<'PY'
import json
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1] + "/_emulator/records") as answer:
    records = [json.loads(line) for line in answer.read().decode().splitlines() if line]
by_code = {r["properties"].get("project_code"): r for r in records}
expected = {
    "PY-1": "Python one, renamed",
    "PY-2": "Python two",
    "PY-3": "Python three",
    "PY-OAUTH": "Python through OAuth",
    "NODE-1": "Node one, renamed",
    "NODE-2": "Node two",
    "NODE-3": "Node three",
    "NODE-4": "Node four",
}
problems = []
if len(records) != len(expected):
    problems.append(f"{len(records)} records, expected {len(expected)}")
for code, name in expected.items():
    record = by_code.get(code)
    if record is None:
        problems.append(f"{code} missing")
    elif record["properties"].get("hs_name") != name:
        problems.append(f"{code} has hs_name {record['properties'].get('hs_name')!r}")
for code in ("PY-1", "NODE-1"):
    record = by_code.get(code)
    if record and not record["updatedAt"] > record["createdAt"]:
        problems.append(f"{code} was not updated after its creation")
if problems:
    print("end state: FAILED: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"end state: {len(records)} records as expected")
PY

step "official clients: OK"
