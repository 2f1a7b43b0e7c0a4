package io.labelscope.worker;

import java.util.HashMap;
import java.util.Map;

import io.labelscope.platform.testing.TestPlatform;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Points the worker under test at the JVM's real broker and registry (see RealKafkaTestResource), a random test
 * checkpoint written by the real runtime, and a task registered on the real tasks topic.
 */
public final class WorkerTestResource implements QuarkusTestResourceLifecycleManager {
    static final String DOCUMENTS = "documents-quarkus-test";

    @Override
    public Map<String, String> start() {
        try {
            TestPlatform p = TestPlatform.get();
            TestSupport.ensureTopics(p, DOCUMENTS, 3);
            TestSupport.registerTask(p, TestSupport.task());
            TestSupport.registerTask(p, TestSupport.taskWithoutModel());
            TestSupport.registerTask(p, TestSupport.breakdownTask());
            Map<String, String> c = new HashMap<>();
            // The per-task layout of models/demo: one checkpoint per task, named after it.
            c.put("labelscope.worker.model.path", TestSupport.perTaskModels().toString());
            c.put("labelscope.worker.model.name", "demo");
            c.put("labelscope.worker.model.threads", "1");
            c.put("labelscope.worker.documents-topic", DOCUMENTS);
            c.put("labelscope.worker.group-id", "quarkus-test-workers");
            c.put("labelscope.worker.instance-id", "quarkus-test-worker");
            c.put("labelscope.worker.batch-size", "8");
            c.put("labelscope.worker.linger", "PT0.05S");
            c.put("labelscope.worker.fault-injection-fail-text", TestSupport.FAIL_TEXT);
            c.put("labelscope.worker.fault-injection-throw-text", TestSupport.THROW_TEXT);
            c.put("kafka.session.timeout.ms", "6000");
            return c;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
    }
}
