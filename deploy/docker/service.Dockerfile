# One image recipe for both labelscope services, built from the repository root:
#   docker build -f deploy/docker/service.Dockerfile --build-arg MODULE=aggregator -t labelscope/aggregator .
#   docker build -f deploy/docker/service.Dockerfile --build-arg MODULE=inference-worker -t labelscope/inference-worker .
# Stage 1 builds the Quarkus fast-jar from source; stage 2 runs it on a JRE with the committed demo model and task
# definitions inside the image (no host paths). For GPUs, base stage 2 on a CUDA image and set
# PYTORCH_LIBRARY_PATH / PYTORCH_FLAVOR to a CUDA build of libtorch 2.7.1 (see README, "Scaling out").
ARG MODULE=aggregator

FROM maven:3.9-eclipse-temurin-17 AS build
ARG MODULE
WORKDIR /src
COPY . .
RUN mvn -B -q -Dmaven.test.skip=true -pl ${MODULE} -am package

FROM eclipse-temurin:17-jre
ARG MODULE
WORKDIR /app
COPY --from=build /src/${MODULE}/target/quarkus-app/ /app/
COPY --from=build /src/models/ /app/models/
COPY --from=build /src/tasks/ /app/tasks/
# Inside a container the services must listen beyond loopback; the compose file and manifests publish them.
ENV QUARKUS_HTTP_HOST=0.0.0.0 \
    DJL_OFFLINE=true \
    DJL_CACHE_DIR=/app/.djl \
    JAVA_OPTS="-XX:MaxRAMPercentage=75"
RUN useradd --uid 1001 --home-dir /app labelscope && mkdir -p /app/.djl /app/state && chown -R 1001 /app
USER 1001
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/quarkus-run.jar"]
