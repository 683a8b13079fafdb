"""Static checks of the deployment files: docker-compose.yml, deploy/Dockerfile, deploy/k8s.

No Docker engine is needed: the files are parsed, not run. SERVICE_PORTS is the one table of
services and ports (docs/architecture.md "Services and what each owns"); every check is driven
by it, so a service missing anywhere fails.
"""

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S_DIR = ROOT / "deploy" / "k8s"
OTEL_CONFIG = ROOT / "deploy" / "otel-collector.yaml"

SERVICE_PORTS: dict[str, int] = {
    "directory": 8007,
    "intake": 8001,
    "triage": 8002,
    "sla": 8003,
    "changes": 8004,
    "notifications": 8005,
    "audit": 8006,
    "console": 8008,
}
# The services behind the console: each with a schema, a database role, Kafka and the public key.
# The console is a client of their APIs only (docs/adr/0014-web-console.md).
BACKENDS = {name: port for name, port in SERVICE_PORTS.items() if name != "console"}
SCALED_OUT = {"intake": 2, "triage": 2, "sla": 2}  # replicas in deploy/k8s; the others run one

services = pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
backends = pytest.mark.parametrize("service", sorted(BACKENDS))


# --- helpers ----------------------------------------------------------------------------------


def _load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_compose()


@pytest.fixture(scope="module")
def compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of the two compose forms it uses."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def _published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs of a service, from short or long port syntax."""
    pairs = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        assert len(parts) >= 2, f"port {entry!r} publishes no host port"
        pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _app_services(compose_services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Compose services built from deploy/Dockerfile with a SERVICE build arg."""
    return {
        name: svc
        for name, svc in compose_services.items()
        if isinstance(svc.get("build"), dict) and (svc["build"].get("args") or {}).get("SERVICE")
    }


def _k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(K8S_DIR.rglob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                assert isinstance(document, dict), f"{path.name}: a document is not a mapping"
                documents.append(document | {"__file__": path.name})
    return documents


def _k8s_object(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _k8s_documents() if d.get("kind") == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r} under deploy/k8s, found {len(found)}"
    return found[0]


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_parses(compose: dict[str, Any]) -> None:
    assert isinstance(compose.get("services"), dict) and compose["services"]


@services
def test_service_is_built_from_the_shared_dockerfile(
    compose_services: dict[str, dict[str, Any]], service: str
) -> None:
    assert service in compose_services, f"docker-compose.yml has no service {service!r}"
    build = compose_services[service].get("build")
    assert isinstance(build, dict), f"{service}: build must be a mapping with args"
    assert Path(build.get("context", ".")) == Path(".")
    assert build.get("dockerfile") == "deploy/Dockerfile"
    assert build.get("args", {}).get("SERVICE") == service


@services
def test_service_publishes_its_port(compose_services: dict[str, dict[str, Any]], service: str) -> None:
    port = SERVICE_PORTS[service]
    assert (port, port) in _published_ports(compose_services[service]), f"{service} must publish {port}"


def test_app_services_match_the_port_table(compose_services: dict[str, dict[str, Any]]) -> None:
    assert set(_app_services(compose_services)) == set(SERVICE_PORTS)


def test_one_dockerfile_for_every_image(compose_services: dict[str, dict[str, Any]]) -> None:
    builds = {
        (Path(svc["build"].get("context", ".")), svc["build"].get("dockerfile"))
        for svc in compose_services.values()
        if isinstance(svc.get("build"), dict)
    }
    assert builds == {(Path("."), "deploy/Dockerfile")}


def test_kafka_is_apache_kafka_4_in_kraft_mode(compose_services: dict[str, dict[str, Any]]) -> None:
    kafka = compose_services["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+(\.\d+)?", kafka["image"]), kafka["image"]
    # In step with `make up`: the same Kafka release as the local script runs.
    pinned = re.search(r"^KAFKA_VERSION=(\S+)", (ROOT / "deploy/local/kafka.sh").read_text(), re.M)
    assert pinned and kafka["image"] == f"apache/kafka:{pinned.group(1)}"
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    assert env["CLUSTER_ID"]
    assert not any(key.startswith("KAFKA_ZOOKEEPER") for key in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"].lower() == "false"
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", key
    assert kafka.get("healthcheck", {}).get("test"), "kafka needs a healthcheck"


def test_services_reach_kafka_on_an_advertised_listener(compose: dict[str, Any]) -> None:
    advertised = _env(compose["services"]["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {listener.split("://", 1)[1] for listener in advertised.split(",")}
    assert compose["x-service-env"]["KAFKA_BOOTSTRAP_SERVERS"] in addresses


def test_postgres_has_a_healthcheck(compose_services: dict[str, dict[str, Any]]) -> None:
    postgres = compose_services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    test = postgres["healthcheck"]["test"]
    assert "pg_isready" in (" ".join(test) if isinstance(test, list) else test)
    env = _env(postgres)
    assert env["POSTGRES_USER"] == env["POSTGRES_PASSWORD"] == env["POSTGRES_DB"] == "incident"


def test_init_creates_topics_and_migrates_once_infrastructure_is_healthy(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    init = compose_services["init"]
    assert not (init["build"].get("args") or {}).get("SERVICE"), "init is the tools image: no SERVICE"
    command = _command(init)
    assert "incidentctl topics" in command and "incidentctl migrate" in command
    assert command.index("incidentctl topics") < command.index("incidentctl migrate")
    assert _depends_on(init) == {"kafka": "service_healthy", "postgres": "service_healthy"}


@backends
def test_service_waits_for_init(compose_services: dict[str, dict[str, Any]], service: str) -> None:
    assert _depends_on(compose_services[service]).get("init") == "service_completed_successfully"


@services
def test_service_has_a_healthcheck(compose_services: dict[str, dict[str, Any]], service: str) -> None:
    healthcheck = compose_services[service].get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable")


def test_shared_env_is_an_anchor(compose: dict[str, Any]) -> None:
    assert re.search(r"^x-service-env: &service-env\s*$", COMPOSE_FILE.read_text(), re.MULTILINE)
    shared = compose["x-service-env"]
    url = urlsplit(shared["DATABASE_URL"])
    assert url.scheme == "postgresql+asyncpg" and url.hostname == "postgres"
    assert url.path == "/incident"
    host, _, port = shared["KAFKA_BOOTSTRAP_SERVERS"].partition(":")
    assert host == "kafka" and port.isdigit()


@backends
def test_service_gets_the_shared_env(compose: dict[str, Any], service: str) -> None:
    env = _env(compose["services"][service])
    shared = {key: str(value) for key, value in compose["x-service-env"].items()}
    assert env.items() >= shared.items(), f"{service} lacks part of x-service-env"
    assert env["DATABASE_URL"] and env["KAFKA_BOOTSTRAP_SERVERS"]


def _default(value: str, variable: str) -> str:
    """The default of a ``${VARIABLE:-default}`` value: the operator's variable wins over it."""
    match = re.fullmatch(r"\$\{(\w+):-([^}]+)\}", value)
    assert match and match.group(1) == variable, f"{variable} should be ${{{variable}:-<file>}}: {value!r}"
    return match.group(2)


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """A service's volume mounts: target → (source, read-only)."""
    mounts = {}
    for entry in service.get("volumes") or []:
        source, target, *mode = str(entry).split(":")
        mounts[target] = (source, "ro" in mode)
    return mounts


def _mounted_file(service: dict[str, Any], path: str) -> tuple[str, bool]:
    """(volume, read-only) holding ``path`` inside the container."""
    for target, mount in _mounts(service).items():
        if path.startswith(target.rstrip("/") + "/"):
            return mount
    raise AssertionError(f"{path} is on no volume of the service")


def test_keys_one_shot_generates_the_signing_key_pair(compose: dict[str, Any]) -> None:
    keys = compose["services"]["keys"]
    assert "incidentctl keys generate --out-dir /keys/signing" in _command(keys)
    assert keys["restart"] == "no"
    assert {source for source, _ in _mounts(keys).values()} == {
        "signing-key",
        "public-key",
        "audit-signing-key",
    }
    assert {"signing-key", "public-key", "audit-signing-key"} <= set(compose["volumes"])


def test_audit_alone_gets_its_checkpoint_signing_key(compose: dict[str, Any]) -> None:
    keys = compose["services"]["keys"]
    assert (
        "incidentctl audit rotate-key --out /keys/audit/audit-signing-key.pem --only-if-missing"
        in _command(keys)
    )
    audit = compose["services"]["audit"]
    path = _default(_env(audit)["AUDIT_SIGNING_KEY"], "AUDIT_SIGNING_KEY")
    assert _mounted_file(audit, path) == ("audit-signing-key", True)
    assert {t: s for t, (s, _) in _mounts(keys).items()}["/keys/audit"] == "audit-signing-key"
    users = {
        name
        for name, svc in compose["services"].items()
        if "audit-signing-key" in {source for source, _ in _mounts(svc).values()}
        or "AUDIT_SIGNING_KEY" in _env(svc)
    }
    assert users == {"audit", "keys"}


@backends
def test_service_gets_the_public_key(compose: dict[str, Any], service: str) -> None:
    svc = compose["services"][service]
    path = _default(_env(svc)["AUTH_PUBLIC_KEY"], "AUTH_PUBLIC_KEY")
    assert PurePosixPath(path).name == "public-key.pem"
    assert _mounted_file(svc, path) == ("public-key", True)
    assert _depends_on(svc).get("keys") == "service_completed_successfully"


@services
def test_only_directory_gets_the_signing_key(compose: dict[str, Any], service: str) -> None:
    svc = compose["services"][service]
    volumes = {source for source, _ in _mounts(svc).values()}
    if service != "directory":
        assert "DIRECTORY_SIGNING_KEY" not in _env(svc)
        assert "signing-key" not in volumes
        return
    path = _default(_env(svc)["DIRECTORY_SIGNING_KEY"], "DIRECTORY_SIGNING_KEY")
    assert _mounted_file(svc, path) == ("signing-key", True)
    keys_out = {t: s for t, (s, _) in _mounts(compose["services"]["keys"]).items()}
    assert keys_out["/keys/signing"] == "signing-key" and keys_out["/keys/public"] == "public-key"
    assert PurePosixPath(path).name == "signing-key.pem"


def test_signing_key_volume_is_mounted_by_directory_and_keys_only(compose: dict[str, Any]) -> None:
    users = {
        name
        for name, svc in compose["services"].items()
        if "signing-key" in {source for source, _ in _mounts(svc).values()}
    }
    assert users == {"directory", "keys"}


def test_no_interim_alert_token_left() -> None:
    files = [COMPOSE_FILE, ROOT / "deploy/local/platform.sh", *sorted(K8S_DIR.glob("*.yaml"))]
    for path in files:
        text = path.read_text()
        assert "INTAKE_ALERT_TOKEN" not in text and "alert-token" not in text, path.name


def test_bootstrap_writes_credentials_once_directory_is_healthy(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    bootstrap = compose_services["bootstrap"]
    command = _command(bootstrap)
    assert "incidentctl bootstrap" in command
    assert "--directory-url http://directory:8007" in command
    assert "--out /out/credentials.json" in command
    assert "./.local:/out" in bootstrap["volumes"]
    assert _depends_on(bootstrap) == {"directory": "service_healthy"}
    assert _env(bootstrap)["DATABASE_URL"]


def test_otel_collector_config(compose_services: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load(OTEL_CONFIG.read_text())
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert "batch" in config["processors"] and "debug" in config["exporters"]
    for pipeline in config["service"]["pipelines"].values():
        assert pipeline["receivers"] == ["otlp"] and "batch" in pipeline["processors"]
    mounts = compose_services["otel-collector"]["volumes"]
    assert any(m.startswith("./deploy/otel-collector.yaml:") for m in mounts)


# --- deploy/Dockerfile ------------------------------------------------------------------------


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG SERVICE\b", text, re.MULTILINE)
    assert re.search(r"^ENV SERVICE=\$\{?SERVICE\}?", text, re.MULTILINE)
    assert "incidentctl serve" in text
    assert re.search(r"^CMD .*incidentctl serve", text, re.MULTILINE)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    assert "uv sync --frozen --no-dev" in text
    assert re.search(r"^HEALTHCHECK ", text, re.MULTILINE) and "/healthz" in text
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the image must not run as root"
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2, "multi-stage build expected"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".venv", ".local", ".git", "**/__pycache__"} <= patterns


# --- deploy/k8s -------------------------------------------------------------------------------


def test_k8s_manifests_parse() -> None:
    documents = _k8s_documents()
    assert documents
    for document in documents:
        if document["__file__"] != "kustomization.yaml":
            assert document.get("apiVersion") and document.get("kind"), document["__file__"]


def test_kustomization_lists_existing_files() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    for resource in resources:
        assert (K8S_DIR / resource).is_file(), f"kustomization.yaml lists a missing {resource}"
    assert "secret.example.yaml" not in resources, "the example Secret must not be applied"
    manifests = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert manifests <= set(resources), f"not in kustomization.yaml: {manifests - set(resources)}"


@services
def test_k8s_deployment(service: str) -> None:
    deployment = _k8s_object("Deployment", service)
    assert deployment["spec"]["replicas"] == SCALED_OUT.get(service, 1)
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"].get("enableServiceLinks") is False, "service links would set <SERVICE>_PORT"
    (container,) = pod["spec"]["containers"]
    assert {"name": "SERVICE", "value": service} in container["env"]
    assert [p["containerPort"] for p in container["ports"]] == [SERVICE_PORTS[service]]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]
    sources = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    if service == "console":  # no Secret at all: it holds none (docs/adr/0014-web-console.md)
        assert sources == {"incident-platform-config"}
    else:
        assert sources == {"incident-platform-config", "incident-platform-secrets"}


def test_k8s_intake_knows_its_replica_count() -> None:
    # Above one replica intake refuses to start without a shared public-form secret.
    deployment = _k8s_object("Deployment", "intake")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["INTAKE_REPLICAS"] == str(deployment["spec"]["replicas"])
    secrets = yaml.safe_load_all((K8S_DIR / "secret.example.yaml").read_text())
    assert any("INTAKE_PUBLIC_FORM_SECRET" in (d or {}).get("stringData", {}) for d in secrets)


@services
def test_k8s_service(service: str) -> None:
    k8s_service = _k8s_object("Service", service)
    ports = k8s_service["spec"]["ports"]
    assert [p["port"] for p in ports] == [SERVICE_PORTS[service]]
    pod_labels = _k8s_object("Deployment", service)["spec"]["template"]["metadata"]["labels"]
    assert k8s_service["spec"]["selector"].items() <= pod_labels.items()
    (container,) = _k8s_object("Deployment", service)["spec"]["template"]["spec"]["containers"]
    named = {p.get("name"): p["containerPort"] for p in container["ports"]}
    target = ports[0].get("targetPort", ports[0]["port"])
    assert named.get(target, target) == SERVICE_PORTS[service]


def test_k8s_init_job_creates_topics_and_migrates() -> None:
    jobs = [d for d in _k8s_documents() if d.get("kind") == "Job"]
    assert len(jobs) == 1
    (container,) = jobs[0]["spec"]["template"]["spec"]["containers"]
    command = " ".join(container.get("command", []) + container.get("args", []))
    assert "incidentctl topics" in command and "incidentctl migrate" in command
    assert not any(e.get("name") == "SERVICE" for e in container.get("env", []))


@backends
def test_k8s_service_gets_the_keys(service: str) -> None:
    """AUTH_PUBLIC_KEY for all (shared Secret); DIRECTORY_SIGNING_KEY for directory alone,
    AUDIT_SIGNING_KEY for audit alone, each from a Secret of its own."""
    (container,) = _k8s_object("Deployment", service)["spec"]["template"]["spec"]["containers"]
    shared = _k8s_object("Secret", "incident-platform-secrets")
    assert {"secretRef": {"name": shared["metadata"]["name"]}} in container["envFrom"]
    assert "-----BEGIN PUBLIC KEY-----" in shared["stringData"]["AUTH_PUBLIC_KEY"]
    assert "DIRECTORY_SIGNING_KEY" not in shared["stringData"]
    signing = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {}) and e["name"] != "DATABASE_PASSWORD"
    }
    own = {"directory": "DIRECTORY_SIGNING_KEY", "audit": "AUDIT_SIGNING_KEY"}.get(service)
    assert set(signing) == ({own} if own else set()), f"{service} reads only its own signing key"
    if own is None:
        return
    assert own not in shared["stringData"]
    ref = signing[own]
    secret = _k8s_object("Secret", ref["name"])
    assert ref["name"] != "incident-platform-secrets", "the signing key needs a Secret of its own"
    assert "-----BEGIN PRIVATE KEY-----" in secret["stringData"][ref["key"]]
    assert all("CHANGE-ME" in value for value in secret["stringData"].values()), "placeholders only"


