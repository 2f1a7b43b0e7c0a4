# The labelscope command line as an image, for one-shot jobs such as creating the topics on a cluster:
#   docker build -f deploy/docker/cli.Dockerfile -t labelscope/cli .
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -Dmaven.test.skip=true -pl cli -am package

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/cli/target/labelscope-cli.jar /app/labelscope-cli.jar
COPY --from=build /src/cli/target/lib/ /app/lib/
COPY --from=build /src/tasks/ /app/tasks/
RUN useradd --uid 1001 --home-dir /app labelscope
USER 1001
ENTRYPOINT ["java", "-cp", "/app/labelscope-cli.jar:/app/lib/*", "io.labelscope.cli.Labelscope"]
