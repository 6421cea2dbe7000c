"""PartiQL through boto3: ExecuteStatement, BatchExecuteStatement and
ExecuteTransaction against a running server, each refusal followed by a read
showing that nothing changed."""

from __future__ import annotations

import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import error_of

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
INCOMPLETE_KEY = "Where clause does not contain a mandatory equality on all key attributes"


def S(x):
    return {"S": x}


def N(x):
    return {"N": str(x)}


def key(pk, sk=None):
    return {"pk": S(pk)} if sk is None else {"pk": S(pk), "sk": N(sk)}


@pytest.fixture
def run(ddb):
    def run(statement, *params, **kw):
        if params:
            kw["Parameters"] = list(params)
        out = ddb.execute_statement(Statement=statement, **kw)
        out.pop("ResponseMetadata")
        return out
    return run


@pytest.fixture
def refused(ddb):
    def refused(statement, *params, **kw):
        if params:
            kw["Parameters"] = list(params)
        with pytest.raises(ClientError) as e:
            ddb.execute_statement(Statement=statement, **kw)
        return error_of(e)
    return refused


@pytest.fixture
def songs(ddb, make_table):
    """A pk (S) / sk (N) table with partitions a (sk 1..5), b (sk 1..3), c (sk 1)."""
    t = make_table("S", "N")
    for pk, n in (("a", 5), ("b", 3), ("c", 1)):
        for sk in range(1, n + 1):
            ddb.put_item(TableName=t, Item={**key(pk, sk), "v": N(sk * 10), "tag": S(f"{pk}{sk}"),
                                            "m": {"M": {"l": {"L": [N(sk), S("x")]}, "s": S(pk)}}})
    return t


def get(ddb, table, k):
    return ddb.get_item(TableName=table, Key=k, ConsistentRead=True).get("Item")


def keys_of(items):
    return [(i["pk"]["S"], int(i["sk"]["N"])) for i in items]


# ---------------------------------------------------------------- INSERT

def test_insert_then_duplicate(ddb, make_table, run, refused):
    t = make_table("S", None)
    assert run(f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'n': 1, 'l': [1, 'x'], 'm': {{'k': true}}}}") == {"Items": []}
    item = get(ddb, t, key("a"))
    assert item == {"pk": S("a"), "n": N(1), "l": {"L": [N(1), S("x")]}, "m": {"M": {"k": {"BOOL": True}}}}
    code, message = refused(f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'n': 2}}")
    assert (code, message) == ("DuplicateItemException", "Duplicate primary key exists in table")
    assert get(ddb, t, key("a")) == item


def test_insert_key_checks(ddb, make_table, refused):
    t = make_table("S", "N")
    assert refused(f"INSERT INTO \"{t}\" VALUE {{'pk': 'a'}}") == (
        "ValidationException", "Key attribute should be present in the item: Key sk")
    assert refused(f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 'x'}}") == (
        "ValidationException", "Key attribute's data type should match its data type in table's schema: Key sk")
    assert ddb.scan(TableName=t)["Count"] == 0


EVERY_TYPE = {
    "s": S("text"), "n": N("-12.50"), "b": {"B": b"\x00\xffbin"}, "t": {"BOOL": True}, "f": {"BOOL": False},
    "z": {"NULL": True}, "l": {"L": [N(1), S("x"), {"L": []}]}, "m": {"M": {"a": {"M": {"b": N(2)}}}},
    "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]},
}


def test_parameters_of_every_type(ddb, make_table, run):
    t = make_table("S", None)
    names = list(EVERY_TYPE)
    tuple_text = ", ".join(f"'{n}': ?" for n in names)
    run(f"INSERT INTO \"{t}\" VALUE {{'pk': ?, {tuple_text}}}", S("p"), *EVERY_TYPE.values())
    item = get(ddb, t, key("p"))
    assert {n: item[n] for n in names if n not in ("ss", "ns", "bs")} == {
        **{n: v for n, v in EVERY_TYPE.items() if n not in ("ss", "ns", "bs")}, "n": N("-12.5")}
    assert sorted(item["ss"]["SS"]) == ["x", "y"] and sorted(item["ns"]["NS"]) == ["1", "2.5"]
    assert sorted(item["bs"]["BS"]) == [b"\x01", b"\x02"]
    for name, value in EVERY_TYPE.items():
        # each type compares equal to itself through a parameter, and sets regardless of order
        found = run(f"SELECT pk FROM \"{t}\" WHERE pk = 'p' AND \"{name}\" = ?", value)["Items"]
        assert found == [{"pk": S("p")}], name
        assert run(f"SELECT pk FROM \"{t}\" WHERE pk = 'p' AND \"{name}\" <> ?", value)["Items"] == [], name
    assert run(f"SELECT pk FROM \"{t}\" WHERE pk = 'p' AND ss = ?", {"SS": ["y", "x"]})["Items"] == [{"pk": S("p")}]