def test_k8s_init_job_reads_no_signing_key() -> None:
    (job,) = [d for d in _k8s_documents() if d.get("kind") == "Job"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert "DIRECTORY_SIGNING_KEY" not in str(container)
    assert {"secretRef": {"name": "incident-platform-signing-key"}} not in container["envFrom"]


def test_k8s_config_map_carries_the_shared_env() -> None:
    config_map = _k8s_object("ConfigMap", "incident-platform-config")
    assert config_map["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert config_map["data"]["DATABASE_ADDRESS"] and config_map["data"]["DATABASE_ROLE_PREFIX"]
    secret = _k8s_object("Secret", "incident-platform-secrets")
    assert "DATABASE_URL" not in secret["stringData"], "the administrator's URL is the init Job's alone"
    assert all("CHANGE-ME" in value for value in secret["stringData"].values()), "placeholders only"


def _secret_env(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Variables a container reads from Secrets: name → (Secret, key)."""
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


@backends
def test_k8s_service_connects_as_its_own_database_role(service: str) -> None:
    """docs/adr/0008-database-roles.md: the password from the service's own Secret, the URL naming
    the service's role; the password is defined before the URL that expands it."""
    (container,) = _k8s_object("Deployment", service)["spec"]["template"]["spec"]["containers"]
    names = [e["name"] for e in container["env"]]
    assert names.index("DATABASE_PASSWORD") < names.index("DATABASE_URL")
    url = next(e["value"] for e in container["env"] if e["name"] == "DATABASE_URL")
    assert url == (
        f"postgresql+asyncpg://$(DATABASE_ROLE_PREFIX){service}:$(DATABASE_PASSWORD)@$(DATABASE_ADDRESS)"
    )
    secrets = _secret_env(container)
    assert secrets["DATABASE_PASSWORD"] == (f"incident-platform-db-{service}", "password")
    assert not {name for name, _ in secrets.values()} & (
        {f"incident-platform-db-{other}" for other in BACKENDS if other != service}
        | {"incident-platform-db-admin"}
    )
    assert _k8s_object("Secret", f"incident-platform-db-{service}")["stringData"]["password"] == "CHANGE-ME"


def test_k8s_init_job_creates_the_database_roles_as_the_administrator() -> None:
    (job,) = [d for d in _k8s_documents() if d.get("kind") == "Job"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    command = " ".join(container["command"])
    assert command.index("incidentctl migrate") < command.index("incidentctl db roles")
    secrets = _secret_env(container)
    assert secrets["DATABASE_URL"] == ("incident-platform-db-admin", "DATABASE_URL")
    for service in BACKENDS:
        password = secrets[f"{service.upper()}_DATABASE_PASSWORD"]
        assert password == (f"incident-platform-db-{service}", "password")


# --- the console ------------------------------------------------------------------------------


def _console_urls(env: dict[str, str]) -> dict[str, str]:
    return {
        k.removeprefix("CONSOLE_").removesuffix("_URL").lower(): v
        for k, v in env.items()
        if k.endswith("_URL")
    }


def _points_at_the_services(urls: dict[str, str]) -> None:
    """Each service the console calls, by its in-cluster name and port from the port table."""
    assert set(urls) == {"directory", "triage", "sla", "changes", "audit"}
    for name, url in urls.items():
        assert url == f"http://{name}:{SERVICE_PORTS[name]}", (name, url)


def test_compose_console_holds_no_database_kafka_or_key(compose_services: dict[str, dict[str, Any]]) -> None:
    console = compose_services["console"]
    env = _env(console)
    assert not {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AUTH_PUBLIC_KEY"} & set(env)
    assert not console.get("volumes"), "the console mounts no key"
    _points_at_the_services(_console_urls(env))
    assert _depends_on(console) == {"directory": "service_healthy", "triage": "service_healthy"}


def test_k8s_console_reads_no_secret_and_points_at_the_services() -> None:
    (container,) = _k8s_object("Deployment", "console")["spec"]["template"]["spec"]["containers"]
    assert not _secret_env(container)
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    _points_at_the_services(_console_urls(env))


def test_the_healthcheck_knows_the_console_port() -> None:
    assert '"console": 8008' in DOCKERFILE.read_text()
