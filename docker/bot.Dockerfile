# Rasa and the action server (Python 3.10, Rasa 3.6). One image, two services: the command is
# `scripts/serve.sh rasa` or `scripts/serve.sh actions`, the same as locally. The model is
# trained at build time by the same script as locally, so the image carries it.
FROM python:3.10-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 app
WORKDIR /app
COPY common/ common/
COPY bot/requirements.txt bot/requirements.txt
RUN python -m venv /app/.venv-bot \
    && cd bot && /app/.venv-bot/bin/pip install --no-cache-dir -r requirements.txt
COPY bot/ bot/
COPY actions/ actions/
COPY data/ data/
COPY scripts/ scripts/
RUN bash scripts/train.sh && chown -R app:app /app
USER app
ENV BIND_HOST=0.0.0.0 RASA_PORT=5005 ACTIONS_PORT=5055
EXPOSE 5005 5055
CMD ["bash", "scripts/serve.sh", "rasa"]