def test_literals_of_every_type(ddb, make_table, run):
    t = make_table("S", None)
    run(f"INSERT INTO \"{t}\" VALUE {{'pk': 'lit', 's': 'it''s', 'n': -1.5e2, 'x': .5, 't': TRUE, 'z': NULL, "
        "'l': [1, [2], {}], 'm': {'k': {'j': false}}, 'ss': <<'a', 'b'>>, 'ns': <<1, 2>>}")
    item = get(ddb, t, key("lit"))
    assert item["s"] == S("it's") and item["n"] == N(-150) and item["x"] == N("0.5")
    assert item["t"] == {"BOOL": True} and item["z"] == {"NULL": True}
    assert item["l"] == {"L": [N(1), {"L": [N(2)]}, {"M": {}}]}
    assert item["m"] == {"M": {"k": {"M": {"j": {"BOOL": False}}}}}
    assert sorted(item["ss"]["SS"]) == ["a", "b"] and sorted(item["ns"]["NS"]) == ["1", "2"]


# ---------------------------------------------------------------- SELECT

def test_select_query_and_sort_key_conditions(songs, run):
    def sks(where):
        return [sk for _, sk in keys_of(run(f"SELECT * FROM \"{songs}\" WHERE {where}")["Items"])]
    assert sks("pk = 'a'") == [1, 2, 3, 4, 5]
    assert sks("pk = 'a' AND sk = 3") == [3]
    assert sks("pk = 'a' AND sk < 3") == [1, 2]
    assert sks("pk = 'a' AND sk <= 3") == [1, 2, 3]
    assert sks("pk = 'a' AND sk > 3") == [4, 5]
    assert sks("pk = 'a' AND 3 <= sk") == [3, 4, 5]
    assert sks("pk = 'a' AND sk BETWEEN 2 AND 4") == [2, 3, 4]
    assert sks("pk = 'a' AND sk <> 2 AND NOT sk = 4") == [1, 3, 5]
    assert sks("pk = 'a' AND sk IN [1, 5]") == [1, 5]
    assert sks("pk = 'a' AND v >= 30 AND begins_with(tag, 'a')") == [3, 4, 5]
    assert sks("pk = 'nothing'") == []


def test_select_several_partitions(songs, run):
    got = run(f"SELECT * FROM \"{songs}\" WHERE pk IN ['c', 'a'] AND sk < 2")["Items"]
    assert keys_of(got) == [("a", 1), ("c", 1)]
    got = run(f"SELECT * FROM \"{songs}\" WHERE pk = 'b' AND sk = 2 OR pk = 'c'")["Items"]
    assert keys_of(got) == [("b", 2), ("c", 1)]
    got = run(f"SELECT * FROM \"{songs}\" WHERE pk IN ['c', 'a'] ORDER BY pk DESC, sk DESC")["Items"]
    assert keys_of(got) == [("c", 1), ("a", 5), ("a", 4), ("a", 3), ("a", 2), ("a", 1)]


def test_select_scan_with_filter(songs, run):
    got = run(f"SELECT * FROM \"{songs}\" WHERE v > 20 AND (pk = 'b' OR tag = 'a4')")["Items"]
    assert sorted(keys_of(got)) == [("a", 4), ("b", 3)]
    got = run(f"SELECT * FROM \"{songs}\" WHERE m.l[0] = 2 AND contains(m.l, 'x') AND m.s IS NOT MISSING")["Items"]
    assert sorted(keys_of(got)) == [("a", 2), ("b", 2)]
    got = run(f"SELECT * FROM \"{songs}\" WHERE nothing IS MISSING AND size(tag) = 2 AND attribute_type(v, 'N')")
    assert len(got["Items"]) == 9
    assert run(f"SELECT * FROM \"{songs}\" WHERE pk > 'a'")["Items"] and len(run(f"SELECT * FROM \"{songs}\"")["Items"]) == 9


