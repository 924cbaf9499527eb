"""The document kinds of ``apiVersion: reconciler/v1``: Project, Profile, Agent, AgentSet, Moved.

Each model says what one document may hold, field by field; how documents relate (references,
merging, uniqueness, uid clashes, quotas) is assemble.py's business, not this module's. Our own
fields are strict: unknown ones are errors and nothing is coerced (``"20"`` is not a number,
``1001`` is not a string). ``properties`` is Agora's join ``properties`` object verbatim, so it
stays open to fields the API adds later, but the fields we know are typed, reusing the wire
contract's models and the API's own rules rather than restating them.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from reconciler.agora import wire
from reconciler.manifest import secrets
from reconciler.manifest.fields import (
    DEFAULT_NAME_PREFIX,
    NAME_PREFIX_PATTERN,
    Channel,
    Name,
    OwnModel,
    Region,
    RestartPolicy,
    SecretReference,
    check_app_id,
    check_base_url,
    check_prefix,
)
from reconciler.manifest.properties import Properties
from reconciler.manifest.rollout import Rollout
from reconciler.manifest.schedule import (
    PREEMPTION_DESCRIPTION,
    PRIORITY_DESCRIPTION,
    SCHEDULE_DESCRIPTION,
    Pricing,
    Schedule,
)
from reconciler.manifest.windows import WindowDocument

API_VERSION: Final = "reconciler/v1"
_NAME_RULE: Final = "1 to 63 letters, digits, - or _, starting and ending with a letter or digit."


class Metadata(OwnModel):
    """Names a Project or a Profile."""

    name: Name = Field(
        description="Unique among documents of its kind; agents refer to it by this name. "
        + _NAME_RULE
    )


class AgentMetadata(OwnModel):
    """Names an agent (or a set of them) and the project it runs in."""

    name: Name = Field(
        description=(
            "With project, the key project/name (project/<name>-<channel> for each member of an "
            "AgentSet), unique in the fleet. "
        )
        + _NAME_RULE
    )
    project: Name = Field(description="The Project (its metadata.name) the agents run in.")


class ProjectSettings(OwnModel):
    """One Agora project (App ID): the credentials that reach its API and the quota it grants."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["region", "baseUrl"]}})

    app_id: Annotated[
        str,
        AfterValidator(check_app_id),
        Field(json_schema_extra={"pattern": f"^[0-9a-fA-F]{{32}}$|{secrets.REFERENCE_PATTERN}"}),
    ] = Field(
        description="The App ID: its 32 hexadecimal characters, or a reference such as "
        "${env:AGORA_APP_ID}."
    )
    customer_id: Annotated[str, Field(min_length=1)] = Field(
        description="Customer ID of the RESTful API credentials (Agora Console), used with "
        "customerSecret for Basic auth; the value or a reference."
    )
    customer_secret: Annotated[SecretReference, Field(min_length=1)] = Field(
        description="Customer secret paired with customerId, as a reference such as "
        "${env:AGORA_CUSTOMER_SECRET}; never the value."
    )
    app_certificate: SecretReference | None = Field(
        default=None,
        description=(
            "The App Certificate, as a reference. With it the reconciler mints each agent's RTC "
            "token for its channel and uid and renews it before it expires; without it agents "
            "join with an empty token unless properties.token gives one."
        ),
    )
    notification_secret: SecretReference | None = Field(
        default=None,
        description=(
            "The secret Agora's Console shows when Notification Center events are configured "
            "for the project, as a reference. With it the daemon accepts signed events at "
            "/webhooks/agora/<project>; without it that route refuses them."
        ),
    )
    region: Annotated[Region, Field(strict=False)] | None = Field(
        default=None,
        description=(
            "Agora's regional API host: us, eu, ap, or cn (the separate mainland-China service). "
            "Unset, the global host. Not with baseUrl."
        ),
    )
    base_url: Annotated[str, AfterValidator(check_base_url)] | None = Field(
        default=None,
        description=(
            "An http:// or https:// URL that serves Agora's API instead, such as the emulator; "
            "the API path is added when missing. Not with region. --api-url and AGORA_API_URL "
            "override it."
        ),
    )
    max_concurrent_agents: Annotated[int, Field(ge=1)] = Field(
        default=wire.DEFAULT_CONCURRENCY_QUOTA,
        description=(
            "Agora's quota of agents running at once for this App ID (20 unless Agora raised "
            "it). Validation refuses more agents than this, and plans are checked against it."
        ),
    )
    name_prefix: Annotated[str, AfterValidator(check_prefix)] = Field(
        default=DEFAULT_NAME_PREFIX,
        json_schema_extra={"pattern": NAME_PREFIX_PATTERN},
        description=(
            "Starts the name of every agent the reconciler joins, as in "
            "<prefix>-<project>--<name>-g<n>-<spec digest>, so it knows its own agents again "
            "after a crash or a lost state. It is this fleet's identity: two fleets that share "
            "an App ID and a project name must use different prefixes. 1 to 16 lowercase "
            "letters and digits, starting with a letter."
        ),
    )
    token_lifetime_seconds: Annotated[int, Field(ge=60, le=wire.TOKEN_MAX_LIFETIME_SECONDS)] = (
        Field(
            default=wire.TOKEN_MAX_LIFETIME_SECONDS,
            description=(
                "How long each RTC token minted with appCertificate lives, up to Agora's 24 "
                "hours; the reconciler renews tokens before they expire."
            ),
        )
    )

    strict_properties: bool = Field(
        default=False,
        description=(
            "Make a field name that Agora does not document, in the properties of this "
            "project's agents (and in every profile), an error instead of a warning, as "
            "validate --strict does for all projects; for CI."
        ),
    )
    max_delete_fraction: Annotated[float, Field(ge=0, le=1, strict=False)] = Field(
        default=0.5,
        description=(
            "The share of this project's running owned agents that one plan may delete (make "
            "leave with no successor) before the deletes are held back (0 holds back every "
            "delete); a plan deleting all of them is held back whatever this says. "
            "--allow-mass-delete lets them through, and --max-delete-fraction overrides this. "
            "A replace is not a delete."
        ),
    )
    rollout: Rollout | None = Field(
        default=None,
        description="How replaces of this project's agents are paced; AgentSets and Agents "
        "may override it.",
    )
    windows: list[WindowDocument] = Field(
        default=[],
        description=(
            "Change windows, as Argo CD's sync windows: while a deny window is open the actions "
            "it lists (replace, delete) are held back; once allow windows list an action, it "
            "runs only while one of them is open. Deny wins. Creates, recreates, updates and "
            "token renewals always run."
        ),
    )
    pricing: Pricing = Field(
        default_factory=Pricing,
        description="What an agent of this project costs per minute it runs, for the cost "
        "estimates in plans, status and the reconciler_estimated_cost_per_hour metric.",
    )

    @model_validator(mode="after")
    def _one_address(self) -> ProjectSettings:
        if self.region is not None and self.base_url is not None:
            raise ValueError("set region or baseUrl, not both")
        return self


