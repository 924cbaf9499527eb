# The reconciler daemon's image: `docker run -v "$PWD/fleet:/fleet:ro" IMAGE` runs `reconciler run /fleet`.
#
# Two stages: the build stage installs the package into a virtualenv, the runtime stage copies
# only that virtualenv onto a fresh slim base, so no compiler, pip cache or source tree ships.
# tini is PID 1: it forwards SIGTERM to the daemon (which finishes the action in flight and exits
# 0) and reaps zombies. Credentials are never baked in: pass them at run time as environment
# variables (`--env-file`, or a secret store), as the manifests' ${env:...} references expect.
# Mount a volume at /var/lib/reconciler to keep the state (.reconciler/state.db) across restarts,
# or set RECONCILER_STATE to a postgresql:// URL to share one state between replicas.
# GitOps without a sidecar: `run --git URL` (or RECONCILER_GIT_URL) pulls the manifests itself with
# the git and ssh clients installed below, cloning into .reconciler/git/ on that volume.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/reconciler
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
RUN /opt/reconciler/bin/pip install --no-cache-dir .

FROM ${PYTHON_IMAGE} AS runtime
# `reconciler version` names the commit the image was built from: --build-arg REVISION=$(git rev-parse HEAD)
ARG REVISION=unknown
# Debian stable fixes the versions of tini, git and openssh-client for the release; pinning their
# exact revisions would only break the build at the next rebuild without making the image safer.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends tini git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 reconciler \
    && useradd --system --uid 10001 --gid reconciler --home-dir /var/lib/reconciler \
        --create-home --shell /usr/sbin/nologin reconciler \
    && mkdir /fleet
COPY --from=build /opt/reconciler /opt/reconciler
# The daemon's health and metrics listen on every interface of the container, for -p and scrapes.
ENV PATH=/opt/reconciler/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RECONCILER_LISTEN=0.0.0.0:9090 \
    RECONCILER_BUILD_REVISION=$REVISION
# A numeric user, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/reconciler
EXPOSE 9090
# slim has no curl: Python itself asks the daemon's /healthz; no answer or an error status fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--", "reconciler"]
CMD ["run", "/fleet"]
