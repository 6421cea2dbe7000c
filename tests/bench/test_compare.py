"""--compare without servers: ratios from canned results, and peers that cannot be had are skipped with a message."""

from __future__ import annotations

import json

import pytest

from benchmarks import peers, ratios, runner
from benchmarks.__main__ import main


def measured(workload, target, items_per_s, errors=0, p50_ms=1.0, unit="items"):
    return {"workload": workload, "target": target, "unit": unit,
            "best": {"items_per_s": items_per_s, "errors": errors, "p50_ms": p50_ms}}


CANNED = [
    measured("ddb-put-1kb", "cloudlet", 12000.0),
    measured("ddb-put-1kb", "dynalite", 4000.0),
    measured("ddb-put-1kb", "moto", 600.0),
    {"workload": "ddb-put-1kb", "target": "kinesalite", "skipped": "no dynamodb"},
    measured("sqs-send", "cloudlet", 10000.0, unit="msgs"),
    {"workload": "sqs-send", "target": "moto", "failed": "RuntimeError: no answer within 31 s"},
    measured("sqs-receive-delete", "cloudlet", 9000.0, unit="msgs"),
    measured("sqs-receive-delete", "moto", 0.0, errors=5, unit="msgs"),
    measured("sqs-longpoll-latency", "cloudlet", 1000.0, p50_ms=2.0, unit="msgs"),
    measured("sqs-longpoll-latency", "moto", 100.0, p50_ms=40.0, unit="msgs"),
    measured("kinesis-put-100", "cloudlet", 70000.0, unit="records"),  # no peer ran it: no ratio
]


def test_ratios_over_each_peer_that_ran_the_workload():
    got = ratios.compute(CANNED, ["cloudlet"], ["dynalite", "moto", "kinesalite"])
    by = {(r["workload"], r["peer"]): r for r in got}
    assert set(by) == {("ddb-put-1kb", "dynalite"), ("ddb-put-1kb", "moto"), ("sqs-send", "moto"),
                       ("sqs-receive-delete", "moto"), ("sqs-longpoll-latency", "moto")}
    assert by["ddb-put-1kb", "dynalite"]["ratio"] == pytest.approx(3.0)
    assert by["ddb-put-1kb", "moto"]["ratio"] == pytest.approx(20.0)
    assert by["sqs-send", "moto"]["ratio"] is None and "no answer" in by["sqs-send", "moto"]["reason"]
    assert by["sqs-receive-delete", "moto"]["ratio"] is None
    assert by["sqs-receive-delete", "moto"]["reason"] == "moto did no msgs"
    assert by["sqs-receive-delete", "moto"]["peer_errors"] == 5
    assert by["sqs-longpoll-latency", "moto"]["p50_ratio"] == pytest.approx(20.0)
    assert all(r["target"] == "cloudlet" for r in got)
    json.dumps(got)  # stored as is in the results file


def test_ratio_lines():
    lines = ratios.format_lines(ratios.compute(CANNED, ["cloudlet"], ["dynalite", "moto"]))
    assert lines[0] == "ddb-put-1kb           ratio cloudlet/dynalite: 3.00"
    assert lines[1] == "ddb-put-1kb           ratio cloudlet/moto: 20.00"
    assert lines[2].startswith("sqs-send              ratio cloudlet/moto: n/a (moto failed: RuntimeError")
    assert lines[3] == "sqs-receive-delete    ratio cloudlet/moto: n/a (moto did no msgs) (moto had 5 errors)"
    assert lines[4] == "sqs-longpoll-latency  ratio cloudlet/moto: 10.00, p50 latency moto/cloudlet: 20.00"


def test_a_failed_subject_has_no_ratio():
    results = [{"workload": "ddb-get", "target": "cloudlet", "failed": "boom"}, measured("ddb-get", "moto", 10.0)]
    assert ratios.compute(results, ["cloudlet"], ["moto"]) == [
        {"workload": "ddb-get", "target": "cloudlet", "peer": "moto", "ratio": None, "reason": "cloudlet failed"}]


@pytest.mark.parametrize("spec, expected", [
    ("http://127.0.0.1:4566", (None, "http://127.0.0.1:4566")),
    ("localstack=http://127.0.0.1:4566/", ("localstack", "http://127.0.0.1:4566")),
    ("http://h:1/?a=b", (None, "http://h:1/?a=b")),
    ("moto", None),
])
def test_peer_specs(spec, expected):
    assert runner.split_url(spec) == expected


@pytest.fixture
def nothing_installed(monkeypatch, tmp_path):
    """No node_modules, no venvs, a PATH without node or peers, and this Python has no peer packages."""
    monkeypatch.setenv("CLOUDLET_BENCH_NODE_PATH", str(tmp_path / "node_modules"))
    monkeypatch.setenv("CLOUDLET_BENCH_VENV", str(tmp_path / "venv"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(peers, "_importable", lambda module: False)


def test_uninstalled_and_unknown_peers_say_how_to_install(nothing_installed):
    for name, hint in [("dynalite", "npm install dynalite"), ("kinesalite", "npm install kinesalite"),
                       ("moto", "pip install 'moto[server]'"), ("ministack", "pip install ministack"),
                       ("localstack", "localstack-core")]:
        with pytest.raises(peers.PeerUnavailable, match="not installed") as e:
            peers.resolve(name)
        assert hint in str(e.value)
    with pytest.raises(peers.PeerUnavailable, match="unknown peer 'nosuch'"):
        peers.resolve("nosuch")


def test_the_run_skips_them_and_goes_on(nothing_installed, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["run", "--workload", "baseline", "--seconds", "0.1", "--repeat", "1", "--concurrency", "2",
                 "--compare", "nosuch,dynalite", "--compare", "moto", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    assert "skip peer nosuch: unknown peer" in err
    assert "skip peer dynalite: dynalite is not installed; to use it: " in err
    assert "Traceback" not in err
    data = json.loads(out.read_text())
    assert [s["peer"] for s in data["peers_skipped"]] == ["nosuch", "dynalite", "moto"]
    assert data["ratios"] == []
    assert [r["target"] for r in data["results"]] == ["trivial"]


def test_records_page_reads_count_and_iterator_without_a_full_parse():
    import json

    import orjson

    from benchmarks.workloads import _records_page

    page = {"Records": [{"SequenceNumber": str(i), "Data": "eA==", "PartitionKey": "p"} for i in range(3)],
            "NextShardIterator": "abc/+=", "MillisBehindLatest": 0}
    assert _records_page(orjson.dumps(page)) == (3, "abc/+=")
    assert _records_page(json.dumps(page).encode()) == (3, "abc/+=")  # ", " and ": " separators
    assert _records_page(b'{"Records":[]}') == (0, None)
