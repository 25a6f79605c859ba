"""redis-py's GEO search API (GeoField, GeoFilter, geo query syntax with PARAMS) and
ft().profile() against ferrostack, in RESP3 (redis-py's default) and RESP2. Expectations are
RediSearch 2.10's."""

import os
import re

import pytest
from redis.commands.search import reducers
from redis.commands.search.aggregation import AggregateRequest
from redis.commands.search.field import GeoField, TextField
from redis.commands.search.index_definition import IndexDefinition
from redis.commands.search.query import GeoFilter, Query
from redis.exceptions import ResponseError
from search_support import wait_indexed

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)

PLACES = {
    "palermo": "13.361389,38.115556",
    "catania": "15.087269,37.502669",
    "rome": "12.496366,41.902782",
}


@pytest.fixture(params=[{}, {"protocol": 2}], ids=["resp3", "resp2"])
def rc(server, request):
    client = server.client(decode_responses=True, **request.param)
    yield client
    client.close()


@pytest.fixture
def idx(rc, request):
    name = "geo_" + re.sub(r"\W+", "_", request.node.name).strip("_")
    ft = rc.ft(name)
    ft.create_index(
        [TextField("name"), GeoField("loc", sortable=True)],
        definition=IndexDefinition(prefix=[f"{name}:"]),
    )
    # Scan first: a hash written while the initial scan runs may be indexed by both.
    wait_indexed(ft)
    for place, loc in PLACES.items():
        rc.hset(f"{name}:{place}", mapping={"name": place, "loc": loc})
    rc.hset(f"{name}:bad", mapping={"name": "bad", "loc": "not a point"})
    wait_indexed(ft)
    yield ft, name
    ft.dropindex(delete_documents=True)


def names(result):
    return sorted(doc.name for doc in result.docs)


def test_geo_query_syntax_and_params(idx):
    ft, _ = idx
    assert names(ft.search(Query("@loc:[15 37 200 km]"))) == ["catania", "palermo"]
    assert names(ft.search(Query("@loc:[15 37 100 km]"))) == ["catania"]
    q = Query("@loc:[$lon $lat $radius $unit]").dialect(2)
    params = {"lon": 12.5, "lat": 41.9, "radius": 5, "unit": "km"}
    assert names(ft.search(q, query_params=params)) == ["rome"]
    with pytest.raises(ResponseError, match="Invalid GeoFilter unit"):
        ft.search(Query("@loc:[15 37 200 parsec]"))


def test_geofilter(idx):
    ft, _ = idx
    q = Query("*").add_filter(GeoFilter("loc", 15, 37, 200, "km"))
    assert names(ft.search(q)) == ["catania", "palermo"]
    q = Query("palermo").add_filter(GeoFilter("loc", 15, 37, 124, "mi"))
    assert names(ft.search(q)) == ["palermo"]
    q = Query("*").add_filter(GeoFilter("loc", 15, 37, 100, "km"))
    assert ft.search(q).total == 1


def test_info_and_explain(idx):
    ft, _ = idx
    info = ft.info()
    assert int(info["num_docs"]) == 3
    assert int(info["hash_indexing_failures"]) == 1
    loc = [a for a in info["attributes"] if "loc" in a][0]
    assert "GEO" in loc and "SORTABLE" in loc
    assert ft.explain("@loc:[15 37 200 km]") == "GEO loc:{15.000000,37.000000 --> 200.000000 km}\n"


def test_profile(idx):
    """ft().profile(): the results as ft().search() gives them, and the profile's entries."""
    ft, _ = idx
    result, profile = ft.profile(Query("@loc:[15 37 200 km]").no_content())
    assert sorted(doc.id.split(":")[-1] for doc in result.docs) == ["catania", "palermo"]
    info = profile.info
    # RESP2 and RESP3 both reach the caller as RediSearch 2.10's list of [name, value...].
    names = [entry[0] for entry in info]
    assert names[:3] == ["Total profile time", "Parsing time", "Pipeline creation time"]
    assert "Iterators profile" in names and "Result processors profile" in names
    total = dict((e[0], e[1]) for e in info if len(e) == 2)["Total profile time"]
    assert float(total) > 0
    result, _ = ft.profile(Query("palermo"), limited=True)
    assert result.total == 1


def test_profile_aggregate(idx):
    """ft().profile(AggregateRequest): the rows as ft().aggregate() gives them, and the
    aggregate pipeline's result processors."""
    ft, _ = idx
    req = AggregateRequest("*").load("@name").group_by("@name", reducers.count().alias("n"))
    result, profile = ft.profile(req)
    assert sorted(row[1] for row in result.rows) == ["catania", "palermo", "rome"]
    info = dict((e[0], e[1:]) for e in profile.info)
    kinds = [(p[1], p[5]) for p in info["Result processors profile"]]
    assert kinds == [("Index", 3), ("Loader", 3), ("Grouper", 3)]
