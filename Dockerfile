# syntax=docker/dockerfile:1
#
# Pictor: image-processing HTTP service on Bun.
#
#   docker build -t pictor .
#   docker run --rm -p 8000:8000 -v pictor-data:/data pictor
#
# Without DATABASE_URL the service uses its embedded PGlite database under $DATA_DIR;
# docker-compose.yml runs it against a PostgreSQL container instead.

# The Bun release, the one package.json's devDependencies pin for development; override with
# --build-arg BUN_IMAGE_TAG=<x.y.z>.
ARG BUN_IMAGE_TAG=1.4.5

# --- deps: production node_modules, installed from the committed npm lockfile ---------------
FROM node:20.18.1-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs an install script (the only one,
# @scarf/scarf, pulled in by swagger-ui-dist, is install-time analytics).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------
FROM oven/bun:${BUN_IMAGE_TAG} AS runtime
WORKDIR /app

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data

# node_modules and wasm/ must sit beside src/: files are found relative to the source files,
# not the working directory. The server reads swagger-ui-dist from ../../../node_modules
# relative to src/adapters/bun/server.ts; src/adapters/bun/wasm.ts compiles the jSquash codecs
# from node_modules/ and Pictor's own libjpeg-turbo build from wasm/jpeg-scaled/pictor_jpeg.wasm
# (with its licences, LICENSE and README.ijg) under the same root.
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root src ./src
COPY --chown=root:root wasm ./wasm

# The image's `bun` user owns only the data directory; the code stays read-only to it. `pictor`
# runs the CLI (create-admin, gc-blobs, move-blobs): docker-compose exec api pictor gc-blobs
RUN mkdir -p /data && chown bun:bun /data \
    && printf '#!/bin/sh\nexec bun /app/src/adapters/bun/cli.ts "$@"\n' > /usr/local/bin/pictor \
    && chmod 755 /usr/local/bin/pictor

USER bun
EXPOSE 8000

# The image has no curl or wget: ask Bun itself, on the port the server listens on (PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bun", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

# Bun answers header sets over its limit with a bodiless 431 before the app runs: raised here so
# that the app's own 16 KiB limit refuses them with a problem naming the offending header.
CMD ["bun", "--max-http-header-size=65536", "src/adapters/bun/server.ts"]
