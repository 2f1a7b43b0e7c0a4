package io.labelscope.aggregator.input;

import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.UnaryProbes;

/**
 * An input record after decoding and the checks that need no state: one of the five inputs, or a rejection
 * on its way to the dead letters. The input topics are merged as this type, so one processor sees a
 * document's steps, generations, probes and annotations in arrival order.
 */
public sealed interface DocumentEvent {

    public record StepArrived(LabelStep step, SourceRecord source) implements DocumentEvent {
    }

    public record GenerationArrived(Generation generation, SourceRecord source) implements DocumentEvent {
    }

    public record UnaryArrived(UnaryProbes probes, SourceRecord source) implements DocumentEvent {
    }

    public record BinaryArrived(BinaryProbes probes, SourceRecord source) implements DocumentEvent {
    }

    public record AnnotationArrived(Annotation annotation, SourceRecord source) implements DocumentEvent {
    }

    public record Rejected(DeadLetter deadLetter) implements DocumentEvent {
    }
}
