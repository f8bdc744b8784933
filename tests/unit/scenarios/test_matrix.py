"""The scenario matrix of issue 12: the real role and playbooks against every server variant of
tests/double/scenarios.py, with the properties every scenario must have.

- converge: an applicable scenario applies, then a second (check-mode) run plans nothing, and the KA-0010488 health
  checks hold on the server (certificate in My with its key, TrustedPeople copy, not in Disallowed, master service
  running, every https binding of the Apex One sites and the Smart Protection Server's port serve it);
- services: after the replacement every service has the status and start type it had before;
- plan: every binding change the plan lists is made by win_iis_https_binding (not by luck, e.g. the Smart
  Protection Server rebinding its port);
- agents: nothing but OfcIPCer.dat changed in the folder deployed to the agents (Pccnt\\Common);
- rollback: playbooks/rollback.yml after the replacement returns the server to its initial state exactly (bindings
  and http.sys records, services' status and start type, files byte for byte, stores, registry);
- failure: a failure injected at a step rolls back to the initial state exactly, and the run record says so;
- blocked: a scenario the procedure must refuse changes nothing and its message says what to do;
- honest: a run recorded as successful left a healthy server (the revert makes old builds lie).
APEXONE_MATRIX_FULL=1 injects a failure at every step of every applicable scenario (slower; not in make test).

To stay fast, each phase is one ansible-playbook run over all the scenario hosts (the double's hosts are
independent): apply (with the failure-injected copies), re-plan in check mode, rollback.
Today's code fails some properties on some scenarios: those are strict xfails naming the issue 12 defect
(``Scenario.xfail``); a fix makes them pass, strict xfail then fails, and the fix removes the entry.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pki
import pytest
import scenarios
import winsim
from playbook_output import failures, recap

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
FQDN = "apex01.corp.example"
PASSWORD = "Matrix-Pfx-Secret-5417"
FRIENDLY = scenarios.STALE_FRIENDLY
CHANGE_MODULES = {"win_webhost_cert", "win_agent_cert", "win_iis_https_binding", "win_cert_persistence",
                  "win_schannel_trust", "win_root_store_hygiene", "win_powershell", "win_copy", "win_service",
                  "win_apexone_services"}


def failure_rule(step: str) -> dict:
    """The injected failure of a step (the module fails before changing anything, once)."""
    message = f"simulated failure at {step}: access denied"
    if step in ("stop", "start"):
        state = "stopped" if step == "stop" else "started"
        return {"win_powershell": {"message": message, "times": 1, "match": {"parameters": {"Action": step}}},
                "win_apexone_services": {"message": message, "times": 1, "contains": f'"state": "{state}"'}}
    return {step: {"message": message, "times": 1}}


def host_name(spec: scenarios.Scenario, step: str | None = None) -> str:
    return spec.name if step is None else f"{spec.name}__fail_{step}"


class Matrix:
    """Builds every scenario host, runs the phases once, keeps what each phase left."""

    def __init__(self, folder, ansible_env):
        self.dir = folder
        self.env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)
        self.lab = pki.LabPki()
        (folder / "root.pem").write_text(self.lab.root.pem)
        self.hosts: dict[str, dict] = {}
        self.initial: dict[str, dict] = {}
        self.spec: dict[str, scenarios.Scenario] = {}
        self.new: dict[str, str] = {}
        full = os.environ.get("APEXONE_MATRIX_FULL") == "1"  # a failure at every step of every scenario
        for spec in scenarios.MATRIX:
            steps = scenarios.ALL_STEPS if full and spec.expect == "converge" else spec.failure_steps
            for step in (None, *steps):
                self._add(spec, step)

    def _add(self, spec: scenarios.Scenario, step: str | None) -> None:
        name = host_name(spec, step)
        master = FQDN if spec.master == "fqdn" else FQDN.split(".", maxsplit=1)[0]
        _k, original = pki.make_cert(master, issuer=None, key=pki.rsa_key(2048, slot=800))
        key = pki.ec_key() if spec.new_key == "ec" else pki.rsa_key(2048, slot=801)
        _k, new = self.lab.server(FQDN, key=key)
        stale = None
        if spec.stale_friendly:
            _k, stale = self.lab.server(FQDN, key=pki.rsa_key(2048, slot=802),
                                        not_before=pki.NOW - 400 * pki.DAY, not_after=pki.NOW + 30 * pki.DAY)
        state = scenarios.build_state(spec, hostname=FQDN, original=original, stale=stale)
        if step is not None:
            state["fail"] = failure_rule(step)
        pfx = pki.make_pfx(key, new, [self.lab.intermediate.cert], password=PASSWORD, encryption=spec.pfx_encryption)
        (self.dir / f"{name}.pfx").write_bytes(pfx)
        self.write_state(name, state)
        self.initial[name] = winsim.comparable(state)
        self.spec[name] = spec
        self.new[name] = winsim.thumbprint(new)
        self.hosts[name] = {
            "ansible_connection": "apexone_double",
            "apexone_double_state_dir": str(self.dir),
            "apexone_cert_hostname": FQDN,
            "apexone_cert_pfx_path": str(self.dir / f"{name}.pfx"),
            **spec.host_vars,
        }

    # ---- files of the double
    def state(self, name: str) -> dict:
        return json.loads((self.dir / f"{name}.json").read_text())

    def write_state(self, name: str, state: dict) -> None:
        (self.dir / f"{name}.json").write_text(json.dumps(state))

    def calls(self, name: str) -> list[dict]:
        path = self.dir / f"{name}.calls.jsonl"
        if not path.exists():
            return []
        entries = [json.loads(line) for line in path.read_text().splitlines()]
        path.unlink()
        return entries

    def record(self, name: str) -> dict | None:
        path = self.dir / "runs" / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def run(self, playbook: str, hosts: list[str], *extra: str) -> subprocess.CompletedProcess:
        inventory = self.dir / "inventory.json"
        inventory.write_text(json.dumps({"all": {
            "hosts": self.hosts,
            "vars": {"apexone_cert_pfx_password": PASSWORD, "apexone_cert_ca_bundle_path": str(self.dir / "root.pem"),
                     "apexone_cert_verify_tls": False, "apexone_cert_verify_settle": 0, "apexone_cert_friendly_name": FRIENDLY,
                     "apexone_cert_run_record_dir": str(self.dir / "runs")}}}))
        cmd = ["ansible-playbook", "-i", str(inventory), os.path.join(REPO, "playbooks", playbook),
               "--limit", ",".join(hosts), "-f", "8", "-e", "apexone_cert_max_fail_percentage=100", *extra]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=False, timeout=900,
                              cwd=str(self.dir))


def planned_lines(stdout: str) -> dict[str, list[str]]:
    """The plan each host printed (the first ``msg`` list of the host: task "Show the plan")."""
    plans: dict[str, list[str]] = {}
    pattern = r'^ok: \[([^\]]+)\] => \{\n\s+"msg": \[\n((?:\s+".*",?\n)*)\s+\]'
    for match in re.finditer(pattern, stdout, re.MULTILINE):
        lines = [json.loads(line.strip().rstrip(",")) for line in match.group(2).splitlines() if line.strip()]
        plans.setdefault(match.group(1), lines)
    return plans


def compliant_hosts(stdout: str) -> set[str]:
    return set(re.findall(r'^ok: \[([^\]]+)\] => \{\n\s+"msg": \[\n\s+"compliant: ', stdout, re.MULTILINE))


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, ansible_env):
    """Runs the phases once for all scenarios; each test reads its host's results."""
    folder = tmp_path_factory.mktemp("matrix")
    m = Matrix(folder, ansible_env)
    everyone = list(m.hosts)
    apply = m.run("replace.yml", everyone)
    m.apply = {"stdout": apply.stdout + apply.stderr, "failed": failures(apply.stdout), "recap": recap(apply.stdout),
               "plans": planned_lines(apply.stdout)}
    m.after_apply = {h: m.state(h) for h in everyone}
    m.apply_calls = {h: m.calls(h) for h in everyone}
    applied = [h for h in everyone if m.apply["recap"].get(h, {}).get("failed", 1) == 0
               and "__fail_" not in h and m.spec[h].expect == "converge"]
    m.applied = applied
    if applied:
        replan = m.run("replace.yml", applied, "--check")
        m.replan = {"stdout": replan.stdout + replan.stderr, "compliant": compliant_hosts(replan.stdout)}
        m.after_replan = {h: m.state(h) for h in applied}
        rollback = m.run("rollback.yml", applied)
        m.rollback = {"stdout": rollback.stdout + rollback.stderr, "failed": failures(rollback.stdout)}
        m.after_rollback = {h: m.state(h) for h in applied}
    return m


