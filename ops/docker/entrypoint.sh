#!/bin/sh
# Container entrypoint. docker-compose passes every DEALBRIDGE_* secret from .env, as an empty string when it is
# not set there; DealBridge would read an empty webhook URL as a (bad) value, so empty ones are removed here and
# the connection is reported as not configured instead.
set -eu
for name in $(env | sed -n 's/^\(DEALBRIDGE_[A-Z0-9_]*\)=$/\1/p'); do
  unset "$name"
done
# every jar, the app's and its libraries', is in libs/ (Jib's layout, which the Dockerfile copies)
exec java ${JAVA_OPTS:-} -cp "/opt/dealbridge/libs/*" org.dealbridge.app.cli.DealBridgeCli "$@"
