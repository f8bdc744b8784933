# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: run_record_start
short_description: The first run record of a replacement, from the server's facts and the plan
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Builds the record the role writes on the server (M(apexone.certificates.win_apexone_run_record)) before the
    first change, status C(applying), with what the server had then - the https bindings and their certificates
    (C(bindings_before)), the non-self-signed certificates in Root (C(roots_before)), ClientAuthTrustMode - so that
    a rollback can later check that each thumbprint it puts back was there.
  - Runs on the controller; pure computation, no connection.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
  plan:
    description: The plan (P(apexone.certificates.webhost_plan#filter)).
    type: dict
    required: true
  host:
    description: The inventory host name (must be a safe file name, see P(apexone.certificates.safe_file_name#filter)).
    type: str
    required: true
  started:
    description: The UTC start time, C(YYYY-MM-DDTHH:MM:SSZ).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Record the start of the run on the server, before the first change
  apexone.certificates.win_apexone_run_record:
    record: >-
      {{ apexone_cert_server_info | apexone.certificates.run_record_start(apexone_cert_plan, inventory_hostname,
         now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ')) }}
"""

RETURN = r"""
_value:
  description: The record (schema 1, see docs/security.md).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._run_record import RunRecordError, start_record


def run_record_start(server_info, plan, host, started):
    """The first run record of a replacement."""
    try:
        return start_record(server_info, plan, str(host), str(started))
    except RunRecordError as exc:
        raise AnsibleFilterError(f"run_record_start: {exc}") from None


class FilterModule:
    def filters(self):
        return {"run_record_start": run_record_start}
