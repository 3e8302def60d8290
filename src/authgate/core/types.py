"""Closed vocabularies of the protocol (StrEnums compare equal to their wire strings)."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

ClientId = NewType("ClientId", str)
Subject = NewType("Subject", str)
GrantId = NewType("GrantId", str)


class GrantType(StrEnum):
    """RFC 6749 §4, RFC 8628 §3.4: the registered grant type names."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"
    DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


class ResponseType(StrEnum):
    """RFC 6749 §3.1.1: authgate issues codes only (RFC 9700 §2.1.2: no implicit flow)."""

    CODE = "code"


class ResponseMode(StrEnum):
    """OAuth 2.0 Multiple Response Types §2.1 and Form Post Response Mode §2."""

    QUERY = "query"
    FRAGMENT = "fragment"
    FORM_POST = "form_post"


class Prompt(StrEnum):
    """OIDC Core §3.1.2.1 `prompt` values."""

    NONE = "none"
    LOGIN = "login"
    CONSENT = "consent"
    SELECT_ACCOUNT = "select_account"


class Display(StrEnum):
    """OIDC Core §3.1.2.1 `display` values."""

    PAGE = "page"
    POPUP = "popup"
    TOUCH = "touch"
    WAP = "wap"


class TokenTypeHint(StrEnum):
    """RFC 7009 §2.1 and RFC 7662 §2.1 `token_type_hint` values."""

    ACCESS_TOKEN = "access_token"
    REFRESH_TOKEN = "refresh_token"


class ClientAuthMethod(StrEnum):
    """RFC 7591 §2 / OIDC Core §9 token endpoint authentication methods."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


class AccessTokenFormat(StrEnum):
    """Opaque handles, or RFC 9068 JWTs."""

    OPAQUE = "opaque"
    JWT = "jwt"


class SigningAlg(StrEnum):
    """The JWS algorithms authgate signs with (RFC 7518 §3.1)."""

    ES256 = "ES256"
    RS256 = "RS256"


class ApplicationType(StrEnum):
    """OIDC Registration §2 `application_type`."""

    WEB = "web"
    NATIVE = "native"


class DeviceStatus(StrEnum):
    """RFC 8628: the life of a device code."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CONSUMED = "consumed"


class RevokedBy(StrEnum):
    """Why a token or grant was revoked; approval undoes only OPERATOR (SECURITY.md SEC-86)."""

    OPERATOR = "operator"
    CLIENT = "client"  # RFC 7009 revocation request by the client itself
    USER = "user"  # the user ended the grant ("connected apps", logout of offline grants)
    REPLAY = "replay"  # refresh token reuse detected (RFC 9700 §4.14.2)
    CODE_REUSE = "code_reuse"  # authorization code redeemed twice (RFC 6749 §4.1.2)
    DEVICE_CODE_REUSE = "device_code_reuse"  # device code polled after it yielded tokens
