"""Fixtures for the redis-py suite.

The suite runs against the ferrostack binary built by cargo (target/debug/ferrostack, or
$FERROSTACK_BIN). With FERRO_TEST_TARGET=redis it runs against Debian's real redis-server
instead, which checks that the tests themselves expect what Redis does; tests marked
`redis74` need a feature newer than that 7.0 oracle and are skipped there.

Every test gets its own key prefix, so tests share one server without interfering; tests
that need an empty keyspace use `fresh_server`, a server of their own.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

REPO = Path(__file__).resolve().parents[2]
TARGET = os.environ.get("FERRO_TEST_TARGET", "ferrostack")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ferrostack_binary() -> str:
    explicit = os.environ.get("FERROSTACK_BIN")
    if explicit:
        return explicit
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target_dir / "debug" / "ferrostack"
    if not binary.exists():
        pytest.exit(f"{binary} not found: build it first with `cargo build`", returncode=2)
    return str(binary)


class ServerProcess:
    """A server child process on a free loopback port, stopped by `stop()`."""

    def __init__(self, *extra: str):
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="ferro-pytest-")
        common = ["--port", str(self.port), "--bind", self.host, "--save", "", *extra]
        if TARGET == "redis":
            if not shutil.which("redis-server"):
                pytest.exit("redis-server not found: apt-get install redis-server", returncode=2)
            argv = ["redis-server", *common, "--appendonly", "no", "--dir", self.dir]
        else:
            argv = [_ferrostack_binary(), *common, "--dir", self.dir]
        self.log = Path(self.dir) / "server.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.log.read_text(errors="replace")
                raise RuntimeError(f"server exited at start ({argv}): {output}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not listen on port {self.port}: {argv}")

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    def client(self, **kwargs) -> redis.Redis:
        # No retries: redis-py retries connection errors (authentication failures included)
        # with backoff by default, which would only hide and slow down failures here.
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    """One server shared by the session."""
    srv = ServerProcess()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server():
    """A server of the test's own, for tests that need an empty keyspace or change config."""
    srv = ServerProcess()
    yield srv
    srv.stop()


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
def protocol(request) -> int:
    return request.param


@pytest.fixture
def r(server, protocol):
    """A client speaking `protocol` (every test using it runs once per protocol)."""
    client = server.client(protocol=protocol)
    yield client
    client.close()


@pytest.fixture
def key(request, protocol):
    """Key names private to this test run: key("a") -> "<test name>:<protocol>:a"."""
    prefix = f"{request.node.originalname}:{protocol}"
    return lambda name="k": f"{prefix}:{name}"


def pytest_collection_modifyitems(config, items):
    if TARGET != "redis":
        return
    skip = pytest.mark.skip(reason="needs Redis 7.2+; the oracle is 7.0")
    for item in items:
        if "redis74" in item.keywords:
            item.add_marker(skip)
