"""Compile a profile StructureDefinition (differential or snapshot) into a rule tree.

FHIR R4 §2.12 ElementDefinition (min/max, type/profile/targetProfile, fixed[x], pattern[x],
binding, constraint) and §5.1.0.13 slicing (``slicing.discriminator`` value/pattern/type/profile/
exists, ``rules`` open/closed/openAtEnd, ``ordered``). Element ids such as
``Patient.identifier:INS-NIR.system`` and ``Observation.value[x]:valueQuantity`` are parsed into
a tree keyed by JSON element name. Constraints whose source is the core specification are left to
the base validator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profiles.corrected_invariants import corrected
from profiles.value_limits import limits_of

NATIVE_CHECK_EXT = "https://mes-sandbox.invalid/fhir/StructureDefinition/native-check"
CORE_SD = "http://hl7.org/fhir/StructureDefinition/"


@dataclass
class Slicing:
    discriminators: list[tuple[str, str]]
    rules: str = "open"
    ordered: bool = False


@dataclass
class Rule:
    name: str  # JSON name, "value[x]" for choices
    path: str
    slice_name: str | None = None
    min: int | None = None
    max: int | None = None  # -1 = *
    types: list[str] | None = None
    type_profiles: list[str] = field(default_factory=list)
    target_types: list[str] = field(default_factory=list)
    target_profiles: list[str] = field(default_factory=list)
    fixed: Any = None
    has_fixed: bool = False
    pattern: Any = None
    has_pattern: bool = False
    binding: tuple[str, str] | None = None  # strength, value set
    #: minValue[x] / maxValue[x] as (type code, value), see profiles.value_limits
    limits: Any = None
    #: additional bindings (extension additional-binding, maxValueSet): (strength, value set)
    extra_bindings: list[tuple[str, str]] = field(default_factory=list)
    constraints: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    children: dict[str, Rule] = field(default_factory=dict)
    slicing: Slicing | None = None
    slices: dict[str, Rule] = field(default_factory=dict)
    #: the rule compiled into checks, on first use (profiles.rule_plan)
    plan: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    def is_empty(self) -> bool:
        return not (self.min is not None or self.max is not None or self.types or self.has_fixed
                    or self.limits or self.extra_bindings
                    or self.has_pattern or self.binding or self.constraints or self.children
                    or self.slicing or self.slices or self.type_profiles or self.target_profiles)


@dataclass
class CompiledProfile:
    url: str
    type: str
    root: Rule
    base: str | None
    mirrors: str | None
    #: element ids of the profile that name no element of the base type (a profile error: the
    #: elements are ignored and reported once per validation, never required of the instance)
    problems: tuple[str, ...] = ()


def known_path(model: Any, rtype: str, eid: str) -> bool:
    """Whether the element id ``eid`` (slices allowed) names an element of R4 type ``rtype``; paths
    below a resource-typed element or an unrenamed choice are not followed (True)."""
    if model is None or rtype not in model.types:
        return True
    ctx = rtype
    segs = _segments(eid)
    for name, _sl in segs:
        cmap = model.childmap(ctx)
        child = cmap.get(name)
        if child is None and name.endswith("[x]"):
            base = name[:-3]
            if any(c.choice and c.name == base for c in cmap.values()):
                return True  # below a choice, its type decides: not followed
        if child is None:
            return False
        if child.kind == 2:  # base.RESOURCE: another resource's elements below
            return True
        ctx = child.ctx or child.type
    return True


def _segments(eid: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for seg in eid.split(".")[1:]:
        if ":" in seg:
            name, sl = seg.split(":", 1)
            out.append((name, sl.split("/", 1)[0]))
        else:
            out.append((seg, None))
    return out


def _node(root: Rule, eid: str) -> Rule:
    cur = root
    for name, sl in _segments(eid):
        n = len(name) - 3
        if name.endswith("[x]") and sl and sl.startswith(name[:-3]) and len(sl) > n and sl[n].isupper():
            # value[x]:valueQuantity is the renamed choice valueQuantity
            name, sl = sl, None
        child = cur.children.get(name)
        if child is None:
            child = cur.children[name] = Rule(name, f"{cur.path}.{name}")
        cur = child
        if sl is not None:
            s = cur.slices.get(sl)
            if s is None:
                s = cur.slices[sl] = Rule(name, f"{cur.path}:{sl}", slice_name=sl)
            cur = s
    return cur


def _value_x(el: dict[str, Any], prefix: str) -> tuple[bool, Any]:
    for k, v in el.items():
        if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper():
            return True, v
    return False, None


#: additional-binding purposes that constrain codes, as a binding strength
_PURPOSES = {"required": "required", "maximum": "required", "extensible": "extensible", "preferred": "preferred"}


def _additional_bindings(extensions: list[Any]) -> list[tuple[str, str]]:
    """Bindings a binding's extensions add: the tooling ``additional-binding`` (purpose required,
    maximum, extensible or preferred) and R4's ``elementdefinition-maxValueSet`` (required)."""
    out: list[tuple[str, str]] = []
    for ext in extensions:
        if not isinstance(ext, dict) or not isinstance(ext.get("url"), str):
            continue
        url = ext["url"]
        if url.endswith("/additional-binding"):
            parts = {p.get("url"): p for p in ext.get("extension", []) if isinstance(p, dict)}
            purpose = (parts.get("purpose") or {}).get("valueCode")
            vs = (parts.get("valueSet") or {}).get("valueCanonical")
            if purpose in _PURPOSES and isinstance(vs, str):
                out.append((_PURPOSES[purpose], vs.split("|", 1)[0]))
        elif url == "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet":
            vs = ext.get("valueCanonical") or ext.get("valueUri")
            if isinstance(vs, str):
                out.append(("required", vs.split("|", 1)[0]))
    return out


