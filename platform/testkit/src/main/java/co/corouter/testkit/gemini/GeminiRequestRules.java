package co.corouter.testkit.gemini;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The checks the Gemini API makes of a request body before it answers, with its 400 messages (spec §2, §6): unknown
 * fields (camelCase or snake_case names are both accepted), empty {@code contents} or {@code parts}, a part with other
 * than one data field, roles other than {@code user}/{@code model}, function-call turn order and response counts,
 * Schema keywords outside the OpenAPI subset, bad base64, and the embedding requests' shapes.
 */
final class GeminiRequestRules {

    /** A request the API refuses: its {@code error.message} and the field at fault. */
    static final class Invalid extends RuntimeException {
        final String field;

        Invalid(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }
    }

    static final int MAX_BATCH = 100;

    private static final Set<String> REQUEST_FIELDS = Set.of("model", "contents", "systemInstruction", "tools",
            "toolConfig", "safetySettings", "generationConfig", "cachedContent", "serviceTier");
    private static final Set<String> CONTENT_FIELDS = Set.of("role", "parts");
    private static final Set<String> PART_DATA = Set.of("text", "inlineData", "fileData", "functionCall",
            "functionResponse", "executableCode", "codeExecutionResult");
    private static final Set<String> PART_FIELDS = Set.of("text", "inlineData", "fileData", "functionCall",
            "functionResponse", "executableCode", "codeExecutionResult", "thought", "thoughtSignature",
            "videoMetadata", "mediaResolution");
    private static final Set<String> TOOL_KINDS = Set.of("functionDeclarations", "googleSearch", "codeExecution",
            "urlContext", "googleMaps", "fileSearch", "computerUse", "googleSearchRetrieval", "mcpServers");
    private static final Set<String> DECLARATION_FIELDS = Set.of("name", "description", "parameters",
            "parametersJsonSchema", "response", "responseJsonSchema", "behavior");
    private static final Set<String> SCHEMA_FIELDS = Set.of("type", "format", "title", "description", "nullable",
            "enum", "items", "minItems", "maxItems", "properties", "required", "minProperties", "maxProperties",
            "minLength", "maxLength", "pattern", "minimum", "maximum", "default", "example", "anyOf",
            "propertyOrdering");
    private static final Set<String> SCHEMA_TYPES = Set.of("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER",
            "BOOLEAN", "ARRAY", "OBJECT", "NULL");
    private static final Set<String> GENERATION_FIELDS = Set.of("temperature", "topP", "topK", "candidateCount",
            "maxOutputTokens", "stopSequences", "presencePenalty", "frequencyPenalty", "seed", "responseMimeType",
            "responseSchema", "responseJsonSchema", "responseLogprobs", "logprobs", "responseModalities",
            "thinkingConfig", "speechConfig", "mediaResolution", "imageConfig", "enableEnhancedCivicAnswers");
    private static final Set<String> THINKING_FIELDS = Set.of("thinkingBudget", "includeThoughts", "thinkingLevel");
    private static final Set<String> TOOL_CONFIG_FIELDS = Set.of("functionCallingConfig", "retrievalConfig",
            "includeServerSideToolInvocations");
    private static final Set<String> CALLING_MODES = Set.of("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED");
    private static final Set<String> EMBED_FIELDS = Set.of("model", "content", "taskType", "title",
            "outputDimensionality");
    private static final Set<String> TASK_TYPES = Set.of("TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY",
            "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING",
            "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY");
    private static final Pattern FUNCTION_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.:-]{0,127}");
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]*={0,2}");

    private GeminiRequestRules() {
    }

    /** Checks a {@code generateContent} / {@code streamGenerateContent} body. */
    static void generateContent(JsonObject body) {
        known(body, REQUEST_FIELDS, "");
        Object contents = field(body, "contents");
        if (!(contents instanceof JsonArray list) || list.isEmpty()) {
            throw new Invalid("contents", "* GenerateContentRequest.contents: contents is not specified\n");
        }
        String previousRole = null;
        int previousCalls = 0;
        for (int i = 0; i < list.size(); i++) {
            String at = "contents[" + i + "]";
            JsonObject content = object(list.getValue(i), at);
            String role = content(content, at, false);
            JsonArray parts = (JsonArray) field(content, "parts");
            int calls = count(parts, "functionCall");
            int responses = count(parts, "functionResponse");
            if (calls > 0 && !"user".equals(previousRole)) {
                throw new Invalid(at, "Please ensure that function call turn comes immediately after a user turn or "
                        + "after a function response turn.");
            }
            if (responses > 0 && responses != previousCalls) {
                throw new Invalid(at, "Please ensure that the number of function response parts is equal to the "
                        + "number of function call parts of the function call turn.");
            }
            previousRole = role;
            previousCalls = calls;
        }
        Object system = field(body, "systemInstruction");
        if (system != null) {
            JsonObject instruction = object(system, "system_instruction");
            content(instruction, "system_instruction", true);
        }
        Object tools = field(body, "tools");
        if (tools != null) {
            tools(tools);
        }
        Object toolConfig = field(body, "toolConfig");
        if (toolConfig != null) {
            toolConfig(object(toolConfig, "tool_config"));
        }
        Object safety = field(body, "safetySettings");
        if (safety != null && !(safety instanceof JsonArray)) {
            throw new Invalid("safety_settings", "Invalid JSON payload received. Proto field is repeating, cannot "
                    + "start object.");
        }
        Object generation = field(body, "generationConfig");
        if (generation != null) {
            generationConfig(object(generation, "generation_config"));
        }
    }

    /** Checks an {@code embedContent} body for {@code models/{model}}. */
    static void embedContent(JsonObject body, String model) {
        embedRequest(body, model, "", false);
    }

    /** Checks a {@code batchEmbedContents} body for {@code models/{model}}. */
    static void batchEmbedContents(JsonObject body, String model) {
        known(body, Set.of("requests"), "");
        if (!(body.getValue("requests") instanceof JsonArray requests) || requests.isEmpty()) {
            throw new Invalid("requests", "* BatchEmbedContentsRequest.requests: requests is not specified\n");
        }
        if (requests.size() > MAX_BATCH) {
            throw new Invalid("requests", "* BatchEmbedContentsRequest.requests: at most " + MAX_BATCH
                    + " requests can be in one batch\n");
        }
        for (int i = 0; i < requests.size(); i++) {
            embedRequest(object(requests.getValue(i), "requests[" + i + "]"), model, "requests[" + i + "].", true);
        }
    }

    /** The value of a field under its camelCase or its snake_case name. */
    static Object field(JsonObject object, String camel) {
        Object value = object.getValue(camel);
        return value != null ? value : object.getValue(snake(camel));
    }

    private static void embedRequest(JsonObject request, String model, String at, boolean modelRequired) {
        known(request, EMBED_FIELDS, at);
        Object named = request.getValue("model");
        if (named == null && modelRequired) {
            throw new Invalid(at + "model", "* BatchEmbedContentsRequest." + at + "model: model is not specified\n");
        }
        if (named != null && !("models/" + model).equals(named)) {
            throw new Invalid(at + "model", "* BatchEmbedContentsRequest." + at + "model: the model of each request "
                    + "must be models/" + model + "\n");
        }
        Object content = request.getValue("content");
        if (content == null) {
            throw new Invalid(at + "content", "* EmbedContentRequest." + at + "content: content is not specified\n");
        }
        content(object(content, at + "content"), at + "content", true);
        Object task = field(request, "taskType");
        if (task != null && !TASK_TYPES.contains(task)) {
            throw new Invalid(at + "task_type", "Invalid value at '" + at + "task_type' (type.googleapis.com/"
                    + "google.ai.generativelanguage.v1beta.TaskType), \"" + task + "\"");
        }
        Object dimensions = field(request, "outputDimensionality");
        if (dimensions != null && !(dimensions instanceof Integer d && d > 0)) {
            throw new Invalid(at + "output_dimensionality", "* EmbedContentRequest." + at
                    + "output_dimensionality: must be a positive integer\n");
        }
    }

    /** Checks a Content; returns its role. {@code textOnly} for system instructions and embeddings. */
    private static String content(JsonObject content, String at, boolean textOnly) {
        known(content, CONTENT_FIELDS, at);
        Object role = content.getValue("role");
        if (!textOnly && role != null && !"user".equals(role) && !"model".equals(role)) {
            throw new Invalid(at + ".role", "Please use a valid role: user, model.");
        }
        if (!(content.getValue("parts") instanceof JsonArray parts) || parts.isEmpty()) {
            throw new Invalid(at + ".parts", "* GenerateContentRequest." + at + ".parts: contents.parts must not be "
                    + "empty.\n");
        }
        for (int p = 0; p < parts.size(); p++) {
            part(object(parts.getValue(p), at + ".parts[" + p + "]"), at + ".parts[" + p + "]", textOnly);
        }
        return role == null ? "user" : (String) role;
    }

    private static void part(JsonObject part, String at, boolean textOnly) {
        known(part, PART_FIELDS, at);
        long data = part.fieldNames().stream().map(GeminiRequestRules::camel).filter(PART_DATA::contains).count();
        if (data != 1) {
            throw new Invalid(at, "* GenerateContentRequest." + at + ".data: required oneof field 'data' must have "
                    + "one initialized field\n");
        }
        if (textOnly && !(part.getValue("text") instanceof String)) {
            throw new Invalid(at, "* " + at + ": only text parts are allowed here\n");
        }
        if (part.containsKey("text") && !(part.getValue("text") instanceof String)) {
            throw new Invalid(at + ".text", "Invalid value at '" + at + ".text' (TYPE_STRING)");
        }
        Object inline = field(part, "inlineData");
        if (inline != null) {
            JsonObject blob = object(inline, at + ".inline_data");
            known(blob, Set.of("mimeType", "data"), at + ".inline_data");
            if (!(field(blob, "mimeType") instanceof String)) {
                throw new Invalid(at + ".inline_data.mime_type", "* GenerateContentRequest." + at
                        + ".inline_data.mime_type: mime_type is not specified\n");
            }
            base64(blob.getValue("data"), at + ".inline_data.data");
        }
        Object file = field(part, "fileData");
        if (file != null) {
            JsonObject fileData = object(file, at + ".file_data");
            known(fileData, Set.of("mimeType", "fileUri"), at + ".file_data");
            if (!(field(fileData, "fileUri") instanceof String)) {
                throw new Invalid(at + ".file_data.file_uri", "* GenerateContentRequest." + at
                        + ".file_data.file_uri: file_uri is not specified\n");
            }
        }
        Object call = field(part, "functionCall");
        if (call != null) {
            JsonObject functionCall = object(call, at + ".function_call");
            known(functionCall, Set.of("name", "args", "id"), at + ".function_call");
            name(functionCall.getValue("name"), at + ".function_call.name");
            Object args = functionCall.getValue("args");
            if (args != null && !(args instanceof JsonObject)) {
                throw new Invalid(at + ".function_call.args", "Invalid value at '" + at + ".function_call.args' "
                        + "(type.googleapis.com/google.protobuf.Struct)");
            }
        }
        Object response = field(part, "functionResponse");
        if (response != null) {
            JsonObject functionResponse = object(response, at + ".function_response");
            known(functionResponse, Set.of("name", "response", "id", "parts"), at + ".function_response");
            name(functionResponse.getValue("name"), at + ".function_response.name");
            if (!(functionResponse.getValue("response") instanceof JsonObject)) {
                throw new Invalid(at + ".function_response.response", "Invalid value at '" + at
                        + ".function_response.response' (type.googleapis.com/google.protobuf.Struct)");
            }
        }
        Object signature = field(part, "thoughtSignature");
        if (signature != null) {
            base64(signature, at + ".thought_signature");
        }
    }

    private static void tools(Object tools) {
        if (!(tools instanceof JsonArray list)) {
            throw new Invalid("tools", "Invalid JSON payload received. Proto field is repeating, cannot start object.");
        }
        for (int t = 0; t < list.size(); t++) {
            String at = "tools[" + t + "]";
            JsonObject tool = object(list.getValue(t), at);
            known(tool, TOOL_KINDS, at);
            if (tool.size() != 1) {
                throw new Invalid(at, "* GenerateContentRequest." + at + ": a tool must have exactly one kind\n");
            }
            Object declarations = field(tool, "functionDeclarations");
            if (declarations == null) {
                continue;
            }
            if (!(declarations instanceof JsonArray functions)) {
                throw new Invalid(at + ".function_declarations", "Invalid JSON payload received. Proto field is "
                        + "repeating, cannot start object.");
            }
            for (int f = 0; f < functions.size(); f++) {
                String fat = at + ".function_declarations[" + f + "]";
                JsonObject declaration = object(functions.getValue(f), fat);
                known(declaration, DECLARATION_FIELDS, fat);
                name(declaration.getValue("name"), fat + ".name");
                Object parameters = declaration.getValue("parameters");
                if (parameters != null && field(declaration, "parametersJsonSchema") != null) {
                    throw new Invalid(fat, "* GenerateContentRequest." + fat + ": parameters and "
                            + "parameters_json_schema are mutually exclusive\n");
                }
                if (parameters != null) {
                    schema(parameters, fat + ".parameters");
                }
            }
        }
    }

    private static void toolConfig(JsonObject config) {
        known(config, TOOL_CONFIG_FIELDS, "tool_config");
        Object calling = field(config, "functionCallingConfig");
        if (calling == null) {
            return;
        }
        JsonObject functionCalling = object(calling, "tool_config.function_calling_config");
        known(functionCalling, Set.of("mode", "allowedFunctionNames"), "tool_config.function_calling_config");
        Object mode = functionCalling.getValue("mode");
        if (mode != null && !CALLING_MODES.contains(mode)) {
            throw new Invalid("tool_config.function_calling_config.mode", "Invalid value at "
                    + "'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage."
                    + "v1beta.FunctionCallingConfig.Mode), \"" + mode + "\"");
        }
        Object allowed = field(functionCalling, "allowedFunctionNames");
        if (allowed != null && !"ANY".equals(mode) && !"VALIDATED".equals(mode)) {
            throw new Invalid("tool_config.function_calling_config.allowed_function_names", "* GenerateContentRequest"
                    + ".tool_config.function_calling_config.allowed_function_names: allowed_function_names may only "
                    + "be set when mode is ANY or VALIDATED\n");
        }
    }

    private static void generationConfig(JsonObject config) {
        known(config, GENERATION_FIELDS, "generation_config");
        for (String number : List.of("temperature", "topP", "presencePenalty", "frequencyPenalty")) {
            Object value = field(config, number);
            if (value != null && !(value instanceof Number)) {
                throw new Invalid("generation_config." + snake(number), "Invalid value at 'generation_config."
                        + snake(number) + "' (TYPE_FLOAT), \"" + value + "\"");
            }
        }
        for (String integer : List.of("topK", "candidateCount", "maxOutputTokens", "seed")) {
            Object value = field(config, integer);
            if (value != null && !(value instanceof Integer || value instanceof Long)) {
                throw new Invalid("generation_config." + snake(integer), "Invalid value at 'generation_config."
                        + snake(integer) + "' (TYPE_INT32), " + value);
            }
        }
        Object stops = field(config, "stopSequences");
        if (stops != null && (!(stops instanceof JsonArray list) || list.size() > 5
                || !list.stream().allMatch(String.class::isInstance))) {
            throw new Invalid("generation_config.stop_sequences", "* GenerateContentRequest.generation_config"
                    + ".stop_sequences: at most 5 strings\n");
        }
        Object schema = field(config, "responseSchema");
        Object jsonSchema = field(config, "responseJsonSchema");
        if (schema != null && jsonSchema != null) {
            throw new Invalid("generation_config", "* GenerateContentRequest.generation_config: response_schema and "
                    + "response_json_schema are mutually exclusive\n");
        }
        if ((schema != null || jsonSchema != null)
                && !"application/json".equals(field(config, "responseMimeType"))
                && !"text/x.enum".equals(field(config, "responseMimeType"))) {
            throw new Invalid("generation_config.response_mime_type", "* GenerateContentRequest.generation_config"
                    + ".response_mime_type: a response schema requires response_mime_type application/json\n");
        }
        if (schema != null) {
            schema(schema, "generation_config.response_schema");
        }
        Object thinking = field(config, "thinkingConfig");
        if (thinking != null) {
            JsonObject thinkingConfig = object(thinking, "generation_config.thinking_config");
            known(thinkingConfig, THINKING_FIELDS, "generation_config.thinking_config");
            if (field(thinkingConfig, "thinkingBudget") != null && field(thinkingConfig, "thinkingLevel") != null) {
                throw new Invalid("generation_config.thinking_config", "thinking_budget and thinking_level are not "
                        + "supported together.");
            }
        }
    }

    /** The OpenAPI-subset Schema: keys from the allow-list only, a single upper- or lower-case type, and so on. */
    private static void schema(Object value, String at) {
        JsonObject schema = object(value, at);
        for (String key : schema.fieldNames()) {
            if (!SCHEMA_FIELDS.contains(camel(key))) {
                throw new Invalid(at, "Invalid JSON payload received. Unknown name \"" + key + "\" at '" + at
                        + "': Cannot find field.");
            }
        }
        Object type = schema.getValue("type");
        if (type instanceof JsonArray) {
            throw new Invalid(at + ".type", "Invalid JSON payload received. Proto field is not repeating, cannot "
                    + "start list.");
        }
        String upper = type instanceof String text ? text.toUpperCase(Locale.ROOT) : null;
        if (type != null && (upper == null || !SCHEMA_TYPES.contains(upper))) {
            throw new Invalid(at + ".type", "Invalid value at '" + at + ".type' (type.googleapis.com/google.ai."
                    + "generativelanguage.v1beta.Type), \"" + type + "\"");
        }
        Object enumeration = schema.getValue("enum");
        if (enumeration != null && (!(enumeration instanceof JsonArray values)
                || !values.stream().allMatch(v -> v instanceof String s && !s.isEmpty()))) {
            throw new Invalid(at + ".enum", "* GenerateContentRequest." + at + ".enum: only non-empty strings are "
                    + "allowed\n");
        }
        Object properties = schema.getValue("properties");
        if (properties != null) {
            if (!(properties instanceof JsonObject map)) {
                throw new Invalid(at + ".properties", "Invalid JSON payload received. Expected an object at '" + at
                        + ".properties'.");
            }
            if (map.isEmpty() && "OBJECT".equals(upper)) {
                throw new Invalid(at + ".properties", "* GenerateContentRequest." + at + ".properties: should be "
                        + "non-empty for OBJECT type\n");
            }
            for (Map.Entry<String, Object> property : map) {
                schema(property.getValue(), at + ".properties[" + property.getKey() + "]");
            }
        }
        Object required = schema.getValue("required");
        if (required != null) {
            JsonObject map = properties instanceof JsonObject p ? p : new JsonObject();
            if (!(required instanceof JsonArray names)) {
                throw new Invalid(at + ".required", "Invalid JSON payload received. Proto field is repeating, cannot "
                        + "start object.");
            }
            for (Object name : names) {
                if (!(name instanceof String n) || !map.containsKey(n)) {
                    throw new Invalid(at + ".required", "* GenerateContentRequest." + at + ".required[" + name
                            + "]: property is not defined\n");
                }
            }
        }
        Object items = schema.getValue("items");
        if ("ARRAY".equals(upper) && items == null) {
            throw new Invalid(at + ".items", "* GenerateContentRequest." + at + ".items: missing field.\n");
        }
        if (items != null) {
            schema(items, at + ".items");
        }
        Object anyOf = field(schema, "anyOf");
        if (anyOf != null) {
            if (!(anyOf instanceof JsonArray options) || options.isEmpty()) {
                throw new Invalid(at + ".any_of", "* GenerateContentRequest." + at + ".any_of: must not be empty\n");
            }
            for (int i = 0; i < options.size(); i++) {
                schema(options.getValue(i), at + ".any_of[" + i + "]");
            }
        }
    }

    private static void name(Object name, String at) {
        if (!(name instanceof String text) || !FUNCTION_NAME.matcher(text).matches()) {
            throw new Invalid(at, "* GenerateContentRequest." + at + ": Invalid function name. Must start with a "
                    + "letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                    + "dashes, with a maximum length of 128.\n");
        }
    }

    private static void base64(Object value, String at) {
        boolean valid = value instanceof String text && BASE64.matcher(text).matches();
        if (valid) {
            try {
                String text = (String) value;
                (text.indexOf('-') >= 0 || text.indexOf('_') >= 0 ? Base64.getUrlDecoder() : Base64.getDecoder())
                        .decode(text);
            } catch (IllegalArgumentException notBase64) {
                valid = false;
            }
        }
        if (!valid) {
            throw new Invalid(at, "Invalid value at '" + at + "' (TYPE_BYTES), Base64 decoding failed for \""
                    + value + "\"");
        }
    }

    private static int count(JsonArray parts, String field) {
        int count = 0;
        for (Object part : parts) {
            if (part instanceof JsonObject p && field(p, field) != null) {
                count++;
            }
        }
        return count;
    }

    private static JsonObject object(Object value, String at) {
        if (!(value instanceof JsonObject object)) {
            throw new Invalid(at, "Invalid JSON payload received. Expected an object at '" + at + "'.");
        }
        return object;
    }

    /** Rejects a field that is not in {@code allowed} under either spelling, as proto3-JSON parsing does. */
    private static void known(JsonObject object, Set<String> allowed, String at) {
        for (String key : object.fieldNames()) {
            if (!allowed.contains(camel(key))) {
                String where = at.isEmpty() ? "" : " at '" + at + "'";
                throw new Invalid(at.isEmpty() ? key : at + "." + key, "Invalid JSON payload received. Unknown name \""
                        + key + "\"" + where + ": Cannot find field.");
            }
        }
    }

    private static String camel(String name) {
        if (name.indexOf('_') < 0) {
            return name;
        }
        StringBuilder out = new StringBuilder(name.length());
        boolean upper = false;
        for (char c : name.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }

    private static String snake(String camel) {
        StringBuilder out = new StringBuilder(camel.length() + 4);
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('_').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
