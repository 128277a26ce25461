"""``mes-sandbox psc``, registered lazily (sandbox/services.py, "commands")."""

from sandbox.services import Command

command = Command("psc", "Pro Santé Connect: a token for a persona, clients, signing keys.", "psc.cli:register")
