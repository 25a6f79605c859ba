"""A distributed lock: SET key token NX PX to acquire, a Lua compare-and-delete to release
(only the holder's token may delete it), with several threads competing.

    REDIS_URL=redis://127.0.0.1:6379 python distributed_lock.py

Exits non-zero if two holders ever overlap. Keys live under "lock:".
"""

import os
import sys
import threading
import time
import uuid

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lock:
    def __init__(self, r: redis.Redis, name: str, ttl_ms: int = 2000):
        self.r, self.key, self.ttl = r, f"lock:{name}", ttl_ms
        self.token = uuid.uuid4().hex
        self.release_script = r.register_script(RELEASE)

    def acquire(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.r.set(self.key, self.token, nx=True, px=self.ttl):
                return True
            time.sleep(0.002)
        return False

    def release(self) -> bool:
        return self.release_script(keys=[self.key], args=[self.token]) == 1


def main() -> None:
    r = redis.Redis.from_url(URL)
    r.delete("lock:job", "lock:counter")
    inside, overlaps, done = [0], [0], [0]
    guard = threading.Lock()

    def worker():
        client = redis.Redis.from_url(URL)
        for _ in range(20):
            lock = Lock(client, "job")
            if not lock.acquire():
                raise SystemExit("could not acquire the lock")
            with guard:
                inside[0] += 1
                overlaps[0] += inside[0] > 1
            value = int(client.get("lock:counter") or 0)
            client.set("lock:counter", value + 1)  # unsafe without the lock
            with guard:
                inside[0] -= 1
            if not lock.release():
                raise SystemExit("the holder must be able to release")
            with guard:
                done[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counter = int(r.get("lock:counter"))
    print(f"4 threads x 20 critical sections: counter={counter}, overlaps={overlaps[0]}")
    if counter != 80 or overlaps[0] or done[0] != 80:
        sys.exit("the lock failed to exclude")
    stranger = Lock(r, "job")
    r.set("lock:job", "someone-else", px=1000)
    if stranger.release():
        sys.exit("a non-holder must not release the lock")
    print("a non-holder cannot release")
    r.delete("lock:job", "lock:counter")
    print("distributed_lock: all good")


if __name__ == "__main__":
    main()
