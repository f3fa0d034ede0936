# The web image: daphne serving Django + Channels. Static files are collected at build time
# and served by WhiteNoise (and by the compose nginx from the shared volume).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
# collectstatic needs some key; this one is used for nothing else (a weak one stops PRODUCTION).
RUN DJANGO_SETTINGS_MODULE=verkkoapu.settings \
    SECRET_KEY=build-only-collectstatic-key-never-used-to-sign-anything-0123456789 \
    python manage.py collectstatic --noinput \
    && useradd --system --home /app verkkoapu && chown -R verkkoapu /app
USER verkkoapu

EXPOSE 8000
# --access-log /dev/null: the access log would name every asker's address.
CMD ["daphne", "--access-log", "/dev/null", "-b", "0.0.0.0", "-p", "8000", "verkkoapu.asgi:application"]