def element_type(model: Any, path: str) -> str:
    """The FHIRPath type name of the element at ``path`` (slice names allowed): its datatype when
    it has one type (``Patient.name`` → ``HumanName``), else the element path itself."""
    plain = ".".join(seg.split(":", 1)[0] for seg in path.split("."))
    segs = plain.split(".")
    if model is None or segs[0] not in model.types:
        return plain
    ctx, child = segs[0], None
    for name in segs[1:]:
        child = model.childmap(ctx).get(name)
        if child is None or child.kind == 2 or child.choice:
            return plain
        ctx = child.ctx or child.type
    if child is None:
        return segs[0]
    return child.type if child.ctx in (None, child.type) else plain


def compile_sd(sd: dict[str, Any], mirror_ext: str, model: Any = None, known: Any = ()) -> CompiledProfile:
    """Compile ``sd``; with the base ``model``, elements whose path R4 does not define are left
    out and listed in :attr:`CompiledProfile.problems`."""
    rtype = sd["type"]
    root = Rule(rtype, rtype)
    problems: list[str] = []
    view = sd.get("differential") if sd.get("derivation") == "constraint" and not sd.get("snapshot") else None
    elements = (view or sd.get("snapshot") or sd.get("differential") or {}).get("element", [])
    from_snapshot = view is None and bool(sd.get("snapshot"))
    for el in elements:
        eid = el.get("id") or el.get("path", "")
        if "." in eid and not known_path(model, rtype, eid):
            problems.append(eid)
            continue
        node = root if "." not in eid else _node(root, eid)
        base = el.get("base") or {}
        if "min" in el and not (from_snapshot and base.get("min") == el["min"]):
            node.min = int(el["min"])
        if "max" in el and not (from_snapshot and base.get("max") == el["max"]):
            node.max = -1 if el["max"] == "*" else int(el["max"])
        if node.slice_name and from_snapshot:  # slice cardinality always matters
            node.min = int(el.get("min", 0))
            node.max = -1 if el.get("max", "*") == "*" else int(el.get("max", "*"))
        if el.get("type"):
            node.types = [t["code"] for t in el["type"]]
            for t in el["type"]:
                node.type_profiles += [p.split("|")[0] for p in t.get("profile", [])]
                node.target_profiles += [p.split("|")[0] for p in t.get("targetProfile", [])]
            node.target_types = [p.rsplit("/", 1)[-1] for p in node.target_profiles]
        has, val = _value_x(el, "fixed")
        if has:
            node.fixed, node.has_fixed = val, True
        has, val = _value_x(el, "pattern")
        if has:
            node.pattern, node.has_pattern = val, True
        low, high = limits_of(el)
        if low is not None or high is not None:
            node.limits = (low, high)
        b = el.get("binding")
        if isinstance(b, dict) and b.get("extension"):
            node.extra_bindings += _additional_bindings(b["extension"])
        if b and b.get("valueSet") and b.get("strength") in ("required", "extensible", "preferred"):
            node.binding = (b["strength"], b["valueSet"].split("|")[0])
        for c in el.get("constraint", []):
            src = c.get("source") or ""
            # constraints of the base types are the base validator's; a core profile's own (vs-1) stay
            core_type = src.startswith(CORE_SD) and (model is None or src[len(CORE_SD):] in model.types)
            if core_type or c.get("key", "").startswith(("ele-", "dom-", "ext-")):
                continue
            native = None
            for ext in c.get("extension", []):
                if ext.get("url") == NATIVE_CHECK_EXT:
                    native = ext.get("valueCode")
            if c.get("expression") or native:
                node.constraints.append((c["key"], c.get("severity", "error"), c.get("human", ""),
                                         corrected(c.get("expression", "")), native))
        sl = el.get("slicing")
        if sl:
            node.slicing = Slicing(
                [(d["type"], d["path"]) for d in sl.get("discriminator", [])],
                sl.get("rules", "open"),
                bool(sl.get("ordered", False)),
            )
    base_def = sd.get("baseDefinition")
    mirrors = None
    for ext in sd.get("extension", []):
        if ext.get("url") == mirror_ext:
            mirrors = ext.get("valueCanonical") or ext.get("valueUri")
    # a core base type ends the chain; a core profile we carry (vitalsigns) continues it
    base = base_def if base_def and (not base_def.startswith(CORE_SD) or base_def in known) else None
    return CompiledProfile(sd["url"], rtype, root, base, mirrors, tuple(problems))
