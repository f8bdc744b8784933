"""The fleet report builder, field by field (issue 17: mutation survivors of _report.py).

Each test pins exact record fields, problem codes and severities, counts and the geometry the HTML template
draws, so a changed boundary, key or default in _report.py fails a test. ``make mutation`` runs these with
tests/unit/plugin_utils/test_report.py against every mutant of _report.py.
"""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.apexone.certificates.plugins.plugin_utils import _report as rp

T1 = "3F2A0C5B8E1D4A7F9B6C2E0D1A3B5C7D9E1F2A4B"
T2 = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
NOW = "2027-01-15T08:00:00Z"


def probe(endpoint="10.0.0.1:4343", thumbprint=T1, **extra):
    return {"endpoint": endpoint, "ok": thumbprint is not None, "thumbprint": thumbprint, "subject_cn": "apex01",
            "issuer": "CN=Corp CA", "san_dns": ["apex01"], "not_after": "2027-11-11T00:00:00Z", "days_left": 300,
            "tls_version": "TLSv1.3", "chain_pem": ["x"], "problems": [], "error": None, "error_code": None,
            "chain_valid": None, **extra}


def codes(record):
    return [p["code"] for p in record["problems"]]


def minimal(host, status="ok", days=None, match=None, plan="not_available"):
    served = None if days is None and status == "unreachable" else {"days_left": days, "thumbprint": T1}
    return {"host": host, "status": status, "served": served, "thumbprint_match": match, "problems": [],
            "plan": {"status": plan, "actions": []}, "winrm": {"status": "skipped"}}


# ------------------------------------------------------------------------------------------------ helpers


@pytest.mark.parametrize(("value", "limit", "text"), [
    (None, 5, None), ("abcde", 5, "abcde"), ("abcdef", 5, "ab..."), (12, 5, "12"), ("x" * 500, 500, "x" * 500),
    ("x" * 501, 500, "x" * 497 + "...")])
def test_text_is_cut_to_its_limit_with_an_ellipsis(value, limit, text):
    assert rp._text(value, limit) == text


@pytest.mark.parametrize(("value", "number"), [
    (None, None), ("", None), (True, None), (False, None), ("12", 12), (7, 7), ("x", None), ([1], None), (3.9, 3)])
def test_int(value, number):
    assert rp._int(value) == number


@pytest.mark.parametrize(("value", "flag"), [
    (None, None), ("", None), ("yes", True), (" On ", True), ("1", True), ("TRUE", True), ("no", False),
    ("0", False), ("off", False), (1, True), (0, False), ([], False)])
def test_bool_or_none(value, flag):
    assert rp._bool_or_none(value) is flag


@pytest.mark.parametrize(("value", "items"), [
    (None, []), ("ab", []), (b"ab", []), ({"a": 1}, []), (5, []), ((1, 2), [1, 2]), ([3], [3]), ({4}, [4])])
def test_list(value, items):
    assert rp._list(value) == items


@pytest.mark.parametrize(("value", "thumbprint"), [
    (None, None), ("", None), (5, None), ("nope", None), (T1.lower(), T1), (" ".join(T1[i:i + 2] for i in range(0, 40, 2)), T1)])
def test_thumbprint(value, thumbprint):
    assert rp._thumbprint(value) == thumbprint


def test_problems_keep_coded_items_and_default_the_severity():
    items = [{"code": "a", "severity": "warning", "message": "m"}, {"code": "b"}, {"message": "no code"}, "text",
             {"code": "c", "severity": "fatal", "message": None}]
    assert rp._problems(items) == [
        {"code": "a", "severity": "warning", "message": "m"},
        {"code": "b", "severity": "error", "message": ""},
        {"code": "c", "severity": "error", "message": ""},
    ]
    assert rp._problem(5, "info", "x" * 600)["message"] == "x" * 497 + "..."
    assert rp._problem(5, "info", None) == {"code": "5", "severity": "info", "message": None}


def test_secrets_longest_first_and_at_least_four_characters():
    assert rp._secrets(["abc", "abcd", "abcdef", None, "abcd", 12345]) == ["abcdef", "12345", "abcd"]
    assert rp._secrets("abcdef") == []
    masked = rp._mask({"a": ["xx abcdef yy", 5, None], "b": "abcd"}, rp._secrets(["abcd", "abcdef"]))
    assert masked == {"a": ["xx ******** yy", 5, None], "b": "********"}
    assert rp._mask("abcd", []) == "abcd"


