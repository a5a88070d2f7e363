# syntax=docker/dockerfile:1@sha256:87999aa3d42bdc6bea60565083ee17e86d1f3339802f543c0d03998580f9cb89
# digest-pin itself, pinned as it preaches: the tag says what, the digest says exactly which.
# `digest-pin pin .` refreshes these digests.

FROM node:24-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json

FROM node:24-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df AS runtime
# HOST: Probot listens on localhost unless told otherwise, which `docker run -p 3000:3000` cannot reach.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY package.json package-lock.json app.yml ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# /healthz answers while the process is up; a container orchestrator can probe it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# No arguments: the app. Any arguments: the CLI, e.g. `docker run --rm -v "$PWD:/src" IMAGE check /src`.
ENTRYPOINT ["node", "dist/src/entrypoint.js"]
CMD []
