"""Registration of the `ins` service with the sandbox (see sandbox/services.py)."""

from sandbox.services import Service

service = Service(name="ins", title="INSi and INS identity rules")
