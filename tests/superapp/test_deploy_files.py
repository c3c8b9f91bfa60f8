"""The production files are usable as shipped: every app container of both compose files
starts with valid production settings (the image's ENV, the file's environment, secrets as
in config/production.env.example), and nginx accepts the compose configuration."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from server.config import load_settings
from tests.fleet import NGINX
from tests.support import production_env, write_ec_key

ROOT = Path(__file__).resolve().parents[2]


def image_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text()
    block = re.search(r"^ENV (.*?)(?:\n\S)", text, re.S | re.M).group(1)
    return dict(re.findall(r"(\w+)=(\S+)", block))


@pytest.mark.parametrize("compose", ["docker-compose.yml", "docker-compose.sharded.yml"])
def test_every_app_container_has_valid_production_settings(compose, tmp_path):
    services = yaml.safe_load((ROOT / compose).read_text())["services"]
    apps = {name: s for name, s in services.items() if s.get("build") == "."}
    assert apps, "no app container"
    secrets = production_env(write_ec_key(tmp_path / "tokens.pem"), write_ec_key(tmp_path / "codes.pem"))
    roles = set()
    for name, service in apps.items():
        env = {**image_env(), **secrets, **{k: str(v) for k, v in service.get("environment", {}).items()}}
        settings = load_settings(environ=env)
        roles.add(settings.process.role)
        assert settings.is_dev is False and not settings.embedded_mongodb and not settings.embedded_redis, name
        if settings.process.role == "worker":
            assert service.get("healthcheck", {}).get("disable") is True, f"{name}: a worker has no /readyz"
    assert roles == {"web", "worker"}


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/system-deps.sh --test)")
def test_nginx_accepts_the_compose_configuration(tmp_path):
    conf = (ROOT / "config/nginx/compose.conf").read_text()
    # The compose network's names resolve only there: loopback stands in for them.
    conf = conf.replace("web1:8000", "127.0.0.1:1").replace("web2:8000", "127.0.0.1:2")
    conf = conf.replace("/etc/nginx/superapp-locations.conf", str(ROOT / "config/nginx/superapp-locations.conf"))
    conf = conf.replace("listen 80;", "listen 127.0.0.1:1;")
    path = tmp_path / "nginx.conf"
    path.write_text(f"pid {tmp_path}/nginx.pid;\n" + conf)
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_image_holds_every_package_and_the_built_h5():
    """A new domain cannot be left out of the production image: every root package of the
    import contracts is copied, and the H5 is built in its own stage and copied in."""
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
    text = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.M))
    assert set(packages) <= copied, f"not in the image: {sorted(set(packages) - copied)}"
    assert "COPY --from=h5 /h5/dist ./h5/dist" in text and "npm run build" in text
