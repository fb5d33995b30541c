# DealBridge image: the app module's jar and its runtime libraries on a Java 17 JRE.
#   docker build -t dealbridge .        (or: docker-compose up --build)
# Configuration comes from DEALBRIDGE_* environment variables (see README, configuration reference).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# Tests run in CI, not in the image build; -am builds the modules app depends on. copy-dependencies runs in the
# same reactor so app's sibling modules resolve to the jars just built (nothing is installed in the image).
RUN mvn -B -q -DskipTests -pl app -am package dependency:copy-dependencies -DincludeScope=runtime '-DoutputDirectory=${project.build.directory}/lib'

FROM eclipse-temurin:17-jre
# The same layout, user and folders as the image Jib builds without Docker (image/pom.xml): user 10001 in group 0
# and a root-owned data folder writable by group 0 (Jib cannot chown; OpenShift runs any uid in group 0 this way).
RUN useradd --system --uid 10001 --gid 0 --home-dir /var/lib/dealbridge --shell /usr/sbin/nologin dealbridge \
 && mkdir -p /var/lib/dealbridge && chmod 775 /var/lib/dealbridge
COPY --from=build /src/app/target/app-0.1.0-SNAPSHOT.jar /opt/dealbridge/libs/
COPY --from=build /src/app/target/lib /opt/dealbridge/libs
COPY ops/docker/entrypoint.sh /opt/dealbridge/entrypoint.sh
USER dealbridge
WORKDIR /var/lib/dealbridge
ENV DEALBRIDGE_DATA_DIR=/var/lib/dealbridge \
    DEALBRIDGE_HTTP_BIND_ADDRESS=0.0.0.0 \
    DEALBRIDGE_HTTP_PORT=8080
EXPOSE 8080
ENTRYPOINT ["/opt/dealbridge/entrypoint.sh"]
CMD ["run"]
