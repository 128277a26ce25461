"""Registration of the `psc` service with the sandbox (see sandbox/services.py)."""

from sandbox.services import Service

service = Service(name="psc", title="Pro Santé Connect")
