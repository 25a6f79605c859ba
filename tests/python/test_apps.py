"""Real task-queue applications run against the server: a Celery worker, a Huey consumer
and an RQ worker each execute 500 tasks (some delayed or scheduled) and every result is
read back. The workers are the libraries' own command-line programs, in subprocesses."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parent / "apps"
BIN = Path(sys.executable).parent
TASKS = 500


@pytest.fixture
def app_env(fresh_server, monkeypatch):
    """Environment of a test's workers; the app modules (imported by the test too) read
    REDIS_URL at import, so they are re-imported for every test's own server."""
    url = f"{fresh_server.url}/0"
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.syspath_prepend(str(APPS))
    yield {**os.environ, "REDIS_URL": url, "PYTHONPATH": str(APPS)}
    for name in ("celery_app", "huey_app", "rq_jobs"):
        sys.modules.pop(name, None)


def start_worker(argv, env, log_path):
    log = open(log_path, "wb")
    # A session of its own, so that stop_worker can also reach the worker's children (the
    # RQ scheduler and work horses are separate processes).
    proc = subprocess.Popen(argv, env=env, cwd=APPS, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, log


def stop_worker(proc, log):
    """Warm shutdown (SIGTERM to the worker), then SIGKILL to its whole process group."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    log.close()


def test_celery_worker_runs_500_tasks(app_env, tmp_path):
    from celery_app import add

    worker, log = start_worker(
        [str(BIN / "celery"), "-A", "celery_app", "worker", "--pool=threads", "-c", "4",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        app_env, tmp_path / "celery.log")
    try:
        eta = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        results = []
        for i in range(TASKS):
            if i % 10 == 0:
                results.append((i, add.apply_async((i, i), countdown=1)))
            elif i % 10 == 1:
                results.append((i, add.apply_async((i, i), eta=eta)))
            else:
                results.append((i, add.delay(i, i)))
        for i, result in results:
            assert result.get(timeout=120) == 2 * i
    finally:
        stop_worker(worker, log)


def test_huey_consumer_runs_500_tasks_scheduled_and_periodic(app_env, tmp_path):
    from huey_app import huey, multiply

    huey.storage.conn.delete("huey:ticks")
    consumer, log = start_worker(
        [str(BIN / "huey_consumer"), "huey_app.huey", "-w", "4", "-k", "thread", "-s", "1"],
        app_env, tmp_path / "huey.log")
    try:
        results = []
        for i in range(TASKS):
            if i % 10 == 0:
                results.append((i, multiply.schedule((i, 3), delay=1)))
            else:
                results.append((i, multiply(i, 3)))
        for i, result in results:
            assert result.get(blocking=True, timeout=120) == 3 * i
        # The consumer's scheduler enqueues due periodic tasks when it starts and then once a
        # minute; `tick` is due every minute, so a second tick shows the scheduler still runs
        # after a minute in which the idle workers kept waiting in blocking pops.
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline and ticks(huey) < 2:
            time.sleep(0.5)
        assert ticks(huey) >= 2, log_path_text(tmp_path / "huey.log")
    finally:
        stop_worker(consumer, log)


def ticks(huey):
    return int(huey.storage.conn.get("huey:ticks") or 0)


def log_path_text(path):
    return Path(path).read_text(errors="replace")[-3000:]


def test_rq_worker_runs_500_jobs(app_env, tmp_path):
    import redis
    from rq import Queue
    from rq_jobs import square

    conn = redis.Redis.from_url(app_env["REDIS_URL"])
    queue = Queue("ferro", connection=conn)
    jobs = []
    for i in range(TASKS):
        if i % 10 == 0:
            jobs.append((i, queue.enqueue_in(datetime.timedelta(seconds=1), square, i)))
        else:
            jobs.append((i, queue.enqueue(square, i)))
    worker, log = start_worker(
        [str(BIN / "rq"), "worker", "ferro", "--with-scheduler", "--url", app_env["REDIS_URL"]],
        app_env, tmp_path / "rq.log")
    try:
        deadline = time.monotonic() + 120
        pending = dict(jobs)
        while pending and time.monotonic() < deadline:
            for i, job in list(pending.items()):
                if job.get_status(refresh=True) == "finished":
                    assert job.return_value() == i * i
                    del pending[i]
            time.sleep(0.2)
        assert not pending, f"{len(pending)} jobs unfinished\n{log_path_text(tmp_path / 'rq.log')}"
    finally:
        stop_worker(worker, log)
