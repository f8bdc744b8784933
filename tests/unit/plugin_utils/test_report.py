"""The fleet report: host records, report.json against its JSON Schema, merging slices, lines, HTML."""

import copy
import html.parser
import json
import os

import jsonschema
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.filter.fleet_report import fleet_report
from ansible_collections.apexone.certificates.plugins.filter.fleet_report_host import fleet_report_host
from ansible_collections.apexone.certificates.plugins.filter.fleet_report_html import fleet_report_html
from ansible_collections.apexone.certificates.plugins.filter.fleet_report_merge import fleet_report_merge
from ansible_collections.apexone.certificates.plugins.plugin_utils import _report as rp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "fleet_report")
with open(os.path.join(ROLE, "files", "report.schema.json")) as _handle:
    SCHEMA = json.load(_handle)
with open(os.path.join(ROLE, "templates", "report.html.j2")) as _handle:
    TEMPLATE = _handle.read()

T1 = "3F2A0C5B8E1D4A7F9B6C2E0D1A3B5C7D9E1F2A4B"
T2 = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
NOW = "2027-01-15T08:00:00Z"
HOSTILE_CN = '<script>alert("cn")</script>'
HOSTILE_HOST = '"><img src=x onerror=alert(1)>'
SECRET = "Sup3r-Secret-Pfx-Password"


def probe(endpoint="10.0.0.1:4343", thumbprint=T1, *, problems=(), error=None, error_code=None, days=300,
          tls="TLSv1.3", cn="apex01.corp.example", chain=2, label="apex01"):
    answered = thumbprint is not None
    return {
        "endpoint": endpoint, "label": label, "ok": answered and not any(p["severity"] == "error" for p in problems),
        "error": error, "error_code": error_code, "thumbprint": thumbprint,
        "subject_cn": cn if answered else None, "issuer": "CN=Corp Issuing CA" if answered else None,
        "san_dns": [cn] if answered else [], "not_after": "2027-11-11T00:00:00Z" if answered else None,
        "days_left": days if answered else None, "tls_version": tls if answered else None,
        "certificate_pem": "-----BEGIN CERTIFICATE-----\n...\n" if answered else None,
        "chain_pem": ["x"] * chain if answered else [], "problems": list(problems),
    }


def problem(code, severity="error", message="m"):
    return {"code": code, "severity": severity, "message": message}


def check(*problems_, days=300):
    return {"ok": not any(p["severity"] == "error" for p in problems_), "problems": list(problems_),
            "thumbprint": T1, "days_left": days, "not_after": "2027-11-11T00:00:00Z"}


def record(host="apex01", **kwargs):
    kwargs.setdefault("hostname", "apex01.corp.example")
    kwargs.setdefault("probes", [probe()])
    return rp.build_host_record(host, **kwargs)


def codes(rec):
    return [p["code"] for p in rec["problems"]]


def validate(report):
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)


# ---------------------------------------------------------------------------------------------------------
# Host records


def test_good_host_is_ok_and_matches():
    rec = record(served_check=check(), expected={"thumbprint": T1.lower(), "source": "pfx"}, chain_checked=True)
    assert rec["status"] == "ok"
    assert rec["problems"] == []
    assert rec["thumbprint_match"] is True
    assert rec["expected"] == {"thumbprint": T1, "source": "pfx"}
    served = rec["served"]
    assert served["thumbprint"] == T1 and served["endpoint"] == "10.0.0.1:4343"
    assert served["chain_length"] == 3 and served["chain_valid"] is True and served["hostname_valid"] is True
    assert served["days_left"] == 300
    assert rec["plan"] == {"status": "not_available", "actions": []}
    assert rec["winrm"] == {"enabled": False, "status": "skipped", "message": None}


def test_served_check_replaces_the_probe_verdict_but_keeps_probe_only_problems():
    probes = [probe(problems=[problem("cn_mismatch"), problem("tls_legacy_version", "warning")])]
    rec = record(probes=probes, served_check=check(problem("expires_soon", "warning"), days=12))
    assert codes(rec) == ["expires_soon", "tls_legacy_version"]
    assert rec["status"] == "warning"
    assert rec["served"]["days_left"] == 12


def test_without_served_check_the_probe_verdict_is_used():
    rec = record(probes=[probe(problems=[problem("expired")], days=-3)])
    assert codes(rec) == ["expired"]
    assert rec["status"] == "error"
    assert rec["served"]["days_left"] == -3


