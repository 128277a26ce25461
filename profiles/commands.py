"""``mes-sandbox validate``, registered lazily (sandbox/services.py, "commands")."""

from sandbox.services import Command

command = Command("validate", "Validate FHIR R4 resources against the base spec and the French profiles.",
                  "profiles.cli:register")
