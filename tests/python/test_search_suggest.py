"""redis-py's suggestion, dictionary, spell-check and synonym APIs (`r.ft()`) against
FT.SUG*, FT.DICT*, FT.SPELLCHECK and FT.SYN*, in RESP3 (redis-py's default) and RESP2. The
expectations are what Redis Stack 7.4 (RediSearch 2.10) answers.
"""

import math
import os

import pytest
from redis.commands.search.suggestion import Suggestion
from redis.exceptions import ResponseError
from test_search import indexed, name, rc  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(
    os.environ.get("FERRO_TEST_TARGET") == "redis",
    reason="the redis-server oracle has no search module",
)


def test_suggestions(rc, name):
    ft = rc.ft(name)
    key = f"{name}:sug"
    assert ft.sugadd(key, Suggestion("hello world", 1.0), Suggestion("help", 2.0, "p")) == 2
    assert ft.sugadd(key, Suggestion("help", 1.0), increment=True) == 2
    assert ft.suglen(key) == 2
    got = ft.sugget(key, "HEL", with_scores=True, with_payloads=True)
    assert [s.string for s in got] == ["help", "hello world"]
    assert math.isclose(float(got[0].score), 3.0 / math.sqrt(2))
    assert got[0].payload == "p"
    assert got[1].payload is None
    assert [s.string for s in ft.sugget(key, "hwl", fuzzy=True)] == ["help", "hello world"]
    assert ft.sugget(key, "zzz") == []
    assert ft.sugdel(key, "help") == 1
    assert ft.sugdel(key, "help") == 0
    assert rc.type(key) == "trietype0"
    rc.set(f"{name}:str", "v")
    # sugadd sends through a pipeline, whose error names the command first.
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        ft.sugadd(f"{name}:str", Suggestion("a", 1.0))
    with pytest.raises(ResponseError, match="^WRONGTYPE"):
        rc.get(key)
    assert rc.delete(key) == 1
    assert ft.suglen(key) == 0


def test_dictionaries(rc, name):
    ft = rc.ft(name)
    dict_name = f"{name}:dict"
    assert ft.dict_add(dict_name, "item1", "item2", "item3") == 3
    assert ft.dict_del(dict_name, "item2", "nosuch") == 1
    dump = ft.dict_dump(dict_name)
    assert sorted(dump) == ["item1", "item3"]
    assert ft.dict_del(dict_name, "item1", "item3") == 2
    with pytest.raises(ResponseError, match="^could not open dict key$"):
        ft.dict_dump(dict_name)


def test_spellcheck(rc, name):
    ft = indexed(rc, name)
    # "aple" is one edit from "apple" (2 of 6 documents); "chese" from "cheese" (2 of 6).
    got = ft.spellcheck("aple chese red")
    assert set(got) == {"aple", "chese"}
    assert got["aple"][0]["suggestion"] == "apple"
    assert math.isclose(float(got["aple"][0]["score"]), 2 / 6)
    assert got["chese"][0]["suggestion"] == "cheese"
    dict_name = f"{name}:slang"
    ft.dict_add(dict_name, "aplomb", "apl")
    got = ft.spellcheck("aple", include=dict_name)
    assert [s["suggestion"] for s in got["aple"]] == ["apple", "apl"]
    assert float(got["aple"][1]["score"]) == 0
    assert ft.spellcheck("aple", exclude=dict_name) == {
        "aple": [{"score": got["aple"][0]["score"], "suggestion": "apple"}]
    }
    ft.dict_add(dict_name, "aple")
    assert ft.spellcheck("aple", exclude=dict_name) == {}
    ft.dict_del(dict_name, "aplomb", "apl", "aple")
    with pytest.raises(ResponseError, match="^bad distance given"):
        ft.spellcheck("aple", distance=5)
    with pytest.raises(ResponseError, match="^Dict does not exist: nosuch$"):
        ft.spellcheck("aple", include="nosuch")


def test_synonyms(rc, name):
    ft = indexed(rc, name)
    assert ft.search("tart").total == 1
    assert ft.synupdate("g1", True, "tart", "pie") == "OK"
    assert ft.synupdate("g2", False, "pie", "bread") == "OK"
    assert ft.search("tart").total == 2
    assert ft.search("pie").total == 3
    assert ft.syndump() == {"bread": ["g2"], "pie": ["g1", "g2"], "tart": ["g1"]}
