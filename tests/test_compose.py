"""The scaled deployment as files: docker-compose.yml, deploy/nginx.conf and the Dockerfile.

No Docker engine is needed. The compose file is read with yaml.safe_load and checked against
the real `hearth` CLI (every command must parse) and the real settings loader (every HEARTH_*
variable must be one it reads, with a value it accepts). Where the docker client has its
compose plugin, `docker compose config -q` validates the file against the schema as well.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from server.cli import main as hearth_cli
from server.settings import VARIABLES, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

EXPECTED = {"postgres", "redis", "migrate", "app1", "app2", "worker", "beat", "proxy"}
HEARTH = ("migrate", "app1", "app2", "worker", "beat")  # the services that run `hearth ...`
APPS = ("app1", "app2")
LONG_RUNNING = ("postgres", "redis", "app1", "app2", "worker", "beat", "proxy")
# Depended on by others (with service_healthy), so they must report health themselves.
MUST_HEALTHCHECK = ("postgres", "redis", "app1", "app2")


# -- helpers ---------------------------------------------------------------------------------


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _argv(value: str | list[Any] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(part) for part in value]


def _env(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def _depends(service: dict[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition}; the short (list) form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _parse_hearth(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse a `hearth SUB ...` command line with the real click command, without running it."""
    assert argv, "empty command"
    assert argv[0] == "hearth", f"{argv}: not a `hearth` command"
    assert len(argv) >= 2, f"{argv}: no subcommand"
    name, args = argv[1], argv[2:]
    assert name in hearth_cli.commands, (
        f"`hearth {name}` is not a subcommand (have: {sorted(hearth_cli.commands)})"
    )
    command = hearth_cli.commands[name]
    try:
        ctx = command.make_context(name, list(args))
    except click.ClickException as exc:  # UsageError, BadParameter, NoSuchOption...
        pytest.fail(f"`hearth {name}` rejects {args}: {exc.format_message()}")
    return name, ctx.params


def _setting_names() -> set[str]:
    """The HEARTH_* names server/settings.py reads: its table of variables."""
    return {v.env for v in VARIABLES}


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _body(text: str, start: int) -> str:
    """The text from start (just after an opening brace) to its matching closing brace."""
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise AssertionError("unbalanced braces in nginx.conf")


def _block(text: str, header: str) -> str:
    """The body of the first `header { ... }` block (header is a regex, multiline mode)."""
    match = re.search(header + r"\s*\{", text, re.M)
    assert match, f"nginx.conf has no block matching {header!r}"
    return _body(text, match.end())


def _locations(server_block: str) -> dict[str, str]:
    """{"= /ws": body, "/": body, ...} for each location in a server block."""
    return {
        f"{m.group(1) or ''} {m.group(2)}".strip(): _body(server_block, m.end())
        for m in re.finditer(r"location\s+(?:([=~^]+)\s*)?(\S+)\s*\{", server_block)
    }


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, f"not an nginx time: {value!r}"
    unit = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(match.group(1)) * unit


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def nginx() -> str:
    return _strip_comments(NGINX.read_text())


# -- compose: services, commands, health, start order -----------------------------------------


def test_every_service_of_the_scaled_deployment_is_defined(compose: dict[str, Any]) -> None:
    missing = EXPECTED - set(_services(compose))
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"


def test_hearth_commands_are_real_subcommands_with_accepted_options(compose: dict[str, Any]) -> None:
    services = _services(compose)
    expected = {"migrate": "migrate", "app1": "serve", "app2": "serve", "worker": "worker",
                "beat": "beat"}
    for name, subcommand in expected.items():
        parsed, _ = _parse_hearth(_argv(services[name].get("command")))
        assert parsed == subcommand, f"{name} runs `hearth {parsed}`, expected `hearth {subcommand}`"


def test_apps_listen_on_every_interface_at_the_port_the_proxy_and_healthcheck_use(
    compose: dict[str, Any], nginx: str
) -> None:
    upstream = _block(nginx, r"upstream\s+\w+")
    for name in APPS:
        service = _services(compose)[name]
        _, params = _parse_hearth(_argv(service["command"]))
        assert params["host"] == "0.0.0.0", f"{name} binds {params['host']}: unreachable from the proxy"
        port = params["port"] or load_settings(_env(service)).port
        assert re.search(rf"\bserver\s+{name}:{port}\b", upstream), f"nginx upstream lacks {name}:{port}"
        test = " ".join(_argv(service["healthcheck"]["test"]))
        assert f"http://127.0.0.1:{port}/health" in test
        assert "ports" not in service, f"{name} publishes a port: clients must come through the proxy"


