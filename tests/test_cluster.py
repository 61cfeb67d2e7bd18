"""`assistant cluster`: Chroma, PostgreSQL, two replicas and nginx started together on this machine,
answering through the proxy, and all of them gone when it is stopped; the containers' recipe
(deploy/) keeps the same proxy settings."""

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from conftest import REPO, SEEDS, free_port

from assistant.cluster import NGINX_TEMPLATE

READY_TIMEOUT_S = 180


def test_a_cluster_answers_through_its_proxy_and_stops_whole():
    data = Path(tempfile.mkdtemp(prefix="assistant-cluster-"))  # not under pytest's root-only folder:
    data.chmod(0o755)  # PostgreSQL runs as its own user and must reach its data
    port = free_port()
    script = str(Path(sys.executable).parent / "assistant")
    command = [script, "cluster", "--replicas", "2", "--port", str(port), "--data", str(data),
               "--articles", str(SEEDS)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said = []
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            said.append(line)
            if "cluster ready" in line or not line:
                break
        assert "cluster ready" in said[-1], "".join(said)
        parts = [line.split()[0] for line in said if line.rstrip().endswith(": ok")]
        assert parts == ["chroma", "database", "replica", "replica", "nginx"], "".join(said)
        proxy = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=proxy, timeout=60) as client:
            answer = client.post(
                "/api/ask", json={"question": "Who will represent the U.S. at the NATO meeting?"}
            )
            assert "Christopher Landau" in answer.json()["answer"]
            health = client.get("/healthz").json()
            assert health["status"] == "ok" and health["database"] == {"ok": True}
            made = client.post("/api/conversations", json={})
            assert made.status_code == 201  # in the cluster's PostgreSQL
        addresses = re.findall(r"http://127\.0\.0\.1:(\d+)", "".join(said))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        shutil.rmtree(data, ignore_errors=True)
    assert process.returncode == 0
    for listening in {int(a) for a in addresses}:  # every part stopped: nothing answers any more
        try:
            httpx.get(f"http://127.0.0.1:{listening}/", timeout=2)
        except httpx.TransportError:
            continue
        raise AssertionError(f"something still answers on port {listening}")


def _directives(config: str) -> list[str]:
    """The proxy's settings: the directives inside `location /` and the upstream's balancing rule."""
    location = config[config.index("location /") :]
    lines = [line.split("#")[0].strip() for line in location.splitlines()]
    wanted = [line for line in lines if line.startswith("proxy_") and not line.startswith("proxy_pass")]
    balancing = [line.split("#")[0].strip() for line in config.splitlines() if "ip_hash" in line]
    return sorted(wanted + balancing)


def test_the_containers_recipe_keeps_the_same_proxy_settings():
    deployed = (REPO / "deploy" / "nginx.conf").read_text()
    assert _directives(deployed) == _directives(NGINX_TEMPLATE)
    services = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())["services"]
    replicas = [name for name in services if name.startswith("app")]
    upstream = re.findall(r"server (app\d+):7860;", deployed)
    assert replicas == upstream == ["app1", "app2"]
    proxy_address = services["nginx"]["networks"]["assistant"]["ipv4_address"]
    for name in replicas:
        env = services[name]["environment"]
        assert env["ASSISTANT_CHROMA_URL"] == "http://chroma:8000"
        assert env["ASSISTANT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["ASSISTANT_TRUSTED_PROXIES"] == proxy_address
    assert len({services[name]["volumes"][0] for name in replicas}) == 2, "a local folder each"
