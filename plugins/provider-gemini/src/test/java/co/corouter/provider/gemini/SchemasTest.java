package co.corouter.provider.gemini;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SchemasTest {

    @Test
    void keepsTheOpenApiSubsetUpperCasesTypesAndDropsEverythingElse() {
        JsonObject schema = new JsonObject(""" 
                {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "title": "Args",
                 "additionalProperties": false, "strict": true,
                 "properties": {
                   "city": {"type": "string", "description": "City", "minLength": 1, "format": "uri",
                            "examples": ["Paris"]},
                   "days": {"type": "integer", "minimum": 1, "exclusiveMaximum": 15, "format": "int32",
                            "default": 3},
                   "when": {"type": "string", "format": "date-time"}
                 },
                 "required": ["city", "missing"]}
                """);

        assertThat(Schemas.toGemini(schema)).isEqualTo(new JsonObject("""
                {"type": "OBJECT", "title": "Args",
                 "properties": {
                   "city": {"type": "STRING", "description": "City", "minLength": 1},
                   "days": {"type": "INTEGER", "default": 3, "format": "int32", "minimum": 1},
                   "when": {"type": "STRING", "format": "date-time"}
                 },
                 "required": ["city"]}
                """));
    }

    @Test
    void inlinesDefinitionsAndKeepsTheReferencesDescription() {
        JsonObject schema = new JsonObject("""
                {"type": "object",
                 "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
                 "definitions": {"Name": {"type": "string"}},
                 "properties": {"at": {"$ref": "#/$defs/Point", "description": "where"},
                                "name": {"$ref": "#/definitions/Name"},
                                "lost": {"$ref": "https://example.com/schema"}}}
                """);

        assertThat(Schemas.toGemini(schema)).isEqualTo(new JsonObject("""
                {"type": "OBJECT",
                 "properties": {"at": {"type": "OBJECT", "description": "where",
                                       "properties": {"x": {"type": "NUMBER"}}},
                                "name": {"type": "STRING"}}}
                """));
    }

    @Test
    void cutsARecursiveReferenceInsteadOfLoopingForever() {
        JsonObject schema = new JsonObject("""
                {"$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"},
                                                                    "v": {"type": "string"}}}},
                 "$ref": "#/$defs/Node"}
                """);

        JsonObject converted = Schemas.toGemini(schema);

        assertThat(converted.getString("type")).isEqualTo("OBJECT");
        assertThat(converted.encode()).hasSizeLessThan(10_000);
    }

    @Test
    void turnsNullUnionsAndTypeArraysIntoNullable() {
        JsonObject schema = new JsonObject("""
                {"type": "object", "properties": {
                   "a": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "maybe a string"},
                   "b": {"type": ["integer", "null"]},
                   "c": {"oneOf": [{"type": "string"}, {"type": "number"}]},
                   "d": {"type": ["string", "number"]}
                 }}
                """);

        JsonObject properties = Schemas.toGemini(schema).getJsonObject("properties");

        assertThat(properties.getJsonObject("a")).isEqualTo(new JsonObject()
                .put("type", "STRING").put("description", "maybe a string").put("nullable", true));
        assertThat(properties.getJsonObject("b")).isEqualTo(new JsonObject().put("type", "INTEGER")
                .put("nullable", true));
        assertThat(properties.getJsonObject("c")).isEqualTo(new JsonObject().put("anyOf", new JsonArray()
                .add(new JsonObject().put("type", "STRING")).add(new JsonObject().put("type", "NUMBER"))));
        assertThat(properties.getJsonObject("d")).isEqualTo(new JsonObject().put("anyOf", new JsonArray()
                .add(new JsonObject().put("type", "STRING")).add(new JsonObject().put("type", "NUMBER"))));
    }

    @Test
    void mergesAllOfAndTurnsConstAndEnumsIntoStringEnums() {
        JsonObject schema = new JsonObject("""
                {"allOf": [{"type": "object", "properties": {"a": {"const": "x"}}, "required": ["a"]},
                           {"properties": {"b": {"enum": ["red", "", "red", "blue"]},
                                           "n": {"type": "integer", "enum": [1, 2]}}, "required": ["b"]}]}
                """);

        assertThat(Schemas.toGemini(schema)).isEqualTo(new JsonObject("""
                {"type": "OBJECT",
                 "properties": {"a": {"type": "STRING", "enum": ["x"]},
                                "b": {"type": "STRING", "enum": ["red", "blue"]},
                                "n": {"type": "INTEGER"}},
                 "required": ["a", "b"]}
                """));
    }

    @Test
    void givesAnArrayItemsAndDropsAnEmptyObjectsProperties() {
        JsonObject schema = new JsonObject("""
                {"type": "object", "properties": {"tags": {"type": "array"},
                                                  "ids": {"type": "array", "items": {"type": "integer"}},
                                                  "meta": {"type": "object", "properties": {}}}}
                """);

        assertThat(Schemas.toGemini(schema).getJsonObject("properties")).isEqualTo(new JsonObject("""
                {"tags": {"type": "ARRAY", "items": {"type": "STRING"}},
                 "ids": {"type": "ARRAY", "items": {"type": "INTEGER"}},
                 "meta": {"type": "OBJECT"}}
                """));
    }

    @Test
    void functionParametersWithoutPropertiesAreLeftOut() {
        assertThat(Schemas.parameters(new JsonObject().put("type", "object").put("properties", new JsonObject())))
                .isNull();
        assertThat(Schemas.parameters(new JsonObject().put("type", "object"))).isNull();
        assertThat(Schemas.parameters(null)).isNull();
        assertThat(Schemas.parameters(new JsonObject().put("type", "object").put("properties",
                new JsonObject().put("q", new JsonObject().put("type", "string"))))).isNotNull();
    }
}