def test_query_reads_one_partition_scan_reads_all(ddb, make_table, run):
    """A SELECT pinning the partition key is a Query: it reads (and is charged for) that partition only."""
    t = make_table("S", "N")
    big = "x" * 3000
    for pk in ("p1", "p2", "p3"):
        for sk in range(4):
            ddb.put_item(TableName=t, Item={**key(pk, sk), "pad": S(big)})
    query = run(f"SELECT * FROM \"{t}\" WHERE pk = 'p2'", ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    scan = run(f"SELECT * FROM \"{t}\" WHERE pad <> 'y' AND sk >= 0 AND pk = 'p2' OR pk = 'p9' AND sk = 1 OR "
               "pad = 'none'", ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert len(query["Items"]) == len(scan["Items"]) == 4
    assert query["ConsumedCapacity"]["CapacityUnits"] == 3.0        # 4 x 3 KB
    assert scan["ConsumedCapacity"]["CapacityUnits"] == 9.0         # 12 x 3 KB
    assert query["ConsumedCapacity"]["TableName"] == t


def test_projection_names_paths_by_their_last_name(songs, run, refused):
    got = run(f"SELECT sk, m.l[1], m.s, nothing FROM \"{songs}\" WHERE pk = 'b' AND sk = 1")["Items"]
    assert got == [{"sk": N(1), "l[1]": S("x"), "s": S("b")}]
    assert refused(f"SELECT m.s, s FROM \"{songs}\" WHERE pk = 'b'") == (
        "ValidationException", "Duplicate identifiers in select clause: s")


def test_pagination_with_limit_and_next_token(songs, run, refused):
    for statement in (f"SELECT * FROM \"{songs}\" WHERE pk = 'a'", f"SELECT * FROM \"{songs}\"",
                      f"SELECT * FROM \"{songs}\" WHERE pk IN ['a', 'b', 'c'] ORDER BY pk"):
        whole = run(statement)["Items"]
        pages, token = [], None
        while True:
            kw = {"Limit": 2} if token is None else {"Limit": 2, "NextToken": token}
            out = run(statement, **kw)
            assert len(out["Items"]) <= 2
            pages.extend(out["Items"])
            token = out.get("NextToken")
            if token is None:
                break
            assert out["LastEvaluatedKey"] == {"pk": out["Items"][-1]["pk"], "sk": out["Items"][-1]["sk"]}
        assert pages == whole
    out = run(f"SELECT * FROM \"{songs}\" WHERE pk = 'a'", Limit=1)
    assert refused(f"SELECT * FROM \"{songs}\" WHERE pk = 'b'", NextToken=out["NextToken"]) == (
        "ValidationException", "NextToken does not match request")
    assert refused(f"SELECT * FROM \"{songs}\" WHERE pk = 'a'", NextToken="garbage") == (
        "ValidationException", "Invalid NextToken")


def test_order_by_rules(songs, run, refused):
    got = run(f"SELECT sk FROM \"{songs}\" WHERE pk = 'a' ORDER BY sk DESC")["Items"]
    assert [int(i["sk"]["N"]) for i in got] == [5, 4, 3, 2, 1]
    assert refused(f"SELECT * FROM \"{songs}\" ORDER BY sk") == (
        "ValidationException", "Must have WHERE clause in the statement when using ORDER BY clause.")
    assert refused(f"SELECT * FROM \"{songs}\" WHERE v > 1 ORDER BY sk") == (
        "ValidationException",
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")
    assert refused(f"SELECT * FROM \"{songs}\" WHERE pk = 'a' ORDER BY v") == (
        "ValidationException", "Variable reference v in ORDER BY clause must be part of the primary key")
    assert refused(f"SELECT * FROM \"{songs}\" WHERE pk IN ['a', 'b'] ORDER BY sk") == (
        "ValidationException",
        "Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause.")


def test_keywords_any_case_names_exactly(ddb, make_table, run):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("k"), "Artist": S("x"), "my attr": N(1), "select": N(2)})
    assert len(run(f"select * from \"{t}\" where Artist = 'x'")["Items"]) == 1
    assert run(f"SELECT * FROM \"{t}\" WHERE artist = 'x'")["Items"] == []
    got = run(f"SeLeCt \"my attr\", \"select\" FrOm \"{t}\" WhErE \"pk\" = 'k'")["Items"]
    assert got == [{"my attr": N(1), "select": N(2)}]


def test_select_on_indexes(ddb, make_table, run, refused):
    t = make_table("S", "N", AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                  {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    for sk in range(3):
        ddb.put_item(TableName=t, Item={**key("p", sk), "g": S("G"), "l": N(10 - sk), "other": S(f"o{sk}")})
    got = run(f"SELECT * FROM \"{t}\".\"gsi\" WHERE g = 'G'")["Items"]
    assert sorted(keys_of(got)) == [("p", 0), ("p", 1), ("p", 2)] and all("other" not in i for i in got)
    got = run(f"SELECT other FROM \"{t}\".\"lsi\" WHERE pk = 'p' AND l > 8", ConsistentRead=True)["Items"]
    assert got == [{"other": S("o1")}, {"other": S("o0")}]     # the LSI's order, attributes from the table
    assert refused(f"SELECT other, pk FROM \"{t}\".\"gsi\" WHERE g = 'G'") == (
        "ValidationException", "One or more parameter values were invalid: Global secondary index gsi does not "
                               "project [other]")
    assert refused(f"SELECT * FROM \"{t}\".\"gsi\"", ConsistentRead=True) == (
        "ValidationException", "Strongly consistent read is not supported on Global Secondary Indexes")
    assert refused(f"SELECT * FROM \"{t}\".\"nope\"")[0] == "ValidationException"


# ---------------------------------------------------------------- UPDATE

def test_update_actions_and_returning(ddb, make_table, run):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("u"), "n": N(1), "l": {"L": [N(1)]}, "ss": {"SS": ["a", "b"]},
                                    "m": {"M": {"x": N(1)}}, "gone": S("x")})
    out = run(f"UPDATE \"{t}\" SET n = n + 2, l = list_append(l, [2, 3]) SET m.y = 'new' "
              "SET ss = set_add(ss, <<'c'>>) REMOVE gone WHERE pk = 'u' RETURNING MODIFIED NEW *")
    assert out["Items"][0]["n"] == N(3) and out["Items"][0]["m"] == {"M": {"y": S("new")}}
    assert "gone" not in out["Items"][0] and "pk" not in out["Items"][0]
    item = get(ddb, t, key("u"))
    assert item["l"] == {"L": [N(1), N(2), N(3)]} and sorted(item["ss"]["SS"]) == ["a", "b", "c"]
    assert "gone" not in item and item["m"] == {"M": {"x": N(1), "y": S("new")}}
    run(f"UPDATE \"{t}\" SET ss = set_delete(ss, <<'a', 'b', 'c'>>) SET n = n - 1 REMOVE l[0] WHERE pk = 'u'")
    item = get(ddb, t, key("u"))
    assert "ss" not in item and item["n"] == N(2) and item["l"] == {"L": [N(2), N(3)]}
    assert run(f"UPDATE \"{t}\" SET n = 7 WHERE pk = 'u' RETURNING ALL OLD *")["Items"][0]["n"] == N(2)
    assert run(f"UPDATE \"{t}\" SET n = 8 WHERE pk = 'u' RETURNING MODIFIED OLD *")["Items"] == [{"n": N(7)}]
    assert run(f"UPDATE \"{t}\" SET k = 1 WHERE pk = 'u' RETURNING MODIFIED OLD *")["Items"] == []
    assert run(f"UPDATE \"{t}\" SET n = ? WHERE pk = ? RETURNING ALL NEW *", N(9), S("u"))["Items"][0]["n"] == N(9)
    assert run(f"FROM \"{t}\" WHERE pk = 'u' SET f = 1 REMOVE k") == {"Items": []}


def test_update_conditions(ddb, make_table, run, refused):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("c"), "n": N(5)})
    before = get(ddb, t, key("c"))
    assert refused(f"UPDATE \"{t}\" SET n = 6 WHERE pk = 'c' AND n = 4") == (
        "ConditionalCheckFailedException", "The conditional request failed")
    with pytest.raises(ClientError) as e:
        run(f"UPDATE \"{t}\" SET n = 6 WHERE pk = 'c' AND attribute_not_exists(n)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert e.value.response["Item"] == before
    assert refused(f"UPDATE \"{t}\" SET n = 6 WHERE pk = 'missing'")[0] == "ConditionalCheckFailedException"
    assert get(ddb, t, key("missing")) is None                       # an UPDATE never creates an item
    assert refused(f"UPDATE \"{t}\" SET n = 6 WHERE n = 5") == ("ValidationException", INCOMPLETE_KEY)
    assert refused(f"UPDATE \"{t}\" SET n = 6 WHERE pk = 'c' OR pk = 'd'") == ("ValidationException", INCOMPLETE_KEY)
    assert refused(f"UPDATE \"{t}\" SET pk = 'x' WHERE pk = 'c'") == (
        "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. "
                               "This attribute is part of the key")
    assert refused(f"UPDATE \"{t}\" SET n = n + 'x' WHERE pk = 'c'") == (
        "ValidationException", "Incorrect operand type for operator or function; operator or function: +, "
                               "operand type: S")
    assert refused(f"UPDATE \"{t}\" SET l = list_append(nothing, [1]) WHERE pk = 'c'") == (
        "ValidationException", "The provided expression refers to an attribute that does not exist in the item")
    assert refused(f"UPDATE \"{t}\" SET n = set_add(n, <<1>>) WHERE pk = 'c'") == (
        "ValidationException", "An operand in the update expression has an incorrect data type")
    run(f"UPDATE \"{t}\" SET n = 6 WHERE pk = 'c' AND n = 5 AND attribute_exists(n)")
    assert get(ddb, t, key("c")) == {**before, "n": N(6)}


# ---------------------------------------------------------------- DELETE

def test_delete(ddb, make_table, run, refused):
    t = make_table("S", "N")
    ddb.put_item(TableName=t, Item={**key("d", 1), "n": N(1)})
    assert refused(f"DELETE FROM \"{t}\" WHERE pk = 'd' AND sk = 1 AND n = 2")[0] == "ConditionalCheckFailedException"
    assert refused(f"DELETE FROM \"{t}\" WHERE pk = 'd'") == ("ValidationException", INCOMPLETE_KEY)
    assert refused(f"DELETE FROM \"{t}\" WHERE pk = 'd' AND sk = 1 RETURNING ALL NEW *") == (
        "ValidationException",
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements.")
    assert get(ddb, t, key("d", 1)) is not None
    assert run(f"DELETE FROM \"{t}\" WHERE pk = 'd' AND sk = 2 AND n = 1") == {"Items": []}  # no item: nothing to do
    out = run(f"DELETE FROM \"{t}\" WHERE \"pk\" = ? AND sk = ? AND n = 1 RETURNING ALL OLD *", S("d"), N(1))
    assert out == {"Items": [{**key("d", 1), "n": N(1)}]}
    assert get(ddb, t, key("d", 1)) is None
    assert run(f"DELETE FROM \"{t}\" WHERE pk = 'd' AND sk = 1 RETURNING ALL OLD *") == {"Items": []}


# ---------------------------------------------------------------- refusals change nothing

def test_refusals_change_nothing(ddb, make_table, refused):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("r"), "n": N(1)})
    before = get(ddb, t, key("r"))
    cases = [
        (f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'r' foo", (), "ValidationException",
         NOT_WELL_FORMED + "Unexpected token after expression"),
        (f"UPDAT \"{t}\" SET n = 2 WHERE pk = 'r'", (), "ValidationException", NOT_WELL_FORMED + "Expected data manipulation"),
        (f"UPDATE \"{t}\" SET n = ? WHERE pk = 'r'", (), "ValidationException",
         "Number of parameters in request and statement don't match."),
        (f"UPDATE \"{t}\" SET n = ? WHERE pk = 'r'", (N(1), N(2)), "ValidationException",
         "Number of parameters in request and statement don't match."),
        (f"UPDATE \"{t}\" SET n = 2 WHERE pk = 1", (), "ValidationException",
         "Key attribute's data type should match its data type in table's schema: Key pk"),
        (f"UPDATE \"{t}\".\"idx\" SET n = 2 WHERE pk = 'r'", (), "ValidationException",
         "This operation is not supported on an index"),
        (f"UPDATE \"{t}\" SET n = 2, n = 3 WHERE pk = 'r'", (), "ValidationException",
         "Two document paths overlap with each other; must remove or rewrite one of these paths; "
         "path one: [n], path two: [n]"),
        (f"DELETE FROM \"{t}\" t WHERE pk = 'r'", (), "ValidationException", "Aliasing is not supported"),
        ("DELETE FROM \"no-such-table\" WHERE pk = 'r'", (), "ResourceNotFoundException", "Requested resource not found"),
        ("DELETE FROM \"ab\" WHERE pk = 'r'", (), "ValidationException",
         "Table name should be within the length [3, 255] and only contain 'a-z', 'A-Z', '0-9', '-', '_', '.'."),
        (f"EXISTS(SELECT * FROM \"{t}\" WHERE pk = 'r' AND n = 1)", (), "ValidationException",
         "EXISTS can only be used in ExecuteTransaction write requests."),
        (f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'r' AND v < ?", ({"BOOL": True},), "ValidationException",
         "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL"),
    ]
    for statement, params, code, message in cases:
        assert refused(statement, *params) == (code, message), statement
        assert get(ddb, t, key("r")) == before


