# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of transport_guard: refuse, before the first connection, a connection that would expose secrets.

Nothing is sent to the host: the plugin reads the options the task's connection plugin resolved for this host and
decides with plugins/plugin_utils/_transport.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.apexone.certificates.plugins.plugin_utils._transport import assess, refusal

OPTIONS = {
    "winrm": ("port", "scheme", "transport", "remote_user"),
    "psrp": ("port", "protocol", "auth", "cert_validation", "message_encryption"),
    "ssh": ("host_key_checking",),
    "paramiko_ssh": ("host_key_checking",),
}
WINRM_EXTRAS = {"server_cert_validation": "ansible_winrm_server_cert_validation",
                "message_encryption": "ansible_winrm_message_encryption"}


def connection_facts(connection) -> dict:
    """The connection plugin's name and the resolved options the guard needs (None when not set)."""
    name = str(getattr(connection, "_load_name", None) or getattr(connection, "transport", "") or "")
    short = name.rsplit(".", 1)[-1]
    facts: dict = {"connection": name}

    def option(key):
        try:
            return connection.get_option(key)
        except KeyError:
            return None

    for key in OPTIONS.get(short, ()):
        facts[key] = option(key)
    if short == "winrm":
        extras = option("_extras") or {}
        for key, var in WINRM_EXTRAS.items():
            facts[key] = extras.get(var)
    return facts


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("allow_insecure", "trusted_connections", "what"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        try:
            allow = boolean(args.get("allow_insecure", False), strict=True)
        except TypeError as exc:
            raise AnsibleActionFail(f"allow_insecure must be a boolean: {exc}") from None
        trusted = args.get("trusted_connections") or []
        if isinstance(trusted, str) or not isinstance(trusted, (list, tuple)):
            raise AnsibleActionFail("trusted_connections must be a list of connection plugin names")
        what = str(args.get("what") or "the PFX and its password")
        decision = assess(connection_facts(self._connection), trusted=[str(x) for x in trusted])
        host = (task_vars or {}).get("inventory_hostname", "host")
        result.update(changed=False, protected=decision["protected"], connection=decision["connection"],
                      summary=decision["summary"], problems=decision["problems"])
        if decision["protected"]:
            return result
        message = refusal(decision, host, what)
        if allow:
            result["warnings"] = [
                f"{host}: sending {what} over an unprotected connection ({decision['summary']}) because "
                f"apexone_cert_allow_insecure_transport is true: {'; '.join(decision['problems'])}. "
                f"Fix: {decision['fix']}."
            ]
            result["overridden"] = True
            return result
        result.update(failed=True, msg=message)
        return result
