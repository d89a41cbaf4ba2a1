# Hearth: one image for every role. The command picks it: `hearth serve` (the default),
# `hearth migrate`, `hearth worker`, `hearth beat`. docker-compose.yml runs the scaled set-up.

# The web app (built by Vite) and the API reference pages' scripts (Scalar, Swagger UI), from
# the pinned package-lock.json. Only the served files reach the image, not node_modules or Node.
FROM node:22-slim AS web
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --loglevel=error
COPY frontend ./frontend
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEARTH_DATA_DIR=/data

RUN groupadd --system --gid 10001 hearth \
 && useradd --system --uid 10001 --gid hearth --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin hearth

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. requirements.txt pins the
# runtime packages only (the dev tools are in requirements-dev.txt).
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The files server/apidocs.py serves, where it looks for them.
COPY --from=web /build/node_modules/@scalar/api-reference/dist/browser/standalone.js \
     node_modules/@scalar/api-reference/dist/browser/
COPY --from=web /build/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     /build/node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js \
     /build/node_modules/swagger-ui-dist/swagger-ui.css \
     node_modules/swagger-ui-dist/

# Editable on purpose: server/app.py serves frontend/dist from beside the source tree,
# which a regular install into site-packages would leave behind.
COPY . .
COPY --from=web /build/frontend/dist frontend/dist/
RUN pip install --no-deps -e . \
 && mkdir -p /data \
 && chown hearth:hearth /data

# The code stays root-owned and read-only to the process; only /data (HEARTH_DATA_DIR:
# media, the beat schedule, the SQLite file in embedded mode) is writable.
USER hearth
EXPOSE 8000
CMD ["hearth", "serve", "--host", "0.0.0.0"]
