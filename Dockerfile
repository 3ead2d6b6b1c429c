# Folio container image. Three stages: `deps` installs the production dependencies only, `build`
# compiles TypeScript with the dev dependencies, and the runtime stage holds exactly what the
# server and the `folio` command read at run time: dist/src (compiled code and SQL migrations),
# web/ (dashboard and viewer), bin/ (the CLI), package.json (name, version, bin) and the
# production node_modules. It runs as the unprivileged `node` user (uid 1000), owns none of its
# own files, and writes only to DATA_DIR (/data, a volume) and /tmp, so it runs with
# `docker run --read-only --tmpfs /tmp -v folio-data:/data`.
#
# Base: the official Node.js 24 (the newest LTS line) on Debian bookworm. Where that image cannot
# be pulled, `npm run test:image` builds a stand-in with the same name from Debian packages and
# the npm registry's Node.js 24 binary (scripts/image/stand-in-base.sh, deploy/README.md).
# Build with `docker build --network host -t folio .` where only the host network is allowed.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/copy-assets.mjs ./scripts/copy-assets.mjs
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=5000 \
    HOST=0.0.0.0
WORKDIR /app
# Document editing and the Build API run qpdf; watermarks and text annotations embed DejaVu Sans
# and Droid Sans Fallback (Cyrillic, Greek, CJK). Nothing else from Debian is needed at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends qpdf fonts-dejavu-core fonts-droid-fallback \
 && rm -rf /var/lib/apt/lists/*
COPY package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY web ./web
COPY bin ./bin
# `folio …` on PATH for `docker exec` (`npx folio` would link the project into npx's cache and
# chmod its bin, which a read-only root refuses; `folio` is the same file). DATA_DIR is
# the one writable place: staged uploads, and the embedded database and filesystem blobs when
# no DATABASE_URL or other backend is configured.
RUN chmod 0755 bin/folio.mjs \
 && ln -s /app/bin/folio.mjs /usr/local/bin/folio \
 && mkdir -p /data \
 && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 5000
# No curl in the slim image: Node's fetch checks spec §8's /healthcheck.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/healthcheck').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM, which drains in-flight requests (src/main.ts).
CMD ["node", "dist/src/main.js"]
