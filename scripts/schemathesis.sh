#!/usr/bin/env bash
# Property-based API testing: runs schemathesis (pinned, from PyPI) against
# /v2/openapi.json of a live `drydock serve --dokku-sim` on a fresh SQLite
# database and a free loopback port. Fails on any 5xx, any response that its
# OpenAPI declaration does not allow (status code, content type, headers, body
# schema), and any other failed check.
#
#   scripts/schemathesis.sh                 # defaults below
#   ST_MAX_EXAMPLES=50 scripts/schemathesis.sh
#
# Environment:
#   SCHEMATHESIS_VENV  venv to create/reuse   (default: <target dir>/schemathesis-venv)
#   ST_DRYDOCK_BIN     prebuilt binary to use (default: `cargo build` then target/debug/drydock)
#   ST_MAX_EXAMPLES    cases per operation and phase (default: 100)
#   ST_SEED            hypothesis seed        (default: 1; set empty for a random one)
#   ST_REPORT_DIR      where reports go       (default: a temp dir, printed at the end)
#   ST_EXTRA_ARGS      appended to the schemathesis command line
#
# Checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_headers_conformance, response_schema_conformance, ignored_auth,
# missing_required_header, unsupported_method and allow_header_conformance;
# see the comment at CHECKS below for the others.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${SCHEMATHESIS_VENV:-$TARGET_DIR/schemathesis-venv}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-100}
SEED=${ST_SEED-1}

# Why these checks and not `all`:
# - negative_data_rejection / positive_data_acceptance judge whether the server
#   accepts exactly what the schema allows. The Drycc API is deliberately more
#   lenient than a JSON schema can say (unknown fields are ignored as Django
#   REST Framework does; `null` and absent are the same; numbers and booleans
#   are accepted where the clients send them as config strings), and stricter
#   in ways a schema cannot say (app names, hostnames, PEM contents, process
#   types that must exist in the current build), so both would flag the
#   reference behaviour itself. tests/api/hostile.rs covers refusals instead.
# - use_after_free / ensure_resource_availability need OpenAPI links, which
#   the document does not declare.
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth,missing_required_header,unsupported_method,allow_header_conformance

log() { printf '== %s\n' "$*" >&2; }

# --- schemathesis ----------------------------------------------------------
if [[ ! -x $VENV/bin/schemathesis ]] ||
   [[ $("$VENV/bin/schemathesis" --version 2>/dev/null) != *"$SCHEMATHESIS_VERSION"* ]]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$VENV/bin/schemathesis" --version >&2

# --- drydock ---------------------------------------------------------------
DRYDOCK=${ST_DRYDOCK_BIN:-}
if [[ -z $DRYDOCK ]]; then
  log "building drydock"
  cargo build --quiet --bin drydock
  DRYDOCK=$TARGET_DIR/debug/drydock
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/drydock-st.XXXXXX")
REPORT_DIR=${ST_REPORT_DIR:-$WORK/report}
SERVER_PID=
cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f $WORK/server.log ]]; then
    log "last server log lines ($WORK/server.log):"
    tail -n 20 "$WORK/server.log" >&2 || true
  fi
  if [[ -z ${ST_REPORT_DIR:-} && $rc -eq 0 ]]; then
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
log "starting drydock on $BASE (database $WORK/drydock.db)"
DRYDOCK_BIND=127.0.0.1:$PORT \
DATABASE_URL="sqlite://$WORK/drydock.db?mode=rwc" \
DRYDOCK_DOKKU_SIM=true \
DRYDOCK_PASSWORD_ITERATIONS=1000 \
DRYDOCK_LOGIN_FAILURES_PER_USER=0 \
DRYDOCK_LOGIN_FAILURES_PER_ADDRESS=0 \
DRYDOCK_RUN_TIMEOUT=10 \
DRYDOCK_LOG_FORMAT=text \
RUST_LOG=warn \
  "$DRYDOCK" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "drydock exited"; exit 1; }
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null

# --- fixtures ---------------------------------------------------------------
# call METHOD PATH [JSON] -> prints the body; fails unless the status is 2xx.
call() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -o "$WORK/body" -w '%{http_code}' -X "$method" "$BASE$path"
              -H 'Content-Type: application/json')
  [[ -n ${TOKEN:-} ]] && args+=(-H "Authorization: token $TOKEN")
  [[ -n $body ]] && args+=(--data "$body")
  local code
  code=$(curl "${args[@]}")
  if [[ $code != 2* ]]; then
    log "fixture $method $path answered $code: $(cat "$WORK/body")"
    exit 1
  fi
  cat "$WORK/body"
}