@pytest.mark.parametrize(("severities", "served", "status"), [
    ([], True, "ok"), (["info"], True, "ok"), (["warning", "info"], True, "warning"),
    (["warning", "error"], True, "error"), ([], False, "unreachable"), (["error"], False, "unreachable")])
def test_status_of(severities, served, status):
    assert rp.status_of([{"severity": s} for s in severities], served) == status


@pytest.mark.parametrize(("winrm", "out"), [
    (None, {"enabled": False, "status": "skipped", "message": None}),
    ({"enabled": "yes"}, {"enabled": True, "status": "ok", "message": None}),
    ({"enabled": True, "status": "weird", "message": 5}, {"enabled": True, "status": "failed", "message": "5"}),
    ({"enabled": False, "status": "unreachable"}, {"enabled": False, "status": "unreachable", "message": None}),
])
def test_winrm(winrm, out):
    assert rp._winrm(winrm) == out


def test_endpoint_fields_are_cut():
    out = rp._endpoint({"endpoint": None, "ok": 1, "thumbprint": "bad", "tls_version": "T" * 40,
                        "error_code": "e" * 40, "error": "x" * 600})
    assert out == {"endpoint": "", "ok": True, "thumbprint": None, "tls_version": "T" * 29 + "...",
                   "error_code": "e" * 29 + "...", "error": "x" * 497 + "..."}


def test_now_is_whole_seconds_and_bad_now_is_a_report_error():
    assert rp._now("2027-01-15T08:00:00.750Z") == datetime.datetime(2027, 1, 15, 8, 0, tzinfo=datetime.timezone.utc)
    with pytest.raises(rp.ReportError) as caught:
        rp._now("soon")
    assert "ISO 8601" in str(caught.value)


# ------------------------------------------------------------------------------------------------ plans


@pytest.mark.parametrize(("plan", "status"), [
    (None, "not_available"), ({}, "not_available"), ({"compliant": True, "actions": []}, "compliant"),
    ({"compliant": "true"}, "compliant"), ({"compliant": True, "actions": [{"step": 2}]}, "changes"),
    ({"compliant": False}, "changes"), ({"compliant": True, "blockers": [{"code": "x"}]}, "blocked")])
def test_plan_status(plan, status):
    assert rp._plan(plan)[0]["status"] == status


def test_plan_actions_and_problems():
    out, problems = rp._plan({
        "compliant": False,
        "actions": [{"step": "7", "module": "m" * 200, "reason": "r", "args": {"x": 1}}, {"step": "two"}, "junk"],
        "blockers": [{"message": "b"}, {"code": "friendly_name_reused", "severity": "warning", "message": "m"}],
        "warnings": [{"message": "w"}, {"code": "old_build", "severity": "error"}]})
    assert out == {"status": "blocked", "actions": [
        {"step": 7, "module": "m" * 125 + "...", "reason": "r"},
        {"step": "two", "module": None, "reason": None},
        {"step": None, "module": None, "reason": None}]}
    assert problems == [
        {"code": "plan_blocker", "severity": "error", "message": "b"},
        {"code": "friendly_name_reused", "severity": "warning", "message": "m"},
        {"code": "plan_warning", "severity": "warning", "message": "w"},
        {"code": "old_build", "severity": "error", "message": ""}]


# ------------------------------------------------------------------------------------------------ host records


def test_a_good_host_record_field_by_field():
    record = rp.build_host_record("apex01", hostname="apex01.corp.example", probes=[probe(chain_valid=True)],
                                  expected={"thumbprint": T1.lower(), "source": "pfx"},
                                  winrm={"enabled": True, "status": "ok"}, plan={"compliant": True, "actions": []})
    assert record == {
        "host": "apex01", "hostname": "apex01.corp.example", "status": "ok",
        "served": {"endpoint": "10.0.0.1:4343", "thumbprint": T1, "subject_cn": "apex01", "issuer": "CN=Corp CA",
                   "san_dns": ["apex01"], "not_after": "2027-11-11T00:00:00Z", "days_left": 300,
                   "tls_version": "TLSv1.3", "chain_length": 2, "chain_valid": True, "hostname_valid": True},
        "expected": {"thumbprint": T1, "source": "pfx"}, "thumbprint_match": True, "problems": [],
        "endpoints": [{"endpoint": "10.0.0.1:4343", "ok": True, "thumbprint": T1, "tls_version": "TLSv1.3",
                       "error_code": None, "error": None}],
        "winrm": {"enabled": True, "status": "ok", "message": None},
        "plan": {"status": "compliant", "actions": []},
    }


