# syntax=docker/dockerfile:1
# One image for every process of the authorization server; the command picks the process:
#   docker build -t authz-server:latest .
#   docker run --rm authz-server:latest migrate          # one-shot: database migrations
#   docker run --rm authz-server:latest serve gateway    # one app in the foreground (the default)
# Apps: gateway, client-registry, consent, token, introspection. Configuration is environment
# only (docs/configuration.md); docker-compose.yml and deploy/ show complete setups.

ARG NODE_IMAGE=node:20-bookworm-slim

# No dependency's install script runs in any stage (--ignore-scripts: the base image's npm may not
# know package.json `allowScripts`). None is needed: @node-rs/argon2 ships prebuilt binaries as
# optional dependencies; the scripts there are telemetry (@scarf/scarf, through swagger-ui-dist) and
# a build from source only on request (@parcel/watcher, dev). `npm run check:install-scripts` fails
# on a new one until it is reviewed (package.json `allowScripts`).

# ---- deps: every dependency, dev ones included, for the build
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- build: TypeScript to dist/
FROM deps AS build
COPY . .
RUN npm run build && rm -f dist/.tsbuildinfo

# ---- prod-deps: production dependencies only
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
# OCI image annotations (https://github.com/opencontainers/image-spec/blob/main/annotations.md).
# VERSION defaults to package.json's version (scripts/check-deploy.mjs keeps them equal); a release
# build passes the repository it was built from and the commit:
#   docker build --build-arg SOURCE=https://git.example.com/authz-server \
#     --build-arg REVISION=$(git rev-parse HEAD) -t authz-server:0.1.0 .
ARG VERSION=0.1.0
ARG SOURCE=https://git.example.com/authz-server
ARG REVISION=unknown
LABEL org.opencontainers.image.title="authz-server" \
      org.opencontainers.image.description="OAuth 2.0 / 2.1 authorization server as NestJS microservices over NATS, with every client, consent and token recorded as an event in Postgres; one image for every process" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
# The operations listener (/health/live, /health/ready, /metrics) listens on every interface of the
# container, on the same port whatever the app: probes and Prometheus need no per-app setting.
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    OPS_HOST=0.0.0.0 \
    OPS_PORT=9400
WORKDIR /app
# Owned by root and read-only for the `node` user: the app never writes to its own files.
# package.json stays: it declares "type": "module" and the "#lib/*" import map into dist/.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080 9400
ENTRYPOINT ["node", "--heap-growing-percent=50", "dist/apps/cli/src/main.js"]
CMD ["serve", "gateway"]