def test_chain_verdict_only_with_a_ca_bundle():
    untrusted = check(problem("chain_untrusted"))
    assert record(served_check=untrusted, chain_checked=True)["served"]["chain_valid"] is False
    assert record(served_check=check(), chain_checked=False)["served"]["chain_valid"] is None
    assert record(served_check=check(problem("hostname_not_in_san")))["served"]["hostname_valid"] is False


def test_no_answer_is_unreachable_with_the_reasons():
    probes = [probe(thumbprint=None, error="connection refused: nothing listens on port 4343", error_code="refused"),
              probe("10.0.0.1:443", thumbprint=None, error="no TLS handshake within 5 s", error_code="timeout")]
    rec = record(probes=probes, expected={"thumbprint": T1})
    assert rec["status"] == "unreachable"
    assert rec["served"] is None and rec["thumbprint_match"] is None
    (only,) = rec["problems"]
    assert only["code"] == "unreachable"
    assert "10.0.0.1:4343: connection refused" in only["message"] and "10.0.0.1:443: no TLS" in only["message"]
    assert [e["error_code"] for e in rec["endpoints"]] == ["refused", "timeout"]


def test_no_probe_at_all_is_unreachable():
    rec = record(probes=[])
    assert rec["status"] == "unreachable"
    assert rec["problems"][0]["message"] == "no endpoint was probed for this host"


def test_other_endpoints_differ_or_do_not_answer():
    probes = [probe(), probe("10.0.0.1:443", T2), probe("10.0.0.1:8443", None, error="refused", error_code="refused")]
    rec = record(probes=probes, served_check=check())
    assert codes(rec) == ["endpoints_differ", "endpoint_unreachable"]
    assert [p["severity"] for p in rec["problems"]] == ["warning", "info"]
    assert rec["status"] == "warning"
    assert rec["served"]["endpoint"] == "10.0.0.1:4343"  # the first endpoint that answered


def test_an_unanswered_second_port_is_only_info():
    rec = record(probes=[probe(), probe("10.0.0.1:443", None, error="refused", error_code="refused")])
    assert codes(rec) == ["endpoint_unreachable"]
    assert rec["status"] == "ok"


def test_served_is_not_the_expected_certificate():
    rec = record(served_check=check(), expected={"thumbprint": f"{T2[:20]} {T2[20:]}\u200e", "source": "variable"})
    assert rec["thumbprint_match"] is False
    assert codes(rec) == ["thumbprint_mismatch"]
    assert T1 in rec["problems"][0]["message"] and T2 in rec["problems"][0]["message"]
    assert rec["status"] == "warning"


@pytest.mark.parametrize(
    ("expected", "fragment"),
    [
        ({"thumbprint": None, "source": "pfx", "error": "could not decrypt the PFX: the password is wrong"},
         "could not be read: could not decrypt the PFX"),
        ({"thumbprint": "not-a-thumbprint", "source": "variable"}, "'not-a-thumbprint' is not a SHA-1 thumbprint"),
    ],
)
def test_unreadable_expected_certificate(expected, fragment):
    rec = record(served_check=check(), expected=expected)
    assert codes(rec) == ["expected_unreadable"]
    assert fragment in rec["problems"][0]["message"]
    assert rec["thumbprint_match"] is None


@pytest.mark.parametrize(
    ("winrm", "code"),
    [({"enabled": True, "status": "unreachable", "message": "ntlm: connection refused"}, "winrm_unreachable"),
     ({"enabled": True, "status": "failed", "message": "Apex One is not installed"}, "winrm_failed")],
)
def test_winrm_trouble_is_a_warning_and_the_host_is_still_judged(winrm, code):
    rec = record(served_check=check(), winrm=winrm)
    assert codes(rec) == [code]
    assert rec["status"] == "warning"
    assert rec["winrm"]["status"] == winrm["status"] and rec["winrm"]["message"] == winrm["message"]


def test_server_warnings_are_reported():
    winrm = {"enabled": True, "status": "ok", "warnings": ["the agent-authentication certificate expires in 20 days"]}
    rec = record(served_check=check(), winrm=winrm)
    assert codes(rec) == ["server_warning"]
    assert rec["winrm"] == {"enabled": True, "status": "ok", "message": None}


