"""The fleet in force: the manifests a source hands out, loaded, or the last good ones.

``InForce`` is what each pass applies: the fleet and the revision it came from. ``Manifests``
asks the source for a fetch when one is wanted (at start, on the git interval, on a push webhook),
loads the newest checkout, and tells the source whether it loaded, so a git source switches only
to good commits. A checkout that fails to load is reported once, naming its commit and every
diagnostic, and the last good fleet (and its revision) stays in force: nothing is deleted for a
broken commit. A failed fetch is logged, masked, and the checkout in hand stays in use; so does
it when the newest commit's signature does not verify (``--git-verify-signatures``), which is
reported once per commit, as ``revision_unverified``.

It decides nothing about when passes run and never plans or applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from reconciler.daemon import webhooks
from reconciler.daemon.alerts import Alerts
from reconciler.daemon.metrics import Metrics
from reconciler.errors import ReconcilerError
from reconciler.manifest import load
from reconciler.manifest.desired import DesiredFleet
from reconciler.source import Checkout, GitSettings, GitSource, Source, UnverifiedRevisionError

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class InForce:
    """The fleet a pass applies and the commit it was loaded from (None outside git)."""

    fleet: DesiredFleet
    revision: str | None


class Manifests:
    """The last good fleet from one source, refreshed before each pass."""

    def __init__(self, source: Source, *, metrics: Metrics, alerts: Alerts) -> None:
        self.source = source
        self._metrics = metrics
        self._alerts = alerts
        self._in_force: InForce | None = None
        self._digest: str | None = None
        self._fetch_wanted = source.fetch_interval is not None
        self._checkout: Checkout | None = None
        self._unverified_told: str | None = None
        # Unchanged manifests are not parsed again on every pass.
        self._loader = load.CachedLoader()

    def want_fetch(self) -> None:
        """Fetch before the next pass (a no-op for a source that has nothing to fetch)."""
        if self.source.fetch_interval is not None:
            self._fetch_wanted = True

    @property
    def fleet(self) -> DesiredFleet | None:
        """The fleet in force now (None before the first good load)."""
        return None if self._in_force is None else self._in_force.fleet

    @property
    def waiting(self) -> bool:
        """The source has handed out nothing yet (its first fetch has not succeeded)."""
        return self._checkout is None

    async def load(self) -> InForce | None:
        """Fetch if wanted, then the newest checkout's fleet if it loads, else the last good one.

        None when there is no good fleet yet: nothing fetched (``waiting``) or nothing valid.
        """
        if self._fetch_wanted:
            await self._fetch()
        checkout = await self.source.current()
        self._checkout = checkout
        if checkout is None:
            return None
        loaded = self._loader.load(checkout.manifests)
        fresh = loaded.digest != self._digest
        self._digest = loaded.digest
        self.source.verdict(checkout, good=loaded.fleet is not None)
        if loaded.fleet is None:
            self._metrics.manifests_valid.set(0)
            if self._in_force is None:
                # A daemon restarted onto a broken commit goes on with the last one that loaded.
                self._in_force = self._load_last_good()
            if fresh:
                kept = None if self._in_force is None else self._in_force.revision
                diagnostics = [str(d) for d in loaded.diagnostics]
                _log.error(
                    "manifests_invalid",
                    commit=checkout.revision,
                    errors=len(loaded.errors),
                    diagnostics=diagnostics,
                    using="nothing" if self._in_force is None else "last good fleet",
                    kept_revision=kept,
                )
                self._alerts.rejected(checkout.revision, diagnostics=diagnostics, kept=kept)
            return self._in_force
        self._metrics.manifests_valid.set(1)
        if fresh:
            warnings = [str(d) for d in loaded.warnings]
            _log.info(
                "manifests_loaded",
                agents=len(loaded.fleet.agents),
                warnings=warnings,
                commit=checkout.revision,
            )
        self._in_force = InForce(fleet=loaded.fleet, revision=checkout.revision)
        self._in_force_metric(checkout.revision)
        return self._in_force

    def problem(self) -> str | None:
        """Why the source's newest commit is not in force (for ``/readyz``), if it is not."""
        record = self.source.record()
        return None if record is None else record.problem()

    def _load_last_good(self) -> InForce | None:
        good = self.source.last_good()
        if good is None:
            return None
        loaded = load.load_fleet(good.manifests)
        if loaded.fleet is None:
            return None
        _log.info("manifests_loaded", agents=len(loaded.fleet.agents), commit=good.revision)
        self._in_force_metric(good.revision)
        return InForce(fleet=loaded.fleet, revision=good.revision)

    async def _fetch(self) -> None:
        self._fetch_wanted = False
        try:
            await self.source.fetch()
        except UnverifiedRevisionError as exc:
            self._metrics.source_fetches_total.labels(result="unverified").inc()
            if exc.commit != self._unverified_told:
                self._unverified_told = exc.commit
                kept = None if self._in_force is None else self._in_force.revision
                _log.error(
                    "revision_unverified", commit=exc.commit, why=exc.reason, kept_revision=kept
                )
                self._alerts.unverified(exc.commit, reason=exc.reason, kept=kept)
            self._fetch_wanted = await self.source.current() is None
            return
        except ReconcilerError as exc:
            self._metrics.source_fetches_total.labels(result="error").inc()
            _log.error("git_fetch_failed", error=str(exc))
            # Without any checkout there is nothing to pass with: the retry fetches again.
            self._fetch_wanted = await self.source.current() is None
            return
        self._metrics.source_fetches_total.labels(result="success").inc()

    def _in_force_metric(self, revision: str | None) -> None:
        if revision is None:
            return
        record = self.source.record()
        self._metrics.source_in_force(
            revision,
            ref="" if record is None else record.ref,
            pinned=record is not None and record.pinned is not None,
        )


def git_source(
    git: GitSettings | None, *, root: Path, environ: Mapping[str, str]
) -> tuple[Source | None, webhooks.PushWebhooks | None]:
    """The git source cloning into ``root`` (None without ``git``), and its push webhooks, which
    ``RECONCILER_GIT_WEBHOOK_SECRET`` opens (None without it: the routes are not served)."""
    if git is None:
        return None, None
    source = GitSource(git, root=root)
    secret = environ.get(webhooks.SECRET_ENV)
    if not secret:
        _log.info("webhooks_disabled", reason=f"{webhooks.SECRET_ENV} is not set")
        return source, None
    return source, webhooks.PushWebhooks(secret=secret, ref=git.full_ref)
