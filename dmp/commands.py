"""``mes-sandbox dmp``, registered lazily (sandbox/services.py, "commands")."""

from sandbox.services import Command

command = Command("dmp", "DMP of the running sandbox: deposit a document (ITI-65).", "dmp.cli:register")
