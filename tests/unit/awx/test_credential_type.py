"""awx/credential_type.yml: AWX accepts it (schema + AWX's template checks), broken copies are rejected,
and the injectors put into a job exactly what the role reads."""

import base64
import copy
import importlib.util
import json
import os
import stat

import jsonschema
import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
AWX = os.path.join(REPO, "awx")


def _load_validator():
    spec = importlib.util.spec_from_file_location("validate_credential_type", os.path.join(AWX, "validate_credential_type.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vct = _load_validator()


@pytest.fixture()
def shipped():
    return vct.load(os.path.join(AWX, "credential_type.yml"))


def role_options():
    with open(os.path.join(REPO, "roles", "webhost_certificate", "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    return {name: opt for entry in specs.values() for name, opt in entry["options"].items()}


def test_the_schema_is_a_valid_json_schema():
    with open(vct.SCHEMA_PATH) as handle:
        jsonschema.Draft202012Validator.check_schema(json.load(handle))


def test_the_shipped_credential_type_validates(shipped):
    assert vct.validate(shipped) == []


def test_the_password_is_a_required_secret_and_the_pfx_content_a_multiline_secret(shipped):
    fields = {f["id"]: f for f in shipped["inputs"]["fields"]}
    assert fields["pfx_password"]["secret"] is True
    assert "pfx_password" in shipped["inputs"]["required"]
    assert fields["pfx_base64"]["secret"] is True and fields["pfx_base64"]["multiline"] is True
    assert "pfx_base64" not in shipped["inputs"]["required"]
    assert shipped["kind"] == "cloud"


def test_injected_extra_vars_are_what_the_role_reads(shipped):
    options = role_options()
    extra_vars = shipped["injectors"]["extra_vars"]
    assert extra_vars["apexone_cert_pfx_password"] == "{{ pfx_password }}"
    assert options["apexone_cert_pfx_password"].get("no_log") is True
    # Every injected name is a documented role variable (the PFX content file is read with encoding=base64).
    assert set(extra_vars) - set(options) == set()
    assert "apexone_cert_pfx_base64_path" in options
    # Secrets are never put in the environment (only the path of the file is).
    secret_ids = {f["id"] for f in shipped["inputs"]["fields"] if f.get("secret")}
    for template in shipped["injectors"].get("env", {}).values():
        assert not any(s in template for s in secret_ids), template


def _set(path, value):
    def mutate(d):
        *parents, last = path
        for p in parents:
            d = d[p]
        d[last] = value
    return mutate


def _delete(path):
    def mutate(d):
        *parents, last = path
        for p in parents:
            d = d[p]
        del d[last]
    return mutate


BROKEN = {
    "unknown field type": (_set(["inputs", "fields", 0, "type"], "integer"), "inputs/fields/0/type"),
    "field without label": (_delete(["inputs", "fields", 0, "label"]), "'label' is a required property"),
    "secret on a boolean": (
        lambda d: d["inputs"]["fields"].append({"id": "flag", "label": "Flag", "type": "boolean", "secret": True}),
        "inputs/fields/2: 'secret' should not be valid",
    ),
    "boolean with a string default": (
        lambda d: d["inputs"]["fields"].append({"id": "flag", "label": "Flag", "type": "boolean", "default": "yes"}),
        "inputs/fields/2/default",
    ),
    "reserved id tower": (_set(["inputs", "fields", 1, "id"], "tower"), "inputs/fields/1/id"),
    "id that is not a variable name": (_set(["inputs", "fields", 1, "id"], "pfx-content"), "inputs/fields/1/id"),
    "password not secret": (_set(["inputs", "fields", 0, "secret"], False), "must be 'secret: true'"),
    "template names an undeclared input": (
        _set(["injectors", "extra_vars", "apexone_cert_pfx_password"], "{{ pfx_pass }}"),
        "uses an undefined field",
    ),
    "required names an undeclared input": (_set(["inputs", "required"], ["pfx_passphrase"]), "not a declared field id"),
    "duplicate field id": (_set(["inputs", "fields", 1, "id"], "pfx_password"), "field ids must be unique"),
    "ANSIBLE_ environment variable": (
        _set(["injectors", "env", "ANSIBLE_PFX_FILE"], "{{ tower.filename }}"),
        "injectors/env",
    ),
    "blocked environment variable": (_set(["injectors", "env", "PATH"], "{{ tower.filename }}"), "injectors/env"),
    "tower.filename without a file injector": (_delete(["injectors", "file"]), "no file injector is defined"),
    "single- and multi-file syntax mixed": (
        _set(["injectors", "file", "template.extra"], "x"),
        "use the multi-file syntax",
    ),
    "unknown injector kind": (_set(["injectors", "files"], {"template": "x"}), "injectors"),
    "kind that custom types cannot have": (_set(["kind"], "ssh"), "kind"),
    "extra var that is not a variable name": (
        _set(["injectors", "extra_vars", "apexone-cert-pfx"], "{{ pfx_password }}"),
        "injectors/extra_vars",
    ),
    "template syntax error": (
        _set(["injectors", "extra_vars", "apexone_cert_pfx_password"], "{{ pfx_password }"),
        "template syntax error",
    ),
    "input that no injector uses": (
        lambda d: d["inputs"]["fields"].append({"id": "comment", "label": "Comment", "type": "string"}),
        "declared but no injector uses it",
    ),
    "inputs without fields": (_delete(["inputs", "fields"]), "'fields' is a required property"),
    "sandbox escape": (
        _set(["injectors", "extra_vars", "apexone_cert_pfx_password"], "{{ pfx_password.__class__.__mro__ }}"),
        "unsafe template",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_copies_are_rejected(shipped, case):
    mutate, expected = BROKEN[case]
    broken = copy.deepcopy(shipped)
    mutate(broken)
    errors = vct.validate(broken)
    assert errors, case
    assert any(expected in e for e in errors), errors


def test_command_line(tmp_path, shipped, capsys):
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump(shipped))
    bad_data = copy.deepcopy(shipped)
    bad_data["injectors"]["extra_vars"]["apexone_cert_pfx_password"] = "{{ nope }}"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_data))
    assert vct.main([str(good)]) == 0
    assert vct.main([str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: OK" in out and f"{bad}: injectors/extra_vars/apexone_cert_pfx_password" in out
    assert vct.main([str(tmp_path / "missing.yml")]) == 1


def test_injection_as_awx_does_it(tmp_path, shipped):
    pfx = b"\x30\x82\x01\x00" + os.urandom(64)
    content = base64.b64encode(pfx).decode()
    injected = vct.render_injectors(shipped, {"pfx_password": "S3cret!{{x}}", "pfx_base64": content}, str(tmp_path))
    (path,) = injected["files"].values()
    assert os.path.dirname(path) == str(tmp_path / "env")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert base64.b64decode(open(path).read()) == pfx
    assert injected["extra_vars"] == {"apexone_cert_pfx_password": "S3cret!{{x}}", "apexone_cert_pfx_base64_path": path}
    assert injected["env"] == {"APEXONE_CERT_PFX_BASE64_FILE": path}


def test_without_pfx_content_the_path_variable_is_empty(tmp_path, shipped):
    injected = vct.render_injectors(shipped, {"pfx_password": "pw"}, str(tmp_path))
    assert injected["extra_vars"]["apexone_cert_pfx_base64_path"] == ""
    assert injected["extra_vars"]["apexone_cert_pfx_password"] == "pw"
