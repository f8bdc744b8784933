"""awx/controller_config.yml and awx/configure_controller.yml: the job templates, surveys and schedule are
consistent with the playbooks, the role and the credential type, and the configuration playbook passes
every option, unchanged and valid, to the awx.awx modules.

awx.awx needs a live AWX, so the configuration playbook runs here against stand-in awx.awx modules whose
argument specs are generated from the real modules' documentation (taken from the PyPI ``ansible`` wheel
that ``make deps`` downloads): an unknown option, a wrong type or a value outside the choices fails as it
would against AWX's modules, and every call is recorded.
"""

import ast
import glob
import json
import os
import re
import subprocess
import zipfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
AWX = os.path.join(REPO, "awx")
# Referenced by name; they may land after the templates (the audit: issue 6, replace/rollback: issue 5).
PENDING_PLAYBOOKS = {"playbooks/audit.yml", "playbooks/replace.yml", "playbooks/rollback.yml"}
# Created by the AWX administrator (docs/awx.md), not by controller_config.yml.
EXTERNAL = {"credentials": {"Apex One WinRM"}, "inventory": {"Apex One servers"}}
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
MODULES = ("credential_type", "credential", "execution_environment", "project", "job_template", "schedule")


def load(name):
    with open(os.path.join(AWX, name)) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def config():
    return load("controller_config.yml")


@pytest.fixture(scope="module")
def credential_type():
    return load("credential_type.yml")


def templates(config):
    return {t["name"]: t for t in config["controller_templates"]}