# ---------------------------------------------------------------- capacity

def test_consumed_capacity_of_a_write(ddb, make_table, run):
    t = make_table("S", None)
    out = run(f"INSERT INTO \"{t}\" VALUE {{'pk': 'w', 'pad': ?}}", S("x" * 1500), ReturnConsumedCapacity="TOTAL")
    # the aggregate alone: only transactions split it (see test_ddb_snapshots.py)
    assert out["ConsumedCapacity"] == {"TableName": t, "CapacityUnits": 2.0}
    out = run(f"SELECT * FROM \"{t}\" WHERE pk = 'w'", ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 0.5


# ---------------------------------------------------------------- BatchExecuteStatement

def test_batch_writes_each_on_its_own(ddb, make_table):
    t = make_table("S", None)
    for pk in ("dup", "cond", "inc"):
        ddb.put_item(TableName=t, Item={**key(pk), "n": N(1)})
    r = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'new'}}"},
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'dup'}}"},
        {"Statement": f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'cond' AND n = 0",
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"Statement": f"UPDATE \"{t}\" SET n = n + 10 WHERE pk = ? RETURNING ALL NEW *", "Parameters": [S("inc")]},
        {"Statement": f"DELETE FROM \"{t}\" WHERE pk"},
        {"Statement": "DELETE FROM \"no-such-table\" WHERE pk = 'x'"},
        {"Statement": f"DELETE FROM \"{t}\" WHERE pk = 'absent'"},
    ], ReturnConsumedCapacity="TOTAL")
    res = r["Responses"]
    assert res[0] == {"TableName": t}
    assert res[1] == {"Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}
    assert res[2] == {"Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                                "Item": {**key("cond"), "n": N(1)}}}
    assert res[3] == {"TableName": t, "Item": {**key("inc"), "n": N(11)}}
    assert res[4]["Error"]["Code"] == "ValidationError"
    assert res[5] == {"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}}
    assert res[6] == {"TableName": t}
    assert get(ddb, t, key("new")) == key("new") and get(ddb, t, key("inc"))["n"] == N(11)
    assert get(ddb, t, key("cond"))["n"] == N(1) and get(ddb, t, key("dup")) == {**key("dup"), "n": N(1)}
    assert r["ConsumedCapacity"][0]["TableName"] == t


def test_batch_reads(ddb, make_table, songs):
    r = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT v FROM \"{songs}\" WHERE pk = 'a' AND sk = 2", "ConsistentRead": True},
        {"Statement": f"SELECT * FROM \"{songs}\" WHERE pk = ? AND sk = ?", "Parameters": [S("b"), N(9)]},
        {"Statement": f"SELECT * FROM \"{songs}\" WHERE pk = 'a'"},
        {"Statement": f"SELECT * FROM \"{songs}\" WHERE pk = 'a' AND sk = 1 AND v = 10"},
        {"Statement": f"SELECT * FROM \"{songs}\" WHERE pk = 'a' AND sk = 1 foo"},
    ], ReturnConsumedCapacity="TOTAL")
    res = r["Responses"]
    assert res[0] == {"TableName": songs, "Item": {"v": N(20)}}
    assert res[1] == {"TableName": songs}
    shape = "Select statements within BatchExecuteStatement must specify the primary key in the where clause."
    assert res[2] == res[3] == {"Error": {"Code": "ValidationError", "Message": shape}}
    assert res[4] == {"Error": {"Code": "ValidationError", "Message": NOT_WELL_FORMED + "Unexpected token after expression"}}
    assert r["ConsumedCapacity"][0]["TableName"] == songs