def test_the_served_check_sets_days_and_chain_and_name_verdicts():
    check = {"problems": [{"code": "chain_untrusted", "severity": "error", "message": "m"},
                          {"code": "hostname_not_in_san", "severity": "error", "message": "n"}],
             "days_left": "12", "not_after": "2027-02-01T00:00:00Z"}
    served_problems = [{"code": "tls_legacy_version", "severity": "warning", "message": "t"},
                       {"code": "expired", "severity": "error", "message": "e"}]
    record = rp.build_host_record("h", probes=[probe(problems=served_problems, not_after=None)], served_check=check,
                                  chain_checked="yes")
    assert codes(record) == ["chain_untrusted", "hostname_not_in_san", "tls_legacy_version"]
    served = record["served"]
    assert (served["days_left"], served["not_after"]) == (12, "2027-02-01T00:00:00Z")
    assert (served["chain_valid"], served["hostname_valid"]) == (False, False)
    record = rp.build_host_record("h", probes=[probe()], served_check={"problems": [], "days_left": 5})
    assert record["served"]["chain_valid"] is None  # no CA bundle: no chain verdict
    assert record["served"]["not_after"] == "2027-11-11T00:00:00Z"  # from the probe when the check has none


def test_without_a_served_check_the_probe_decides():
    problems = [{"code": "chain_incomplete", "severity": "error", "message": "m"}]
    record = rp.build_host_record("h", probes=[probe(problems=problems, chain_valid=False, days_left="40")])
    assert codes(record) == ["chain_incomplete"] and record["status"] == "error"
    assert (record["served"]["chain_valid"], record["served"]["days_left"]) == (False, 40)
    record = rp.build_host_record("h", probes=[probe(chain_valid=None)])
    assert record["served"]["chain_valid"] is None


def test_the_first_answering_endpoint_is_served_and_the_others_compared():
    probes = [probe("a:4343", None, error="refused"), probe("b:4343", T1), probe("c:443", T2),
              probe("d:443", None, error=None), "junk"]
    record = rp.build_host_record("h", probes=probes)
    assert record["served"]["endpoint"] == "b:4343"
    assert record["problems"] == [
        {"code": "endpoint_unreachable", "severity": "info", "message": "a:4343: refused"},
        {"code": "endpoints_differ", "severity": "warning",
         "message": f"c:443 serves {T2}, b:4343 serves {T1}: a binding was not switched to the same certificate"},
        {"code": "endpoint_unreachable", "severity": "info", "message": "d:443: no certificate"},
    ]
    assert record["status"] == "warning" and len(record["endpoints"]) == 4


def test_no_answer_lists_each_endpoint():
    record = rp.build_host_record("h", probes=[probe("a:1", None, error="refused"), probe("b:2", None)])
    assert record["problems"] == [{"code": "unreachable", "severity": "error",
                                   "message": "no endpoint answered with TLS (a:1: refused; b:2: no certificate)"}]
    assert record["status"] == "unreachable" and record["served"] is None and record["thumbprint_match"] is None
    record = rp.build_host_record("h", probes="a:1")
    assert record["problems"][0]["message"] == "no endpoint was probed for this host"