def role_options():
    with open(os.path.join(REPO, "roles", "webhost_certificate", "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    return specs


def test_templates_for_every_playbook(config):
    playbooks = {t["playbook"] for t in config["controller_templates"]}
    assert playbooks == {"playbooks/preflight.yml", "playbooks/renew.yml"} | PENDING_PLAYBOOKS
    for playbook in playbooks:
        if playbook not in PENDING_PLAYBOOKS:
            assert os.path.exists(os.path.join(REPO, playbook)), playbook


def test_references_resolve(config, credential_type):
    names = {
        "credentials": {c["name"] for c in config["controller_credentials"]} | EXTERNAL["credentials"],
        "project": {p["name"] for p in config["controller_projects"]},
        "execution_environment": {e["name"] for e in config["controller_execution_environments"]},
        "inventory": EXTERNAL["inventory"],
    }
    for template in config["controller_templates"]:
        for key in ("project", "execution_environment", "inventory"):
            assert template[key] in names[key], (template["name"], key)
        for cred in template.get("credentials", []):
            assert cred in names["credentials"], (template["name"], cred)
    for project in config["controller_projects"]:
        assert project["default_environment"] in names["execution_environment"]
    for schedule in config["controller_schedules"]:
        assert schedule["unified_job_template"] in templates(config)
        assert re.fullmatch(r"DTSTART;TZID=[\w/]+:\d{8}T\d{6} RRULE:FREQ=\w+(;[A-Z]+=[\w,]+)*", schedule["rrule"])
    fields = {f["id"] for f in credential_type["inputs"]["fields"]}
    for cred in config["controller_credentials"]:
        if cred["credential_type"] == credential_type["name"]:
            assert set(cred["inputs"]) <= fields
            assert set(credential_type["inputs"]["required"]) <= set(cred["inputs"])
    pfx = [c["name"] for c in config["controller_credentials"] if c["credential_type"] == credential_type["name"]]
    assert pfx, "no credential of the apexone credential type"
    by_name = templates(config)
    # Jobs that read a PFX get the PFX credential; the audit reads none.
    for name in ("Apex One certificate - preflight", "Apex One certificate - replace"):
        assert set(by_name[name]["credentials"]) & set(pfx), name
    assert not set(by_name["Apex One certificate - audit"]["credentials"]) & set(pfx)


def test_surveys_are_valid_and_never_ask_for_a_secret(config, credential_type):
    injected = set(credential_type["injectors"]["extra_vars"])
    for template in config["controller_templates"]:
        if not template.get("survey_enabled"):
            assert "survey_spec" not in template
            continue
        spec = template["survey_spec"]["spec"]
        variables = [q["variable"] for q in spec]
        assert len(variables) == len(set(variables)), template["name"]
        for q in spec:
            where = (template["name"], q["variable"])
            assert {"question_name", "variable", "type", "required"} <= set(q), where
            assert q["type"] in SURVEY_TYPES, where
            assert q["type"] != "password", f"{where}: secrets come from the credential, never from a survey"
            assert q["variable"] not in injected, where
            assert q["variable"].startswith("apexone_cert_"), where
            if q["type"] in ("multiplechoice", "multiselect"):
                assert all(isinstance(c, str) for c in q["choices"]), where
                if "default" in q:
                    assert q["default"] in q["choices"], where
            if q["type"] == "integer" and "default" in q:
                assert isinstance(q["default"], int) and q["min"] <= q["default"] <= q["max"], where
            if q["type"] == "text" and "default" in q:
                assert isinstance(q["default"], str) and q.get("min", 0) <= len(q["default"]) <= q.get("max", 1024), where
    # The replace survey asks what the issue lists, and a dry run is the default.
    replace = templates(config)["Apex One certificate - replace"]
    assert {q["variable"] for q in replace["survey_spec"]["spec"]} >= {
        "apexone_cert_target_hosts", "apexone_cert_serial", "apexone_cert_friendly_name",
        "apexone_cert_client_auth_trust_mode",
    }
    assert replace["job_type"] == "check" and replace["ask_job_type_on_launch"] is True


def test_survey_answers_are_what_the_playbooks_and_the_role_accept(config):
    """Each survey variable is a role option whose type and choices accept every answer, or a play variable."""
    options = {name: opt for entry in role_options().values() for name, opt in entry["options"].items()}
    to_type = {"int": int, "str": str, "bool": lambda v: {"true": True, "false": False}[v.lower()]}
    checked = 0
    for template in config["controller_templates"]:
        path = os.path.join(REPO, template["playbook"])
        if not os.path.exists(path):
            assert template["playbook"] in PENDING_PLAYBOOKS
            continue
        with open(path) as handle:
            playbook = handle.read()
        for q in template.get("survey_spec", {}).get("spec", []):
            where = (template["name"], q["variable"])
            if q["variable"] not in options:
                assert q["variable"] in playbook, f"{where}: neither a role option nor read by the playbook"
                continue
            option = options[q["variable"]]
            answers = q.get("choices") or ([q["default"]] if "default" in q else [])
            if q["type"] == "integer":
                assert option["type"] == "int", where
            for answer in answers:
                value = to_type[option["type"]](answer)
                assert value in option.get("choices", [value]), f"{where}: the role refuses {answer!r}"
            checked += 1
    assert checked >= 3  # at least the preflight's report_only and min_days, and one replace option


def test_template_extra_vars_are_read_by_the_role_or_the_playbook(config):
    options = {name for entry in role_options().values() for name in entry["options"]}
    seen = 0
    for template in config["controller_templates"]:
        for name in template.get("extra_vars", {}):
            assert name.startswith("apexone_cert_"), (template["name"], name)
            path = os.path.join(REPO, template["playbook"])
            assert name in options or (os.path.exists(path) and name in open(path).read()), (template["name"], name)
            seen += 1
    # Rollback reads the run record on the server (#14): no folder shared between jobs, nothing exposed.
    by_name = templates(config)
    assert "apexone_cert_run_record_dir" not in by_name["Apex One certificate - rollback"].get("extra_vars", {})
    assert "exposed" not in by_name["Apex One certificate - replace"]["extra_vars"]["apexone_cert_run_record_dir"]
    assert seen >= 1


def test_every_survey_variable_is_documented(config):
    with open(os.path.join(REPO, "docs", "awx.md")) as handle:
        doc = handle.read()
    for template in config["controller_templates"]:
        for q in template.get("survey_spec", {}).get("spec", []):
            assert f"`{q['variable']}`" in doc, q["variable"]


# --- the configuration playbook against stand-in awx.awx modules ---------------------------------------------

STUB = '''#!/usr/bin/python
# Stand-in for awx.awx.{name} (tests/unit/awx/test_controller_config.py): the real argument spec, no AWX.
import json
import os

from ansible.module_utils.basic import AnsibleModule

SPEC = json.loads({spec!r})


def main():
    module = AnsibleModule(argument_spec=SPEC, supports_check_mode=True)
    params = dict((k, v) for k, v in module.params.items() if v is not None)
    with open(os.environ["APEXONE_AWX_STUB_LOG"], "a") as handle:
        handle.write(json.dumps({{"module": "{name}", "params": params}}) + "\\n")
    module.exit_json(changed=True)


main()
'''


def argument_spec(documentation):
    spec = {}
    for name, opt in yaml.safe_load(documentation)["options"].items():
        entry = {"type": opt.get("type", "str")}
        for key in ("elements", "choices", "aliases", "required", "no_log"):
            if key in opt:
                entry[key] = opt[key]
        spec[name] = entry
    return spec


@pytest.fixture(scope="module")
def awx_stub(tmp_path_factory):
    wheels = sorted(glob.glob(os.path.join(REPO, ".build", "wheel", "ansible-*.whl")))
    if not wheels:
        pytest.skip("no ansible wheel in .build/wheel (make deps downloads it)")
    root = tmp_path_factory.mktemp("awx-stub")
    modules = root / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    modules.mkdir(parents=True)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        for name in MODULES:
            source = wheel.read(f"ansible_collections/awx/awx/plugins/modules/{name}.py").decode()
            doc = next(
                node.value.value for node in ast.parse(source).body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION"
            )
            (modules / f"{name}.py").write_text(STUB.format(name=name, spec=json.dumps(argument_spec(doc))))
    return root


@pytest.fixture(scope="module")
def configured(awx_stub, ansible_env, tmp_path_factory):
    work = tmp_path_factory.mktemp("configure")
    log = work / "calls.jsonl"
    env = dict(ansible_env)
    env["ANSIBLE_COLLECTIONS_PATH"] = f"{awx_stub}{os.pathsep}{env['ANSIBLE_COLLECTIONS_PATH']}"
    env["APEXONE_AWX_STUB_LOG"] = str(log)
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    env["ANSIBLE_LOCALHOST_WARNING"] = "false"
    proc = subprocess.run(
        ["ansible-playbook", os.path.join(AWX, "configure_controller.yml"), "-e", "vault_apexone_pfx_password=pw-from-vault"],
        env=env, capture_output=True, text=True, check=False, timeout=180, cwd=str(work),
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, calls


def calls_of(calls, module):
    return [c["params"] for c in calls if c["module"] == module]


@pytest.mark.slow
def test_configuration_playbook_runs(configured):
    proc, calls = configured
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout + proc.stderr
    assert "pw-from-vault" not in proc.stdout + proc.stderr  # the credential task is no_log
    assert {c["module"] for c in calls} == set(MODULES)


@pytest.mark.slow
def test_credential_type_is_sent_as_written(configured, credential_type):
    _proc, calls = configured
    (params,) = calls_of(calls, "credential_type")
    # The injectors' {{ }} are AWX's templates: they must arrive untouched, not rendered by the playbook.
    assert params == {**credential_type, "state": "present"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "key"),
    [
        ("execution_environment", "controller_execution_environments"),
        ("project", "controller_projects"),
        ("job_template", "controller_templates"),
        ("schedule", "controller_schedules"),
    ],
)
def test_every_option_reaches_the_module(configured, config, module, key):
    _proc, calls = configured
    assert calls_of(calls, module) == [{**item, "state": "present"} for item in config[key]]


@pytest.mark.slow
def test_credential_gets_the_password_from_the_vault_variable(configured, config):
    _proc, calls = configured
    (params,) = calls_of(calls, "credential")
    expected = dict(config["controller_credentials"][0], state="present")
    expected["inputs"] = {"pfx_password": "pw-from-vault"}
    assert params == expected
