# One image per function, as Knative runs it: faas-js-runtime serving the compiled function.
#   docker build --build-arg FUNCTION=booking-queue/book-slot -t REGISTRY/patient-portal/book-slot:TAG .
# scripts/deploy.sh builds every function listed in knative/ this way. The image holds each function bundled
# into one file (npm run build: scripts/build.ts) and production dependencies only, for the packages left
# outside the bundle: no laptop machinery (PGlite, in-process bus, YAML).
# telemetry-preload starts tracing (when the OTEL_* variables of knative/components/function ask for it)
# before the runtime loads fastify and the function loads pg and kafkajs, so OpenTelemetry's
# instrumentations patch them as they load; with tracing off it loads only @opentelemetry/api.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/generate-client.cjs scripts/generate-client.cjs
COPY prisma prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ARG FUNCTION
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/build build
COPY --from=build /app/functions/${FUNCTION}/func.yaml build/functions/${FUNCTION}/func.yaml
WORKDIR /app/build/functions/${FUNCTION}
USER node
EXPOSE 8080
CMD ["node", "--require", "/app/build/functions/shared/telemetry-preload.js", "/app/node_modules/faas-js-runtime/bin/cli.js", "index.js"]
