#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) without Docker.
#
#   deploy/local/kafka.sh [up]      start it (idempotent; a no-op when already running)
#   deploy/local/kafka.sh stop      stop the broker this script started
#   deploy/local/kafka.sh status    report whether it answers
#   deploy/local/kafka.sh bootstrap print the bootstrap servers to use
#
# If $KAFKA_BOOTSTRAP_SERVERS is set and answers, nothing is started: that broker wins.
# The broker jars come from Maven Central (deploy/local/kafka/pom.xml) into a cache
# outside the repo, so a fresh checkout does not re-download ~40 MB.
# See docs/adr/0001-kafka-version.md for why this version.
# A second, throw-away broker (the fault-injection tests restart theirs) takes KAFKA_PORT,
# KAFKA_CONTROLLER_PORT, KAFKA_STATE_DIR (its data) and KAFKA_LOG_DIR.
set -euo pipefail

# Pinned: newest 4.x on Maven Central when this was written (checked 4.0.0 .. 4.4.0).
KAFKA_VERSION=4.4.0
# Kafka 4.4.0's own build uses Log4j 2.25.5 (slf4j-api 1.7.36 -> log4j-slf4j-impl binding).
LOG4J_VERSION=2.25.5

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
LOCAL_BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/incident-platform/kafka-${KAFKA_VERSION}"
LIBS_DIR="$CACHE_DIR/libs"
LIBS_MARKER="$CACHE_DIR/libs.complete"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONFIG="$SCRIPT_DIR/kafka/log4j2.properties"

STATE_DIR="${KAFKA_STATE_DIR:-$REPO_ROOT/.local/kafka}"
DATA_DIR="$STATE_DIR/data"
PROPS="$STATE_DIR/server.properties"
PID_FILE="$STATE_DIR/kafka.pid"
CLUSTER_ID_FILE="$STATE_DIR/cluster.id"
LOG_DIR="${KAFKA_LOG_DIR:-$REPO_ROOT/.local/log}"
CONSOLE_LOG="$LOG_DIR/kafka-console.log"
VENV_PY="$REPO_ROOT/.venv/bin/python"

START_TIMEOUT=90

say() { printf '==> kafka: %s\n' "$*"; }
die() { printf '==> kafka: ERROR: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on host:port (first entry of a list).
port_open() {
    local first=${1%%,*}
    local host=${first%:*} port=${first##*:}
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# True when a metadata request succeeds and at least one broker is registered.
# Uses the project's aiokafka when the venv exists (this is what the services use);
# without it the open port is the best we can check.
metadata_ok() {
    local servers=$1
    if [[ -x "$VENV_PY" ]] && "$VENV_PY" -c 'import aiokafka' 2>/dev/null; then
        timeout 20 "$VENV_PY" - "$servers" <<'PY' >/dev/null 2>&1
import asyncio
import sys

from aiokafka.admin import AIOKafkaAdminClient


async def main() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        if not cluster.get("brokers"):
            raise SystemExit(1)
    finally:
        await admin.close()


asyncio.run(asyncio.wait_for(main(), 15))
PY
    else
        port_open "$servers"
    fi
}

answers() { port_open "$1" && metadata_ok "$1"; }

# PID of the broker we started, if it is still that process (guards against PID reuse).
running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid=$(<"$PID_FILE")
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    # Read into a variable: `tr | grep -q` trips pipefail when grep exits early (SIGPIPE).
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *kafka.Kafka* ]] || return 1
    printf '%s\n' "$pid"
}

env_broker_answers() {
    [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && answers "$KAFKA_BOOTSTRAP_SERVERS"
}

fetch_libs() {
    # The marker records what was fetched; a changed pin or pom refetches.
    local want
    want="kafka=$KAFKA_VERSION log4j=$LOG4J_VERSION pom=$(sha256sum "$POM" | cut -d' ' -f1)"
    if [[ -f "$LIBS_MARKER" && "$(<"$LIBS_MARKER")" == "$want" ]]; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka $KAFKA_VERSION jars)"
    command -v java >/dev/null || die "java not found (Kafka 4.x needs Java 17+)"
    say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR"
    mkdir -p "$CACHE_DIR"
    # Copy into a temp dir and rename, so an interrupted download never looks complete.
    local tmp="$CACHE_DIR/libs.tmp.$$"
    rm -rf "$tmp"
    # Output to a log (mvn -q still emits ANSI resets); shown only when it fails.
    local mvn_log="$LOG_DIR/kafka-fetch.log"
    mkdir -p "$LOG_DIR"
    if ! mvn -q -B -Dstyle.color=never -f "$POM" \
        -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
        >"$mvn_log" 2>&1; then
        tail -n 40 "$mvn_log" >&2
        rm -rf "$tmp"
        die "mvn dependency:copy-dependencies failed (full output: $mvn_log)"
    fi
    [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; }
    rm -rf "$LIBS_DIR"
    mv "$tmp" "$LIBS_DIR"
    printf '%s\n' "$want" >"$LIBS_MARKER"
}