_ARCHIVE_HISTORY: Final = (
    "Directory that keeps each agent's history as JSON lines, saved before the reconciler makes "
    "the agent leave or replaces it; relative to the reconciler's working directory."
)
_MERGE_RULE: Final = "maps merge, lists and values replace, null removes."
_PRESET: Final = (
    "Agora's top-level join field preset: managed models named by Agora, comma-separated, one "
    "per kind (e.g. deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo); then asr, llm "
    "and tts may be left out. A change replaces the agent."
)
_PIPELINE_ID: Final = (
    "Agora's top-level join field pipeline_id: a pipeline (agent) published in Agora's console, "
    "used as the base configuration that properties override; then asr, llm and tts may be left "
    "out. A change replaces the agent."
)
PresetField = Annotated[str, Field(min_length=1)]


class ProfileSettings(OwnModel):
    """Defaults shared by the agents that name the profile."""

    archive_history: str | None = Field(
        default=None, description=_ARCHIVE_HISTORY + " For the agents that name this profile."
    )
    preset: PresetField | None = Field(
        default=None, description=_PRESET + " For the agents that name this profile."
    )
    pipeline_id: PresetField | None = Field(
        default=None, description=_PIPELINE_ID + " For the agents that name this profile."
    )
    properties: Properties = Field(
        default_factory=Properties,
        description="Deep-merged under the properties of each agent that names this profile: "
        + _MERGE_RULE,
    )
    schedule: Schedule | None = Field(
        default=None,
        description=SCHEDULE_DESCRIPTION + " For the agents that name this profile.",
    )


