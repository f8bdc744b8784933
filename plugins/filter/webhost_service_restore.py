# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webhost_service_restore
short_description: The service list that puts Apex One services back to a recorded state
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Takes the states recorded before a change (the C(services) result of M(apexone.certificates.win_apexone_services)
    for the stop, or the C(services_before) of a P(apexone.certificates.webhost_plan#filter) plan) and returns the
    C(services) list for M(apexone.certificates.win_apexone_services) that restores them, in reverse order. Each
    service gets its start mode back first, then its status (running or stopped).
  - A service that did not exist when it was recorded is left out.
  - Runs on the controller; pure computation.
options:
  _input:
    description:
      - A list of dicts with C(name) and C(before) (a dict with C(status) and C(start_mode)), or with C(name), C(status)
        and C(start_mode).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Put the services back as they were before the stop
  apexone.certificates.win_apexone_services:
    services: "{{ stop_result.services | apexone.certificates.webhost_service_restore }}"
"""

RETURN = r"""
_value:
  description: Entries with C(name), C(state) and C(start_mode) for M(apexone.certificates.win_apexone_services), in the order to apply.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, service_restore


def webhost_service_restore(recorded):
    """The win_apexone_services list that restores the recorded service states."""
    try:
        return service_restore(recorded)
    except PlanError as exc:
        raise AnsibleFilterError(f"webhost_service_restore: {exc}") from None


class FilterModule:
    def filters(self):
        return {"webhost_service_restore": webhost_service_restore}
