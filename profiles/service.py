"""Registration of the `profiles` service with the sandbox (see sandbox/services.py)."""

from sandbox.services import Service

service = Service(name="profiles", title="French FHIR profiles and validator", fhir_bases=("/profiles/fhir",))