@pytest.mark.parametrize(("expected", "problem"), [
    ({"thumbprint": T2}, ("thumbprint_mismatch", "warning",
                          f"the server serves {T1}, not the expected certificate {T2} (not deployed yet, or reverted)")),
    ({"error": "no such file"}, ("expected_unreadable", "warning",
                                 "the certificate this host should serve could not be read: no such file")),
    ({"thumbprint": "nope"}, ("expected_unreadable", "warning", "'nope' is not a SHA-1 thumbprint")),
    ({"thumbprint": "", "source": "x" * 40}, None),
])
def test_expected_certificate(expected, problem):
    record = rp.build_host_record("h", probes=[probe()], expected=expected)
    if problem is None:
        assert record["problems"] == [] and record["thumbprint_match"] is None
        assert record["expected"] == {"thumbprint": None, "source": "x" * 29 + "..."}
    else:
        assert [(p["code"], p["severity"], p["message"]) for p in record["problems"]] == [problem]
        assert record["thumbprint_match"] is (False if problem[0] == "thumbprint_mismatch" else None)


@pytest.mark.parametrize(("winrm", "problem"), [
    ({"enabled": True, "status": "unreachable"}, ("winrm_unreachable", "WinRM unreachable: no details")),
    ({"enabled": True, "status": "unreachable", "message": "m"}, ("winrm_unreachable", "WinRM unreachable: m")),
    ({"enabled": True, "status": "failed"}, ("winrm_failed", "reading the server facts failed: no details")),
    ({"enabled": True, "status": "ok", "warnings": ["NTSG expires", "", None] + [f"w{i}" for i in range(25)]}, None),
])
def test_winrm_problems(winrm, problem):
    record = rp.build_host_record("h", probes=[probe()], winrm=winrm)
    if problem is None:
        assert codes(record) == ["server_warning"] * 18  # the first 20 entries, blank ones dropped
        assert record["problems"][0] == {"code": "server_warning", "severity": "warning", "message": "NTSG expires"}
        assert record["problems"][-1]["message"] == "w16"
    else:
        assert [(p["code"], p["severity"], p["message"]) for p in record["problems"]] == [(problem[0], "warning",
                                                                                           problem[1])]


def test_long_served_fields_are_cut():
    long = probe(subject_cn="c" * 300, issuer="i" * 600, san_dns=["d" * 300] * 60, tls_version="v" * 40)
    served = rp.build_host_record("h", hostname="n" * 300, probes=[long])["served"]
    assert served["subject_cn"] == "c" * 253 + "..." and served["issuer"] == "i" * 509 + "..."
    assert len(served["san_dns"]) == 50 and served["san_dns"][0] == "d" * 253 + "..."
    assert served["tls_version"] == "v" * 29 + "..."
    assert rp.build_host_record("h", hostname="n" * 300, probes=[long])["hostname"] == "n" * 253 + "..."
    assert rp.build_host_record("h", hostname="", probes=[long])["hostname"] is None


def test_not_audited_record():
    assert rp.not_audited_record("h9") == {
        "host": "h9", "hostname": None, "status": "unreachable", "served": None,
        "expected": {"thumbprint": None, "source": None}, "thumbprint_match": None,
        "problems": [{"code": "not_audited", "severity": "error",
                      "message": "the host left the play before it was audited (an earlier task failed for it)"}],
        "endpoints": [], "winrm": {"enabled": False, "status": "skipped", "message": None},
        "plan": {"status": "not_available", "actions": []}}


# ------------------------------------------------------------------------------------------------ reports


def test_summarize_boundaries():
    hosts = [minimal("a", days=-1), minimal("b", days=0), minimal("c", days=29), minimal("d", days=30),
             minimal("e", days=89), minimal("f", days=90), minimal("g", "unreachable"),
             minimal("h", "warning", days=None, match=False, plan="changes"), minimal("i", "error", match=True)]
    assert rp.summarize(hosts) == {
        "hosts": 9, "status": {"ok": 6, "warning": 1, "error": 1, "unreachable": 1}, "expired": 1,
        "expires_within_30_days": 2, "expires_within_90_days": 4, "thumbprint_mismatch": 1, "planned_changes": 1}


