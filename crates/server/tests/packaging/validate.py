"""Schema checks for the files under deploy/, run by crates/server/tests/packaging.rs.

    validate.py k8s FILE...              every document against the Kubernetes
                                         JSON schemas (kubernetes-validate,
                                         strict: unknown fields are errors)
    validate.py compose FILE             the compose file against the Compose
                                         specification (the compose-spec
                                         package's parser), plus depends_on
                                         naming defined services
    validate.py configmap FILE OUTDIR    writes each data key of the
                                         ConfigMaps in FILE to OUTDIR/KEY
    validate.py json FILE                prints FILE's YAML documents as one
                                         JSON array (the Rust test has no
                                         YAML reader of its own)

Exits 0 when everything is valid, 1 with one line per problem otherwise,
and 2 when a validator package is missing (the Rust test turns that into a
skip, or a failure under CI=true).
"""

import os
import sys

try:
    import yaml
except ImportError as e:  # the Rust side turns exit 2 into a skip (a failure under CI)
    print(f"missing validator: {e} (pip install pyyaml)")
    sys.exit(2)

KUBERNETES_VERSION = "1.37.0"


def documents(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def check_k8s(files):
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import ValidationError, SchemaNotFoundError
    except ImportError as e:
        print(f"missing validator: {e} (pip install kubernetes-validate)")
        return 2
    problems = 0
    for path in files:
        for i, doc in enumerate(documents(path)):
            what = f"{path}: document {i} ({doc.get('kind')}/{doc.get('metadata', {}).get('name')})"
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
                print(f"ok {what}")
            except (ValidationError, SchemaNotFoundError) as e:
                msg = getattr(e, "message", str(e))
                print(f"INVALID {what}: {msg}")
                problems += 1
    return 1 if problems else 0


def check_compose(path):
    try:
        from compose_spec import PyCompose
    except ImportError as e:
        print(f"missing validator: {e} (pip install compose-spec)")
        return 2
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        c = PyCompose.from_yaml(text)
        c.validate()
    except ValueError as e:
        print(f"INVALID {path}: {e}")
        return 1
    problems = 0
    names = set(c.service_names())
    raw = yaml.safe_load(text)
    for name, svc in raw["services"].items():
        deps = svc.get("depends_on") or []
        for dep in deps if isinstance(deps, list) else deps.keys():
            if dep not in names:
                print(f"INVALID {path}: services.{name}.depends_on names no service: {dep}")
                problems += 1
    if not problems:
        print(f"ok {path}: services {sorted(names)}")
    return 1 if problems else 0


def extract_configmap(path, outdir):
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for doc in documents(path):
        if doc.get("kind") != "ConfigMap":
            continue
        for key, value in (doc.get("data") or {}).items():
            with open(os.path.join(outdir, key), "w", encoding="utf-8") as f:
                f.write(value)
            print(key)
            n += 1
    if n == 0:
        print(f"INVALID {path}: no ConfigMap data")
        return 1
    return 0


def to_json(path):
    import json

    print(json.dumps(documents(path)))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "k8s":
        return check_k8s(argv[1:])
    if len(argv) == 2 and argv[0] == "compose":
        return check_compose(argv[1])
    if len(argv) == 3 and argv[0] == "configmap":
        return extract_configmap(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "json":
        return to_json(argv[1])
    print(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
