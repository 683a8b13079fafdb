#!/usr/bin/env bash
# The whole platform on this machine, no Docker:
#   platform.sh up      infrastructure, topics, migrations, all seven services (background),
#                       bootstrap tenant; returns once every service is ready
#   platform.sh down    stop the services, then the infrastructure
#   platform.sh logs    follow the services' logs
#   platform.sh status  what runs
set -euo pipefail
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd "$SCRIPT_DIR/../.."

PID_FILE=.local/platform.pid
LOG_FILE=.local/log/platform.log
KEYS_DIR=.local/keys
SECRETS_FILE=.local/keys/secrets.env
CREDENTIALS=.local/credentials.json

say() { printf '==> platform: %s\n' "$*"; }

running() { [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

cmd_up() {
    local started=$SECONDS
    bash "$SCRIPT_DIR/deps.sh"
    bash "$SCRIPT_DIR/infra.sh" up
    # shellcheck source=/dev/null
    source .local/infra.env
    export PATH="$PWD/.venv/bin:$PATH"
    say "creating topics"
    incidentctl topics
    say "migrating schemas"
    incidentctl migrate
    # Directory signs access tokens with this key pair and every service verifies them: made
    # once per machine (kept on later runs, so issued tokens stay valid), never in git.
    incidentctl keys generate --out-dir "$KEYS_DIR"
    export DIRECTORY_SIGNING_KEY="$PWD/$KEYS_DIR/signing-key.pem"
    export AUTH_PUBLIC_KEY="$PWD/$KEYS_DIR/public-key.pem"
    # Secrets of this machine's platform, made once and kept (like the keys): the key that
    # encrypts notification channel secrets, and the one signing public-form tokens.
    if [[ ! -f $SECRETS_FILE ]]; then
        (
            umask 077
            python3 - >"$SECRETS_FILE" <<'PY'
import base64, os, secrets
print("NOTIFICATIONS_SECRET_KEY=" + base64.urlsafe_b64encode(os.urandom(32)).decode())  # a Fernet key
print("INTAKE_PUBLIC_FORM_SECRET=" + secrets.token_urlsafe(32))
PY
        )
        say "secrets written to $SECRETS_FILE"
    fi
    set -a
    # shellcheck source=/dev/null
    source "$SECRETS_FILE"
    set +a
    if running; then
        say "services already running (pid $(cat "$PID_FILE"))"
    else
        mkdir -p .local/log
        say "starting services under honcho; logs in $LOG_FILE"
        # setsid: its own process group, so `down` stops honcho and every service together.
        setsid honcho -f deploy/local/Procfile -d . start >>"$LOG_FILE" 2>&1 </dev/null &
        echo $! >"$PID_FILE"
    fi
    if ! incidentctl wait --timeout 120; then
        tail -n 40 "$LOG_FILE" >&2
        exit 1
    fi
    incidentctl bootstrap --out "$CREDENTIALS"
    say "up in $((SECONDS - started))s"
    cat <<MSG

  Credentials:    $CREDENTIALS  ({"tenant_slug", "api_key"}; incidentctl reads it)
  Signing keys:   $KEYS_DIR/     (DIRECTORY_SIGNING_KEY, AUTH_PUBLIC_KEY; secrets.env)
  Admin:          uv run incidentctl --help   (clients, users, vendors, components, integrations)
  Alert token:    uv run incidentctl integrations create --kind alertmanager --name NAME
                  prints it; Alertmanager: POST http://127.0.0.1:8001/v1/alerts/alertmanager, bearer
  Access token:   curl -H "Authorization: Bearer \$(uv run incidentctl token)" http://127.0.0.1:8007/v1/users
  API docs:       http://127.0.0.1:<port>/docs and /asyncapi on every service (ports above)
  Logs:           make logs        Stop: make down
MSG
}

cmd_down() {
    if running; then
        local pid
        pid=$(cat "$PID_FILE")
        say "stopping services (process group $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    bash "$SCRIPT_DIR/infra.sh" down
}

cmd_logs() {
    mkdir -p .local/log && touch "$LOG_FILE"
    exec tail -n 100 -F "$LOG_FILE"
}

cmd_status() {
    if running; then say "services running (pid $(cat "$PID_FILE"))"; else say "services not running"; fi
    bash "$SCRIPT_DIR/infra.sh" status || true
}

case "${1:-up}" in
    up) cmd_up ;;
    down) cmd_down ;;
    logs) cmd_logs ;;
    status) cmd_status ;;
    *) echo "usage: $0 {up|down|logs|status}" >&2; exit 2 ;;
esac
