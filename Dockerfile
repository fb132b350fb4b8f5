# Sightline's container image: one binary on a slim Debian.
#
#   docker build -t sightline .
#   docker run -p 9090:9090 -p 4317:4317 -v sightline-data:/var/lib/sightline sightline
#   docker run ... sightline serve --config /etc/sightline/sightline.yml \
#       --data-dir /var/lib/sightline --listen 0.0.0.0:9090 --otlp.grpc.listen 0.0.0.0:4317
#
# Checked without a Docker engine by crates/server/tests/packaging.rs
# (stages, user, volume, ports, and that the entrypoint and the flags of CMD
# are the ones the binary has). See docs/migrate.md.

# Stage 1: the workspace, built as the README builds it. The web UI's bundle
# is committed (crates/ui/dist), so no Node is needed here.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY fuzz ./fuzz
RUN cargo build --release -p sightline --locked \
    && install -D -m 0755 target/release/sightline /out/sightline

# Stage 2: the runtime. ca-certificates for scraping and notifying over
# HTTPS (rustls reads the system's roots); nothing else.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/sightline /etc/sightline \
    && chown 65532:65532 /var/lib/sightline
COPY --from=builder /out/sightline /usr/local/bin/sightline
# The distroless "nonroot" uid: no shell login, owns only the data dir.
USER 65532:65532
VOLUME /var/lib/sightline
# 9090: HTTP (UI, Prometheus/Loki/Tempo/Jaeger/Zipkin/Alertmanager APIs,
# OTLP/HTTP, remote_write, Loki push); 4317: OTLP/gRPC.
EXPOSE 9090 4317
# No HEALTHCHECK: the image has no HTTP client (no curl or wget) and
# sightline has no subcommand that asks a server for /-/healthy; Kubernetes
# probes /-/ready and /-/healthy itself (deploy/kubernetes/statefulset.yaml).
ENTRYPOINT ["/usr/local/bin/sightline"]
# The defaults listen on 127.0.0.1, which nothing outside the container
# reaches: listen on every interface here.
CMD ["serve", "--data-dir", "/var/lib/sightline", "--listen", "0.0.0.0:9090", "--otlp.grpc.listen", "0.0.0.0:4317"]
