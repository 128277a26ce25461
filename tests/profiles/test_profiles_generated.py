"""Generated code and shortcuts of the validator give the issues of the general code paths.

Each test validates one corpus (the CR-BIO fixture, the official examples, the golden cases and
random mutations of them) twice — with a fresh model or registry where the fast path is switched
off, and as shipped — and compares every issue, texts included.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
from functools import cache
from typing import Any

import orjson
import pytest
from profiles_testutil import CASES, EXAMPLES, FIXTURES, load

import profiles
from profiles import rule_plan, slicing, walkers
from profiles.base import TABLE, BaseModel, ChildMap
from profiles.bundles import _check_ref, _form, check_bundle, resolve_references
from profiles.context import Ctx
from profiles.element_checks import type_name, values_of
from profiles.profile_check import check_profiles
from profiles.registry import DEFINITIONS_DIR, Registry, default_registry
from profiles.structure import validate_resource
from profiles.terminology import TERMINOLOGY_DIR

JUNK = [None, "", [], {}, 0, -1.5, True, " x", "x ", "2023-02-30", [None], {"a": 1}, {"id": "x"},
        {"reference": "#x"}, "urn:uuid:00000000-0000-0000-0000-000000000000", "Patient/1"]


def _mutants(doc: Any, rng: random.Random, n: int) -> list[Any]:
    """Variants of ``doc`` with one node replaced by junk, deleted, duplicated or grafted."""
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        paths.append(path)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            walk(v, [*path, k])

    walk(doc, [])
    out = []
    for _ in range(n):
        d = copy.deepcopy(doc)
        path = rng.choice(paths[1:])
        parent = d
        for p in path[:-1]:
            parent = parent[p]
        kind = rng.randrange(4)
        if kind == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif kind == 1 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif kind == 2:
            graft = doc
            for p in rng.choice(paths):
                graft = graft[p]
            parent[path[-1]] = copy.deepcopy(graft)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
        out.append(d)
    return out


def _corpus() -> list[tuple[Any, str | None]]:
    rng = random.Random(20)
    fixture = load(FIXTURES / "cr-bio-transaction.json")
    examples = [load(p) for p in sorted(EXAMPLES.glob("*/*.json"))]
    cases = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        try:
            cases.append((load(case / "input.json"), load(case / "expected.json").get("profile")))
        except ValueError:
            continue  # cases of unreadable JSON
    docs: list[tuple[Any, str | None]] = [(fixture, None), *((e, None) for e in examples), *cases]
    docs += [(m, None) for m in _mutants(fixture, rng, 150)]
    for e in rng.sample(examples, 12):
        docs += [(m, None) for m in _mutants(e, rng, 10)]
    return docs


CORPUS = _corpus()


def _issues(docs: list[tuple[Any, str | None]], registry: Registry) -> list[list[tuple[str, ...]]]:
    return [[(i.severity.value, i.code.value, i.expression, i.message_id, i.text_en, i.text_fr, i.hint, i.key)
             for i in profiles.validate(doc, profile, registry=registry)] for doc, profile in docs]


@cache
def _shipped() -> list[list[tuple[str, ...]]]:
    return _issues(CORPUS, default_registry())


def _registry(model: BaseModel | None = None) -> Registry:
    reg = Registry(model or BaseModel(orjson.loads(gzip.decompress(TABLE.read_bytes()))))
    reg.add_core_profiles()
    reg.terminology.load_dir(TERMINOLOGY_DIR)
    reg.load_dir(DEFINITIONS_DIR)
    return reg


def test_corpus_has_issues_to_compare() -> None:
    flat = [i for issues in _shipped() for i in issues]
    assert len(flat) > 1000 and len({i[3] for i in flat}) > 40  # message ids


def test_generated_walkers_agree_with_the_generic_walker(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _shipped()
    monkeypatch.setattr(walkers, "MAX_CHILDREN", -1)  # every context walked by structure.walk
    assert _issues(CORPUS, _registry()) == expected


def test_required_shortcut_agrees_with_counting() -> None:
    class Counting(BaseModel):
        def _build(self, ctx: str) -> ChildMap:
            cmap = super()._build(ctx)
            cmap.required_keys = None  # every required element counted under every spelling
            return cmap

    counting = Counting(orjson.loads(gzip.decompress(TABLE.read_bytes())))
    assert _issues(CORPUS, _registry(counting)) == _shipped()


def test_inlined_child_rules_agree_with_their_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _shipped()
    # no single value inlined: every child rule through its closure, items and element check
    monkeypatch.setattr(rule_plan, "_single_ok", lambda _rule: False)
    assert _issues(CORPUS, _registry()) == expected


def _retargeted(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The Bundle with each reference of an entry pointed at each entry in turn (target types the
    base or the profile refuse), or at nothing."""
    urls = [e["fullUrl"] for e in bundle["entry"]] + ["urn:uuid:00000000-0000-0000-0000-000000000000"]
    out = []
    for i, entry in enumerate(bundle["entry"][:6]):
        for key, value in entry["resource"].items():
            refs = value if isinstance(value, list) else [value]
            if refs and isinstance(refs[0], dict) and "reference" in refs[0]:
                for url in urls:
                    d = copy.deepcopy(bundle)
                    target = d["entry"][i]["resource"][key]
                    (target[0] if isinstance(target, list) else target)["reference"] = url
                    out.append(d)
    return out