def test_build_report_document():
    class HostVars(dict):
        pass

    hostvars = HostVars(b={"apexone_cert_report_host": minimal("b")}, c={"other": 1}, d=None)
    report = rp.build_report([minimal("z"), "b", "c", "d", "e"], hostvars=hostvars, title="t" * 300,
                             slice_id=" s1 ", now=NOW)
    assert [h["host"] for h in report["hosts"]] == ["b", "c", "d", "e", "z"]
    assert [h["status"] for h in report["hosts"]] == ["ok", "unreachable", "unreachable", "unreachable", "ok"]
    assert report["kind"] == "apexone.certificates.fleet_report" and report["schema_version"] == 1
    assert report["title"] == "t" * 197 + "..." and report["generated_at"] == NOW
    assert report["sources"] == [{"slice": " s1 ", "generated_at": NOW, "hosts": 5}]
    assert report["summary"]["hosts"] == 5
    default = rp.build_report([], now=NOW, slice_id="")
    assert default["title"] == "Apex One web host certificates" and default["sources"][0]["slice"] is None
    assert rp.build_report(["x"], now=NOW)["hosts"][0]["problems"][0]["code"] == "not_audited"


def test_a_later_record_of_the_same_host_replaces_the_earlier():
    report = rp.build_report([minimal("a"), minimal("a", "error")], now=NOW)
    assert [(h["host"], h["status"]) for h in report["hosts"]] == [("a", "error")]


@pytest.mark.parametrize(("items", "message"), [
    ([5], "report entries must be records or host names, not int"),
    ([{"host": "a"}], "a report record needs at least 'host' and 'status'"),
    ([{"status": "ok"}], "a report record needs at least 'host' and 'status'"),
    ([{**minimal("a"), "status": "fine"}], "a report record (a): the host name is empty or the status 'fine' is unknown"),
    ([{**minimal(""), "status": "ok"}], "a report record (): the host name is empty"),
])
def test_build_report_refuses(items, message):
    with pytest.raises(rp.ReportError) as caught:
        rp.build_report(items, now=NOW)
    assert str(caught.value).startswith(message)


def test_plain_turns_everything_into_json_types():
    class Text(str):
        pass

    assert rp._plain({1: (Text("a"), True, None, 2, 2.5, b"x", {"k": [3]})}) == {
        "1": ["a", True, None, 2, 2.5, "b'x'", {"k": [3]}]}
    assert type(rp._plain(Text("a"))) is str  # pylint: disable=unidiomatic-typecheck  # exactly str, not a subclass


def good_report(hosts=("a", "b"), when=NOW, title="T"):
    return rp.build_report([minimal(h) for h in hosts], now=when, title=title)


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: "text", "the report is not a JSON object (got str)"),
    (lambda r: {**r, "kind": "other"}, "the report is not an apexone.certificates fleet report (kind='other')"),
    (lambda r: {**r, "schema_version": True}, "the report has no schema_version"),
    (lambda r: {**r, "schema_version": "1"}, "the report has no schema_version"),
    (lambda r: {**r, "schema_version": 2}, "the report was written with schema_version 2; this collection reads up to 1"),
    (lambda r: {**r, "hosts": {}}, "the report has no 'hosts' list"),
    (lambda r: {**r, "title": 5}, "the report: 'title' is 5, not what a fleet report holds"),
    (lambda r: {**r, "sources": ["x"]}, "the report: 'sources' must be a list of objects"),
    (lambda r: {**r, "hosts": ["x"]}, "the report, host 1 is not a host record (a JSON object)"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "thumbprint_match": 1}]},
     "the report, host 1: 'thumbprint_match' is 1, not what a fleet report holds"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "problems": ["p"]}]}, "the report, host 1 (a): a problem is not an object"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "problems": [{"code": "c", "severity": "fatal"}]}]},
     "the report, host 1 (a): unknown problem severity 'fatal'"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "plan": {"status": "odd", "actions": []}}]},
     "the report, host 1 (a): 'plan' needs a known status and a list of actions"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "plan": {"status": "changes", "actions": ["x"]}}]},
     "the report, host 1 (a): 'plan' needs a known status and a list of actions"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "winrm": {"status": "odd"}}]},
     "the report, host 1 (a): unknown WinRM status 'odd'"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "served": {"days_left": "5"}}]},
     "the report, host 1 (a), served: 'days_left' is '5'"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "expected": {"thumbprint": 5}}]},
     "the report, host 1 (a), expected: 'thumbprint' is 5"),
    (lambda r: {**r, "hosts": [{**minimal("a"), "endpoints": [{"endpoint": 5}]}]},
     "the report, host 1 (a): an endpoint is not an object with 'endpoint'"),
])
def test_check_report_refuses(change, message):
    with pytest.raises(rp.ReportError) as caught:
        rp.check_report(change(good_report()))
    assert str(caught.value).startswith(message)


