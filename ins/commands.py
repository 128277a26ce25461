"""``mes-sandbox ins`` and ``mes-sandbox insi``, registered lazily (sandbox/services.py, "commands")."""

from sandbox.services import Command

ins = Command("ins", "INS identity rules: check a matricule and its key.", "ins.cli:register")
insi = Command("insi", "INSi of the running sandbox: search an INS by traits.", "ins.cli:register_insi")