ST_USER=st-admin
ST_PASSWORD=st-admin-password
call POST /v2/auth/register "{\"username\":\"$ST_USER\",\"password\":\"$ST_PASSWORD\",\"email\":\"st@example.com\"}" >/dev/null
TOKEN=$(call POST /v2/auth/login "{\"username\":\"$ST_USER\",\"password\":\"$ST_PASSWORD\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
call POST /v2/auth/register '{"username":"st-other","password":"st-other-password","email":"o@example.com"}' >/dev/null
for app in st-app st-empty st-doomed; do
  call POST /v2/apps "{\"id\":\"$app\"}" >/dev/null
done
call POST /v2/apps/st-app/config '{"values":{"HELLO":"world"}}' >/dev/null
call POST /v2/apps/st-app/builds '{"image":"nginx:1.25","procfile":{"web":"nginx -g daemon off;","worker":"sleep 1000"}}' >/dev/null
call POST /v2/apps/st-app/domains '{"domain":"st.example.com"}' >/dev/null
call POST /v2/apps/st-app/domains '{"domain":"st2.example.com"}' >/dev/null
call POST /v2/apps/st-app/perms '{"username":"st-other"}' >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=st.example.com \
  -addext subjectAltName=DNS:st.example.com -keyout "$WORK/st.key" -out "$WORK/st.crt" 2>/dev/null
call POST /v2/certs "$(python3 -c 'import json,sys; print(json.dumps({"name": "st-cert", "certificate": open(sys.argv[1]).read(), "key": open(sys.argv[2]).read()}))' "$WORK/st.crt" "$WORK/st.key")" >/dev/null
call POST /v2/certs/st-cert/domain '{"domain":"st.example.com"}' >/dev/null
ssh-keygen -q -t ed25519 -N '' -C st@example.com -f "$WORK/st_ed25519"
call POST /v2/keys "$(python3 -c 'import json,sys; print(json.dumps({"id": "st-key", "public": open(sys.argv[1]).read()}))' "$WORK/st_ed25519.pub")" >/dev/null
log "fixtures ready: apps st-app (deployed, 2 domains, a certificate, collaborator st-other), st-empty, st-doomed; key st-key"

# Path parameters are drawn from the fixtures' names part of the time, so
# generated bodies and queries reach real objects instead of only 404s.
cat >"$WORK/schemathesis.toml" <<'TOML'
[dictionaries.apps]
values = ["st-app", "st-empty"]
[dictionaries.doomed]
values = ["st-doomed"]
[dictionaries.users]
values = ["st-other"]
[dictionaries.domains]
values = ["st.example.com", "st2.example.com", "st-app"]
[dictionaries.certs]
values = ["st-cert"]
[dictionaries.keys]
values = ["st-key"]
[dictionaries.versions]
values = ["v1", "v2", "v3", "v4", "3"]
[dictionaries.types]
values = ["web", "worker"]
[dictionaries.pods]
values = ["st-app.web.1", "st-app.worker.1", "web", "worker"]

[parameters]
"path.id" = { dictionary = "apps", probability = 0.6 }
"path.username" = { dictionary = "users", probability = 0.5 }
"path.domain" = { dictionary = "domains", probability = 0.5 }
"path.name" = { dictionary = "certs", probability = 0.5 }
"path.version" = { dictionary = "versions", probability = 0.6 }
"path.ptype" = { dictionary = "types", probability = 0.6 }
"path.which" = { dictionary = "pods", probability = 0.6 }

[[operations]]
include-path = "/v2/apps/{id}"
include-method = "DELETE"
parameters = { "path.id" = { dictionary = "doomed", probability = 0.5 } }

[[operations]]
include-path = "/v2/keys/{id}"
parameters = { "path.id" = { dictionary = "keys", probability = 0.5 } }

[[operations]]
include-path = "/v2/apps/{id}/pods/{ptype}/{name}/restart"
parameters = { "path.name" = { dictionary = "pods", probability = 0.6 } }
TOML

# The schemathesis auth hook: logs in as the fixture admin and re-logs in
# whenever a request answers 401 (POST /v2/auth/tokens revokes the caller's
# tokens, so a fixed header would turn every later request into a 401).
cat >"$WORK/st_hooks.py" <<PY
import json
import urllib.request

import schemathesis


@schemathesis.auth(refresh_interval=600, retry_on=[401])
class DrydockToken:
    def get(self, case, context):
        req = urllib.request.Request(
            "$BASE/v2/auth/login",
            data=json.dumps({"username": "$ST_USER", "password": "$ST_PASSWORD"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)["token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"token {data}"
PY

# --- run --------------------------------------------------------------------
ST_ARGS=(--config-file "$WORK/schemathesis.toml" run "$BASE/v2/openapi.json"
  --checks "$CHECKS"
  --max-examples "$MAX_EXAMPLES"
  --phases examples,coverage,fuzzing
  --workers 2
  --request-timeout 30
  --generation-database none
  --suppress-health-check all
  --report junit,ndjson --report-dir "$REPORT_DIR"
  --no-color)
[[ -n $SEED ]] && ST_ARGS+=(--seed "$SEED")
# shellcheck disable=SC2206
[[ -n ${ST_EXTRA_ARGS:-} ]] && ST_ARGS+=($ST_EXTRA_ARGS)

log "schemathesis ${ST_ARGS[*]}"
set +e
SCHEMATHESIS_HOOKS=st_hooks PYTHONPATH=$WORK "$VENV/bin/schemathesis" "${ST_ARGS[@]}"
rc=$?
set -e

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "drydock died during the run"
  rc=1
fi
log "reports in $REPORT_DIR"
if [[ $rc -ne 0 ]]; then
  log "schemathesis FAILED (exit $rc); work dir kept: $WORK"
  exit "$rc"
fi
log "schemathesis passed"
