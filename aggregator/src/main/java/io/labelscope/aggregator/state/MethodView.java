package io.labelscope.aggregator.state;

import java.util.List;
import java.util.Map;

/** One method's result in a distribution; metrics are null while the document has no annotators. */
public record MethodView(Map<String, Double> distribution, List<String> predicted, Double nll, Double l1,
                         Double exampleF1) {
}