def test_batch_refusals(ddb, make_table):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item=key("x"))
    cases = [
        ([f"SELECT * FROM \"{t}\" WHERE pk = 'x'", f"DELETE FROM \"{t}\" WHERE pk = 'x'"],
         "Read and write requests together in the same batch is not supported."),
        ([f"DELETE FROM \"{t}\" WHERE pk = 'x'", f"UPDATE \"{t}\" SET a = 1 WHERE pk = 'x'"],
         "Provided list of item keys contains duplicates"),
    ]
    for statements, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.batch_execute_statement(Statements=[{"Statement": s} for s in statements])
        assert error_of(e) == ("ValidationException", message)
    with pytest.raises(ClientError) as e:
        ddb.batch_execute_statement(Statements=[{"Statement": f"DELETE FROM \"{t}\" WHERE pk = 'k{i}'"} for i in range(26)])
    assert error_of(e)[0] == "ValidationException"
    assert get(ddb, t, key("x")) == key("x")


# ---------------------------------------------------------------- ExecuteTransaction

def test_transaction_writes_all_or_nothing(ddb, make_table):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("acct"), "bal": N(100)})
    ddb.put_item(TableName=t, Item=key("taken"))
    ddb.put_item(TableName=t, Item=key("flag"))
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{t}\" SET bal = bal - 10 WHERE pk = 'acct'"},
            {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'taken'}}"},
            {"Statement": f"UPDATE \"{t}\" SET bal = 1 WHERE pk = 'acct2' AND bal > 5",
             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
            {"Statement": f"EXISTS(SELECT * FROM \"{t}\" WHERE pk = 'rich' AND bal > 1000)"},
        ])
    assert error_of(e) == ("TransactionCanceledException", "Transaction cancelled, please refer cancellation "
                           "reasons for specific reasons [None, DuplicateItem, ConditionalCheckFailed, "
                           "ConditionalCheckFailed]")
    assert e.value.response["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
    assert get(ddb, t, key("acct"))["bal"] == N(100)
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"UPDATE \"{t}\" SET bal = bal - 10 WHERE pk = 'acct' AND bal >= 10"},
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'acct2', 'bal': 10}}"},
        {"Statement": f"DELETE FROM \"{t}\" WHERE pk = ?", "Parameters": [S("taken")]},
        {"Statement": f"EXISTS(SELECT * FROM \"{t}\" WHERE pk = 'flag' AND attribute_not_exists(bal))"},
    ], ReturnConsumedCapacity="TOTAL")
    assert out["Responses"] == [] and out["ConsumedCapacity"][0]["TableName"] == t
    assert get(ddb, t, key("acct"))["bal"] == N(90) and get(ddb, t, key("acct2"))["bal"] == N(10)
    assert get(ddb, t, key("taken")) is None