def test_plans():
    assert record(plan={"compliant": True, "actions": []})["plan"] == {"status": "compliant", "actions": []}
    changes = record(plan={"compliant": False, "actions": [
        {"step": 5, "module": "apexone.certificates.win_iis_https_binding", "reason": "binding on the old cert",
         "args": {"thumbprint": T1}},
    ]})
    assert changes["plan"] == {"status": "changes", "actions": [
        {"step": 5, "module": "apexone.certificates.win_iis_https_binding", "reason": "binding on the old cert"}]}
    blocked = record(served_check=check(), plan={
        "compliant": False, "actions": [],
        "blockers": [{"code": "friendly_name_unchanged", "severity": "error", "message": "same friendly name"}],
        "warnings": [{"code": "agent_cert_expiring", "severity": "warning", "message": "NTSG expires"}],
    })
    assert blocked["plan"]["status"] == "blocked"
    assert codes(blocked) == ["friendly_name_unchanged", "agent_cert_expiring"]
    assert blocked["status"] == "error"


def test_secrets_are_masked_wherever_they_appear():
    winrm = {"enabled": True, "status": "failed", "message": f"bad login for auditor:{SECRET}@10.0.0.1"}
    rec = record(served_check=check(), winrm=winrm, redact=[SECRET, "abc", None, ""])
    text = json.dumps(rec)
    assert SECRET not in text
    assert "auditor:********@10.0.0.1" in rec["winrm"]["message"]
    assert "abc" not in json.dumps(rec["winrm"])  # too short to mask, and absent anyway
    assert rp.MASK in rec["problems"][0]["message"]


def test_only_listed_fields_reach_the_record():
    leaky = probe()
    leaky["password"] = SECRET
    leaky["private_key"] = "-----BEGIN PRIVATE KEY-----"
    rec = record(probes=[leaky], served_check={**check(), "password": SECRET},
                 expected={"thumbprint": T1, "pfx_password": SECRET})
    text = json.dumps(rec)
    assert SECRET not in text and "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text


def test_host_name_is_required():
    with pytest.raises(rp.ReportError, match="needs the inventory host name"):
        rp.build_host_record("")


# ---------------------------------------------------------------------------------------------------------
# The report document and its schema


def fleet(now=NOW, slice_id="slice-1"):
    records = [
        record("apex-ok", served_check=check(), expected={"thumbprint": T1, "source": "pfx"}, chain_checked=True),
        record("apex-soon", served_check=check(problem("expires_soon", "warning"), days=10)),
        record("apex-expired", probes=[probe(thumbprint=T2)], served_check=check(problem("expired"), days=-5),
               expected={"thumbprint": T1, "source": "pfx"}),
        record("apex-down", probes=[probe(thumbprint=None, error="refused", error_code="refused")],
               winrm={"enabled": True, "status": "unreachable", "message": "timeout"}),
        record("apex-plan", served_check=check(), plan={"compliant": False, "actions": [
            {"step": 2, "module": "apexone.certificates.win_webhost_cert", "reason": "not in My"}]}),
    ]
    return rp.build_report(records, title="Corp fleet", slice_id=slice_id, now=now)


def test_report_validates_against_the_schema():
    report = fleet()
    validate(report)
    assert report["kind"] == "apexone.certificates.fleet_report" and report["schema_version"] == 1
    assert [h["host"] for h in report["hosts"]] == sorted(h["host"] for h in report["hosts"])
    assert report["sources"] == [{"slice": "slice-1", "generated_at": NOW, "hosts": 5}]
    assert report["summary"] == {
        "hosts": 5,
        "status": {"ok": 2, "warning": 1, "error": 1, "unreachable": 1},
        "expired": 1,
        "expires_within_30_days": 1,
        "expires_within_90_days": 1,
        "thumbprint_mismatch": 1,
        "planned_changes": 1,
    }