def _param(spec: scenarios.Scenario, prop: str, *values):
    reason = spec.xfail.get(prop)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(spec.name, *values, marks=marks, id=spec.name + ("-" + "-".join(values) if values else ""))


def _params(prop: str, expect: str = "converge"):
    return [_param(s, prop) for s in scenarios.MATRIX if s.expect == expect]


def _differences(before, after, path="") -> list[str]:
    """Where two states differ (for a readable failure)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            out += _differences(before.get(key), after.get(key), f"{path}/{key}")
        return out
    if before != after:
        return [f"{path}: {str(before)[:160]} -> {str(after)[:160]}"]
    return []


def _applied(matrix, name) -> bool:
    """Whether the host applied (False: a scenario that may be refused instead was refused properly)."""
    assert name in matrix.apply["recap"], matrix.apply["stdout"][-3000:]
    hint = matrix.spec[name].may_block
    if hint and name in matrix.apply["failed"] and "the replacement failed at" not in matrix.apply["failed"][name]:
        assert hint.lower() in matrix.apply["failed"][name].lower(), matrix.apply["failed"][name]
        assert winsim.comparable(matrix.after_apply[name]) == matrix.initial[name]
        return False
    assert name not in matrix.apply["failed"], matrix.apply["failed"][name]
    return True


def health(state: dict, new: str) -> list[str]:
    """KA-0010488 checks and what is served, from the server's state: the problems found."""
    problems = []
    mine = next((c for c in state["stores"]["My"] if c["thumbprint"] == new), None)
    if mine is None or not mine["has_private_key"]:
        problems.append("the new certificate is not in My with its private key")
    if not any(c["thumbprint"] == new for c in state["stores"]["TrustedPeople"]):
        problems.append("no TrustedPeople copy with the same thumbprint")
    if any(c["thumbprint"] == new for c in state["stores"]["Disallowed"]):
        problems.append("the certificate is in Disallowed")
    master = winsim.service(state, "ofcservice")
    if master and master["status"] != "running":
        problems.append("the master service is not running")
    server = winsim.ApexOneServer(state)
    facts = server.call("win_server_info", {})
    for site in facts["iis"]["sites"]:
        for binding in site["bindings"]:
            if binding["protocol"] == "https" and not (binding["ssl_flags"] or 0) & 2 and \
                    binding["certificate_hash"] != new:
                problems.append(f"{site['name']} {binding['binding_information']} serves {binding['certificate_hash']}")
    port = winsim.ini_get(winsim.get_file(state, winsim.SERVICE_INI), "HTTPS")
    for record in state["http_sys"]:
        if port and record["kind"] != "ccs" and record["port"] == int(port) and record["thumbprint"] != new:
            problems.append(f"the Smart Protection Server port {record['key']} serves {record['thumbprint']}")
    if winsim._thumb_of(winsim.get_file(state, winsim.OFCIPCER)) != new:
        problems.append("OfcIPCer.dat does not hold the new certificate")
    return problems