def test_check_report_accepts_what_build_report_writes():
    report = good_report()
    report["hosts"][0]["problems"] = [{"code": "c", "severity": "info", "message": None}]
    report["hosts"][0]["served"] = {"days_left": 3, "chain_valid": None, "thumbprint": T1}
    report["hosts"][0]["endpoints"] = [{"endpoint": "e"}]
    assert rp.check_report(report) == report
    assert rp.check_report({**report, "sources": None, "title": None, "generated_at": None})["hosts"] == \
        report["hosts"]


def test_merge_keeps_the_newest_record_and_every_source():
    old = rp.build_report([minimal("a", "error"), minimal("b")], now="2027-01-01T00:00:00Z", title="Old")
    new = rp.build_report([minimal("a", "ok")], now="2027-01-02T00:00:00Z", slice_id="s2")
    merged = rp.merge_reports([new, old], now=NOW)
    assert [(h["host"], h["status"]) for h in merged["hosts"]] == [("a", "ok"), ("b", "ok")]
    assert merged["sources"] == [{"slice": "s2", "generated_at": "2027-01-02T00:00:00Z", "hosts": 1},
                                 {"slice": None, "generated_at": "2027-01-01T00:00:00Z", "hosts": 2}]
    assert merged["title"] == "Apex One web host certificates" and merged["generated_at"] == NOW
    assert merged["summary"]["hosts"] == 2
    assert rp.merge_reports([old, new], title="x" * 300, now=NOW)["title"] == "x" * 197 + "..."
    assert rp.merge_reports([old], now=NOW)["title"] == "Old"
    same_time = rp.build_report([minimal("b", "warning")], now="2027-01-01T00:00:00Z")
    assert rp.merge_reports([old, same_time], now=NOW)["hosts"][1]["status"] == "warning"  # later one wins a tie


def test_merge_of_a_report_without_sources_counts_its_hosts():
    report = {**good_report(), "sources": None}
    merged = rp.merge_reports([report], now=NOW)
    assert merged["sources"] == [{"slice": None, "generated_at": NOW, "hosts": 2}]


def test_merge_needs_something():
    for nothing in ([], None, "x"):
        with pytest.raises(rp.ReportError) as caught:
            rp.merge_reports(nothing)
        assert str(caught.value).startswith("nothing to merge")


def test_summary_lines_exact():
    hosts = [
        {**minimal("apex-1"), "served": {"thumbprint": T1, "days_left": 5}, "thumbprint_match": True,
         "problems": [{"code": "expires_soon", "severity": "warning"}, {"code": "x", "severity": "info"}]},
        {**minimal("b", "unreachable"), "problems": [{"code": "unreachable", "severity": "error"}]},
    ]
    report = {**good_report(), "hosts": hosts}
    lines = rp.summary_lines(report)
    assert lines == [
        f"{'STATUS':<11}  {'host':<6}  {'served thumbprint':<40}  {'expected':<8}  {'days':>5}  problems",
        f"{'OK':<11}  {'apex-1':<6}  {T1}  {'yes':<8}  {5:>5}  expires_soon",
        f"{'UNREACHABLE':<11}  {'b':<6}  {'-':<40}  {'-':<8}  {'-':>5}  unreachable",
        "2 hosts: 1 ok, 0 warning, 0 error, 1 unreachable",
    ]
    short = rp.summary_lines({**good_report(), "hosts": [{**minimal("a"), "thumbprint_match": False}]})
    assert short[0].startswith("STATUS       host  served") and short[1].split()[3] == "NO"
    assert short[1].rstrip().endswith("-")


# ------------------------------------------------------------------------------------------------ HTML view


def test_buckets():
    assert [(b["label"], b["low"], b["high"], b["css"]) for b in rp._buckets(90)] == [
        ("expired", None, 0, "b-expired"), ("0-29", 0, 30, "b-soon"), ("30-59", 30, 60, "b-near"),
        ("60-89", 60, 90, "b-near"), ("90+", 90, None, "b-later")]
    assert [b["label"] for b in rp._buckets(100)][-2:] == ["90-119", "120+"]
    assert [b["label"] for b in rp._buckets(0)] == ["expired", "0-29", "30+"]
    assert rp._buckets(150)[4]["css"] == "b-later"


