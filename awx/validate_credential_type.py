# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check an AWX custom credential type definition before it is imported, the way AWX checks it.

    python awx/validate_credential_type.py awx/credential_type.yml [more files...]

Three layers, each reported with the path of the offending item:
1. awx/credential_type.schema.json: the shape AWX's API accepts (inputs.fields[] with id/label/type/secret/
   multiline..., required[], injectors.env/extra_vars/file, kinds, reserved names).
2. What AWX checks in code beyond the schema: unique field ids, ``required`` naming declared fields, no mix
   of single- and multi-file syntax, and every injector template rendered in a Jinja sandbox with
   StrictUndefined against the declared inputs and ``tower.filename`` (a template that names an undeclared
   input, or ``tower.filename`` without a file injector, fails here as it fails in AWX).
3. Rules of this project: a field whose id says it holds a secret (password, key, token, base64 content)
   must be ``secret: true``, and every declared input is injected somewhere.

``render_injectors`` does what AWX does when a job starts (extra vars, env, files), for tests and previews.
Needs PyYAML and Jinja2 (both come with ansible-core) and jsonschema.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "credential_type.schema.json")
SECRET_ID = re.compile(r"pass|secret|token|key|base64|private", re.IGNORECASE)


def load(path: str) -> dict:
    """Read a credential type from a YAML or JSON file."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def schema_errors(definition) -> list[str]:
    """Errors of layer 1 (the JSON Schema), as 'path: message' strings."""
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is a dev requirement
        return ["jsonschema is not installed: pip install jsonschema"]
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        schema = json.load(handle)
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for error in sorted(validator.iter_errors(definition), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        why = error.schema.get("description") if isinstance(error.schema, dict) else None
        errors.append(f"{where}: {error.message}" + (f" ({why})" if why and len(why) < 100 else ""))
    return errors


class _Exploding:
    """tower.filename when no file injector is defined: using it is an error, as in AWX."""

    def __str__(self):
        raise UndefinedError("tower.filename is used but no file injector is defined")

    def __getattr__(self, name):
        raise UndefinedError(f"tower.filename.{name} is used but no file injector 'template.{name}' is defined")


class _FileNames:
    def __init__(self, names: dict):
        self._names = names

    def __str__(self):
        raise UndefinedError("tower.filename is used with the multi-file syntax: use tower.filename.<name>")

    def __getattr__(self, name):
        try:
            return self._names[name]
        except KeyError:
            raise UndefinedError(f"tower.filename.{name} is used but no file injector 'template.{name}' is defined") from None


class _Tower:
    def __init__(self, filename):
        self.filename = filename

    def __str__(self):
        raise UndefinedError("the reserved tower namespace cannot be used directly")


def _file_labels(injectors: dict) -> list[str]:
    return sorted(k for k in (injectors.get("file") or {}) if k.startswith("template"))


def _tower_namespace(injectors: dict, paths: dict | None = None) -> _Tower:
    labels = _file_labels(injectors)
    if labels == ["template"]:
        return _Tower((paths or {}).get("template", "EXAMPLE_FILENAME"))
    if labels:
        names = {lab.split(".", 1)[1]: (paths or {}).get(lab, "EXAMPLE_FILENAME") for lab in labels if "." in lab}
        return _Tower(_FileNames(names))
    return _Tower(_Exploding())


def _namespace(fields: list, values: dict, tower: _Tower) -> dict:
    namespace = {}
    for field in fields:
        boolean = field.get("type", "string") == "boolean"
        namespace[field["id"]] = values.get(field["id"], False if boolean else "")
    namespace["tower"] = namespace["awx"] = tower
    return namespace


def _templates(injectors: dict):
    for kind in ("file", "env", "extra_vars"):
        for key, template in (injectors.get(kind) or {}).items():
            yield kind, key, template


def semantic_errors(definition: dict) -> list[str]:
    """Errors of layer 2 (AWX's checks in code) and layer 3 (this project's rules)."""
    errors = []
    inputs = definition.get("inputs") or {}
    injectors = definition.get("injectors") or {}
    fields = [f for f in inputs.get("fields") or [] if isinstance(f, dict) and isinstance(f.get("id"), str)]
    ids = [f["id"] for f in fields]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"inputs/fields: field ids must be unique ({dup})")
    labels = [f.get("label") for f in fields]
    for dup in sorted({str(lab) for lab in labels if labels.count(lab) > 1}):
        errors.append(f"inputs/fields: field labels must be unique ({dup})")
    for name in inputs.get("required") or []:
        if name not in ids:
            errors.append(f"inputs/required: {name!r} is not a declared field id")
    labels_of_files = _file_labels(injectors)
    if "template" in labels_of_files and len(labels_of_files) > 1:
        errors.append("injectors/file: use the multi-file syntax (template.<name>) when injecting several files")

    # Render every template as AWX does: a sandbox, StrictUndefined, the declared inputs and tower.filename.
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    example = {f["id"]: (True if f.get("type") == "boolean" else "EXAMPLE") for f in fields}
    namespace = _namespace(fields, example, _tower_namespace(injectors))
    used = set()
    for kind, key, template in _templates(injectors):
        if not isinstance(template, str):
            continue  # reported by the schema
        try:
            used.update(meta.find_undeclared_variables(env.parse(template)))
            env.from_string(template).render(namespace)
        except UndefinedError as exc:
            errors.append(f"injectors/{kind}/{key}: uses an undefined field ({exc})")
        except SecurityError as exc:
            errors.append(f"injectors/{kind}/{key}: unsafe template ({exc})")
        except TemplateSyntaxError as exc:
            errors.append(f"injectors/{kind}/{key}: template syntax error ({exc})")

    # This project's rules.
    for field in fields:
        if SECRET_ID.search(field["id"]) and field.get("type", "string") == "string" and field.get("secret") is not True:
            errors.append(f"inputs/fields/{field['id']}: holds a secret, so it must be 'secret: true'")
        if field["id"] not in used:
            errors.append(f"inputs/fields/{field['id']}: declared but no injector uses it")
    return errors


def validate(definition) -> list[str]:
    """All errors of a credential type definition; an empty list means AWX will accept it."""
    errors = schema_errors(definition)
    if isinstance(definition, dict):
        errors.extend(semantic_errors(definition))
    return errors


def render_injectors(definition: dict, values: dict, private_data_dir: str) -> dict:
    """Do what AWX does when a job with this credential starts.

    Writes each file injector into ``<private_data_dir>/env/`` (mode 0600), renders extra vars and env with
    the credential's values (a missing string input is ``""``, a missing boolean ``False``).
    Returns ``{"extra_vars": {...}, "env": {...}, "files": {label: path}}``.
    """
    injectors = definition.get("injectors") or {}
    fields = (definition.get("inputs") or {}).get("fields") or []
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    plain = _namespace(fields, values, _Tower(_Exploding()))
    files = {}
    for label, template in sorted((injectors.get("file") or {}).items()):
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(env.from_string(template).render(plain))
        os.chmod(path, 0o600)
        files[label] = path
    namespace = _namespace(fields, values, _tower_namespace(injectors, files))
    return {
        "extra_vars": {k: env.from_string(t).render(namespace) for k, t in (injectors.get("extra_vars") or {}).items()},
        "env": {k: env.from_string(t).render(namespace) for k, t in (injectors.get("env") or {}).items()},
        "files": files,
    }


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    status = 0
    for path in argv:
        try:
            errors = validate(load(path))
        except (OSError, yaml.YAMLError) as exc:
            errors = [f"cannot read: {exc}"]
        for error in errors:
            print(f"{path}: {error}")
        if errors:
            status = 1
        else:
            print(f"{path}: OK")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
