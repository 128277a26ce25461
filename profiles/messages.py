"""Message catalogue of the validator: stable ids, French and English texts, fix hints.

Reports, CI output and per-workspace policies refer to :class:`MsgId` values, never to text
(STYLE §1). Texts are ``str.format`` templates; every placeholder used by a caller must exist in
both languages. Modelled on the catalogue-by-id practice of the HL7 validator (STYLE anchors).
"""

from __future__ import annotations

from enum import StrEnum


class MsgId(StrEnum):
    # input and structure (FHIR R4 §2.6 JSON representation, §2.4 resources)
    INTERNAL_ERROR = "VALIDATOR_INTERNAL_ERROR"
    JSON_SYNTAX = "STRUCT_JSON_SYNTAX"
    NOT_AN_OBJECT = "STRUCT_NOT_OBJECT"
    NO_RESOURCE_TYPE = "STRUCT_NO_RESOURCE_TYPE"
    UNKNOWN_RESOURCE_TYPE = "STRUCT_UNKNOWN_RESOURCE_TYPE"
    ABSTRACT_RESOURCE_TYPE = "STRUCT_ABSTRACT_RESOURCE_TYPE"
    UNKNOWN_ELEMENT = "STRUCT_UNKNOWN_ELEMENT"
    ARRAY_EXPECTED = "STRUCT_ARRAY_EXPECTED"
    ARRAY_NOT_ALLOWED = "STRUCT_ARRAY_NOT_ALLOWED"
    EMPTY_ARRAY = "STRUCT_EMPTY_ARRAY"
    NULL_VALUE = "STRUCT_NULL_VALUE"
    OBJECT_EXPECTED = "STRUCT_OBJECT_EXPECTED"
    EMPTY_ELEMENT = "STRUCT_EMPTY_ELEMENT"  # ele-1
    CHOICE_MULTIPLE = "STRUCT_CHOICE_MULTIPLE"
    PRIMITIVE_EXT_MISMATCH = "STRUCT_PRIMITIVE_EXT_MISMATCH"
    # cardinality
    MIN_CARDINALITY = "CARD_MIN"
    MAX_CARDINALITY = "CARD_MAX"
    # primitives (FHIR R4 §2.24 datatypes)
    PRIMITIVE_JSON_TYPE = "PRIM_JSON_TYPE"
    PRIMITIVE_FORMAT = "PRIM_FORMAT"
    PRIMITIVE_EMPTY = "PRIM_EMPTY"
    PRIMITIVE_WHITESPACE = "PRIM_WHITESPACE"
    PRIMITIVE_RANGE = "PRIM_RANGE"
    STRING_TOO_LONG = "PRIM_STRING_TOO_LONG"
    ATTACHMENT_SIZE = "ATT_SIZE"
    ATTACHMENT_HASH = "ATT_HASH"
    DATE_IMPOSSIBLE = "PRIM_DATE_IMPOSSIBLE"
    # terminology
    CODE_NOT_IN_VS = "TERM_CODE_NOT_IN_VS"
    CODE_NOT_IN_VS_EXTENSIBLE = "TERM_CODE_NOT_IN_VS_EXTENSIBLE"
    CODE_NOT_IN_VS_PREFERRED = "TERM_CODE_NOT_IN_VS_PREFERRED"
    VS_UNKNOWN = "TERM_VS_UNKNOWN"
    CODE_SYSTEM_ALIAS = "TERM_SYSTEM_ALIAS"
    UCUM_INVALID = "TERM_UCUM_INVALID"
    UCUM_SYSTEM = "TERM_UCUM_SYSTEM"
    # invariants
    INVARIANT_FAILED = "INV_FAILED"
    INVARIANT_NOT_EVALUATED = "INV_NOT_EVALUATED"
    # profiles
    PROFILE_UNKNOWN = "PROF_UNKNOWN"
    PROFILE_WRONG_TYPE = "PROF_WRONG_TYPE"
    PROFILE_CANONICAL_ALIAS = "PROF_CANONICAL_ALIAS"
    FIXED_VALUE = "PROF_FIXED_VALUE"
    VALUE_BELOW_MIN = "PROF_VALUE_BELOW_MIN"
    VALUE_ABOVE_MAX = "PROF_VALUE_ABOVE_MAX"
    VALUE_LIMIT_NOT_COMPARED = "PROF_VALUE_LIMIT_NOT_COMPARED"
    PATTERN_VALUE = "PROF_PATTERN_VALUE"
    TYPE_NOT_ALLOWED = "PROF_TYPE_NOT_ALLOWED"
    REFERENCE_TARGET = "PROF_REFERENCE_TARGET"
    SLICE_UNMATCHED_CLOSED = "SLICE_UNMATCHED_CLOSED"
    SLICE_ORDER = "SLICE_ORDER"
    SLICE_MIN = "SLICE_MIN"
    SLICE_MAX = "SLICE_MAX"
    EXTENSION_UNKNOWN = "EXT_UNKNOWN"
    EXTENSION_URL_MISSING = "EXT_URL_MISSING"
    EXTENSION_CONTEXT = "EXT_CONTEXT"
    EXTENSION_VALUE_TYPE = "EXT_VALUE_TYPE"
    EXTENSION_CONTEXT_INVARIANT = "EXT_CONTEXT_INVARIANT"
    # QuestionnaireResponse against its Questionnaire (FHIR R4 §19.1 Questionnaire, §19.2 QR)
    QR_LINKID_UNKNOWN = "QR_LINKID_UNKNOWN"
    QR_REQUIRED = "QR_REQUIRED"
    QR_ANSWER_TYPE = "QR_ANSWER_TYPE"
    QR_ANSWER_NOT_ALLOWED = "QR_ANSWER_NOT_ALLOWED"
    QR_REPEATS = "QR_REPEATS"
    QR_ANSWER_OPTION = "QR_ANSWER_OPTION"
    QR_NOT_ENABLED = "QR_NOT_ENABLED"
    QR_ANSWER_VALUESET = "QR_ANSWER_VALUESET"
    QR_MAX_LENGTH = "QR_MAX_LENGTH"
    PACKAGE_LOAD = "PROF_PACKAGE_LOAD"
    PROFILE_ELEMENT_UNKNOWN = "PROF_ELEMENT_UNKNOWN"
    PROFILE_NONE_MATCHES = "PROF_NONE_MATCHES"
    PROFILE_UNUSABLE = "PROF_UNUSABLE"
    IG_DEPENDENCY_MISSING = "PROF_IG_DEPENDENCY_MISSING"
    # references and bundles (FHIR R4 §2.36 Bundle, §3.1 document, §3.1.0.11 references)
    REFERENCE_UNRESOLVED = "REF_UNRESOLVED"
    REFERENCE_UNRESOLVED_LENIENT = "REF_UNRESOLVED_WARNING"
    REFERENCE_TARGET_PROFILE = "REF_TARGET_PROFILE"
    REFERENCE_FORMAT = "REF_FORMAT"
    REFERENCE_CONTAINED_UNRESOLVED = "REF_CONTAINED_UNRESOLVED"
    BUNDLE_FULLURL_MISSING = "BDL_FULLURL_MISSING"
    BUNDLE_FULLURL_DUPLICATE = "BDL_FULLURL_DUPLICATE"
    BUNDLE_FULLURL_MISMATCH = "BDL_FULLURL_MISMATCH"
    BUNDLE_FULLURL_RELATIVE = "BDL_FULLURL_RELATIVE"
    BUNDLE_LINK_DUPLICATE = "BDL_LINK_DUPLICATE"
    BUNDLE_REQUEST_URL = "BDL_REQUEST_URL"
    BUNDLE_DOCUMENT_REF = "BDL_DOCUMENT_REF"
    # conformance resources (FHIR R4 §2.12, §3.1.1.4)
    CONF_SP_COMPOSITE = "CONF_SP_COMPOSITE"
    CONF_SP_TARGET = "CONF_SP_TARGET"
    CONF_SP_COMPONENT = "CONF_SP_COMPONENT"
    CONF_SD_UNKNOWN_PATH = "CONF_SD_UNKNOWN_PATH"
    CONF_SD_NOT_IN_SNAPSHOT = "CONF_SD_NOT_IN_SNAPSHOT"
    CONF_SD_SLICE_UNDEFINED = "CONF_SD_SLICE_UNDEFINED"
    # French rules (FACTS §1.3, §1.5, §3.4)
    NIR_KEY = "FR_NIR_KEY"
    NIR_FORMAT = "FR_NIR_FORMAT"
    SYSTEM_SPELLING = "FR_SYSTEM_SPELLING"
    # workspace policy and operation (FHIR R4 Resource-validate)
    POLICY_SUPPRESSED = "POLICY_SUPPRESSED"
    POLICY_INVALID = "POLICY_INVALID"
    OPERATION_TYPE_MISMATCH = "OP_TYPE_MISMATCH"
    OPERATION_UNKNOWN_TYPE = "OP_UNKNOWN_TYPE"


