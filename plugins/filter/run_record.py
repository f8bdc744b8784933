# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: run_record
short_description: The run record a rollback may act on, validated against the server's own facts
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Takes the registered result of M(apexone.certificates.win_server_info), which carries the run record stored on
    the server (C(HKLM\SOFTWARE\apexone.certificates), value C(LastRun), written by
    M(apexone.certificates.win_apexone_run_record)) and who can write its key.
  - Refuses, with a message that says what is wrong, a record whose key can be written or is owned by anyone other
    than SYSTEM, Administrators or TrustedInstaller (matched by SID), a record with a field this collection never
    writes, a thumbprint that is not 40 hex digits or that the record does not list as there before the
    replacement, a file path that is not one of the files the collection writes under the install path the server
    reports, a backup name that is not the pattern the modules write, a ClientAuthTrustMode Schannel does not
    define, or a status with nothing to roll back.
  - Runs on the controller; pure computation, no connection. Use it before the first change of a rollback.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
  inventory_hostname:
    description: The host the record belongs to (used in messages).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Gather the facts and the run record (one round trip, read-only)
  apexone.certificates.win_server_info:
  register: facts

- name: Refuse a forged or tampered record before any change
  ansible.builtin.set_fact:
    apexone_cert_run: "{{ facts | apexone.certificates.run_record(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The validated run record (only fields of the documented schema, see docs/security.md).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._run_record import RunRecordError, for_rollback


def run_record(server_info, inventory_hostname):
    """The validated run record for a rollback."""
    try:
        return for_rollback(server_info, str(inventory_hostname))
    except RunRecordError as exc:
        raise AnsibleFilterError(f"run_record: refused, nothing was changed: {exc}") from None


class FilterModule:
    def filters(self):
        return {"run_record": run_record}
