"""Stand-in for ``pwsh`` when ansible-test validate-modules reads a PowerShell module's argument spec.

validate-modules runs ``pwsh ps_argspec.ps1 '<json manifest>'`` and reads the spec as JSON from stdout.
On a controller without PowerShell it stops with "Required program for PowerShell arg spec inspection
"pwsh" not found". Put this file on PATH under the name ``pwsh`` (a symlink) for the sanity run only:
it prints the ``$spec`` that pwsh_static evaluates from the parse tree, so validate-modules compares
spec and documentation with its own rules. It does nothing else and refuses any other invocation.
A spec value that is not a literal is passed on as its source text.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import pwsh_static


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, pwsh_static.Dynamic):
        return value.text
    return value


def main(argv: list[str]) -> int:
    if len(argv) != 3 or os.path.basename(argv[1]) != "ps_argspec.ps1":
        sys.stderr.write("pwsh_argspec_shim only answers 'pwsh ps_argspec.ps1 <manifest>' (no PowerShell here)\n")
        return 2
    manifest = json.loads(argv[2])
    path = manifest.get("module_path")
    if not path or not os.path.isfile(path):
        sys.stderr.write(f"The module at '{path}' does not exist.\n")
        return 1
    errors = pwsh_static.syntax_errors(path)
    if errors:
        sys.stderr.write("\n".join(str(error) for error in errors) + "\n")
        return 1
    info = pwsh_static.load_module(path)
    if not isinstance(info.spec, dict):
        sys.stderr.write("Unknown error trying to get PowerShell arg spec (the spec is not a literal hashtable)\n")
        return 1
    sys.stdout.write(json.dumps(_plain(info.spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
