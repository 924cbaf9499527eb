"""Telling people what the daemon did: notification events, and their delivery to webhooks.

``events`` holds the values (what happened, to which revision, project and agents) and how each
kind of target words them; ``delivery`` parses ``--notify`` targets and sends events to them in
the background, retrying a few times, so that a slow or dead receiver never holds a pass up.
It is the one package besides ``agora/`` that speaks HTTP (the import contract lists it as such).

It decides nothing about *when* to notify (``daemon.alerts`` does) and never carries a secret:
events hold names, commit ids and counts, and a target's URL (often a credential itself, as
Slack's are) is never logged whole.
"""

from __future__ import annotations

from reconciler.notify.delivery import Notifier, Target, TargetKind, parse_target
from reconciler.notify.events import Event, EventKind, render

__all__ = ["Event", "EventKind", "Notifier", "Target", "TargetKind", "parse_target", "render"]
