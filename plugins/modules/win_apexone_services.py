#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_apexone_services
short_description: Stop, start and restore the Apex One services around knowledge-base step 7, in a given order
version_added: 0.1.0
description:
  - Applies an ordered list of service changes in one round trip. Each entry names one service by its exact
    service name (C(ofcservice), never the display name, never a wildcard pattern), the state it must reach and,
    optionally, the start mode to set first.
  - Used by the M(apexone.certificates.win_cert_persistence) step of the role (Trend Micro KA-0004491 stops the
    Master, Active Directory Integration and Smart Protection Server services while C(Service.ini) and
    C(apricot_config) are edited), and by its rollback, which puts each service back to the status and start mode
    recorded before the run.
  - The whole list is checked before anything changes; the module fails with nothing changed when a service does not
    exist, is listed twice, would be stopped while a dependent service that is not stopped earlier in the list runs,
    or would be started while its start mode is (or stays) V(disabled).
  - Dependent services are never stopped implicitly (there is no C(-Force)); list them before the service they depend
    on. Only services that run are stopped; only services that do not run are started.
  - The controller decides the list (the role takes it from the P(apexone.certificates.webhost_plan#filter) plan and
    from this module's own RV(services) result); this module applies it.
options:
  services:
    description:
      - The services to change, in the order to change them (dependents before the services they depend on when
        stopping; the reverse when starting).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The service name, matched exactly (case-insensitively, as Windows does).
        type: str
        required: true
      state:
        description:
          - V(stopped) stops the service if it runs; V(started) starts it if it does not run (a paused service is
            continued).
        type: str
        required: true
        choices: [ started, stopped ]
      start_mode:
        description:
          - The start mode to set before the state is applied. V(delayed) is automatic with delayed start.
          - Omit it to leave the start mode as it is.
        type: str
        choices: [ auto, delayed, manual, disabled ]
  timeout:
    description:
      - Seconds to wait for each service to reach the state.
    type: int
    default: 180
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would change; the checks of the whole list run in check mode too.
notes:
  - Works on Windows PowerShell 5.1 with .NET Framework 4.5.2 or later (Windows Server 2012 R2 to 2022). Start modes are
    read and written through the Service Control Manager with the C(SCManager) module util of C(ansible.windows), which
    the collection depends on; status changes use C(System.ServiceProcess.ServiceController).
  - A service whose start mode is V(boot) or V(system) (drivers) is reported as such; this module does not set those.
seealso:
  - module: apexone.certificates.win_server_info
  - module: apexone.certificates.win_cert_persistence
  - module: ansible.windows.win_service
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Stop the running Apex One services before step 7, dependents first
  apexone.certificates.win_apexone_services:
    services:
      - name: OSCEIntegrationService
        state: stopped
      - name: TMiCRCScanService
        state: stopped
      - name: ofcservice
        state: stopped
  register: stopped

- name: Put every service back as it was (start mode first, then status), in reverse order
  apexone.certificates.win_apexone_services:
    services: "{{ stopped.services | apexone.certificates.webhost_service_restore }}"
"""

RETURN = r"""
services:
  description:
    - One entry per service of O(services), in the same order, with its status and start mode before and after.
    - Status is one of V(running), V(stopped), V(start_pending), V(stop_pending), V(paused), V(pause_pending),
      V(continue_pending); start mode one of V(auto), V(delayed), V(manual), V(disabled), V(boot), V(system).
    - When the module fails part-way, the entries still hold the states before the run, and C(after) is what was
      reached so far, so that the controller can restore them.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service name.
      type: str
      sample: ofcservice
    before:
      description: C(status) and C(start_mode) before the module ran.
      type: dict
      sample: {"status": "running", "start_mode": "auto"}
    after:
      description: C(status) and C(start_mode) after the module ran (what it would be, in check mode).
      type: dict
      sample: {"status": "stopped", "start_mode": "auto"}
"""
