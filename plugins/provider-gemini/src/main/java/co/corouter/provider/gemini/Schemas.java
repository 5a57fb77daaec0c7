package co.corouter.provider.gemini;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a client's JSON Schema (OpenAI tool {@code parameters}, {@code response_format.json_schema.schema}) into the
 * OpenAPI-3.0 subset Gemini's {@code Schema} takes (spec §2), which answers 400 to any other keyword. As LiteLLM,
 * Portkey and the SDK's {@code processJsonSchema} do:
 * <ul>
 * <li>{@code $ref} to {@code #/$defs/…} or {@code #/definitions/…} is inlined (a cycle is cut after a few levels);</li>
 * <li>{@code anyOf}/{@code oneOf} with a {@code {"type":"null"}} member, and type arrays with {@code "null"}, become
 * {@code nullable: true}; {@code allOf} is merged; {@code const} becomes a one-value {@code enum};</li>
 * <li>types are upper-cased, {@code enum} keeps only non-empty strings, {@code required} only names in
 * {@code properties}, {@code format} only the ones Gemini knows, an {@code ARRAY} gets {@code items} ({@code STRING}
 * when it had none) and an empty {@code properties} is dropped;</li>
 * <li>every other keyword ({@code additionalProperties}, {@code $schema}, {@code exclusiveMinimum}, {@code strict}, …)
 * is dropped.</li>
 * </ul>
 */
final class Schemas {

    private static final int MAX_DEPTH = 16;
    private static final Set<String> COPIED = Set.of("title", "description", "pattern", "default", "example",
            "nullable", "propertyOrdering");
    private static final Set<String> COUNTS = Set.of("minItems", "maxItems", "minProperties", "maxProperties",
            "minLength", "maxLength");
    private static final Set<String> BOUNDS = Set.of("minimum", "maximum");
    private static final Map<String, Set<String>> FORMATS = Map.of(
            "STRING", Set.of("enum", "date-time"),
            "NUMBER", Set.of("float", "double"),
            "INTEGER", Set.of("int32", "int64"));

    private Schemas() {
    }

    /**
     * Function {@code parameters}: the converted schema, or null when the function takes no arguments (Gemini refuses
     * an {@code OBJECT} with empty {@code properties}: omit {@code parameters} then).
     */
    static JsonObject parameters(Object jsonSchema) {
        JsonObject converted = toGemini(jsonSchema);
        if (converted == null || ("OBJECT".equals(converted.getValue("type"))
                && !(converted.getValue("properties") instanceof JsonObject))) {
            return null;
        }
        return converted;
    }

    /** The Gemini form of a JSON Schema, or null when nothing usable is left of it. */
    static JsonObject toGemini(Object jsonSchema) {
        if (!(jsonSchema instanceof JsonObject root)) {
            return null;
        }
        return convert(root, root, 0);
    }

    private static JsonObject convert(JsonObject schema, JsonObject root, int depth) {
        if (depth > MAX_DEPTH) {
            return null;
        }
        JsonObject resolved = resolve(schema, root, depth);
        if (resolved == null) {
            return null;
        }
        JsonObject out = new JsonObject();
        boolean nullable = Boolean.TRUE.equals(resolved.getValue("nullable"));

        Object union = resolved.getValue("anyOf") != null ? resolved.getValue("anyOf") : resolved.getValue("oneOf");
        if (union instanceof JsonArray options) {
            JsonArray kept = new JsonArray();
            for (Object option : options) {
                if (option instanceof JsonObject o && isNullType(o)) {
                    nullable = true;
                } else if (option instanceof JsonObject o) {
                    JsonObject converted = convert(o, root, depth + 1);
                    if (converted != null) {
                        kept.add(converted);
                    }
                }
            }
            if (kept.size() == 1) {
                // one real option: it is the schema, with the outer description and the nullability
                JsonObject only = kept.getJsonObject(0);
                copyScalars(resolved, only);
                if (nullable) {
                    only.put("nullable", true);
                }
                return only;
            }
            if (!kept.isEmpty()) {
                out.put("anyOf", kept);
            }
        }

        String type = type(resolved);
        Object rawType = resolved.getValue("type");
        if (rawType instanceof JsonArray types) {
            JsonArray nonNull = new JsonArray();
            for (Object t : types) {
                if ("null".equals(t)) {
                    nullable = true;
                } else if (t instanceof String name) {
                    nonNull.add(name.toUpperCase(Locale.ROOT));
                }
            }
            if (nonNull.size() == 1) {
                type = nonNull.getString(0);
            } else if (nonNull.size() > 1 && !out.containsKey("anyOf")) {
                JsonArray options = new JsonArray();
                nonNull.forEach(t -> options.add(new JsonObject().put("type", t)));
                out.put("anyOf", options);
                type = null;
            } else {
                type = null;
            }
        }
        if (type != null) {
            out.put("type", type);
        }
        copyScalars(resolved, out);
        if (nullable) {
            out.put("nullable", true);
        }

        Object format = resolved.getValue("format");
        if (format instanceof String f && type != null && FORMATS.getOrDefault(type, Set.of()).contains(f)) {
            out.put("format", f);
        }
        for (String count : COUNTS) {
            Object value = resolved.getValue(count);
            if (value instanceof Number n && n.longValue() >= 0) {
                out.put(count, n.longValue());
            }
        }
        for (String bound : BOUNDS) {
            if (resolved.getValue(bound) instanceof Number n) {
                out.put(bound, n);
            }
        }

        JsonArray values = enumValues(resolved);
        if (values != null && (type == null || "STRING".equals(type))) {
            out.put("type", "STRING").put("enum", values);
        }

        if (resolved.getValue("properties") instanceof JsonObject properties) {
            JsonObject converted = new JsonObject();
            for (Map.Entry<String, Object> property : properties) {
                if (property.getValue() instanceof JsonObject propertySchema) {
                    JsonObject p = convert(propertySchema, root, depth + 1);
                    if (p != null) {
                        converted.put(property.getKey(), p);
                    }
                }
            }
            if (!converted.isEmpty()) {
                out.put("properties", converted);
                if (resolved.getValue("required") instanceof JsonArray required) {
                    JsonArray kept = new JsonArray();
                    for (Object name : required) {
                        if (name instanceof String n && converted.containsKey(n) && !kept.contains(n)) {
                            kept.add(n);
                        }
                    }
                    if (!kept.isEmpty()) {
                        out.put("required", kept);
                    }
                }
            }
        }

        if ("ARRAY".equals(type)) {
            JsonObject items = resolved.getValue("items") instanceof JsonObject i ? convert(i, root, depth + 1) : null;
            out.put("items", items != null ? items : new JsonObject().put("type", "STRING"));
        }
        return out;
    }

    /** {@code $ref} inlined (its siblings kept over it) and {@code allOf} merged; null when the ref is unknown. */
    private static JsonObject resolve(JsonObject schema, JsonObject root, int depth) {
        JsonObject current = schema;
        int hops = 0;
        while (current.getValue("$ref") instanceof String ref) {
            JsonObject target = target(ref, root);
            if (target == null || ++hops + depth > MAX_DEPTH) {
                return null;
            }
            JsonObject merged = target.copy();
            for (Map.Entry<String, Object> sibling : current) {
                if (!sibling.getKey().equals("$ref")) {
                    merged.put(sibling.getKey(), sibling.getValue());
                }
            }
            current = merged;
        }
        if (current.getValue("allOf") instanceof JsonArray parts) {
            JsonObject merged = new JsonObject();
            for (Object part : parts) {
                if (part instanceof JsonObject p) {
                    JsonObject partResolved = resolve(p, root, depth + 1);
                    if (partResolved != null) {
                        mergeInto(merged, partResolved);
                    }
                }
            }
            for (Map.Entry<String, Object> field : current) {
                if (!field.getKey().equals("allOf")) {
                    merged.put(field.getKey(), field.getValue());
                }
            }
            current = merged;
        }
        return current;
    }

    /** Properties and required names are united; for any other keyword the first part wins. */
    private static void mergeInto(JsonObject merged, JsonObject part) {
        for (Map.Entry<String, Object> field : part) {
            String key = field.getKey();
            if (key.equals("properties") && field.getValue() instanceof JsonObject properties) {
                JsonObject all = merged.getValue("properties") instanceof JsonObject p ? p : new JsonObject();
                properties.forEach(e -> all.put(e.getKey(), e.getValue()));
                merged.put("properties", all);
            } else if (key.equals("required") && field.getValue() instanceof JsonArray required) {
                JsonArray all = merged.getValue("required") instanceof JsonArray r ? r : new JsonArray();
                required.forEach(all::add);
                merged.put("required", all);
            } else if (!merged.containsKey(key)) {
                merged.put(key, field.getValue());
            }
        }
    }

    private static JsonObject target(String ref, JsonObject root) {
        for (String prefix : new String[] {"#/$defs/", "#/definitions/"}) {
            String section = prefix.substring(2, prefix.length() - 1);
            if (ref.startsWith(prefix) && root.getValue(section) instanceof JsonObject defs
                    && defs.getValue(ref.substring(prefix.length())) instanceof JsonObject t) {
                return t;
            }
        }
        return "#".equals(ref) ? root : null;
    }

    /** The upper-cased type, inferred from {@code properties}/{@code items}/{@code enum} when none is given. */
    private static String type(JsonObject schema) {
        if (schema.getValue("type") instanceof String type) {
            return type.toUpperCase(Locale.ROOT);
        }
        if (schema.containsKey("properties")) {
            return "OBJECT";
        }
        if (schema.containsKey("items")) {
            return "ARRAY";
        }
        if (schema.containsKey("enum") || schema.getValue("const") instanceof String) {
            return "STRING";
        }
        return null;
    }

    /** The non-empty string values of {@code enum} (or a string {@code const}), or null when there are none. */
    private static JsonArray enumValues(JsonObject schema) {
        JsonArray values = new JsonArray();
        if (schema.getValue("enum") instanceof JsonArray given) {
            for (Object value : given) {
                if (value instanceof String s && !s.isEmpty() && !values.contains(s)) {
                    values.add(s);
                }
            }
        } else if (schema.getValue("const") instanceof String constant && !constant.isEmpty()) {
            values.add(constant);
        }
        return values.isEmpty() ? null : values;
    }

    private static boolean isNullType(JsonObject option) {
        return "null".equals(option.getValue("type"));
    }

    private static void copyScalars(JsonObject from, JsonObject to) {
        for (String key : COPIED) {
            Object value = from.getValue(key);
            if (value == null || to.containsKey(key)) {
                continue;
            }
            boolean usable = switch (key) {
                case "title", "description", "pattern" -> value instanceof String;
                case "nullable" -> value instanceof Boolean;
                case "propertyOrdering" -> value instanceof JsonArray names
                        && names.stream().allMatch(String.class::isInstance);
                default -> true;
            };
            if (usable) {
                to.put(key, value);
            }
        }
    }
}
