# The gateway on the official Bun image (Bun is the default runtime; docs/runtimes.md).
#
#   docker build -t inference-gateway:0.1.0 .
#   docker run --rm -p 8080:8080 inference-gateway:0.1.0          # the quickstart: 3 simulated pods inside
#   docker run --rm -p 8080:8080 -v $PWD/my.yaml:/etc/inference-gateway/gateway.yaml \
#     inference-gateway:0.1.0 --config /etc/inference-gateway/gateway.yaml
#
# In Kubernetes, deploy/deployment.yaml runs it with the ConfigMap of deploy/configmap.yaml.

FROM oven/bun:1.4-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only (hono, @hono/node-server, prom-client, valibot, yaml): pure JS,
# no install scripts needed; --omit=peer keeps out optional peers such as TypeScript.
# Bun reads package-lock.json, so the versions are the locked ones.
RUN bun install --production --ignore-scripts --omit=peer

FROM oven/bun:1.4-slim
WORKDIR /app
# BUN_CONFIG_MAX_HTTP_REQUESTS: Bun's fetch otherwise forwards at most 256 requests at once
# per process and silently queues the rest. MIMALLOC_PURGE_HOLES=0: Bun's allocator otherwise
# gives back the free blocks inside pages in use whenever the JS thread idles, and takes each
# back with a page fault (~25 % of a paced stream's CPU); MIMALLOC_PURGE_DELAY=2000 keeps free
# pages 2 s instead of 100 ms before returning them (src/runtime/bun-start-env.ts). The
# transpiler cache goes to /tmp so the root filesystem can be read-only (the Deployment mounts
# an emptyDir there).
ENV NODE_ENV=production \
    BUN_CONFIG_MAX_HTTP_REQUESTS=65535 \
    MIMALLOC_PURGE_HOLES=0 \
    MIMALLOC_PURGE_DELAY=2000 \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=/tmp/bun-transpiler-cache
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY routes ./routes
COPY plugins ./plugins
COPY examples ./examples
# The image's `bun` user, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8080
# For plain `docker run`; Kubernetes uses the Deployment's probes (/healthz, /readyz) instead.
# It asks the port the gateway was started with (--port, GATEWAY_PORT/PORT, the config's port).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["bun", "run", "src/runtime/healthcheck.ts"]
ENTRYPOINT ["bun", "run", "src/runtime/bun.ts"]
# No arguments: examples/quickstart.yaml (three simulated pods in the container).
CMD []