write_properties() {
    # Regenerated on every start so port overrides take effect; the storage format
    # (meta.properties) does not depend on the ports.
    mkdir -p "$STATE_DIR" "$DATA_DIR" "$LOG_DIR"
    cat >"$PROPS" <<EOF
# Generated by deploy/local/kafka.sh - edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${DATA_DIR}
# Single node: every internal topic must have replication factor 1.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Tests join groups constantly; the default 3 s delay would slow every one of them.
group.initial.rebalance.delay.ms=0
# Topics are created explicitly (by the services' bootstrap or the tests), never by accident.
auto.create.topics.enable=false
num.partitions=3
EOF
}

format_storage() {
    [[ -f "$DATA_DIR/meta.properties" ]] && return 0
    local cid
    if [[ -s "$CLUSTER_ID_FILE" ]]; then
        cid=$(<"$CLUSTER_ID_FILE")
    else
        cid=$(java -cp "$LIBS_DIR/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
        [[ -n "$cid" ]] || die "could not generate a cluster id"
        printf '%s\n' "$cid" >"$CLUSTER_ID_FILE"
    fi
    say "formatting storage in $DATA_DIR (cluster id $cid)"
    # Static controller.quorum.voters -> plain format; --standalone is for the dynamic quorum.
    java -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
        -cp "$LIBS_DIR/*" kafka.tools.StorageTool format -t "$cid" -c "$PROPS" -g >/dev/null
}

start_broker() {
    say "starting broker on $LOCAL_BOOTSTRAP (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
    : >"$CONSOLE_LOG"
    # setsid+nohup: the broker must outlive this script and not get the caller's Ctrl-C.
    # The heap is far below the start scripts' 1 GB default; plenty for tests.
    setsid nohup java -Xms256m -Xmx512m \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
        -Dkafka.logs.dir="$LOG_DIR" \
        -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS" \
        >"$CONSOLE_LOG" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$PID_FILE"
}

show_log_tail() {
    printf -- '--- tail of %s ---\n' "$LOG_DIR/kafka.log" >&2
    tail -n 40 "$LOG_DIR/kafka.log" >&2 2>/dev/null || true
    printf -- '--- tail of %s ---\n' "$CONSOLE_LOG" >&2
    tail -n 20 "$CONSOLE_LOG" >&2 2>/dev/null || true
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    if port_open "$LOCAL_BOOTSTRAP" && metadata_ok "$LOCAL_BOOTSTRAP"; then
        return 0
    fi
    say "waiting for $LOCAL_BOOTSTRAP (port + metadata request, up to ${START_TIMEOUT}s)"
    local pid
    pid=$(<"$PID_FILE")
    until port_open "$LOCAL_BOOTSTRAP" && metadata_ok "$LOCAL_BOOTSTRAP"; do
        # Only liveness here: /proc/PID/cmdline can read empty while setsid/nohup exec java,
        # which made running_pid's command-line check fail a healthy start now and then.
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log_tail
            die "broker process exited during start-up"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail
            die "broker not ready after ${START_TIMEOUT}s"
        fi
        sleep 0.5
    done
}

cmd_up() {
    if env_broker_answers; then
        say "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS answers; nothing to do"
        return 0
    fi
    [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && say "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS does not answer; using a local broker"
    local pid
    if pid=$(running_pid); then
        wait_ready
        say "already running (pid $pid) on $LOCAL_BOOTSTRAP"
        return 0
    fi
    # Something else on our port would make the broker die with a bind error; say so clearly.
    if port_open "$LOCAL_BOOTSTRAP"; then
        die "port $KAFKA_PORT is in use by a process this script did not start (set KAFKA_BOOTSTRAP_SERVERS to use it, or KAFKA_PORT to move)"
    fi
    fetch_libs
    write_properties
    format_storage
    start_broker
    wait_ready
    say "ready on $LOCAL_BOOTSTRAP (pid $(<"$PID_FILE"), Kafka $KAFKA_VERSION, log $LOG_DIR/kafka.log)"
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        say "not running"
        rm -f "$PID_FILE"
        return 0
    fi
    say "stopping broker (pid $pid)"
    kill -TERM "$pid"
    # Controlled shutdown of a combined node takes a few seconds; don't wait forever.
    local i
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "still alive after 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    say "stopped"
}

cmd_status() {
    if env_broker_answers; then
        say "external broker KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS answers"
        return 0
    fi
    local pid
    if pid=$(running_pid) && answers "$LOCAL_BOOTSTRAP"; then
        say "running (pid $pid) on $LOCAL_BOOTSTRAP, Kafka $KAFKA_VERSION"
        return 0
    fi
    say "not running"
    return 1
}

# The address clients should use: the external broker if it answers, else ours.
cmd_bootstrap() {
    if env_broker_answers; then
        printf '%s\n' "$KAFKA_BOOTSTRAP_SERVERS"
    else
        printf '%s\n' "$LOCAL_BOOTSTRAP"
    fi
}

case "${1:-up}" in
    up | start) cmd_up ;;
    stop | down) cmd_stop ;;
    status) cmd_status ;;
    bootstrap) cmd_bootstrap ;;
    *) die "usage: $0 [up|stop|status|bootstrap]" ;;
esac
