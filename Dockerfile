# ingestd as a container service: non-root, state under /data, and a config with no
# inputs (config/container.toml). Give it feeds and subscriptions by mounting a config
# of your own and setting INGESTD_CONFIG, or at run time; see docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INGESTD_CONFIG=/app/config/container.toml

WORKDIR /app
# the versions `make` and CI test (constraints.txt, refreshed by `make lock`)
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY ingestd ./ingestd
RUN pip install -c constraints.txt . && rm -rf build

COPY config ./config

RUN useradd --system --uid 10001 --home-dir /data ingestd \
    && mkdir -p /data && chown ingestd /data
USER ingestd
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["ingestd", "healthcheck"]

# exec form: SIGTERM reaches ingestd itself (PID 1), which shuts down cleanly
ENTRYPOINT ["ingestd"]
CMD ["run"]
