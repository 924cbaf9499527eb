"""The values an agent or a project takes from the documents it names, once they are known to fit.

An agent's Agora join fields and archive directory come from itself, else its profile; its
rollout is the project's under the set's or its own; a Project's ``${file:...}`` references are
made absolute against the directory of its file. Each function reads already-validated models
and returns one value: it reports no problems (assemble.py finds and places them) and, like
assemble.py, is pure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from reconciler.manifest import models, rollout, schedule, windows
from reconciler.manifest.desired import ProjectSpec
from reconciler.manifest.diagnostics import SourceLocation, field_path
from reconciler.manifest.documents import Entry, absolute_files
from reconciler.recurrence import Recurrence

# Our spec fields sent as Agora's top-level join fields of the same snake_case name.
JOIN_FIELDS: Final = ("preset", "pipeline_id")


def join_fields(template: models.AgentTemplate, profile: Entry | None) -> dict[str, str]:
    """Agora's top-level join fields (``preset``, ``pipeline_id``): the agent's, else its
    profile's; an agent that sets one to null drops the profile's, as in properties."""
    base = profile.model.spec if profile and isinstance(profile.model, models.Profile) else None
    found: dict[str, str] = {}
    for name in JOIN_FIELDS:
        value = getattr(template, name)
        if value is None and name not in template.model_fields_set and base is not None:
            value = getattr(base, name)
        if value is not None:
            found[name] = value
    return found


def agent_rollout(entry: Entry, project_entry: Entry, key: str) -> rollout.RolloutSpec:
    """The project's rollout under the set's or the agent's own (the agent keyed ``key``); see
    ``rollout`` for scopes."""
    model = entry.model
    project = project_entry.model
    assert isinstance(model, models.Agent | models.AgentSet)
    assert isinstance(project, models.Project)
    own = model.spec.rollout
    if isinstance(model, models.AgentSet):
        scope = f"AgentSet {model.metadata.project}/{model.metadata.name}"
    elif own is not None:
        scope = f"Agent {key}"
    else:
        scope = f"the Agents of project {model.metadata.project}"
    return rollout.resolve(scope, project.spec.rollout, own)


def agent_schedule(
    entry: Entry, template: models.AgentTemplate, profile: Entry | None, channel: str | None
) -> tuple[Recurrence, ...]:
    """The windows of an agent: its AgentSet's for its channel, else its own (the template's),
    else its profile's; empty means always. With no ``channel``, those a channel without
    windows of its own gets."""
    model = entry.model
    if isinstance(model, models.AgentSet) and channel in model.spec.channel_schedules:
        return schedule.recurrences(model.spec.channel_schedules[channel])
    if template.schedule is not None:
        return schedule.recurrences(template.schedule)
    if profile is not None and isinstance(profile.model, models.Profile):
        return schedule.recurrences(profile.model.spec.schedule)
    return ()


def profile_archive(profile: Entry | None) -> str | None:
    """The ``archiveHistory`` a profile gives the agents that name it."""
    if profile is None or not isinstance(profile.model, models.Profile):
        return None
    return profile.model.spec.archive_history


def project_spec(entry: Entry) -> ProjectSpec:
    """The Project document as the plan needs it, its file references made absolute."""
    model = entry.model
    assert isinstance(model, models.Project)
    spec = model.spec
    base_dir = Path(entry.doc.path).parent
    line, column = entry.doc.position(())

    def ref(value: str) -> str:
        text: str = absolute_files(value, base_dir=base_dir)
        return text

    return ProjectSpec(
        name=model.metadata.name,
        app_id=ref(spec.app_id),
        customer_id=ref(spec.customer_id),
        customer_secret=ref(spec.customer_secret),
        app_certificate=ref(spec.app_certificate) if spec.app_certificate else None,
        region=spec.region,
        base_url=spec.base_url,
        max_concurrent_agents=spec.max_concurrent_agents,
        name_prefix=spec.name_prefix,
        token_lifetime_seconds=spec.token_lifetime_seconds,
        source=SourceLocation(entry.doc.path, line, column),
        notification_secret=(
            ref(spec.notification_secret) if spec.notification_secret is not None else None
        ),
        max_delete_fraction=spec.max_delete_fraction,
        windows=tuple(windows.resolve(window, index) for index, window in enumerate(spec.windows)),
        written=_written(entry),
        price_per_minute=spec.pricing.price_per_minute,
        currency=spec.pricing.currency,
    )


# A Project's fields that may hold references: attribute name and name as written.
_REFERENCE_FIELDS: Final = (
    ("app_id", "appId"),
    ("customer_id", "customerId"),
    ("customer_secret", "customerSecret"),
    ("app_certificate", "appCertificate"),
    ("notification_secret", "notificationSecret"),
)


def _written(entry: Entry) -> dict[str, tuple[SourceLocation, str]]:
    """Where each reference field of a Project document is, for errors that name it."""
    found = {}
    for attribute, name in _REFERENCE_FIELDS:
        loc = ("spec", name)
        line, column = entry.doc.position(loc)
        found[attribute] = (SourceLocation(entry.doc.path, line, column), field_path(loc))
    return found
