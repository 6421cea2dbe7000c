"""Contributor Insights settings: Update/Describe/List through boto3, per table and per
global secondary index, with every refusal leaving the setting as it was."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.services.dynamodb.conftest import error_of

RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_.]{0,126}[A-Za-z0-9]")


def _gsi(name="byg"):
    return {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "GlobalSecondaryIndexes": [{"IndexName": name, "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}],
    }


def test_off_until_enabled_then_on_then_off(ddb, make_table, server):
    name = make_table()
    before = ddb.describe_contributor_insights(TableName=name)
    assert before["TableName"] == name
    assert before["ContributorInsightsStatus"] == "DISABLED"
    assert "ContributorInsightsRuleList" not in before

    got = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert got == {"TableName": name, "ContributorInsightsStatus": "ENABLING",
                   "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS",
                   "ResponseMetadata": got["ResponseMetadata"]}
    on = ddb.describe_contributor_insights(TableName=name)
    assert on["ContributorInsightsStatus"] == "ENABLED"
    assert on["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    rules = on["ContributorInsightsRuleList"]
    # partition and sort key, most accessed and most throttled
    assert [r.split("-")[1] for r in rules] == ["PKC", "PKT", "SKC", "SKT"]
    assert all(RULE.fullmatch(r) and name in r for r in rules)
    assert on["LastUpdateDateTime"].timestamp() > 0

    server.advance_clock(5)
    off = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    assert off["ContributorInsightsStatus"] == "DISABLING"
    after = ddb.describe_contributor_insights(TableName=name)
    assert after["ContributorInsightsStatus"] == "DISABLED"
    assert "ContributorInsightsRuleList" not in after
    assert after["LastUpdateDateTime"] > on["LastUpdateDateTime"]


def test_throttled_keys_mode_and_hash_only_table(ddb, make_table):
    name = make_table(range_type=None)
    got = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE",
                                          ContributorInsightsMode="THROTTLED_KEYS")
    assert got["ContributorInsightsMode"] == "THROTTLED_KEYS"
    on = ddb.describe_contributor_insights(TableName=name)
    assert [r.split("-")[1] for r in on["ContributorInsightsRuleList"]] == ["PKT"]
    # the mode stays when an update does not name one
    ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsMode"] == "THROTTLED_KEYS"


def test_index_is_separate_from_its_table(ddb, make_table):
    name = make_table(**_gsi())
    got = ddb.update_contributor_insights(TableName=name, IndexName="byg", ContributorInsightsAction="ENABLE")
    assert got["IndexName"] == "byg" and got["ContributorInsightsStatus"] == "ENABLING"
    index = ddb.describe_contributor_insights(TableName=name, IndexName="byg")
    assert index["IndexName"] == "byg" and index["ContributorInsightsStatus"] == "ENABLED"
    assert [r.split("-")[1] for r in index["ContributorInsightsRuleList"]] == ["PKC", "PKT"]
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"

    listed = ddb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert listed == [
        {"TableName": name, "ContributorInsightsStatus": "DISABLED"},
        {"TableName": name, "IndexName": "byg", "ContributorInsightsStatus": "ENABLED",
         "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS"},
    ]
    # addressed by ARN, too
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert ddb.list_contributor_insights(TableName=arn)["ContributorInsightsSummaries"] == listed
    assert ddb.describe_contributor_insights(TableName=arn, IndexName="byg")["ContributorInsightsStatus"] == "ENABLED"


def test_list_every_table_in_pages(ddb, make_table):
    names = {make_table() for _ in range(3)}
    ddb.update_contributor_insights(TableName=sorted(names)[1], ContributorInsightsAction="ENABLE")
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        page = ddb.list_contributor_insights(MaxResults=1, **kw)
        assert len(page["ContributorInsightsSummaries"]) <= 1
        seen += page["ContributorInsightsSummaries"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    ours = [s for s in seen if s["TableName"] in names]
    assert [s["TableName"] for s in ours] == sorted(names)
    assert [s["ContributorInsightsStatus"] for s in ours] == ["DISABLED", "ENABLED", "DISABLED"]
    assert pages == len(seen)


def test_setting_goes_with_the_table(ddb, make_table):
    name = make_table()
    ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"


def test_unknown_table_and_index(ddb, make_table):
    for call in (lambda: ddb.describe_contributor_insights(TableName="nope-" + "x" * 8),
                 lambda: ddb.update_contributor_insights(TableName="nope-" + "x" * 8,
                                                         ContributorInsightsAction="ENABLE"),
                 lambda: ddb.list_contributor_insights(TableName="nope-" + "x" * 8)):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("ResourceNotFoundException", "Requested resource not found: Table: nope-xxxxxxxx not found")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    name = make_table()
    with pytest.raises(ClientError) as e:
        ddb.update_contributor_insights(TableName=name, IndexName="ghost", ContributorInsightsAction="ENABLE")
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.describe_contributor_insights(TableName=name, IndexName="ghost")
    assert error_of(e)[0] == "ResourceNotFoundException"
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"


@pytest.mark.parametrize("kw, fragment", [
    ({"ContributorInsightsAction": "TOGGLE"}, "Member must satisfy enum value set: [ENABLE, DISABLE]"),
    ({"ContributorInsightsAction": "ENABLE", "ContributorInsightsMode": "SOME"},
     "Member must satisfy enum value set"),
    # AWS's own words for it (ack-api-quirks DDB-TABLE-457, observed live)
    ({"ContributorInsightsAction": "ENABLE", "IndexName": "x"},
     "IndexName must be at least 3 characters long and at most 255 characters long"),
    ({}, "contributorInsightsAction' failed to satisfy constraint: Member must not be null"),
])
def test_bad_update_is_refused_and_changes_nothing(ddb, ddb_raw, make_table, kw, fragment):
    name = make_table()
    with pytest.raises(ClientError) as e:
        ddb_raw.update_contributor_insights(TableName=name, **kw)
    code, message = error_of(e)
    assert code == "ValidationException" and fragment in message
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"


def test_list_page_size_limits(ddb_raw, ddb):
    with pytest.raises(ClientError) as e:
        ddb_raw.list_contributor_insights(MaxResults=101)
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ParamValidationError):
        ddb.list_contributor_insights(MaxResults="ten")
