"""Pushes with python-logging-loki (PyPI), a real Loki client: version "1"
sends JSON `values` to /loki/api/v1/push, version "0" the legacy JSON
`entries` to /api/prom/push. Usage: loki_logging.py BASE_URL"""
import logging
import sys

import logging_loki

base = sys.argv[1]
errors = []


class Fail(logging.Handler):
    def emit(self, record):
        errors.append(record.getMessage())


for version, path in (("1", "/loki/api/v1/push"), ("0", "/api/prom/push")):
    handler = logging_loki.LokiHandler(
        url=base + path, tags={"application": "shop", "api": "v" + version}, version=version
    )
    # The handler reports failed pushes through logging.Handler.handleError.
    handler.handleError = lambda record: errors.append("push failed: " + record.getMessage())
    log = logging.getLogger("checkout-v" + version)
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    log.info("order placed")
    log.warning("card declined", extra={"tags": {"reason": "cvc"}})

if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
