package io.labelscope.math;

/**
 * Input the paper's math cannot score, e.g. a step without a logit for every label and {@code none}.
 * Names the document and (1-based) step so that a user can find the record; step is null for document-level
 * problems.
 */
public class InvalidInputException extends RuntimeException {

    private final String documentId;
    private final Integer step;

    public InvalidInputException(String documentId, Integer step, String reason) {
        super("document '" + documentId + "'" + (step == null ? "" : ", step " + step) + ": " + reason);
        this.documentId = documentId;
        this.step = step;
    }

    public String documentId() {
        return documentId;
    }

    /** 1-based step number, or null. */
    public Integer step() {
        return step;
    }
}
