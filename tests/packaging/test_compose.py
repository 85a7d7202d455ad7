"""compose.yaml is a valid Compose file and wires the stack as README.md says: PostgreSQL with a
volume, a one-shot ``migrate`` that must succeed before any bot starts, bots that scale (no fixed
host port, no container name) on the same DATABASE_URL, and the image's own health check."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
# The Compose Specification's JSON Schema (compose-spec/compose-spec, Apache-2.0), kept in the
# team's shared folder beside this checkout; ALLY_COMPOSE_SCHEMA may point elsewhere.
SCHEMA = Path(
    os.environ.get("ALLY_COMPOSE_SCHEMA", ROOT.parent / "shared" / "compose" / "compose-spec.json")
)
# ${NAME:-default} and ${NAME-default}, as Compose interpolates them with NAME unset.
DEFAULTED = re.compile(r"\$\{(\w+):?-([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def interpolated(value: str) -> str:
    """``value`` as Compose runs it without a .env: every variable at its default."""
    assert "$" not in DEFAULTED.sub("", value), f"{value!r} has a variable with no default"
    return DEFAULTED.sub(lambda m: m.group(2), value)


def test_compose_file_is_valid_for_the_compose_specification(compose: dict[str, Any]) -> None:
    if not SCHEMA.is_file():
        pytest.skip(
            f"the Compose Specification's schema is not at {SCHEMA} (the shared folder beside "
            "this checkout); set ALLY_COMPOSE_SCHEMA to its path"
        )
    schema = yaml.safe_load(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_migrate_runs_once_after_postgres_is_healthy_and_before_any_bot(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    db, migrate, bot = services["db"], services["migrate"], services["bot"]

    assert db["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert bot["command"] == ["run"]
    assert migrate["image"] == bot["image"]


def test_bot_and_migrate_use_the_stack_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    db = services["db"]
    urls = {name: services[name]["environment"]["DATABASE_URL"] for name in ("migrate", "bot")}
    assert urls["migrate"] == urls["bot"]

    url = make_url(interpolated(urls["bot"]))
    env = {k: interpolated(str(v)) for k, v in db["environment"].items()}
    assert url.get_backend_name() == "postgresql"
    assert (url.host, url.port) == ("db", 5432)
    assert url.username == env["POSTGRES_USER"]
    assert url.password == env["POSTGRES_PASSWORD"]
    assert url.database == env["POSTGRES_DB"]
    # The data outlives the containers: a named volume at PostgreSQL's data folder.
    [volume] = db["volumes"]
    name, path = volume.split(":")[:2]
    assert path == "/var/lib/postgresql/data"
    assert name in compose["volumes"]


def test_bot_scales_and_reads_dotenv(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert "container_name" not in bot
    for port in bot.get("ports", []):
        # "3000" publishes on a free host port per replica; "3000:3000" would clash at scale 2.
        assert ":" not in str(port), f"{port!r} fixes a host port: --scale bot=3 would clash"
        assert str(port) == bot["environment"]["PORT"]
    for service in ("migrate", "bot"):
        env_files = compose["services"][service]["env_file"]
        assert [entry["path"] for entry in env_files] == [".env"]


def test_bot_health_check_is_the_images(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", dockerfile)
    assert healthcheck is not None
    assert bot["healthcheck"]["test"] == ["CMD", *yaml.safe_load(healthcheck.group(1))]
    assert bot["healthcheck"]["test"][1:] == ["ally-bot", "check", "--live"]