@pytest.mark.parametrize("name", _params("converge"))
def test_applicable_scenario_converges_and_is_healthy(matrix, name):
    if not _applied(matrix, name):
        return
    assert name in matrix.replan["compliant"], (
        f"{name} is not compliant after the replacement:\n"
        + "\n".join(line for line in matrix.replan["stdout"].splitlines() if name in line or "step " in line)[-3000:])
    assert health(matrix.after_apply[name], matrix.new[name]) == []
    events = matrix.after_apply[name].get("events", [])
    assert not [e for e in events if e.startswith("sps rebinds") and not e.endswith(matrix.new[name])], events


@pytest.mark.parametrize("name", _params("plan"))
def test_every_planned_binding_change_is_made_by_the_apply(matrix, name):
    """The plan never lists a change the apply does not make (else it never converges, or it converges by luck)."""
    if not _applied(matrix, name):
        return
    initial = matrix.initial[name]
    moved = {tuple(e.split()[2:4]) for e in matrix.after_apply[name]["events"]
             if e.startswith("win_iis_https_binding moves") and e.endswith(matrix.new[name])}
    planned = [re.match(r"^binding (.+): (\S+) -> (\S+)$", line).group(1)
               for line in matrix.apply["plans"][name] if line.startswith("binding ")]
    assert planned, matrix.apply["plans"][name]
    missing = []
    for binding in planned:
        if binding.startswith("http.sys "):
            key = binding.split(" ", 1)[1]
            target = next(((r["kind"], r["key"]) for r in initial["http_sys"] if r["key"] == key), ("?", key))
        else:
            target = next((winsim.sslcert_id(b) for site in initial["iis"]["sites"] for b in site["bindings"]
                           if b["binding_information"] == binding and b["protocol"] == "https"), ("?", binding))
        if target not in moved:
            missing.append(f"{binding} ({target[0]} {target[1]})")
    assert missing == [], f"planned but not moved by win_iis_https_binding: {missing}; moved: {sorted(moved)}"


