"""Where the Agora ConvoAI REST API lives: the API root URL for a region, a base URL or neither.

It only names URLs; it must not open connections or know about endpoints beyond their root.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from reconciler.agora import wire

_REGIONS: Final = {
    "us": "https://api-us-west-1.agora.io",
    "eu": "https://api-eu-west-1.agora.io",
    "ap": "https://api-ap-southeast-1.agora.io",
    "cn": "https://api-cn-east-1.sd-rtn.com",
}
_GLOBAL_HOST: Final = "https://api.agora.io"


def base_url_for(
    *, region: str | None = None, base_url: str | None = None, cn: bool = False
) -> str:
    """The API root URL: an explicit base URL wins, else a regional host, else the global one.

    A base URL given as just scheme and host (as the SDK's ``AGORA_AGENTS_API_BASE_URL``) gets
    the API root appended; one that already ends with it is used as is. Region ``cn`` implies the
    Chinese-mainland service (``/cn/api/...``), a separate service with its own agents.
    """
    root = wire.CN_API_ROOT if cn or region == "cn" else wire.API_ROOT
    if base_url:
        trimmed = base_url.rstrip("/")
        path = urlsplit(trimmed).path
        if path.endswith((wire.API_ROOT, wire.CN_API_ROOT)):
            return trimmed
        return trimmed + root
    if region is None:
        return _GLOBAL_HOST + root
    if region not in _REGIONS:
        raise ValueError(f"unknown region {region!r}; expected one of {', '.join(_REGIONS)}")
    return _REGIONS[region] + root
