package io.labelscope.runtime.task;

/** How an answer lists labels: {@code {"label": ["joy", "fear"]}} or {@code joy, fear}. */
public enum OutputFormat { JSON_LIST, COMMA_LIST }
