package co.corouter.server.common;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.json.jackson.DatabindCodec;

/** Process-wide JSON settings, applied once at boot before any JSON is written. */
public final class JsonSetup {

    private JsonSetup() {
    }

    /** Money goes out as plain decimals ({@code 0.000000165}), never exponent form ({@code 1.65E-7}). */
    public static void plainDecimals() {
        DatabindCodec.mapper().getFactory().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
    }
}
