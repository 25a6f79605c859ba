"""redis-py's ft().alter_schema_add() against ferrostack, in RESP3 (redis-py's default) and
RESP2: added fields are indexed for existing documents and FT.INFO lists them."""

import os
import re

import pytest
from redis.commands.search.field import GeoField, NumericField, TagField, TextField
from redis.commands.search.index_definition import IndexDefinition
from redis.commands.search.query import GeoFilter, Query
from redis.exceptions import ResponseError
from search_support import wait_indexed

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)


@pytest.fixture(params=[{}, {"protocol": 2}], ids=["resp3", "resp2"])
def rc(server, request):
    client = server.client(decode_responses=True, **request.param)
    yield client
    client.close()


def test_alter_schema_add(rc, request):
    name = "alter_" + re.sub(r"\W+", "_", request.node.name).strip("_")
    ft = rc.ft(name)
    ft.create_index([TextField("t")], definition=IndexDefinition(prefix=[f"{name}:"]))
    wait_indexed(ft)
    rc.hset(f"{name}:1", mapping={"t": "hello", "n": 5, "tag": "x", "loc": "1,1"})
    rc.hset(f"{name}:2", mapping={"t": "world", "n": 50, "tag": "y", "loc": "2,2"})
    assert ft.alter_schema_add([NumericField("n")]) in (True, "OK", b"OK")
    assert ft.alter_schema_add([TagField("tag"), GeoField("loc")]) in (True, "OK", b"OK")
    info = wait_indexed(ft)
    attributes = [a[a.index("attribute") + 1] for a in info["attributes"]]
    assert attributes == ["t", "n", "tag", "loc"]
    assert ft.search(Query("@n:[1 10]")).total == 1
    assert ft.search(Query("@tag:{y}")).docs[0].id == f"{name}:2"
    q = Query("*").add_filter(GeoFilter("loc", 1, 1, 10, "km"))
    assert [d.id for d in ft.search(q).docs] == [f"{name}:1"]
    with pytest.raises(ResponseError, match="Duplicate field in schema - t"):
        ft.alter_schema_add([TagField("t")])
    ft.dropindex(delete_documents=True)