def test_transaction_failed_condition_returns_the_item(ddb, make_table):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("a"), "n": N(1)})
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'a' AND n = 5",
             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}])
    assert e.value.response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": {**key("a"), "n": N(1)}}]


def test_transaction_idempotency(ddb, make_table):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("i"), "n": N(0)})
    token = str(uuid.uuid4())
    statements = [{"Statement": f"UPDATE \"{t}\" SET n = n + 1 WHERE pk = 'i'"}]
    for _ in range(3):
        assert ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)["Responses"] == []
    assert get(ddb, t, key("i"))["n"] == N(1)
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[{"Statement": f"UPDATE \"{t}\" SET n = n + 2 WHERE pk = 'i'"}],
                                ClientRequestToken=token)
    assert error_of(e)[0] == "IdempotentParameterMismatchException"
    assert get(ddb, t, key("i"))["n"] == N(1)


def test_transaction_reads(ddb, songs):
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT v, tag FROM \"{songs}\" WHERE pk = 'a' AND sk = 1"},
        {"Statement": f"SELECT * FROM \"{songs}\" WHERE pk = ? AND sk = ?", "Parameters": [S("zz"), N(1)]},
    ], ReturnConsumedCapacity="TOTAL")
    assert out["Responses"] == [{"Item": {"v": N(10), "tag": S("a1")}}, {}]
    assert out["ConsumedCapacity"][0]["CapacityUnits"] == 4.0