# id -> (french, english, hint)
CATALOGUE: dict[MsgId, tuple[str, str, str]] = {
    MsgId.INTERNAL_ERROR: (
        "Erreur interne du validateur ({error}) : la validation est incomplète",
        "Internal validator error ({error}): validation is incomplete",
        "Report this input to the sandbox maintainers; the content may still be valid.",
    ),
    MsgId.JSON_SYNTAX: (
        "JSON illisible : {reason}",
        "Unreadable JSON: {reason}",
        "Send well-formed JSON (UTF-8).",
    ),
    MsgId.NOT_AN_OBJECT: (
        "Le contenu n'est pas un objet JSON ({found})",
        "The content is not a JSON object ({found})",
        "Send one FHIR resource as a JSON object.",
    ),
    MsgId.NO_RESOURCE_TYPE: (
        "L'élément 'resourceType' est absent",
        "The 'resourceType' element is missing",
        "Add \"resourceType\" with the name of the FHIR resource.",
    ),
    MsgId.UNKNOWN_RESOURCE_TYPE: (
        "Type de ressource inconnu en FHIR R4 : '{name}'",
        "Unknown FHIR R4 resource type '{name}'",
        "Use a resource type of FHIR R4 4.0.1 (check spelling and case).",
    ),
    MsgId.ABSTRACT_RESOURCE_TYPE: (
        "Le type '{name}' est abstrait et ne peut pas être instancié",
        "Type '{name}' is abstract and cannot be instantiated",
        "Use a concrete resource type.",
    ),
    MsgId.UNKNOWN_ELEMENT: (
        "Élément inconnu '{name}' (non défini dans {context})",
        "Unknown element '{name}' (not defined in {context})",
        "Remove the element or check its spelling; new data goes into an extension.",
    ),
    MsgId.ARRAY_EXPECTED: (
        "L'élément '{name}' est répétable et doit être un tableau JSON",
        "Element '{name}' repeats and must be a JSON array",
        "Wrap the value in [ ].",
    ),
    MsgId.ARRAY_NOT_ALLOWED: (
        "L'élément '{name}' n'est pas répétable (max 1) mais un tableau a été trouvé",
        "Element '{name}' does not repeat (max 1) but an array was found",
        "Send a single value, not an array.",
    ),
    MsgId.EMPTY_ARRAY: (
        "Tableau vide pour '{name}' : les tableaux vides sont interdits en FHIR JSON",
        "Empty array for '{name}': empty arrays are not allowed in FHIR JSON",
        "Omit the element instead of sending [].",
    ),
    MsgId.NULL_VALUE: (
        "Valeur null pour '{name}' : null n'est permis que dans les tableaux de primitives alignés",
        "Null value for '{name}': null is only allowed in aligned primitive arrays",
        "Omit the element instead of sending null.",
    ),
    MsgId.OBJECT_EXPECTED: (
        "L'élément '{name}' de type {type} doit être un objet JSON (trouvé : {found})",
        "Element '{name}' of type {type} must be a JSON object (found: {found})",
        "Send an object with the element's children.",
    ),
    MsgId.EMPTY_ELEMENT: (
        "Élément vide : tout élément FHIR doit avoir une valeur ou des enfants (ele-1)",
        "Empty element: every FHIR element must have a value or children (ele-1)",
        "Remove the empty element or give it content.",
    ),
    MsgId.CHOICE_MULTIPLE: (
        "Plusieurs types donnés pour le choix '{name}[x]' : {found}",
        "Several types given for choice '{name}[x]': {found}",
        "Keep exactly one of the value[x] variants.",
    ),
    MsgId.PRIMITIVE_EXT_MISMATCH: (
        "Le tableau '_{name}' n'est pas aligné avec '{name}'",
        "Array '_{name}' is not aligned with '{name}'",
        "Both arrays must have the same length; use null for missing positions.",
    ),
    MsgId.MIN_CARDINALITY: (
        "'{name}' : minimum requis = {min}, trouvé {count}",
        "'{name}': minimum required = {min}, found {count}",
        "Add the missing element '{name}'.",
    ),
    MsgId.MAX_CARDINALITY: (
        "'{name}' : maximum autorisé = {max}, trouvé {count}",
        "'{name}': maximum allowed = {max}, found {count}",
        "Remove the surplus occurrences of '{name}'.",
    ),
    MsgId.PRIMITIVE_JSON_TYPE: (
        "Type JSON incorrect pour un {type} : attendu {expected}, trouvé {found}",
        "Wrong JSON type for a {type}: expected {expected}, found {found}",
        "FHIR JSON: boolean as true/false, integer and decimal as numbers, everything else as strings.",
    ),
    MsgId.PRIMITIVE_FORMAT: (
        "Valeur '{value}' invalide pour le type {type}",
        "Value '{value}' is not a valid {type}",
        "Check the format of {type} in FHIR R4 §2.24 (datatypes).",
    ),
    MsgId.PRIMITIVE_EMPTY: (
        "Chaîne vide pour un {type} : interdit",
        "Empty string for a {type}: not allowed",
        "Omit the element instead of sending \"\".",
    ),
    MsgId.PRIMITIVE_WHITESPACE: (
        "La valeur de type {type} commence ou finit par des espaces",
        "The {type} value has leading or trailing whitespace",
        "Trim the value.",
    ),
    MsgId.PRIMITIVE_RANGE: (
        "Valeur {value} hors bornes pour le type {type}",
        "Value {value} out of range for type {type}",
        "Use a value within the range of {type}.",
    ),
    MsgId.DATE_IMPOSSIBLE: (
        "Date impossible : '{value}'",
        "Impossible date: '{value}'",
        "Use a real calendar date (day within the month, leap years).",
    ),
    MsgId.CODE_NOT_IN_VS: (
        "Le code {code} n'appartient pas au jeu de valeurs requis {vs}",
        "Code {code} is not in the required value set {vs}",
        "Use a code of {vs} (binding strength required).",
    ),
    MsgId.CODE_NOT_IN_VS_EXTENSIBLE: (
        "Le code {code} n'appartient pas au jeu de valeurs extensible {vs}",
        "Code {code} is not in the extensible value set {vs}",
        "Use a code of {vs} when one fits; another code is allowed only if none applies.",
    ),
    MsgId.CODE_NOT_IN_VS_PREFERRED: (
        "Le code {code} n'appartient pas au jeu de valeurs recommandé {vs}",
        "Code {code} is not in the preferred value set {vs}",
        "Prefer a code of {vs}.",
    ),
    MsgId.VS_UNKNOWN: (
        "Jeu de valeurs {vs} non disponible hors ligne : code non vérifié",
        "Value set {vs} is not available offline: code not checked",
        "Load a package that carries this value set to check it.",
    ),
    MsgId.CODE_SYSTEM_ALIAS: (
        "Système {system} accepté comme variante de {canonical}",
        "System {system} accepted as a variant of {canonical}",
        "Prefer the canonical URL {canonical}.",
    ),
    MsgId.UCUM_INVALID: (
        "Unité UCUM invalide '{code}' : {reason}",
        "Invalid UCUM unit '{code}': {reason}",
        "Write the unit in UCUM case-sensitive syntax (e.g. mmol/L, 10*9/L, g/dL, %).",
    ),
    MsgId.UCUM_SYSTEM: (
        "Quantité avec un code d'unité sans système UCUM (trouvé : {system})",
        "Quantity with a unit code but not the UCUM system (found: {system})",
        "Set system to http://unitsofmeasure.org and code to the UCUM unit.",
    ),
    MsgId.INVARIANT_FAILED: (
        "Contrainte {key} non respectée : {human}",
        "Constraint {key} failed: {human}",
        "Make the data satisfy the rule {key}: {expr}",
    ),
    MsgId.INVARIANT_NOT_EVALUATED: (
        "Contrainte {key} non évaluée (expression FHIRPath non prise en charge : {reason})",
        "Constraint {key} not evaluated (unsupported FHIRPath expression: {reason})",
        "No action needed from the sender; the rule was skipped by this validator.",
    ),
    MsgId.PROFILE_UNKNOWN: (
        "Profil inconnu : {url}",
        "Unknown profile: {url}",
        "Check the canonical URL or load the package that defines it (--package).",
    ),
    MsgId.PROFILE_WRONG_TYPE: (
        "Le profil {url} s'applique à {expected}, pas à {found}",
        "Profile {url} applies to {expected}, not to {found}",
        "Use a profile made for this resource type.",
    ),
    MsgId.PROFILE_CANONICAL_ALIAS: (
        "Profil {url} validé avec son équivalent {canonical}",
        "Profile {url} validated with its equivalent {canonical}",
        "Informational: the official canonical was mapped to the sandbox profile.",
    ),
    MsgId.FIXED_VALUE: (
        "Valeur {found} différente de la valeur fixée {expected}",
        "Value {found} differs from the fixed value {expected}",
        "Use exactly {expected}.",
    ),
    MsgId.PATTERN_VALUE: (
        "La valeur ne correspond pas au motif attendu {expected}",
        "The value does not match the required pattern {expected}",
        "Include at least the content {expected}.",
    ),
    MsgId.TYPE_NOT_ALLOWED: (
        "Type {found} non autorisé ici (autorisés : {expected})",
        "Type {found} not allowed here (allowed: {expected})",
        "Use one of: {expected}.",
    ),
    MsgId.REFERENCE_TARGET: (
        "La référence vise un(e) {found}, attendu : {expected}",
        "The reference points to a {found}, expected: {expected}",
        "Reference a resource of type {expected}.",
    ),
    MsgId.SLICE_UNMATCHED_CLOSED: (
        "L'occurrence ne correspond à aucune tranche (slice) du découpage fermé de '{name}'",
        "The item matches no slice of the closed slicing of '{name}'",
        "Use one of the slices defined by the profile: {slices}.",
    ),
    MsgId.SLICE_ORDER: (
        "Les tranches de '{name}' ne sont pas dans l'ordre du profil",
        "The slices of '{name}' are not in the profile's order",
        "Order the items as the profile's slices: {slices}.",
    ),
    MsgId.SLICE_MIN: (
        "Tranche '{slice}' de '{name}' : minimum requis = {min}, trouvé {count}",
        "Slice '{slice}' of '{name}': minimum required = {min}, found {count}",
        "Add an item matching slice '{slice}' ({discriminator}).",
    ),
    MsgId.SLICE_MAX: (
        "Tranche '{slice}' de '{name}' : maximum autorisé = {max}, trouvé {count}",
        "Slice '{slice}' of '{name}': maximum allowed = {max}, found {count}",
        "Keep at most {max} item(s) matching slice '{slice}'.",
    ),
    MsgId.EXTENSION_UNKNOWN: (
        "Extension inconnue : {url} (non vérifiée)",
        "Unknown extension: {url} (not checked)",
        "Load its definition (--ig); a workspace policy {{\"EXT_UNKNOWN\": \"error\"}} refuses unknown extensions.",
    ),
    MsgId.EXTENSION_URL_MISSING: (
        "Extension sans 'url'",
        "Extension without 'url'",
        "Every extension must carry its canonical 'url'.",
    ),
    MsgId.PACKAGE_LOAD: (
        "Paquet FHIR illisible : {reason}",
        "Unreadable FHIR package: {reason}",
        "Give a .tgz FHIR package (npm layout, package/*.json).",
    ),
    MsgId.REFERENCE_UNRESOLVED: (
        "Référence '{ref}' introuvable dans le Bundle ({type} : la résolution est exigée)",
        "Reference '{ref}' cannot be resolved inside the Bundle ({type}: resolution is required)",
        "Add an entry whose fullUrl is '{ref}', or fix the reference.",
    ),
    MsgId.REFERENCE_FORMAT: (
        "Référence '{ref}' mal formée",
        "Malformed reference '{ref}'",
        "Use Type/id, an absolute URL, urn:uuid:<uuid>, urn:oid:<oid> or #id.",
    ),
    MsgId.REFERENCE_CONTAINED_UNRESOLVED: (
        "Référence interne '{ref}' : aucune ressource contenue avec cet id",
        "Internal reference '{ref}': no contained resource has that id",
        "Add the contained resource or fix the '#id'.",
    ),
    MsgId.BUNDLE_FULLURL_MISSING: (
        "Entrée de Bundle sans fullUrl",
        "Bundle entry without fullUrl",
        "Give each entry a fullUrl (urn:uuid:<uuid> for new resources).",
    ),
    MsgId.BUNDLE_FULLURL_DUPLICATE: (
        "fullUrl '{ref}' en double dans le Bundle",
        "Duplicate fullUrl '{ref}' in the Bundle",
        "Each entry needs its own fullUrl.",
    ),
    MsgId.BUNDLE_FULLURL_MISMATCH: (
        "fullUrl '{ref}' ne correspond pas à la ressource {type}/{id}",
        "fullUrl '{ref}' does not match resource {type}/{id}",
        "The fullUrl must end with {type}/{id}.",
    ),
    MsgId.BUNDLE_REQUEST_URL: (
        "request.url '{ref}' incohérent avec la méthode {method} et la ressource {type}",
        "request.url '{ref}' inconsistent with method {method} and resource {type}",
        "POST uses '{type}', PUT uses '{type}/<id>' (FHIR R4 §3.1.0.11.2).",
    ),
    MsgId.BUNDLE_DOCUMENT_REF: (
        "Document FHIR : la référence '{ref}' doit être résolue dans le Bundle",
        "FHIR document: reference '{ref}' must resolve inside the Bundle",
        "Include every referenced resource in the document Bundle.",
    ),
    MsgId.NIR_KEY: (
        "Clé NIR invalide pour '{value}' : clé {found}, attendue {expected} "
        "(97 − (13 premiers chiffres mod 97), 2A→19, 2B→18)",
        "Invalid NIR key for '{value}': key {found}, expected {expected} (97 − (first 13 digits mod 97), 2A→19, 2B→18)",
        "Take the matricule INS as returned by INSi (NumIdentifiant + Cle); do not type it by hand.",
    ),
    MsgId.NIR_FORMAT: (
        "Matricule INS '{value}' mal formé : 15 caractères attendus (13 + clé de 2 chiffres)",
        "Malformed INS matricule '{value}': 15 characters expected (13 + 2-digit key)",
        "Send the 15-character matricule (NumIdentifiant + Cle).",
    ),
    MsgId.SYSTEM_SPELLING: (
        "Système '{system}' : orthographe non canonique acceptée, attendu '{canonical}'",
        "System '{system}': non-canonical spelling accepted, expected '{canonical}'",
        "Use '{canonical}'.",
    ),
    MsgId.POLICY_SUPPRESSED: (
        "{count} problème(s) '{id}' masqué(s) par la politique de l'espace de travail",
        "{count} issue(s) '{id}' suppressed by the workspace policy",
        "Change the workspace option profiles.policy to see them again.",
    ),
    MsgId.POLICY_INVALID: (
        "Politique de l'espace de travail : entrée ignorée ({problem})",
        "Workspace policy: entry ignored ({problem})",
        "Map a known message id (or INV_FAILED:<key>) to fatal, error, warning, information or suppress.",
    ),
    MsgId.OPERATION_TYPE_MISMATCH: (
        "Le type de ressource de l'URL ({expected}) ne correspond pas au corps ({found})",
        "The resource type in the URL ({expected}) does not match the body ({found})",
        "POST a {expected} to [base]/{expected}/$validate, or use [base]/$validate.",
    ),
    MsgId.OPERATION_UNKNOWN_TYPE: (
        "Type de ressource FHIR R4 inconnu dans l'URL : {name}",
        "Unknown FHIR R4 resource type in the URL: {name}",
        "Use a concrete R4 resource type, e.g. [base]/Patient/$validate.",
    ),
}


def render(msg: MsgId, lang: str, **args: object) -> str:
    fr, en, _hint = CATALOGUE[msg]
    return (fr if lang == "fr" else en).format(**args)


def _more() -> None:
    from profiles.messages_more import MORE

    CATALOGUE.update({MsgId(k): v for k, v in MORE.items()})


_more()
