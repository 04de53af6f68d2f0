# The FastAPI backend (Python 3.11). Runs `scripts/serve.sh backend`, the same command as locally.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 app
WORKDIR /app
COPY common/ common/
COPY api/requirements.txt api/requirements.txt
RUN python -m venv /app/.venv-api \
    && cd api && /app/.venv-api/bin/pip install --no-cache-dir -r requirements.txt
COPY api/ api/
COPY data/reference/ data/reference/
COPY scripts/ scripts/
RUN chown -R app:app /app
USER app
ENV BIND_HOST=0.0.0.0 BACKEND_PORT=8000 ENVIRONMENT=production
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
    CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["bash", "scripts/serve.sh", "backend"]
