"""Texts of the catalogue for the checks added with issue 16 (profile problems, extensions,
min/max values, Bundle rules, datatype limits, conformance resources); merged into
:data:`profiles.messages.CATALOGUE` (kept apart so each module stays readable).
"""

from __future__ import annotations

# message id value -> (french, english, hint)
MORE: dict[str, tuple[str, str, str]] = {
    "PROF_ELEMENT_UNKNOWN": (
        "Erreur dans le profil {url} : l'élément {path} n'existe pas en FHIR R4 ; il est ignoré "
        "(l'instance n'est pas en cause)",
        "Error in profile {url}: element {path} does not exist in FHIR R4; it is ignored "
        "(the instance is not at fault)",
        "Fix the profile's element path (the instance needs no change).",
    ),
    "PROF_IG_DEPENDENCY_MISSING": (
        "Le guide {url} dépend du paquet {package} ({version}), non chargé : ses profils sont inconnus ici",
        "Guide {url} depends on package {package} ({version}), which is not loaded: its profiles are unknown here",
        "Give that package with --ig as well (a .tgz or its folder).",
    ),
    "PROF_UNUSABLE": (
        "Le profil {url} est inutilisable (StructureDefinition mal formée : {reason}) ; il n'est pas appliqué",
        "Profile {url} is unusable (malformed StructureDefinition: {reason}); it is not applied",
        "Fix the StructureDefinition given with --ig (element, type and binding shapes of FHIR R4).",
    ),
    "PROF_NONE_MATCHES": (
        "La valeur ({found}) n'est conforme à aucun des profils autorisés : {urls}",
        "The value ({found}) conforms to none of the allowed profiles: {urls}",
        "Make the value conform to one of the listed profiles.",
    ),
    "REF_UNRESOLVED_WARNING": (
        "Référence '{ref}' introuvable dans le Bundle ({type} : FHIR R4 n'exige la résolution que dans les "
        "documents et les transactions)",
        "Reference '{ref}' cannot be resolved inside the Bundle ({type}: FHIR R4 requires resolution only in "
        "documents and transactions)",
        "Add an entry whose fullUrl is '{ref}' if the receiver needs the resource.",
    ),
    "EXT_CONTEXT": (
        "L'extension {url} n'est pas autorisée ici ({path}) ; contextes permis : {contexts}",
        "Extension {url} is not allowed here ({path}); allowed contexts: {contexts}",
        "Move the extension to an element its definition allows, or use another extension.",
    ),
    "EXT_CONTEXT_INVARIANT": (
        "L'extension {url} ne respecte pas l'invariant de contexte de sa définition : {rule}",
        "Extension {url} breaks a context invariant of its definition: {rule}",
        "Use the extension only where its definition's contextInvariant holds.",
    ),
    "QR_LINKID_UNKNOWN": (
        "L'item '{link_id}' n'existe pas à cet endroit du questionnaire {url}",
        "Item '{link_id}' does not exist at this place of questionnaire {url}",
        "Use the linkId of an item of the questionnaire, nested as in the questionnaire.",
    ),
    "QR_REQUIRED": (
        "L'item obligatoire '{link_id}' du questionnaire {url} est absent ou sans réponse",
        "Required item '{link_id}' of questionnaire {url} is missing or has no answer",
        "Answer every item the questionnaire marks required (status completed).",
    ),
    "QR_ANSWER_TYPE": (
        "Réponse de type {found} pour l'item '{link_id}' de type {type} (attendu : {expected})",
        "Answer of type {found} for item '{link_id}' of type {type} (expected: {expected})",
        "Answer with value[x] of the type the questionnaire item asks for.",
    ),
    "QR_ANSWER_NOT_ALLOWED": (
        "L'item '{link_id}' de type {type} ne prend pas de réponse",
        "Item '{link_id}' of type {type} takes no answer",
        "Put answers on question items only (not on group or display items).",
    ),
    "QR_REPEATS": (
        "L'item '{link_id}' ne se répète pas mais a {count} réponses",
        "Item '{link_id}' does not repeat but has {count} answers",
        "Give one answer, or mark the questionnaire item repeats = true.",
    ),
    "QR_ANSWER_OPTION": (
        "La réponse {found} de l'item '{link_id}' n'est pas l'une de ses options ({options})",
        "Answer {found} of item '{link_id}' is not one of its options ({options})",
        "Answer with one of the item's answerOption values.",
    ),
    "QR_ANSWER_VALUESET": (
        "La réponse {found} de l'item '{link_id}' n'est pas dans son jeu de valeurs {vs}",
        "Answer {found} of item '{link_id}' is not in its value set {vs}",
        "Answer with a code of the item's answerValueSet.",
    ),
    "QR_MAX_LENGTH": (
        "La réponse de l'item '{link_id}' fait {length} caractères (maximum {max})",
        "The answer of item '{link_id}' is {length} characters long (maximum {max})",
        "Shorten the answer to the item's maxLength.",
    ),
    "QR_NOT_ENABLED": (
        "L'item '{link_id}' a une réponse alors que ses conditions enableWhen le désactivent",
        "Item '{link_id}' has an answer although its enableWhen conditions disable it",
        "Remove the answer, or answer the questions its enableWhen depends on so that it is enabled.",
    ),
    "EXT_VALUE_TYPE": (
        "L'extension {url} n'accepte pas une valeur de type {found} (attendu : {expected})",
        "Extension {url} does not accept a value of type {found} (expected: {expected})",
        "Use value[x] of a type the extension's definition allows.",
    ),
    "REF_TARGET_PROFILE": (
        "La ressource désignée par '{ref}' n'est conforme à aucun des profils cibles : {urls}",
        "The resource '{ref}' points to conforms to none of the target profiles: {urls}",
        "Make the referenced entry conform to one of the target profiles, or point to another one.",
    ),
    "PROF_VALUE_BELOW_MIN": (
        "Valeur {found} inférieure au minimum autorisé {limit}",
        "Value {found} is below the allowed minimum {limit}",
        "Send a value of at least {limit}.",
    ),
    "PROF_VALUE_ABOVE_MAX": (
        "Valeur {found} supérieure au maximum autorisé {limit}",
        "Value {found} is above the allowed maximum {limit}",
        "Send a value of at most {limit}.",
    ),
    "PROF_VALUE_LIMIT_NOT_COMPARED": (
        "Limite {limit} non vérifiée : unités non comparables ici",
        "Limit {limit} not checked: units not comparable here",
        "No action needed; use the limit's unit to have the value checked.",
    ),
    "BDL_FULLURL_RELATIVE": (
        "fullUrl '{ref}' relative : une URL absolue (ou urn:uuid:, urn:oid:) est attendue",
        "fullUrl '{ref}' is relative: an absolute URL (or urn:uuid:, urn:oid:) is expected",
        "Write the server base before Type/id, or use urn:uuid: for new resources.",
    ),
    "BDL_LINK_DUPLICATE": (
        "Relation de lien '{relation}' répétée : chaque relation n'apparaît qu'une fois",
        "Link relation '{relation}' repeated: each relation appears once",
        "Keep one link per relation (self, next, previous...).",
    ),
    "PRIM_STRING_TOO_LONG": (
        "Chaîne de {length} caractères : FHIR limite une chaîne à 1 Mo (1 048 576 caractères)",
        "String of {length} characters: FHIR limits a string to 1 MB (1,048,576 characters)",
        "Send large content as an Attachment (data or url), not as a string.",
    ),
    "ATT_SIZE": (
        "Attachment.size = {found} alors que les données décodées font {expected} octets",
        "Attachment.size is {found} but the decoded data has {expected} bytes",
        "Set size to the number of bytes of the content (before base64).",
    ),
    "ATT_HASH": (
        "Attachment.hash = {found} ne correspond pas au SHA-1 des données ({expected})",
        "Attachment.hash {found} does not match the SHA-1 of the data ({expected})",
        "Set hash to the base64 of the SHA-1 of the content (before base64).",
    ),
    "CONF_SP_COMPOSITE": (
        "Paramètre de recherche de type {type} : seul un paramètre composite a des composants, et il en a",
        "Search parameter of type {type}: only a composite parameter has components, and it has some",
        "Use type composite with its components, or remove the components.",
    ),
    "CONF_SP_TARGET": (
        "Paramètre de recherche de type {type} : 'target' n'est permis que pour le type reference",
        "Search parameter of type {type}: 'target' is only allowed for type reference",
        "Remove target, or make the parameter a reference parameter.",
    ),
    "CONF_SP_COMPONENT": (
        "Composant '{ref}' : la définition doit être l'URL canonique d'un SearchParameter",
        "Component '{ref}': the definition must be the canonical URL of a SearchParameter",
        "Point component.definition to a SearchParameter.",
    ),
    "CONF_SD_UNKNOWN_PATH": (
        "Élément {path} inexistant dans le type {type} (FHIR R4)",
        "Element {path} does not exist in type {type} (FHIR R4)",
        "Fix the element path (check spelling and the base type).",
    ),
    "CONF_SD_NOT_IN_SNAPSHOT": (
        "Élément {path} du différentiel absent du snapshot",
        "Differential element {path} is missing from the snapshot",
        "Regenerate the snapshot from the differential.",
    ),
    "CONF_SD_SLICE_UNDEFINED": (
        "Tranche {path} sans découpage (slicing) défini sur l'élément qui la précède",
        "Slice {path} without a slicing defined on the element before it",
        "Define slicing (discriminator, rules) on the sliced element.",
    ),
}
