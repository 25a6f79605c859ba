"""A Celery application using the server as broker and result backend (REDIS_URL)."""

import os

from celery import Celery

URL = os.environ["REDIS_URL"]
app = Celery("ferro_apps", broker=URL, backend=URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    result_expires=3600,
)


@app.task
def add(x, y):
    return x + y