def test_the_schema_catches_a_broken_report():
    report = fleet()
    broken = copy.deepcopy(report)
    broken["hosts"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    extra = copy.deepcopy(report)
    extra["hosts"][0]["password"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validate(extra)


class FakeHostVars(dict):
    """hostvars: host name -> that host's variables."""


def test_hosts_without_a_record_get_a_not_audited_row():
    hostvars = FakeHostVars({
        "apex-b": {"apexone_cert_report_host": record("apex-b", served_check=check())},
        "apex-a": {"apexone_cert_pfx_password": SECRET},  # left the play before its record was built
    })
    report = rp.build_report(["apex-b", "apex-a", "apex-c"], hostvars=hostvars, now=NOW)
    validate(report)
    assert [h["host"] for h in report["hosts"]] == ["apex-a", "apex-b", "apex-c"]
    assert [h["status"] for h in report["hosts"]] == ["unreachable", "ok", "unreachable"]
    assert codes(report["hosts"][0]) == ["not_audited"]
    assert SECRET not in json.dumps(report)
    assert report["sources"][0]["slice"] is None


def test_report_refuses_what_is_not_a_record():
    with pytest.raises(rp.ReportError, match="needs at least 'host' and 'status'"):
        rp.build_report([{"host": "x"}])
    with pytest.raises(rp.ReportError, match="records or host names"):
        rp.build_report([42])


# ---------------------------------------------------------------------------------------------------------
# Merging slices


def test_merge_two_slices():
    first = rp.build_report([record("apex-a", served_check=check()), record("apex-b", probes=[])],
                            slice_id="101", now="2027-01-15T08:00:00Z")
    second = rp.build_report([record("apex-c", served_check=check(problem("expired"))),
                              record("apex-b", served_check=check())],
                             slice_id="102", now="2027-01-15T08:05:00Z")
    merged = rp.merge_reports([second, json.loads(json.dumps(first))], now="2027-01-15T09:00:00Z")
    validate(merged)
    assert [h["host"] for h in merged["hosts"]] == ["apex-a", "apex-b", "apex-c"]
    assert [h["status"] for h in merged["hosts"]] == ["ok", "ok", "error"]  # apex-b: the newer slice's record
    assert [s["slice"] for s in merged["sources"]] == ["102", "101"]
    assert merged["summary"]["hosts"] == 3 and merged["summary"]["status"]["error"] == 1
    assert merged["generated_at"] == "2027-01-15T09:00:00Z"
    again = rp.merge_reports([merged, rp.build_report([record("apex-d")], slice_id="103", now=NOW)])
    assert [s["slice"] for s in again["sources"]] == ["102", "101", "103"]
    assert len(again["hosts"]) == 4


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ([], "nothing to merge"),
        ([{"kind": "apexone.certificates.preflight", "version": 1}], "report 1 is not an apexone.certificates fleet report"),
        (["text"], "report 1 is not a JSON object"),
        ([{"kind": rp.REPORT_KIND, "schema_version": 2, "hosts": []}], "schema_version 2; this collection reads up to 1"),
        ([{"kind": rp.REPORT_KIND, "schema_version": 1}], "report 1 has no 'hosts' list"),
    ],
)
def test_merge_refuses_bad_inputs(reports, message):
    with pytest.raises(rp.ReportError, match=message):
        rp.merge_reports(reports)


# ---------------------------------------------------------------------------------------------------------
# One line per host


def test_summary_lines():
    lines = rp.summary_lines(fleet())
    assert lines[0].split()[:3] == ["STATUS", "host", "served"]
    assert len(lines) == 1 + 5 + 1
    by_host = {line.split()[1]: line for line in lines[1:-1]}
    assert by_host["apex-ok"].split()[0] == "OK" and T1 in by_host["apex-ok"] and " yes " in by_host["apex-ok"]
    assert by_host["apex-expired"].split()[-1] == "thumbprint_mismatch" and " NO " in by_host["apex-expired"]
    assert by_host["apex-down"].startswith("UNREACHABLE") and "winrm_unreachable" in by_host["apex-down"]
    assert lines[-1] == "5 hosts: 2 ok, 1 warning, 1 error, 1 unreachable"


# ---------------------------------------------------------------------------------------------------------
# HTML


class PageParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.rows = []
        self.tags = []
        self.attributes = []
        self.text = []
        self.tiles = {}
        self._tile = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attributes.append((tag, attrs))
        if tag == "tr" and "tbody" in self.stack:
            self.rows.append(attrs)
        if tag == "div" and "tile" in (attrs.get("class") or "").split():
            self._tile = attrs["data-status"]
        if tag not in ("meta", "line", "rect", "br", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        if self._tile and data.strip():
            self.tiles[self._tile] = int(data.strip())
            self._tile = None


def page(report):
    parser = PageParser()
    parser.feed(rp.render_html(report, TEMPLATE))
    parser.close()
    return parser


def hostile_report():
    records = [
        record("apex-ok", served_check=check()),
        record(HOSTILE_HOST, hostname=HOSTILE_CN, probes=[probe(cn=HOSTILE_CN)],
               served_check=check(problem("cn_mismatch", "error", f"subject CN '{HOSTILE_CN}' is not the host name")),
               winrm={"enabled": True, "status": "failed", "message": f"password {SECRET} rejected"}, redact=[SECRET]),
        record("apex-down", probes=[]),
    ]
    return rp.build_report(records, title="Fleet <b>& co</b>", now=NOW)


def test_html_has_one_row_per_host():
    report = fleet()
    parsed = page(report)
    assert [row["data-host"] for row in parsed.rows] == [h["host"] for h in report["hosts"]]
    assert [row["data-status"] for row in parsed.rows] == [h["status"] for h in report["hosts"]]
    assert parsed.tiles == report["summary"]["status"]


def test_html_escapes_hostile_names():
    parsed = page(hostile_report())
    assert parsed.tags.count("script") == 1  # ours, at the end of the page
    assert "img" not in parsed.tags
    text = "".join(parsed.text)
    assert HOSTILE_CN in text  # shown as text
    assert HOSTILE_HOST in [row["data-host"] for row in parsed.rows]
    assert "Fleet <b>& co</b>" in text
    source = rp.render_html(hostile_report(), TEMPLATE)
    assert "<title>Fleet &lt;b&gt;&amp; co&lt;/b&gt;</title>" in source
    assert "&lt;script&gt;alert(&#34;cn&#34;)&lt;/script&gt;" in source


def test_html_holds_no_secret_and_loads_nothing():
    source = rp.render_html(hostile_report(), TEMPLATE)
    assert SECRET not in source
    parsed = page(hostile_report())
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    for tag, attrs in parsed.attributes:
        assert "src" not in attrs, tag
        href = attrs.get("href")
        assert href is None or href.startswith("#"), (tag, href)
    csp = [a["content"] for t, a in parsed.attributes if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none'")
    assert "svg" in parsed.tags  # the timeline is inline


def test_timeline_buckets():
    chart = rp.timeline(fleet(), timeline_days=90)
    counts = {entry["label"]: entry["count"] for entry in chart["bars"]}
    assert counts == {"expired": 1, "0-29": 1, "30-59": 0, "60-89": 0, "90+": 2}
    assert chart["unknown"] == 1  # apex-down served nothing
    tallest = max(chart["bars"], key=lambda bar: bar["count"])
    assert tallest["h"] == chart["plot_h"]
    assert "apex-ok" in tallest["tip"] and "apex-plan" in tallest["tip"]


def test_html_template_errors_are_reported_cleanly():
    with pytest.raises(rp.ReportError, match="the HTML template is empty"):
        rp.render_html(fleet(), "  ")
    with pytest.raises(rp.ReportError, match="the HTML template failed: UndefinedError"):
        rp.render_html(fleet(), "{{ view.nothing.here }}")


def test_render_5000_hosts_quickly():
    one = record(served_check=check())
    records = [dict(one, host=f"apex{i:05d}") for i in range(5000)]
    report = rp.build_report(records, now=NOW)
    source = rp.render_html(report, TEMPLATE)
    assert source.count('<tr class="s-ok"') == 5000


# ---------------------------------------------------------------------------------------------------------
# The filters (thin adapters)


def test_filters_wrap_errors():
    with pytest.raises(AnsibleFilterError, match="fleet_report_host: unknown key"):
        fleet_report_host({"host": "a", "probe": []})
    with pytest.raises(AnsibleFilterError, match="fleet_report_host: the input must be a dictionary"):
        fleet_report_host("apex01")
    with pytest.raises(AnsibleFilterError, match="fleet_report_merge: nothing to merge"):
        fleet_report_merge([])
    with pytest.raises(AnsibleFilterError, match="fleet_report_html: the HTML template is empty"):
        fleet_report_html(fleet(), "")


def test_filters_build_a_report():
    rec = fleet_report_host({"host": "apex01", "probes": [probe()]}, redact=[SECRET])
    report = fleet_report(["apex01"], hostvars={"apex01": {"apexone_cert_report_host": rec}}, slice="7", now=NOW)
    validate(report)
    assert report["sources"][0]["slice"] == "7"
    assert fleet_report_merge([report, report])["summary"]["hosts"] == 1


def test_docs_and_schema_cover_every_code_and_status():
    with open(os.path.join(REPO, "docs", "report.md")) as handle:
        doc = handle.read()
    for code in rp.REPORT_PROBLEM_CODES:
        assert f"`{code}`" in doc, code
    host = SCHEMA["$defs"]["host"]["properties"]
    assert tuple(host["plan"]["properties"]["status"]["enum"]) == rp.PLAN_STATUSES
    assert tuple(host["winrm"]["properties"]["status"]["enum"]) == rp.WINRM_STATUSES
    assert tuple(SCHEMA["$defs"]["status"]["enum"]) == rp.STATUSES
    assert tuple(SCHEMA["$defs"]["problem"]["properties"]["severity"]["enum"]) == rp.SEVERITIES