def test_timeline_geometry():
    hosts = [minimal("a", days=-3), minimal("b", days=0), minimal("c", days=29), minimal("d", days=30),
             minimal("e", days=500), minimal("f", days=None), minimal("g", "unreachable")]
    chart = rp.timeline({"hosts": hosts}, timeline_days=60)
    assert chart["unknown"] == 2
    assert chart["plot_w"] == 760 - 44 - 12 and chart["plot_h"] == 240 - 22 - 48 and chart["base_y"] == 22 + 170
    bars = chart["bars"]
    assert [(b["label"], b["count"], b["css"]) for b in bars] == [
        ("expired", 1, "b-expired"), ("0-29", 2, "b-soon"), ("30-59", 1, "b-near"), ("60+", 1, "b-later")]
    slot = 704 / 4
    assert bars[1] == {"label": "0-29", "count": 2, "css": "b-soon", "x": round(44 + slot + slot * 0.12, 1),
                       "w": round(slot * 0.76, 1), "y": 22.0, "h": 170.0, "cx": round(44 + slot * 1.5, 1),
                       "tip": "0-29 days left: 2 host(s) (b, c)"}
    assert bars[0]["h"] == 85.0 and bars[0]["y"] == 107.0 and bars[0]["tip"] == "expired: 1 host(s) (a)"
    assert chart["ticks"] == [{"value": 0, "y": 192.0}, {"value": 1, "y": 107.0}, {"value": 2, "y": 22.0}]
    empty = rp.timeline({"hosts": []}, timeline_days=30)
    assert empty["ticks"] == [{"value": 0, "y": 192.0}, {"value": 1, "y": 22.0}]
    assert [b["tip"] for b in empty["bars"]] == ["expired: 0 host(s)", "0-29 days left: 0 host(s)",
                                                 "30+ days left: 0 host(s)"]


def test_timeline_names_at_most_25_hosts_per_bar():
    hosts = [minimal(f"h{i:02d}", days=100) for i in range(27)]
    (busy,) = [b for b in rp.timeline({"hosts": hosts}, timeline_days=30)["bars"] if b["count"]]
    assert busy["tip"].endswith(", h24 and 2 more)") and "h25" not in busy["tip"]


def test_html_view_rows_and_tiles():
    hosts = [
        {**minimal("a", days=-1), "hostname": "a.example", "served": {"days_left": -1, "thumbprint": T1,
                                                                      "endpoint": "a:4343", "subject_cn": "a",
                                                                      "not_after": "2027-01-01T00:00:00Z",
                                                                      "tls_version": "TLSv1.2", "chain_valid": True},
         "expected": {"thumbprint": T2}, "thumbprint_match": False,
         "problems": [{"code": "expired", "severity": "error"}, {"code": "i", "severity": "info"}]},
        {**minimal("b", "warning", days=29)}, {**minimal("c", "error", days=30)}, {**minimal("d", days=90)},
        {**minimal("e", "unreachable"), "endpoints": [{"endpoint": "e:1"}, {"endpoint": "e:2"}]},
    ]
    view = rp.html_view({**good_report(), "hosts": hosts, "title": None, "generated_at": None, "sources": None})
    assert view["title"] == "Apex One web host certificates" and view["generated_at"] == "" and view["sources"] == []
    assert view["tiles"] == [{"status": "ok", "label": "OK", "count": 2},
                             {"status": "warning", "label": "Warning", "count": 1},
                             {"status": "error", "label": "Error", "count": 1},
                             {"status": "unreachable", "label": "Unreachable", "count": 1}]
    rows = view["rows"]
    assert rows[0] == {
        "host": "a", "hostname": "a.example", "status": "ok", "status_label": "OK", "status_rank": 0,
        "endpoint": "a:4343", "served": T1, "subject_cn": "a", "expected": T2, "match": False,
        "not_after": "2027-01-01", "days": -1, "days_sort": -1, "days_css": "d-expired", "tls": "TLSv1.2",
        "chain_valid": True, "problems": hosts[0]["problems"], "problem_count": 1, "plan": hosts[0]["plan"],
        "winrm": hosts[0]["winrm"]}
    assert [r["days_css"] for r in rows] == ["d-expired", "d-soon", "d-near", "", ""]
    assert [r["status_rank"] for r in rows] == [0, 1, 2, 0, 3]
    assert rows[4]["endpoint"] == "e:1, e:2" and rows[4]["days_sort"] == 10**6 and rows[4]["days"] is None
    assert rows[4]["hostname"] == "" and rows[4]["served"] == "" and rows[4]["expected"] == ""