class AgentTemplate(OwnModel):
    """Everything about an agent except its channel; an AgentSet stamps it onto each channel."""

    profile: Name | None = Field(
        default=None,
        description="A Profile whose properties (and archiveHistory) the agent inherits.",
    )
    restart_policy: Annotated[RestartPolicy, Field(strict=False)] = Field(
        default=RestartPolicy.ALWAYS,
        description=(
            "When the agent stops on its own (idle timeout, the 72-hour cap, a failure): Always "
            "starts it again, OnFailure only if it FAILED, Never leaves it stopped."
        ),
    )
    protect: bool = Field(
        default=False,
        description=(
            "Hold back any delete or replace of the agent (the rest of a plan still runs); "
            "to remove it, apply "
            "protect: false first. Updates in place and restarts still happen."
        ),
    )
    archive_history: str | None = Field(
        default=None, description=_ARCHIVE_HISTORY + " Overrides the profile's."
    )
    preset: PresetField | None = Field(
        default=None, description=_PRESET + " Overrides the profile's; null removes it."
    )
    pipeline_id: PresetField | None = Field(
        default=None, description=_PIPELINE_ID + " Overrides the profile's; null removes it."
    )
    properties: Properties = Field(
        default_factory=Properties,
        description="Agora's join properties for the agent, deep-merged over its profile's: "
        + _MERGE_RULE,
    )
    schedule: Schedule | None = Field(
        default=None, description=SCHEDULE_DESCRIPTION + " Overrides the profile's."
    )
    priority: int = Field(default=0, description=PRIORITY_DESCRIPTION)
    preemption: bool = Field(default=False, description=PREEMPTION_DESCRIPTION)


_ROLLOUT_OVERRIDE: Final = "How replaces are paced, field by field over the Project's rollout"


class AgentSettings(AgentTemplate):
    """One agent in one channel."""

    rollout: Rollout | None = Field(
        default=None,
        description=_ROLLOUT_OVERRIDE + "; with it the agent is replaced on its own, not in "
        "one rollout with its project's other Agents.",
    )

    channel: Channel = Field(
        description=(
            "The RTC channel the agent joins: under 64 bytes of letters, digits, space and "
            "! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,"
        )
    )


class AgentSetSettings(OwnModel):
    """One agent per channel, all alike."""

    channels: Annotated[
        list[Channel], Field(min_length=1, json_schema_extra={"uniqueItems": True})
    ] = Field(
        description=(
            "The channels that each get one agent, named <set>-<channel>: adding a channel "
            "creates its agent, removing one deletes it. No channel twice."
        )
    )
    template: AgentTemplate = Field(description="The agent each channel gets.")
    channel_schedules: dict[Channel, Schedule] = Field(
        default_factory=dict,
        description="Schedules of single channels by channel name, over the template's "
        "schedule; each must be one of channels.",
    )
    rollout: Rollout | None = Field(
        default=None, description=_ROLLOUT_OVERRIDE + ", for the set's agents as one rollout."
    )


class _Document(OwnModel):
    api_version: Literal["reconciler/v1"]


class Project(_Document):
    """One Agora project (App ID): the credentials that reach its API and the quota it grants.

    Agents and AgentSets name it in ``metadata.project``.
    """

    kind: Literal["Project"]
    metadata: Metadata
    spec: ProjectSettings


class Profile(_Document):
    """Shared defaults, deep-merged under the properties of the agents that name it."""

    kind: Literal["Profile"]
    metadata: Metadata
    spec: ProfileSettings = Field(default_factory=ProfileSettings)


class Agent(_Document):
    """One agent in one channel, its key ``project/name``."""

    kind: Literal["Agent"]
    metadata: AgentMetadata
    spec: AgentSettings


class AgentSet(_Document):
    """One agent per channel from a template; members are named ``<set>-<channel>``."""

    kind: Literal["AgentSet"]
    metadata: AgentMetadata
    spec: AgentSetSettings


class MoveEntry(OwnModel):
    """One rename: the key (or project) as the state knows it, and as the manifests name it now."""

    from_: Annotated[str, Field(min_length=1)] = Field(
        alias="from",
        description="The old agent key project/name (project/<set>-<channel> for an AgentSet "
        "member), or the old project name.",
    )
    to: Annotated[str, Field(min_length=1)] = Field(
        description="The key (or project name) the manifests declare now; the same kind as from."
    )


class MovedSettings(OwnModel):
    moved: Annotated[list[MoveEntry], Field(min_length=1)] = Field(
        description="Renames, each from an old key to a new one (or an old project to a new one)."
    )


class Moved(_Document):
    """Renames that keep the live agents: the state record changes key, nothing leaves or joins.

    Like Terraform's moved blocks: keep the document after the apply, so a state restored from
    before the rename (or rebuilt from the live names) still follows it.
    """

    kind: Literal["Moved"]
    metadata: Metadata
    spec: MovedSettings


Document = Project | Profile | Agent | AgentSet | Moved
Manifest = Annotated[Document, Field(discriminator="kind")]
KINDS: Final[dict[str, type[Document]]] = {
    "Project": Project,
    "Profile": Profile,
    "Agent": Agent,
    "AgentSet": AgentSet,
    "Moved": Moved,
}
