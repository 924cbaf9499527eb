"""The field names Agora documents for a join's ``properties``, level by level: one table.

The wire models (wire.py) type the few fields the reconciler relies on and let every other field
through, since the API keeps growing. This table is the other half: the names Agora's join
reference, the official SDK ``agora-agents`` 2.12.0 (``StartAgentsRequestProperties`` and its
parts, ``types/llm.py``, ``types/asr.py``, ``types/tts.py``) and the API notes (§8, §18) list
for the levels whose keys are all known, so that a misspelt key (``ttss``, ``tts.vendr``) can be
pointed out. Legacy names still accepted by Agora are listed too, so that old manifests do not
warn. Vendor ``params`` are open (each vendor has its own) and are not listed.

Names only: no behaviour, no I/O. A name missing here costs a false warning, never a refused
agent, so add it when Agora documents it.
"""

from __future__ import annotations

from typing import Final

# The join body beside ``properties`` (§7.1, §18).
JOIN_BODY: Final = frozenset({"name", "properties", "preset", "pipeline_id"})

PROPERTIES: Final = frozenset(
    {
        "channel",
        "token",
        "agent_rtc_uid",
        "remote_rtc_uids",
        "enable_string_uid",
        "idle_timeout",
        "geofence",
        "advanced_features",
        "asr",
        "llm",
        "tts",
        "mllm",
        "avatar",
        "turn_detection",
        "interruption",
        "sal",
        "labels",
        "rtc",
        "filler_words",
        "parameters",
        # §18: newer examples put the managed/bring-your-own-key switch here too.
        "credential_mode",
        # Legacy (§8.1): vad moved into turn_detection in v2.0; silence_timeout and
        # agent_rtm_uid were removed or moved to parameters.
        "vad",
        "silence_timeout",
        "agent_rtm_uid",
    }
)

LLM: Final = frozenset(
    {
        "url",
        "api_key",
        "vendor",
        "style",
        "system_messages",
        "params",
        "max_history",
        "input_modalities",
        "output_modalities",
        "greeting_message",
        "greeting_configs",
        "greeting_audio_url",
        "failure_message",
        "template_variables",
        "mcp_servers",
        "tools",
        "headers",
        "credential_mode",
        # SDK helpers for Gemini and Bedrock.
        "access_key",
        "secret_key",
        "region",
        "model",
        "ignore_empty",
    }
)

ASR: Final = frozenset({"vendor", "language", "params", "keywords", "credential_mode"})

# ``url`` and ``headers`` belong to the SDK's generic_http vendor.
TTS: Final = frozenset({"vendor", "params", "skip_patterns", "credential_mode", "url", "headers"})

ADVANCED_FEATURES: Final = frozenset(
    {
        "enable_rtm",
        "enable_sal",
        "enable_tools",
        "enable_mllm",
        # Legacy switches that public samples still send (§8.1, [G]).
        "enable_aivad",
        "enable_bhvs",
    }
)

PARAMETERS: Final = frozenset(
    {
        "silence_config",
        "farewell_config",
        "data_channel",
        "enable_metrics",
        "enable_error_message",
        "audio_scenario",
        "opt_out",
    }
)

TURN_DETECTION: Final = frozenset(
    {
        "mode",
        "config",
        # The SDK's session builder sends the interaction language here (§4).
        "language",
        # Deprecated flat fields, still accepted (§8.6).
        "type",
        "interrupt_mode",
        "interrupt_duration_ms",
        "interrupt_keywords",
        "prefix_padding_ms",
        "silence_duration_ms",
        "threshold",
        "eagerness",
        "create_response",
        "interrupt_response",
    }
)

# The pre-v2.0 ``vad`` object (§8.1).
VAD: Final = frozenset(
    {"interrupt_duration_ms", "prefix_padding_ms", "silence_duration_ms", "threshold"}
)

# The levels below ``properties`` whose keys are all known, by their key in ``properties``.
NESTED: Final[dict[str, frozenset[str]]] = {
    "llm": LLM,
    "asr": ASR,
    "tts": TTS,
    "advanced_features": ADVANCED_FEATURES,
    "parameters": PARAMETERS,
    "turn_detection": TURN_DETECTION,
    "vad": VAD,
}
