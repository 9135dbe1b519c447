# spoolgate in a container: Debian slim, Node 20, a non-root user, the spool and the state on
# volumes. Build and run:
#   docker build -t spoolgate .
#   docker run -d --name spoolgate -p 25:2525 \
#     -v spoolgate-spool:/var/spool/spoolgate -v spoolgate-state:/var/lib/spoolgate \
#     -v /srv/spoolgate/spoolgate.conf:/etc/spoolgate/spoolgate.conf:ro spoolgate
# The configuration's Listen addresses must be 0.0.0.0 (not 127.0.0.1) to be reachable from
# outside the container. `docker kill -s HUP spoolgate` is a REFRESH; `docker stop` drains.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY config ./config
COPY examples ./examples
COPY scripts ./scripts
COPY docs ./docs
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
RUN node bin/spoolgate.js init --user spoolgate \
 && sed -i 's/127\.0\.0\.1:/0.0.0.0:/' /etc/spoolgate/spoolgate.conf
USER spoolgate
VOLUME ["/var/spool/spoolgate", "/var/lib/spoolgate"]
EXPOSE 2525 1110 8025
STOPSIGNAL SIGTERM
CMD ["node", "/app/bin/spoolgate.js", "start", "--config", "/etc/spoolgate/spoolgate.conf"]
