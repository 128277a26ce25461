"""Annuaire Santé FHIR directory of MSSanté mailboxes built from a workspace's personas (FACTS §2.6).

Public API: :func:`build_directory` (persona dicts -> :class:`Directory`), :meth:`Directory.mailbox`
(is an address listed, with its BAL type), :func:`directory_of` (the directory of a workspace),
:func:`search`. HTTP: ``/annuaire/fhir`` (see README.md beside this file).
"""

from mss.annuaire.resources import BAL_TYPES, Directory, build_directory, mailbox_telecom, mailbox_type
from mss.annuaire.search import SearchResult, search
from mss.annuaire.workspace_directory import directory_of

__all__ = ["BAL_TYPES", "Directory", "SearchResult", "build_directory", "directory_of", "mailbox_telecom",
           "mailbox_type", "search"]
