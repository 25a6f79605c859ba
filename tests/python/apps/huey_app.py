"""A Huey application on the server (REDIS_URL): plain, scheduled and periodic tasks."""

import os

import redis
from huey import RedisHuey, crontab

URL = os.environ["REDIS_URL"]
huey = RedisHuey("ferro-apps", url=URL)


@huey.task()
def multiply(x, y):
    return x * y


@huey.periodic_task(crontab(minute="*"))
def tick():
    # Runs once a minute; the test waits for the counter.
    redis.Redis.from_url(URL).incr("huey:ticks")
