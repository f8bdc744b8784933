"""playbooks/preflight.yml under ansible-playbook, on the generated lab fleet."""

import base64
import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(REPO, "playbooks", "preflight.yml")


def run_preflight(ansible_env, lab, tmp_path, *extra):
    summary = tmp_path / "summary.json"
    cmd = [
        "ansible-playbook", "-i", lab["inventory"], PLAYBOOK,
        "-e", f"apexone_cert_summary_path={summary}", *extra,
    ]
    proc = subprocess.run(cmd, env=ansible_env, capture_output=True, text=True, check=False, timeout=300, cwd=str(tmp_path))
    data = json.loads(summary.read_text()) if summary.exists() else None
    return proc, data


def test_each_lab_host_gets_its_verdict(ansible_env, lab, tmp_path):
    proc, summary = run_preflight(ansible_env, lab, tmp_path, "-e", "apexone_cert_report_only=true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary["kind"] == "apexone.certificates.preflight"
    assert set(summary["hosts"]) == set(lab["expected"])
    for host, expected in lab["expected"].items():
        verdict = summary["hosts"][host]
        assert verdict["ok"] is expected["ok"], host
        assert [p["code"] for p in verdict["problems"]] == expected["codes"], host
        word = "OK  " if expected["ok"] else "FAIL"
        assert f'"{word} {host} ' in proc.stdout, host
    assert summary["failed"] == sum(1 for e in lab["expected"].values() if not e["ok"])


def test_bad_certificates_fail_their_hosts_only(ansible_env, lab, tmp_path):
    proc, _summary = run_preflight(ansible_env, lab, tmp_path)
    assert proc.returncode == 2, proc.stdout
    recap = proc.stdout.split("PLAY RECAP", 1)[1]
    # The fleet is checked by tasks that run once for the play: a good host has no task of its own (it is in
    # the recap only when it was the one the run-once tasks ran on), a refused host fails in the second play.
    for host, expected in lab["expected"].items():
        line = next((x for x in recap.splitlines() if x.startswith(host + " ")), None)
        if expected["ok"]:
            assert line is None or "failed=0" in line, line
        else:
            assert line is not None and "failed=1" in line, (host, recap)
    assert "the certificate expired on" in proc.stdout
    assert "fatal: [apex-expired]: FAILED!" in proc.stdout


def test_limit_to_good_hosts_passes(ansible_env, lab, tmp_path):
    proc, summary = run_preflight(ansible_env, lab, tmp_path, "--limit", "apex-good01,apex-good02")
    assert proc.returncode == 0, proc.stdout
    assert sorted(summary["hosts"]) == ["apex-good01", "apex-good02"]


def test_wrong_password_is_reported_without_the_password(ansible_env, lab, tmp_path):
    wrong = "Wr0ng-Lab-Password-xyz"
    proc, summary = run_preflight(
        ansible_env, lab, tmp_path, "--limit", "apex-good01", "-e", f"apexone_cert_pfx_password={wrong}", "-vvv"
    )
    assert proc.returncode == 2
    (problem,) = summary["hosts"]["apex-good01"]["problems"]
    assert problem["code"] == "unreadable"
    assert problem["message"].startswith("'")  # the file name, then the reason
    assert "the password is wrong" in problem["message"]
    assert wrong not in proc.stdout + proc.stderr
    assert wrong not in json.dumps(summary)


def test_no_secret_in_verbose_output(ansible_env, lab, tmp_path):
    proc, summary = run_preflight(ansible_env, lab, tmp_path, "-e", "apexone_cert_report_only=true", "-vvv")
    assert proc.returncode == 0
    output = proc.stdout + proc.stderr + json.dumps(summary)
    assert lab["password"] not in output
    pfx = (lab["dir"] / "certs" / "apex-good01.pfx").read_bytes()
    assert base64.b64encode(pfx).decode()[:64] not in output
    key = (lab["dir"] / "certs" / "apex-keymismatch.wrong-key.pem").read_text()
    assert key.splitlines()[1] not in output


def test_missing_certificate_variables_fail_clearly(ansible_env, lab, tmp_path):
    inventory = tmp_path / "inv.yml"
    inventory.write_text(
        "all:\n  hosts:\n    apex-nocert:\n      ansible_connection: local\n"
    )
    summary = tmp_path / "s.json"
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), PLAYBOOK, "-e", f"apexone_cert_summary_path={summary}"],
        env=ansible_env, capture_output=True, text=True, check=False, timeout=120, cwd=str(tmp_path),
    )
    assert proc.returncode == 2
    assert "set either apexone_cert_pfx_path (a PFX) or apexone_cert_cert_path" in proc.stdout
    verdict = json.loads(summary.read_text())["hosts"]["apex-nocert"]
    assert [p["code"] for p in verdict["problems"]] == ["unreadable"]


def test_pfx_as_base64_text_like_an_awx_credential(ansible_env, lab, tmp_path):
    encoded = tmp_path / "pfx.b64"
    encoded.write_text(base64.encodebytes((lab["dir"] / "certs" / "apex-good01.pfx").read_bytes()).decode())
    proc, summary = run_preflight(
        ansible_env, lab, tmp_path, "--limit", "apex-good01",
        "-e", '{"apexone_cert_pfx_path": ""}', "-e", f"apexone_cert_pfx_base64_path={encoded}",
    )
    assert proc.returncode == 0, proc.stdout
    assert summary["hosts"]["apex-good01"]["ok"] is True
    encoded.write_text("this is not base64 !!")
    proc, summary = run_preflight(
        ansible_env, lab, tmp_path, "--limit", "apex-good01",
        "-e", '{"apexone_cert_pfx_path": ""}', "-e", f"apexone_cert_pfx_base64_path={encoded}",
    )
    assert proc.returncode == 2
    assert "not valid base64" in summary["hosts"]["apex-good01"]["problems"][0]["message"]
