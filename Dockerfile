# Parley in a container: a static binary on an empty base, as a non-root
# user, with its data in a volume. Build from the repository root:
#
#   docker build -t parley \
#     --build-arg PARLEY_VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg PARLEY_COMMIT="$(git rev-parse HEAD)" .
#   docker run -d --name parley -p 8080:8080 -v parley-data:/data parley
#
# docs/OPERATIONS.md says more (TLS, config files, backups).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .dockerignore keeps .git out, so the version and commit come in as
# arguments; deploy/build.sh is the same reproducible build as outside.
ARG PARLEY_VERSION=dev
ARG PARLEY_COMMIT=
RUN PARLEY_VERSION="$PARLEY_VERSION" PARLEY_COMMIT="$PARLEY_COMMIT" sh deploy/build.sh /out/parley \
 && /out/parley version \
 && mkdir -p /out/data /out/etc \
 && echo 'parley:x:65532:65532:parley:/data:/sbin/nologin' > /out/etc/passwd \
 && echo 'parley:x:65532:' > /out/etc/group

FROM scratch
# CA roots for webhooks to https:// endpoints; the user the server runs as.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /out/parley /usr/local/bin/parley
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# Every interface inside the container; the data in the volume. Docker
# gives a container 10 s to stop by default, so the drain gets 8 s of it
# (raise both together: docker run --stop-timeout 35 -e PARLEY_SHUTDOWN_TIMEOUT=30s).
ENV PARLEY_ADDR=:8080 \
    PARLEY_DATA_DIR=/data \
    PARLEY_SHUTDOWN_TIMEOUT=8s
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# The image has no curl: the binary asks /readyz itself (https when
# PARLEY_TLS_CERT is set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/parley", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