def test_apps_are_healthchecked_with_python_not_curl(compose: dict[str, Any]) -> None:
    for name in APPS:
        argv = _argv(_services(compose)[name]["healthcheck"]["test"])
        assert argv[0] == "CMD", f"{name}: use the exec form, the slim image has no curl"
        assert "curl" not in argv and "wget" not in argv
        assert argv[1].startswith("python") and argv[2] == "-c", argv
        code = argv[3]
        ast.parse(code)  # a syntax error here would leave the app forever unhealthy
        assert "urlopen" in code, "the check must fail on an error status (urlopen raises on 503)"


def test_long_running_services_restart_and_are_healthchecked_or_gated(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in MUST_HEALTHCHECK:
        check = services[name].get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), f"{name} needs a healthcheck"
    assert "pg_isready" in " ".join(_argv(services["postgres"]["healthcheck"]["test"]))
    redis_test = " ".join(_argv(services["redis"]["healthcheck"]["test"]))
    assert "redis-cli" in redis_test and "ping" in redis_test
    for name in LONG_RUNNING:
        service = services[name]
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), (
            f"{name} does not come back after a crash"
        )
        if name in MUST_HEALTHCHECK or service.get("healthcheck"):
            continue
        # No healthcheck of its own: then it must start only once what it needs is ready.
        deps = _depends(service)
        assert deps, f"{name} has neither a healthcheck nor depends_on conditions"
        started_only = [d for d, cond in deps.items() if cond == "service_started"]
        assert not started_only, f"{name} waits only for {started_only} to start, not to be ready"


def test_worker_healthcheck_pings_its_own_celery_node(compose: dict[str, Any]) -> None:
    check = _services(compose)["worker"].get("healthcheck")
    assert check is not None, "the worker needs a healthcheck: a wedged worker must show"
    argv = _argv(check["test"])
    line = argv[1] if argv[0] == "CMD-SHELL" else " ".join(argv[1:])
    app = re.search(r"celery\s+-A\s+(\S+)\s+inspect\s+ping\b", line)
    assert app, line
    assert importlib.util.find_spec(app.group(1)), f"no module {app.group(1)}"
    # Without -d every worker on the broker answers, so a dead container still looks healthy.
    assert re.search(r"-d\s+celery@\$\$?HOSTNAME\b", line), line


def test_dollar_signs_are_escaped_from_compose_interpolation(compose: dict[str, Any]) -> None:
    """Compose replaces $VAR from the host's environment in every value; $$ keeps a literal $."""
    for name, service in _services(compose).items():
        lines = [service.get("command"), (service.get("healthcheck") or {}).get("test")]
        for part in (p for line in lines for p in _argv(line)):
            assert not re.search(r"(?<!\$)\$(\$\$)*(?!\$)", part), f"{name}: unescaped $ in {part!r}"


