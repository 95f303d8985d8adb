# ticketbot in a container: `docker compose up` (compose.yaml), or
#   docker build -t ticketbot . && docker run --env-file .env -p 3000:3000 -v ticketbot:/var/lib/ticketbot/data ticketbot
# Config is the shipped app.yaml, filled from the environment (.env.example lists it all).
# tests/test_deployment.py runs these steps in a fresh virtualenv (no docker needed).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The bot runs as this user, never as root; its data lives under its home.
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/ticketbot \
        --shell /usr/sbin/nologin ticketbot \
    && mkdir -p /var/lib/ticketbot/data/attachments \
    && chown -R ticketbot:ticketbot /var/lib/ticketbot

WORKDIR /opt/ticketbot
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY models ./models
COPY mail ./mail
RUN pip install . && rm -rf build ./*.egg-info
COPY app.yaml /etc/ticketbot/app.yaml

ENV TICKETBOT_CONFIG=/etc/ticketbot/app.yaml
USER ticketbot
# Relative paths in app.yaml start here: SQLite (when DATABASE_URL is unset) in
# data/ticketbot.sqlite3, attachments in data/attachments. Keep data/ on a volume.
WORKDIR /var/lib/ticketbot
VOLUME ["/var/lib/ticketbot/data"]
EXPOSE 3000

# 200 while the database answers (Socket Mode too: the listener serves /healthz in both modes).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('TICKETBOT_HTTP_PORT') or 3000), timeout=4)"

# Migrates first (several replicas may start at once), checks the database and the Slack
# token, then serves; exits 2 on a token Slack refuses. SIGTERM stops it cleanly.
CMD ["ticketbot", "run"]