def test_transaction_refusals(ddb, make_table, songs):
    t = make_table("S", None)
    ddb.put_item(TableName=t, Item={**key("x"), "n": N(1)})
    prefix = "Validation failed in TransactStatements[1]: "
    cases = [
        ([f"SELECT * FROM \"{t}\" WHERE pk = 'x'", f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'y'"],
         "ExecuteTransaction API does not support both read and write operations in the same request."),
        ([f"SELECT * FROM \"{t}\" WHERE pk = 'x'", f"SELECT * FROM \"{songs}\" WHERE pk = 'a'"],
         prefix + "Select statements within ExecuteTransaction must specify the primary key in the where clause."),
        ([f"SELECT * FROM \"{t}\" WHERE pk = 'x'", f"SELECT * FROM \"{t}\".\"ix\" WHERE pk = 'a'"],
         prefix + "Reads on indices are not supported within transactions."),
        ([f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'y'", f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'x' RETURNING ALL NEW *"],
         prefix + "RETURNING clause is not supported in ExecuteTransaction."),
        ([f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'y'", f"EXISTS(SELECT * FROM \"{t}\" WHERE pk = 'x')"],
         prefix + "EXISTS() must contain a single item read with additional condition"),
        ([f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'x'", f"DELETE FROM \"{t}\" WHERE pk = 'x'"],
         "Transaction request cannot include multiple operations on one item"),
        ([f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'x'", f"DELETE FROM \"{t}\" WHERE pk = 'x' foo"],
         NOT_WELL_FORMED + "Unexpected token after expression"),
    ]
    for statements, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.execute_transaction(TransactStatements=[{"Statement": s} for s in statements])
        assert error_of(e) == ("ValidationException", message), statements
        assert get(ddb, t, key("x")) == {**key("x"), "n": N(1)}
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{t}\" SET n = 2 WHERE pk = 'k{i}'"} for i in range(101)])
    assert error_of(e)[0] == "ValidationException"