# ------------------------------------------------------------------------------------------ second round (#17)


def test_no_probe_at_all_is_unreachable_with_its_code():
    record = rp.build_host_record("h", probes=[])
    assert record["problems"] == [{"code": "unreachable", "severity": "error",
                                   "message": "no endpoint was probed for this host"}]
    assert record["status"] == "unreachable"


def test_a_secret_is_masked_before_a_message_is_cut():
    """Masking after the cut would leave the start of a secret that the message limit cut in two."""
    secret = "s3cret-Value"
    plan = {"warnings": [{"code": "w", "message": "x" * 495 + secret}]}
    record = rp.build_host_record("h", probes=[probe()], plan=plan, redact=[secret])
    (warning,) = [p for p in record["problems"] if p["code"] == "w"]
    assert warning["message"] == "x" * 495 + "**..."


def test_the_slice_name_is_cut_at_128_characters():
    report = rp.build_report([minimal("a")], slice_id="s" * 200, now=NOW)
    assert report["sources"][0]["slice"] == "s" * 125 + "..."


def test_a_newer_schema_is_refused_with_the_whole_advice():
    with pytest.raises(rp.ReportError) as caught:
        rp.check_report({**good_report(), "schema_version": 2})
    assert str(caught.value) == ("the report was written with schema_version 2; this collection reads up to 1: "
                                 "update the collection")


@pytest.mark.parametrize(("field", "where"), [
    ("expected", ""), ("subject_cn", " (a), served"), ("not_after", " (a), served"), ("tls_version", " (a), served")])
def test_each_checked_record_field_is_checked(field, where):
    host = minimal("a")
    if where:
        host["served"] = {**host["served"], field: 5}
    else:
        host[field] = "x"
    with pytest.raises(rp.ReportError) as caught:
        rp.check_report({**good_report(), "hosts": [host]})
    value = 5 if where else "'x'"
    assert str(caught.value) == f"the report, host 1{where}: '{field}' is {value}, not what a fleet report holds"


def test_a_report_without_a_date_never_wins_over_a_dated_one():
    dated = rp.build_report([minimal("a", "ok")], now="2027-01-02T00:00:00Z")
    undated = {**rp.build_report([minimal("a", "error")], now=NOW), "generated_at": None, "sources": None}
    merged = rp.merge_reports([dated, undated], now=NOW)
    assert [(h["host"], h["status"]) for h in merged["hosts"]] == [("a", "ok")]
    assert merged["sources"][-1] == {"slice": None, "generated_at": "", "hosts": 1}


def test_row_edges():
    hosts = [minimal("a", days=0), {**minimal("b", days=5), "problems": [
        {"code": "e", "severity": "error"}, {"code": "w", "severity": "warning"}, {"code": "i", "severity": "info"}]}]
    rows = rp.html_view({**good_report(), "hosts": hosts})["rows"]
    assert [r["days_css"] for r in rows] == ["d-soon", "d-soon"]
    assert [r["problem_count"] for r in rows] == [0, 2]
    assert [r["not_after"] for r in rows] == ["", ""]


def test_html_view_takes_the_report_date_and_the_timeline_length():
    view = rp.html_view(good_report(), timeline_days=60)
    assert view["generated_at"] == NOW
    assert [b["label"] for b in view["chart"]["bars"]] == ["expired", "0-29", "30-59", "60+"]


def test_render_html_trims_block_lines_and_keeps_the_last_newline():
    template = "<p>\n    {% if view.title %}\n{{ view.title }}\n    {% endif %}\n</p>\n"
    assert rp.render_html(good_report(title="T & T"), template) == "<p>\nT &amp; T\n</p>\n"
