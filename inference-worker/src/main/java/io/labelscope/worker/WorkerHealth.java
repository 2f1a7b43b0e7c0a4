package io.labelscope.worker;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/** /q/health/live: the loop runs. /q/health/ready: model loaded, broker and registry reachable, loop polling. */
public final class WorkerHealth {
    private WorkerHealth() {}

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        WorkerService worker;

        @Override
        public HealthCheckResponse call() {
            HealthCheckResponseBuilder b = HealthCheckResponse.named("inference-worker loop");
            WorkerLoop loop = worker.loop();
            if (loop == null) {
                return b.up().withData("loop", "not started").build();
            }
            b.status(loop.healthy());
            if (loop.failure() != null) {
                b.withData("failure", String.valueOf(loop.failure()));
            }
            return b.build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        WorkerService worker;

        @Override
        public HealthCheckResponse call() {
            WorkerService.Check broker = worker.broker();
            WorkerService.Check registry = worker.registry();
            WorkerLoop loop = worker.loop();
            boolean polling = loop == null || loop.polling();
            Models models = worker.models();
            HealthCheckResponseBuilder b = HealthCheckResponse.named("inference-worker")
                    .status(worker.modelLoaded() && broker.up() && registry.up() && polling)
                    .withData("model", worker.modelLoaded() ? worker.modelName() : "not loaded");
            if (models != null) {
                // What serves what, read by `labelscope task register` to warn about a task no worker can serve.
                b.withData("default_model", models.defaultModel())
                        .withData("default_model_tasks", String.join(",", models.defaultModelTasks()))
                        .withData("models_dir", models.modelsDir().toString())
                        .withData("max_loaded_models", models.maxLoadedNamed())
                        .withData("serves", models.describe());
            }
            return b
                    .withData("broker", broker.detail())
                    .withData("registry", registry.detail())
                    .withData("polling", polling)
                    .build();
        }
    }
}
