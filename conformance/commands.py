"""``mes-sandbox conformance``, registered lazily (sandbox/services.py, "commands")."""

from sandbox.services import Command

command = Command("conformance", "Conformance suites: run, verify a report, coverage of requirements.",
                  "conformance.cli:register")
