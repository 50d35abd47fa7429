# syntax=docker/dockerfile:1
#
# gitops-drift-exporter: a read-only agent, run as an unprivileged user on a read-only root
# filesystem. Build with Docker or Podman:
#   docker build -t ghcr.io/gitops-drift-exporter/gitops-drift-exporter:0.1.0 .
#   podman build -t ghcr.io/gitops-drift-exporter/gitops-drift-exporter:0.1.0 .
# Behind a proxy that re-signs TLS, hand pip its CA bundle as a build secret:
#   --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt
#
# Everything comes from the Python base image, Debian's archive and PyPI: kustomize is Debian 13's
# package (one Go binary, needing only libc), Helm is helm-python-sdk's library. No release pages.
# The Helm chart (helm/gitops-drift-exporter) probes /healthz (liveness) and /readyz (readiness);
# the HEALTHCHECK below does the same for plain `docker run`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- The agent and its pinned dependencies, in a virtual environment ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 DEBIAN_FRONTEND=noninteractive
# kustomize from Debian 13 (trixie), fetched as a package and unpacked, so this bookworm stage
# stays bookworm; binutils strips the native libraries below.
RUN set -eu; \
    echo "deb http://deb.debian.org/debian trixie main" > /etc/apt/sources.list.d/trixie.list; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends binutils >/dev/null; \
    cd /tmp; apt-get download -qq kustomize/trixie; \
    dpkg-deb -x kustomize_*.deb /tmp/kustomize; \
    install -D -m 0755 /tmp/kustomize/usr/bin/kustomize /out/kustomize; \
    strip --strip-unneeded /out/kustomize
RUN python3 -m venv /opt/gitops-drift-exporter
ENV PATH=/opt/gitops-drift-exporter/bin:$PATH
WORKDIR /src
COPY constraints.txt requirements.lock pyproject.toml README.md ./
COPY exporter ./exporter
# Dependencies by exact version and sha256 (requirements.lock), then the agent itself without them.
RUN --mount=type=secret,id=ca,required=false set -eu; \
    if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    pip install -q --no-cache-dir --require-hashes --only-binary=:all: --no-deps -r requirements.lock; \
    pip install -q --no-cache-dir --no-deps --constraint constraints.txt ".[helm,demo]"; \
    pip check; \
    pip uninstall -q -y pip setuptools; \
    site=$(echo /opt/gitops-drift-exporter/lib/python3*/site-packages); \
    # helm-python-sdk ships its 85 MB library three times (.so, .so.0, .so.0.2.2): keep one.
    cd "$site/helm_python/lib"; for name in libhelm_c.so libhelm_c.so.0; do ln -sf libhelm_c.so.*.*.* "$name"; done; \
    find "$site" -name '*.so*' -type f -exec strip --strip-unneeded {} + ; \
    # No bytecode: it would double the size of kubernetes_asyncio's generated client; the agent
    # compiles what it imports once per start (the root filesystem is read-only).
    find "$site" -depth \( -name tests -o -name test -o -name '__pycache__' \) -type d -exec rm -rf {} +

# --- Runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="gitops-drift-exporter" \
      org.opencontainers.image.description="Read-only GitOps drift and health agent for Kubernetes" \
      org.opencontainers.image.source="https://github.com/gitops-drift-exporter/gitops-drift-exporter" \
      org.opencontainers.image.licenses="Apache-2.0"
# git and ssh fetch the repositories; nothing else from Debian is needed at run time.
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates git openssh-client >/dev/null; \
    # git's Perl scripts (send-email, svn, add--interactive ...) are never run by the agent, which
    # only fetches, checks out and compares: Perl goes (about 50 MB; perl-base stays for dpkg).
    dpkg --purge --force-depends perl perl-modules-5.36 libperl5.36 liberror-perl >/dev/null 2>&1; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /usr/share/doc /usr/share/man; \
    groupadd --system --gid 65532 gitops; \
    useradd --system --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin gitops; \
    install -d -o 65532 -g 65532 -m 1777 /var/cache/gitops-drift-exporter  # (a tmpfs mounted over it keeps this mode)
COPY --from=build /out/kustomize /usr/local/bin/kustomize
COPY --from=build /opt/gitops-drift-exporter /opt/gitops-drift-exporter
ENV PATH=/opt/gitops-drift-exporter/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    GITOPS_LOG_FORMAT=json
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["gitops-drift-exporter"]
CMD ["run", "--config", "/etc/gitops-drift-exporter/config.yaml", "--listen", "0.0.0.0:8080"]

# --- The project's render tests, run inside the runtime image by CI (not shipped) --------------
FROM runtime AS render-tests
USER root
RUN --mount=type=secret,id=ca,required=false set -eu; \
    if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m venv /tmp/pip; \
    /tmp/pip/bin/python -m pip install -q --no-cache-dir --target /opt/test-tools pytest pytest-asyncio pytest-timeout; \
    rm -rf /tmp/pip
# The agent's own interpreter and packages, with the test tools beside them.
ENV PYTHONPATH=/opt/test-tools
USER 65532:65532
