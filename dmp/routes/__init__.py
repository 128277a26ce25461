"""Thin FastAPI adapters of the DMP: FHIR base ``/dmp/fhir``, the patient's view ``/dmp/mes/api`` and
the sandbox administration ``/sandbox/api/workspaces/{ws}/dmp``."""
