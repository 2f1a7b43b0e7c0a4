package io.labelscope.aggregator.rest;

import io.labelscope.aggregator.dashboard.Overview;
import io.labelscope.schemas.Configuration;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The REST API's optional {@code version} parameter (issue #15 item 6): which task version of a task/model a
 * request means. Absent: the latest seen, the version whose documents were updated last (the overview's pairs,
 * every instance merged, so each instance resolves it alike); {@value #NONE}: the records without a version
 * (written before versions existed, a configuration of their own); else that version.
 */
@ApplicationScoped
public class TaskVersions {

    /** The parameter value that names the configuration of records without a task version. */
    public static final String NONE = "none";

    @Inject
    Overview overview;

    /** The versions seen of a task/model, newest first: each {@code version} (null: none), documents, last update. */
    public List<Map<String, Object>> of(String task, String model) {
        List<?> pairs = (List<?>) overview.current().getOrDefault("pairs", List.of());
        return pairs.stream().map(p -> (Map<?, ?>) p)
                .filter(p -> task.equals(p.get("task")) && model.equals(p.get("model")))
                // As instants: ISO-8601 text of Instant drops trailing zeros, so it does not sort as text.
                .sorted(Comparator.comparing((Map<?, ?> p) -> p.get("last_update") == null ? Instant.EPOCH
                        : Instant.parse(p.get("last_update").toString())).reversed())
                .map(p -> {
                    Map<String, Object> v = new LinkedHashMap<>();
                    v.put("version", p.get("version"));
                    v.put("documents", p.get("documents"));
                    v.put("last_update", p.get("last_update"));
                    return v;
                }).toList();
    }

    /** The configuration a request for a task/model and a version parameter names. */
    public Configuration configuration(String task, String model, String version) {
        if (version == null || version.isBlank()) {
            List<Map<String, Object>> seen = of(task, model);
            return new Configuration(model, seen.isEmpty() ? null : (String) seen.get(0).get("version"));
        }
        if (NONE.equals(version)) {
            return new Configuration(model, null);
        }
        if (!version.matches("[0-9a-f]{12}")) {
            throw new BadRequestException("version is a task version (12 hex characters, as `labelscope task list` "
                    + "prints it) or " + NONE + ", got '" + version + "'");
        }
        return new Configuration(model, version);
    }

    /** Whether a run of {@code runVersion} is one a documents request's version parameter keeps (absent: all). */
    public static boolean selects(String version, String runVersion) {
        if (version == null || version.isBlank()) {
            return true;
        }
        return NONE.equals(version) ? runVersion == null : version.equals(runVersion);
    }
}
