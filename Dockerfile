# Folio container image (issue #9). Multi-stage: the build stage compiles TypeScript with the
# dev dependencies; the runtime stage holds only the compiled code and production dependencies,
# runs as the unprivileged `node` user, and writes nothing outside DATA_DIR (/data), so it runs
# with a read-only root file system (docker run --read-only -v folio-data:/data ...).
# Not built on the development machine (no Docker there); see deploy/README.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=5000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The only writable place: staged uploads (DATA_DIR/tmp), and the embedded database and
# filesystem blobs when no DATABASE_URL / other backend is configured.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 5000
# No curl in the slim image: Node's fetch checks spec §8's /healthcheck.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/healthcheck').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM, which drains in-flight requests (src/main.ts).
CMD ["node", "dist/src/main.js"]
