"""The OpenAPI 3.1 description of every HTTP endpoint, served at /openapi.json.

One entry per path, grouped by feature: `paths_core.PATHS` (discovery, JWKS, token, health,
metrics, this document) and `paths_admin.PATHS` (the operator API). A feature that adds an
endpoint adds its path's entry to its section (a new feature: a new `paths_<feature>.py`
and one line in SECTIONS). tests/ops/test_openapi.py fails when the document and the app's
routes disagree, and a schemathesis run holds the responses to the schemas.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
from collections.abc import Mapping

from authgate.web.openapi import components, paths_admin, paths_apps, paths_core, paths_flows

PathItem = dict[str, object]
SECTIONS: tuple[Mapping[str, PathItem], ...] = (
    paths_core.PATHS,
    paths_flows.PATHS,
    paths_admin.PATHS,
    paths_apps.PATHS,
)


def paths() -> dict[str, PathItem]:
    merged: dict[str, PathItem] = {}
    for section in SECTIONS:
        for path, item in section.items():
            if path in merged:
                raise ValueError(f"{path} is described twice")
            merged[path] = item
    return merged


def _version() -> str:
    try:
        return importlib.metadata.version("authgate")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0"


@functools.cache
def _document(issuer: str) -> dict[str, object]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "authgate",
            "version": _version(),
            "summary": "OAuth 2.0 and OpenID Connect authorization server",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": issuer}],
        "paths": paths(),
        "components": components.COMPONENTS,
    }


def document(issuer: str) -> dict[str, object]:
    """The description of the server at `issuer` (a copy the caller may change)."""
    return copy.deepcopy(_document(issuer))
