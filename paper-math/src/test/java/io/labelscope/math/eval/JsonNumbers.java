package io.labelscope.math.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/**
 * Generic recursive comparison of two JSON trees: same keys, same array lengths, equal strings/booleans/nulls,
 * and numbers equal to 1e-9 relative error (1e-8 absolute where the expected value is near zero), the
 * tolerance of EVAL-FORMAT.md. Returns every difference with its JSON path, so a failure says where.
 */
final class JsonNumbers {

    static final double RELATIVE = 1e-9;
    static final double ABSOLUTE = 1e-8;

    private JsonNumbers() {
    }

    static List<String> differences(JsonNode expected, JsonNode actual) {
        List<String> out = new ArrayList<>();
        compare("$", expected, actual, out);
        return out;
    }

    static boolean numbersAgree(double expected, double actual) {
        double diff = Math.abs(expected - actual);
        return diff <= RELATIVE * Math.abs(expected) || diff <= ABSOLUTE;
    }

    private static void compare(String path, JsonNode e, JsonNode a, List<String> out) {
        if (a == null || a.isMissingNode()) {
            out.add(path + ": missing (expected " + e + ")");
            return;
        }
        if (e.isNumber()) {
            if (!a.isNumber()) {
                out.add(path + ": expected number " + e + ", got " + a);
            } else if (!numbersAgree(e.asDouble(), a.asDouble())) {
                out.add(path + ": expected " + e.asDouble() + ", got " + a.asDouble());
            }
        } else if (e.isObject()) {
            if (!a.isObject()) {
                out.add(path + ": expected object, got " + a);
                return;
            }
            TreeSet<String> keys = new TreeSet<>();
            e.fieldNames().forEachRemaining(keys::add);
            a.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                if (!e.has(k)) {
                    out.add(path + "." + k + ": unexpected key");
                } else {
                    compare(path + "." + k, e.get(k), a.get(k), out);
                }
            }
        } else if (e.isArray()) {
            if (!a.isArray() || a.size() != e.size()) {
                out.add(path + ": expected array of " + e.size() + ", got " + a);
                return;
            }
            Iterator<JsonNode> ai = a.elements();
            int i = 0;
            for (JsonNode ee : e) {
                compare(path + "[" + i++ + "]", ee, ai.next(), out);
            }
        } else if (!e.equals(a)) {
            out.add(path + ": expected " + e + ", got " + a);
        }
    }
}