# ---------------------------------------------------------------- concurrency

def test_concurrent_conditional_increments_lose_nothing(make_table, client_factory):
    t = make_table("S", None)
    setup = client_factory("dynamodb")
    setup.put_item(TableName=t, Item={**key("counter"), "n": N(0)})
    threads, per_thread = 8, 25
    errors = []

    def work():
        c = client_factory("dynamodb")
        try:
            for _ in range(per_thread):
                c.execute_statement(Statement=f"UPDATE \"{t}\" SET n = n + 1 WHERE pk = 'counter' AND n >= 0")
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    assert get(setup, t, key("counter"))["n"] == N(threads * per_thread)

    claims = []

    def claim(who):
        c = client_factory("dynamodb")
        try:
            c.execute_statement(Statement=f"UPDATE \"{t}\" SET owner = ? WHERE pk = 'counter' AND owner IS MISSING",
                                Parameters=[S(who)])
            claims.append(who)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"

    racers = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(8)]
    for r in racers:
        r.start()
    for r in racers:
        r.join()
    assert len(claims) == 1
    assert get(setup, t, key("counter"))["owner"] == S(claims[0])


# ---------------------------------------------------------------- streams

def test_writes_reach_the_tables_stream(ddb, make_table, client_factory, run, refused):
    t = make_table("S", None, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
    run(f"INSERT INTO \"{t}\" VALUE {{'pk': 's', 'n': 1}}")
    run(f"UPDATE \"{t}\" SET n = 2 WHERE pk = 's'")
    refused(f"UPDATE \"{t}\" SET n = 3 WHERE pk = 's' AND n = 9")       # fails: no record
    run(f"DELETE FROM \"{t}\" WHERE pk = 'nothing'")                    # deletes nothing: no record
    run(f"DELETE FROM \"{t}\" WHERE pk = 's'")
    streams = client_factory("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [(r["eventName"], r["dynamodb"].get("OldImage", {}).get("n"), r["dynamodb"].get("NewImage", {}).get("n"))
            for r in records] == [("INSERT", None, N(1)), ("MODIFY", N(1), N(2)), ("REMOVE", N(2), None)]
