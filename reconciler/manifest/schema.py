"""The JSON Schema of reconciler/v1 manifests, generated from the models so it cannot drift.

Editors use it (through the ``yaml-language-server`` modeline in each fleet file) to complete and
check manifests as they are typed. It knows what one document may hold; what only the loader can
know (references, duplicates, uid clashes, quotas, the API's channel rules) is not in it.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import TypeAdapter

from reconciler.manifest import models

COMMITTED_PATH: Final = "fleet/.schema/reconciler-v1.json"


def manifest_schema() -> dict[str, Any]:
    """One document of any kind, chosen by ``kind``."""
    schema = TypeAdapter(models.Manifest).json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{models.API_VERSION} manifest",
        "description": (
            "One document of a reconciler fleet: a Project, Profile, Agent, AgentSet or Moved."
        ),
        **schema,
    }


def render_schema() -> str:
    """The schema as the committed file holds it: stable key order, two-space indent."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
