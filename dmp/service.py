"""Registration of the `dmp` service with the sandbox (see sandbox/services.py)."""

from sandbox.services import Service

service = Service(name="dmp", title="DMP document store (PDSm / MHD)")
