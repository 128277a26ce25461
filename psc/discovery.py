"""Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2), served as PSC serves it: at
``<issuer>/.well-known/wallet-openid-configuration``, with the authorization endpoint on the wallet
(FACTS §4, §8 item 7). The standard ``.well-known/openid-configuration`` answers 404 unless the
leniency ``MES_SANDBOX_PSC_STANDARD_DISCOVERY`` is on. Only what is implemented is advertised."""

from __future__ import annotations

from typing import Any

from psc.client_auth import ASSERTION_ALGS, AUTHENTICATORS
from psc.grants import GRANTS
from psc.keys import SUPPORTED_ALGS
from psc.rfc7636 import METHODS
from psc.runtime import Psc
from psc.scopes import ACR_VALUES, SCOPES

WALLET_DOCUMENT = "wallet-openid-configuration"
STANDARD_DOCUMENT = "openid-configuration"

CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "idp",
          "at_hash", "preferred_username", "given_name", "family_name", "email", "email_verified",
          "codeCivilite", "SubjectNameID", "SubjectRefPro", "otherIds", "SubjectOrganization",
          "SubjectOrganizationID", "SubjectRole", "Secteur_Activite", "codeGenreActivite",
          "Mode_Acces_Raison", "Acces_Regulation_Medicale", "UITVersion", "Palier_Authentification",
          "PSI_Locale", "authMode")


def metadata(rt: Psc, workspace: str | None = None) -> dict[str, Any]:
    """The metadata of ``workspace``'s issuer (None: the default workspace's)."""
    auth_methods = list(AUTHENTICATORS)
    return {
        "issuer": rt.issuer_for(workspace),
        "authorization_endpoint": rt.authorization_endpoint,
        "token_endpoint": rt.endpoint("token", workspace),
        "userinfo_endpoint": rt.endpoint("userinfo", workspace),
        "introspection_endpoint": rt.endpoint("token/introspect", workspace),
        "end_session_endpoint": rt.endpoint("logout", workspace),
        "jwks_uri": rt.endpoint("certs", workspace),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANTS),
        "subject_types_supported": ["public"],
        "acr_values_supported": list(ACR_VALUES),
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "userinfo_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "code_challenge_methods_supported": list(METHODS),
        "claims_supported": list(CLAIMS),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["fr"],
    }