def test_bundle_reference_shortcut_agrees_with_check_ref() -> None:
    reg = default_registry()
    bundles = _retargeted(load(FIXTURES / "cr-bio-transaction.json"))  # type: ignore[arg-type]
    assert len(bundles) > 100
    for doc, _profile in CORPUS + [(b, None) for b in bundles]:
        if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
            continue
        ctx = Ctx(reg)
        if not validate_resource(ctx, doc, "Bundle"):
            continue
        check_profiles(ctx, doc, "Bundle", None)
        ctx.issues = []
        resolve_references(ctx)
        fast = ctx.issues
        ctx.issues = []
        tables = {bid: check_bundle(ctx, bundle, loc) for bid, (bundle, loc) in ctx.bundle_nodes.items()}
        for site in ctx.refs:  # every reference by the general check
            form = _form(site.reference, reg.model)
            if not site.reference.startswith("#"):
                _check_ref(ctx, site, form, tables.get(site.bundle) if site.bundle is not None else None)
        assert ctx.issues == fast


def test_slice_finders_agree_with_matching() -> None:
    reg = default_registry()
    values = []
    for doc, _profile in CORPUS[:120]:
        stack = [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                values.append(node)
                stack += node.values()
            elif isinstance(node, list):
                stack += node
    checked = 0
    for url in sorted(reg.sds):
        rules = [reg.compiled(url).root]
        while rules:
            rule = rules.pop()
            rules += [*rule.children.values(), *rule.slices.values()]
            if not rule.slices:
                continue
            s = rule.slicing or (slicing._EXT_SLICING if rule.name in ("extension", "modifierExtension")
                                 else slicing._NO_DISCRIMINATOR)
            slices = tuple((name, r, slicing._plan(reg, r, s.discriminators)) for name, r in rule.slices.items())
            find = slicing._finder(slices, s.discriminators)
            if find is None:
                continue
            ctx = Ctx(reg)
            for value in values:
                idx = find(ctx, value, "")
                if idx is None:
                    continue
                dvals: list[Any] = [None] * len(s.discriminators)
                general = next((i for i, (_n, r, plan) in enumerate(slices)
                                if slicing._matches(ctx, r, plan, value, "", dvals, value, value)), -1)
                assert idx == general, (url, rule.path, json.dumps(value)[:200])
                checked += 1
    assert checked > 1000


def test_choice_values_agree_with_a_prefix_scan() -> None:
    def by_prefix(node: dict[str, Any], name: str) -> list[tuple[Any, str, str]]:
        base = name[:-3]
        return [(node[k], f"L.{base}.ofType({type_name(k[len(base):])})", type_name(k[len(base):]))
                for k in node if k.startswith(base) and len(k) > len(base) and k[len(base)].isupper()]

    rng = random.Random(4)
    alphabet = ["v", "a", "l", "u", "e", "V", "Q", "x", "é", "É", "\uffff", "\U0010ffff", "w", "f"]
    for _ in range(20000):
        node = {"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7))): 1 for _ in range(rng.randint(0, 5))}
        for name in ("value[x]", "e[x]", "[x]", "va\uffff[x]"):
            assert values_of(node, name, "L") == by_prefix(node, name), (node, name)
