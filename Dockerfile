# ingestd as a container service: non-root, state under /data, config baked in
# (mount your own at /app/config/ingestd.toml or point INGESTD_CONFIG elsewhere).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INGESTD_CONFIG=/app/config/ingestd.toml \
    INGESTD_STORAGE_PATH=/data/ingestd.db \
    INGESTD_LOG_FORMAT=json \
    INGESTD_HTTP_LISTEN=0.0.0.0:8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingestd ./ingestd
RUN pip install . && rm -rf build

COPY config ./config
COPY seeds ./seeds

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