def test_depends_on_conditions_match_what_the_targets_can_report(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        for target, condition in _depends(service).items():
            assert target in services, f"{name} depends on undefined {target}"
            if condition == "service_healthy":
                check = services[target].get("healthcheck")
                assert check and not check.get("disable"), f"{name} waits for {target}: no healthcheck"
            if condition == "service_completed_successfully":
                assert services[target].get("restart", "no") in ("no", "on-failure"), (
                    f"{name} waits for {target} to complete, but {target} restarts forever"
                )


def test_migrate_runs_once_after_postgres_and_redis_are_healthy(compose: dict[str, Any]) -> None:
    migrate = _services(compose)["migrate"]
    assert str(migrate.get("restart", "no")) in ("no", "on-failure"), "migrate is a one-shot"
    assert "healthcheck" not in migrate
    deps = _depends(migrate)
    assert deps.get("postgres") == "service_healthy"
    # `hearth migrate` pings Redis too whenever HEARTH_REDIS_URL is set.
    assert deps.get("redis") == "service_healthy"


@pytest.mark.parametrize("name", ["app1", "app2", "worker", "beat"])
def test_hearth_processes_start_after_migrations_complete(compose: dict[str, Any], name: str) -> None:
    deps = _depends(_services(compose)[name])
    assert deps.get("migrate") == "service_completed_successfully", f"{name}: {deps}"
    assert deps.get("redis") == "service_healthy", f"{name}: {deps}"


def test_every_hearth_service_reaches_postgres_and_redis_through_health_gates(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)

    def gated(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        reached: set[str] = set()
        for target, condition in _depends(services[name]).items():
            if condition != "service_started" and target not in seen:
                reached |= {target} | gated(target, seen | {name})
        return reached

    for name in HEARTH:
        assert {"postgres", "redis"} <= gated(name), f"{name} may start before its backing services"


def test_proxy_serves_port_8000_and_waits_for_both_apps(compose: dict[str, Any]) -> None:
    proxy = _services(compose)["proxy"]
    assert str(proxy["image"]).startswith("nginx:1.27")
    assert "8000:80" in [str(p) for p in proxy.get("ports", [])]
    mounts = [str(v) for v in proxy.get("volumes", [])]
    assert any(re.fullmatch(r"\./deploy/nginx\.conf:/etc/nginx/nginx\.conf(:ro)?", m) for m in mounts), mounts
    deps = _depends(proxy)
    for name in APPS:
        assert deps.get(name) == "service_healthy", f"proxy: {deps}"


# -- compose: environment and volumes --------------------------------------------------------


def test_hearth_services_share_the_env_anchor(compose: dict[str, Any]) -> None:
    shared = compose.get("x-hearth-env")
    assert isinstance(shared, dict) and shared, "x-hearth-env anchor missing"
    assert "&hearth-env" in COMPOSE.read_text()
    for name in HEARTH:
        env = _env(_services(compose)[name])
        drift = {k: (v, env.get(k)) for k, v in shared.items() if env.get(k) != v}
        assert not drift, f"{name} differs from x-hearth-env: {drift}"


@pytest.mark.parametrize("name", HEARTH)
def test_hearth_env_is_accepted_by_load_settings(compose: dict[str, Any], name: str) -> None:
    env = _env(_services(compose)[name])
    for key in ("HEARTH_DATABASE_URL", "HEARTH_REDIS_URL"):
        assert env.get(key), f"{name} does not set {key}"
    not_strings = {k: v for k, v in env.items() if not isinstance(v, str)}
    assert not not_strings, f"{name}: quote these values, compose rejects bools: {not_strings}"
    unknown = {k for k in env if k.startswith("HEARTH_")} - _setting_names()
    assert not unknown, f"{name} sets {sorted(unknown)}, which server/settings.py never reads"
    settings = load_settings(env)  # raises SettingsError on any value it cannot use
    assert settings.scaled and settings.database_url.startswith(("postgres://", "postgresql://"))
    services = _services(compose)
    assert urlsplit(settings.database_url).hostname in services
    assert urlsplit(settings.redis_url).hostname in services


def test_database_url_matches_the_postgres_service(compose: dict[str, Any]) -> None:
    services = _services(compose)
    pg = _env(services["postgres"])
    url = urlsplit(_env(services["migrate"])["HEARTH_DATABASE_URL"])
    assert url.hostname == "postgres" and (url.port or 5432) == 5432
    assert url.username == pg["POSTGRES_USER"] and url.password == pg["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == pg.get("POSTGRES_DB", pg["POSTGRES_USER"])
    assert urlsplit(_env(services["migrate"])["HEARTH_REDIS_URL"]).hostname == "redis"


def test_apps_trust_the_proxy_and_cookies_match_the_scheme_served(
    compose: dict[str, Any], nginx: str
) -> None:
    serves_tls = re.search(r"\blisten\s+[^;]*\bssl\b", nginx) is not None
    for name in APPS:
        env = _env(_services(compose)[name])
        settings = load_settings(env)
        assert settings.trust_proxy_headers, f"{name} would rate-limit the proxy, not the clients"
        assert env.get("FORWARDED_ALLOW_IPS"), f"{name}: uvicorn ignores X-Forwarded-* from the proxy"
        if not serves_tls:
            assert not settings.cookie_secure, f"{name}: Secure cookies over plain http break sign-in"


def test_volumes_are_declared_and_data_dir_is_shared(compose: dict[str, Any]) -> None:
    services = _services(compose)
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount["source"] if isinstance(mount, dict) else str(mount).split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"
    pg_mounts = [str(v) for v in services["postgres"].get("volumes", [])]
    assert any(m.endswith(":/var/lib/postgresql/data") and not m.startswith((".", "/")) for m in pg_mounts)
    sources = set()
    for name in ("app1", "app2", "worker", "beat"):
        data_dir = str(load_settings(_env(services[name])).data_dir)
        mounts = {str(m).split(":")[1]: str(m).split(":")[0] for m in services[name].get("volumes", [])}
        assert data_dir in mounts, f"{name}: HEARTH_DATA_DIR {data_dir} is not on a volume"
        sources.add(mounts[data_dir])
    assert len(sources) == 1, f"replicas see different data dirs (media would diverge): {sources}"


# -- nginx -----------------------------------------------------------------------------------


def test_nginx_conf_is_complete_and_balances_both_apps(nginx: str) -> None:
    assert re.search(r"^\s*events\s*\{", nginx, re.M), "no events block"
    http = _block(nginx, r"^\s*http")
    upstream_match = re.search(r"upstream\s+(\w+)\s*\{", http)
    assert upstream_match, "no upstream block"
    upstream = _block(http, r"upstream\s+" + upstream_match.group(1))
    servers = set(re.findall(r"^\s*server\s+([\w.-]+:\d+)", upstream, re.M))
    assert servers == {"app1:8000", "app2:8000"}, servers
    server = _block(http, r"^\s*server")
    assert re.search(r"^\s*listen\s+80\s*;", server, re.M), "the proxy publishes 8000:80"
    passes = re.findall(r"proxy_pass\s+http://(\w+)\s*;", server)
    assert passes and set(passes) == {upstream_match.group(1)}, passes


def test_nginx_passes_websockets_through_on_ws(nginx: str) -> None:
    locations = _locations(_block(_block(nginx, r"^\s*http"), r"^\s*server"))
    ws = [body for key, body in locations.items() if key.split()[-1] == "/ws"]
    assert ws, f"no location for /ws (have {sorted(locations)})"
    body = ws[0]
    assert re.search(r"proxy_http_version\s+1\.1\s*;", body)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade\s*;", body)
    assert re.search(r'proxy_set_header\s+Connection\s+"upgrade"\s*;', body)
    timeout = re.search(r"proxy_read_timeout\s+(\S+)\s*;", body)
    assert timeout and _seconds(timeout.group(1)) >= 300, "nginx's 60 s default drops idle sockets"


def test_every_proxied_location_sets_host_and_forwarded_for(nginx: str) -> None:
    """A location with any proxy_set_header inherits none, so each must carry the full set."""
    locations = _locations(_block(_block(nginx, r"^\s*http"), r"^\s*server"))
    proxied = {key: body for key, body in locations.items() if "proxy_pass" in body}
    assert proxied
    for key, body in proxied.items():
        # $host drops the port, and the websocket origin check compares Origin with Host.
        assert re.search(r"proxy_set_header\s+Host\s+\$http_host\s*;", body), key
        # Hearth takes the first X-Forwarded-For address; appending would let clients pick it.
        xff = re.search(r"proxy_set_header\s+X-Forwarded-For\s+(\S+)\s*;", body)
        assert xff and xff.group(1) == "$remote_addr", f"{key}: X-Forwarded-For {xff and xff.group(1)}"


# -- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_image_from_the_pinned_requirements() -> None:
    rows = _dockerfile_instructions()
    froms = [args for kw, args in rows if kw == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim", froms
    runs = [args for kw, args in rows if kw == "RUN"]
    req_run = next((i for i, (kw, a) in enumerate(rows)
                    if kw == "RUN" and re.search(r"pip install\b[^&;]*-r\s+requirements\.txt", a)), None)
    assert req_run is not None, "the image must install the pinned requirements.txt"
    copied = [i for i, (kw, a) in enumerate(rows)
              if kw == "COPY" and ("requirements.txt" in a.split() or a.split()[0] == ".")]
    assert copied and copied[0] < req_run, "requirements.txt is installed before it is copied"
    # Editable: server/app.py serves frontend/dist from beside the source tree, and a
    # site-packages install would drop it without an error (the app just serves no web app).
    assert any(re.search(r"pip install\b[^&;]*\s-e\s+\.(?:\s|$)", a) for a in runs), (
        "the project (the `hearth` command) must be installed with `pip install -e .`"
    )
    assert any(kw == "COPY" and a.split()[0] == "." for kw, a in rows), "the source tree is not copied"
    for args in runs:
        assert not re.search(r"playwright\s+install", args), "no browsers in the server image"
    users = [args for kw, args in rows if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"


def test_dockerfile_default_command_is_hearth_serve_on_all_interfaces() -> None:
    cmds = [args for kw, args in _dockerfile_instructions() if kw == "CMD"]
    assert cmds, "no CMD"
    argv = json.loads(cmds[-1])  # exec form: signals reach the server, not a shell
    name, params = _parse_hearth(argv)
    assert name == "serve" and params["host"] == "0.0.0.0", argv
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.get("hearth") == "server.cli:main"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    entries = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for required in (".venv", "var", "node_modules", ".git", "__pycache__", ".pytest_cache",
                     ".mypy_cache", ".ruff_cache"):
        assert required in entries or f"**/{required}" in entries, f".dockerignore lacks {required}"
    shipped = [e for e in entries if e.lstrip("*/").startswith(("frontend", "server", "migrations"))]
    assert not shipped, f".dockerignore drops what the image serves or runs: {shipped}"
