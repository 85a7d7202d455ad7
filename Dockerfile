# syntax=docker/dockerfile:1
# Ally's image. Build: `docker build -t ally .`; run: see README.md, "Run with Docker".
#
# Two stages: the first builds Ally's wheel and installs it, with its dependencies, into a
# virtual environment; the second copies only that environment onto a clean slim base, so the
# image holds no build tools, no pip cache and no source tree.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY storage/ storage/
COPY tryout/ tryout/
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/ally \
 && /opt/ally/bin/pip install --no-cache-dir /wheels/*.whl

FROM python:${PYTHON_VERSION}-slim
# Time zones: members' local times come from zoneinfo, which reads the IANA database from the
# `tzdata` package installed with Ally (pyproject.toml), whatever the base image carries.
# DATABASE_URL defaults to SQLite on the /data volume; compose.yaml points it at PostgreSQL.
ENV PATH=/opt/ally/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TZ=UTC \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/ally.db
RUN groupadd --system --gid 10001 ally \
 && useradd --system --uid 10001 --gid ally --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin ally \
 && mkdir /data \
 && chown ally:ally /data
COPY --from=build /opt/ally /opt/ally
# The working folder is root's and read-only to Ally; a .env may be mounted here (read-only).
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
# Works in both modes: the token against Slack (auth.test) and the database must answer.
HEALTHCHECK --interval=60s --timeout=20s --start-period=30s --retries=3 \
  CMD ["ally-bot", "check", "--live"]
ENTRYPOINT ["ally-bot"]
CMD ["run"]
