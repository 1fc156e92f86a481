# The image Prow runs: `covtool run` with the repository under test as working directory.
#
#   docker build -t covtool .                              # Python projects (coverage.py)
#   docker build --build-arg GO_VERSION=1.22.5 -t covtool-go .   # with a Go toolchain
#
# Third-party plugins are added in a derived image (docs/prow.md):
#   FROM covtool
#   RUN pip install --no-cache-dir covtool-badge
FROM python:3.11-slim

# Empty: no Go. A version (1.22.5) installs that release of the Go toolchain from go.dev.
ARG GO_VERSION=""

RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN if [ -n "$GO_VERSION" ]; then \
        arch="$(dpkg --print-architecture)" \
        && curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-${arch}.tar.gz" \
           | tar -C /usr/local -xz; \
    fi
ENV PATH="/usr/local/go/bin:${PATH}"

COPY . /src/covtool
# coverage.py ([python]) reads .coverage data files and runs pytest projects.
RUN pip install --no-cache-dir "/src/covtool[python]" pytest && rm -rf /src/covtool

# Prow checks out the repository as whatever user the job runs; git must trust it.
RUN useradd --create-home --uid 10001 covtool \
    && git config --system --add safe.directory '*'
USER 10001:10001
ENV GOPATH=/home/covtool/go GOCACHE=/home/covtool/.cache/go-build

ENTRYPOINT ["covtool", "run"]
