package io.labelscope.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What one service module says about its own configuration: the settings in its application.properties (also the
 * documented ones left commented out), its build file, and its source code.
 */
record ServiceConfig(String module, Map<String, String> properties, String pom, String sources) {

    private static final Pattern SETTING = Pattern.compile("^#?\\s*([a-z%][\\w.\\-\"%]*)\\s*=(.*)$");

    static ServiceConfig of(Path root, String module) {
        Path dir = root.resolve(module);
        try {
            Map<String, String> properties = new HashMap<>();
            for (String line : Files.readAllLines(dir.resolve("src/main/resources/application.properties"))) {
                Matcher m = SETTING.matcher(line.strip());
                if (m.matches() && !m.group(1).startsWith("%")) {
                    // An active setting wins over a commented example of the same key.
                    boolean commented = line.strip().startsWith("#");
                    if (!commented || !properties.containsKey(m.group(1))) {
                        properties.put(m.group(1), m.group(2).strip());
                    }
                }
            }
            StringBuilder sources = new StringBuilder();
            try (Stream<Path> files = Files.walk(dir.resolve("src/main/java"))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    sources.append(Files.readString(file)).append('\n');
                }
            }
            return new ServiceConfig(module, properties, Files.readString(dir.resolve("pom.xml")), sources.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Quarkus' environment-variable form of a property name. */
    static String envName(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** The property an environment variable sets, if the service knows it. */
    Optional<String> propertyForEnv(String env) {
        return properties.keySet().stream().filter(p -> envName(p).equals(env)).findFirst();
    }

    int httpPort() {
        return Integer.parseInt(properties.get("quarkus.http.port"));
    }

    String metricsPath() {
        return properties.getOrDefault("quarkus.micrometer.export.prometheus.path", "/q/metrics");
    }
}