@pytest.mark.parametrize("name", _params("services"))
def test_services_end_as_they_started(matrix, name):
    if not _applied(matrix, name):
        return
    before = winsim.service_states(matrix.initial[name])
    assert winsim.service_states(matrix.after_apply[name]) == before


@pytest.mark.parametrize("name", _params("agents"))
def test_only_ofcipcer_changes_in_the_folder_deployed_to_agents(matrix, name):
    if not _applied(matrix, name):
        return
    folder = winsim.full(matrix.initial[name], winsim.AGENT_FOLDER).lower() + "\\"
    ofcipcer = winsim.full(matrix.initial[name], winsim.OFCIPCER).lower()

    def agent_files(state):
        return {k: v["content"] for k, v in state["files"].items() if k.startswith(folder) and k != ofcipcer}

    assert agent_files(matrix.after_apply[name]) == agent_files(matrix.initial[name])


@pytest.mark.parametrize("name", _params("rollback"))
def test_rollback_playbook_restores_the_initial_state_exactly(matrix, name):
    if not _applied(matrix, name):
        return
    assert name not in matrix.rollback["failed"], matrix.rollback["failed"][name]
    after = winsim.comparable(matrix.after_rollback[name])
    assert _differences(matrix.initial[name], after) == []


FAILURE_PARAMS = [
    pytest.param(host_name(s, step), marks=[pytest.mark.xfail(strict=True, reason=s.xfail["failure"])]
                 if "failure" in s.xfail else [], id=host_name(s, step))
    for s in scenarios.MATRIX for step in s.failure_steps
]


@pytest.mark.parametrize("name", FAILURE_PARAMS)
def test_failure_at_a_step_rolls_back_exactly(matrix, name):
    step = name.split("__fail_", 1)[1]
    assert name in matrix.apply["failed"], f"{name}: the injected failure at {step} did not fail the run"
    message = matrix.apply["failed"][name]
    if matrix.spec[name].may_block and "the replacement failed at" not in message:  # refused before any change
        assert matrix.spec[name].may_block.lower() in message.lower(), message
        assert winsim.comparable(matrix.after_apply[name]) == matrix.initial[name]
        return
    assert "the replacement failed at" in message and f"simulated failure at {step}" in message, message
    assert _differences(matrix.initial[name], winsim.comparable(matrix.after_apply[name])) == []
    assert (matrix.record(name) or {}).get("status") == "rolled_back", matrix.record(name)


HONEST_PARAMS = [_param(s, "honest") for s in scenarios.MATRIX]


@pytest.mark.parametrize("name", HONEST_PARAMS)
def test_a_reported_success_leaves_a_healthy_server(matrix, name):
    """A run that records success must leave the server serving the new certificate after the services started
    (KA-0004491's revert is what breaks this on builds without the fix)."""
    record = matrix.record(name) or {}
    if record.get("status") != "applied":
        return
    assert health(matrix.after_apply[name], matrix.new[name]) == [], matrix.after_apply[name]["events"]


@pytest.mark.parametrize("name", _params("blocked", expect="blocked"))
def test_blocked_scenario_changes_nothing_and_says_what_to_do(matrix, name):
    assert name in matrix.apply["failed"], f"{name} was not refused"
    message = matrix.apply["failed"][name]
    assert matrix.spec[name].blocked_hint.lower() in message.lower(), message
    assert winsim.comparable(matrix.after_apply[name]) == matrix.initial[name]
    calls = matrix.apply_calls[name]
    assert not {c["module"].rsplit(".", 1)[-1] for c in calls} & CHANGE_MODULES, calls
