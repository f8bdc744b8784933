"""The certreq modules (issue 16) under ansible-playbook against the test double: Ansible builds their real payload
(module utils resolved from the #AnsibleRequires lines, $spec read by the double), the filters run on the controller,
and win_webhost_cert's action plugin passes finish mode through. One playbook run: request, reuse, check mode,
submit, accept, finish, gather, then a rollback of the accepted certificate."""

from __future__ import annotations

import json
import os
import subprocess

import pki
import pytest
import scenarios
import winsim

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
FQDN = "apex01.corp.example"

PLAYBOOK = """
- hosts: apex01
  gather_facts: false
  vars:
    spec:
      subject_cn: apex01.corp.example
      dns_names: [apex01]
      ip_addresses: []
      key_length: 2048
      key_provider: legacy
      exportable: false
      friendly_name: Apex One web host 2026
      hash_algorithm: sha256
      template: WebServer
  tasks:
    - name: Request (check mode changes nothing)
      apexone.certificates.win_apexone_cert_request:
        inf: "{{ spec | apexone.certificates.certreq_inf }}"
      check_mode: true
      register: dry
    - name: Request
      apexone.certificates.win_apexone_cert_request:
        inf: "{{ spec | apexone.certificates.certreq_inf }}"
      register: request
    - name: Reuse
      apexone.certificates.win_apexone_cert_request:
        inf: "{{ spec | apexone.certificates.certreq_inf }}"
        reuse_thumbprint: "{{ request.request_thumbprint }}"
      register: reuse
    - name: Submit
      apexone.certificates.win_apexone_cert_submit:
        request_thumbprint: "{{ request.request_thumbprint }}"
        ca_config: '%(ca)s'
        template: WebServer
      register: submitted
    - name: Read the answer
      ansible.builtin.set_fact:
        answer: "{{ submitted | apexone.certificates.certreq_submit_result }}"
    - name: Accept
      apexone.certificates.win_apexone_cert_accept:
        certificate: "{{ answer.certificate }}"
      register: accepted
    - name: Finish
      apexone.certificates.win_webhost_cert:
        thumbprint: "{{ accepted.thumbprint }}"
        friendly_name: Apex One web host 2026
        exportable: false
        chain: []
      register: finished
    - name: Gather
      apexone.certificates.win_server_info:
      register: info
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ {'dry': dry, 'request': request, 'reuse': reuse, 'answer': answer, 'accepted': accepted,
                      'finished': finished, 'pending': info.certificates.request} | to_json }}"
        dest: "%(out)s"
        mode: "0600"
      delegate_to: localhost
    - name: Roll back the accepted certificate (certificate and key)
      apexone.certificates.win_webhost_cert:
        state: absent
        thumbprint: "{{ accepted.thumbprint }}"
"""


def test_request_submit_accept_finish_rollback(ansible_env, tmp_path):
    original = pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=830))[1]
    state = scenarios.build_state(scenarios.ENROLL_BY_NAME["enroll_adcs_issue"], hostname=FQDN, original=original)
    before = winsim.comparable(state)
    (tmp_path / "apex01.json").write_text(json.dumps(state))
    inventory = {"all": {"hosts": {"apex01": {"ansible_connection": "apexone_double",
                                              "apexone_double_state_dir": str(tmp_path)}}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    out = tmp_path / "results.json"
    (tmp_path / "play.yml").write_text(PLAYBOOK % {"ca": scenarios.CA_CONFIG, "out": out})
    env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml")],
                          env=env, capture_output=True, text=True, check=False, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = json.loads(out.read_text())
    assert results["dry"]["changed"] and results["dry"]["request_thumbprint"] is None
    request = results["request"]
    assert request["changed"] and request["request"].startswith("-----BEGIN NEW CERTIFICATE REQUEST-----")
    assert (results["reuse"]["changed"], results["reuse"]["request_thumbprint"]) == (False, request["request_thumbprint"])
    assert results["answer"]["status"] == "issued" and results["answer"]["request_id"] == 100
    accepted = results["accepted"]
    assert accepted["changed"] and accepted["request_thumbprint"] == request["request_thumbprint"]
    assert results["finished"]["changed"] and "certificate" not in results["finished"]
    assert results["pending"] == []
    modules = [json.loads(line)["module"].rsplit(".", 1)[-1] for line in (tmp_path / "apex01.calls.jsonl").read_text().splitlines()]
    assert modules == ["win_apexone_cert_request"] * 3 + ["win_apexone_cert_submit", "win_apexone_cert_accept",
                                                          "win_webhost_cert", "win_server_info", "win_webhost_cert"]
    # The rollback left the server as it was: no certificate, no key, no request, no request file.
    assert winsim.comparable(json.loads((tmp_path / "apex01.json").read_text())) == before
