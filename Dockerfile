# syntax=docker/dockerfile:1
#
# gitops-drift-exporter: a read-only agent, run as an unprivileged user on a read-only root
# filesystem. Build:
#   docker build -t ghcr.io/gitops-drift-exporter/gitops-drift-exporter:0.1.0 .
#
# The Helm chart (helm/gitops-drift-exporter) probes /healthz (liveness) and /readyz (readiness);
# the HEALTHCHECK below does the same for plain `docker run`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- Third-party binaries, fetched by pinned version and verified by sha256 --------------------
FROM ${PYTHON_IMAGE} AS tools
ARG TARGETARCH=amd64
# kustomize renders kustomize sources (Apache-2.0).
ARG KUSTOMIZE_VERSION=5.5.0
ARG KUSTOMIZE_SHA256_AMD64=6703a3a70a0c47cf0b37694030b54f1175a9dfeb17b3818b623ed58b9dbc2a77
ARG KUSTOMIZE_SHA256_ARM64=b4170d1acb8cfacace9f72884bef957ff56efdcd4813b66e7604aabc8b57e93d
# helm renders Helm sources when present; without it the agent uses helm-python-sdk (Apache-2.0).
ARG HELM_VERSION=3.16.3
ARG HELM_SHA256_AMD64=f5355c79190951eed23c5432a3b920e071f4c00a64f75e077de0dd4cb7b294ea
ARG HELM_SHA256_ARM64=5bd34ed774df6914b323ff84a0a156ea6ff2ba1eaf0113962fa773f3f9def798
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    case "${TARGETARCH}" in \
      amd64) kustomize_sha="${KUSTOMIZE_SHA256_AMD64}"; helm_sha="${HELM_SHA256_AMD64}" ;; \
      arm64) kustomize_sha="${KUSTOMIZE_SHA256_ARM64}"; helm_sha="${HELM_SHA256_ARM64}" ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}: pass the sha256 build args for it" >&2; exit 1 ;; \
    esac; \
    mkdir -p /out; cd /tmp; \
    curl -fsSLo kustomize.tar.gz \
      "https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_${TARGETARCH}.tar.gz"; \
    echo "${kustomize_sha}  kustomize.tar.gz" | sha256sum --check --strict; \
    tar -xzf kustomize.tar.gz kustomize; \
    install -m 0755 kustomize /out/kustomize; \
    curl -fsSLo helm.tar.gz "https://get.helm.sh/helm-v${HELM_VERSION}-linux-${TARGETARCH}.tar.gz"; \
    echo "${helm_sha}  helm.tar.gz" | sha256sum --check --strict; \
    tar -xzf helm.tar.gz "linux-${TARGETARCH}/helm"; \
    install -m 0755 "linux-${TARGETARCH}/helm" /out/helm

# --- The agent and its pinned dependencies, in a virtual environment ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/gitops-drift-exporter
ENV PATH=/opt/gitops-drift-exporter/bin:$PATH
WORKDIR /src
COPY constraints.txt ./
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip install --no-cache-dir --constraint constraints.txt ".[helm]" \
    && python -m compileall -q /opt/gitops-drift-exporter

# --- Runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="gitops-drift-exporter" \
      org.opencontainers.image.description="Read-only GitOps drift and health agent for Kubernetes" \
      org.opencontainers.image.source="https://github.com/gitops-drift-exporter/gitops-drift-exporter" \
      org.opencontainers.image.licenses="Apache-2.0"
# git and ssh fetch the repositories; nothing else from Debian is needed at run time.
RUN set -eu; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates git openssh-client; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 65532 gitops; \
    useradd --system --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin gitops; \
    install -d -o 65532 -g 65532 -m 0750 /var/cache/gitops-drift-exporter
COPY --from=tools /out/kustomize /out/helm /usr/local/bin/
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
