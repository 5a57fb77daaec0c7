package co.corouter.server.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class JsonSetupTest {

    @Test
    void tinyMoneyAmountsAreWrittenAsPlainDecimalsNotExponents() {
        JsonSetup.plainDecimals();
        assertThat(new JsonObject().put("cost", Money.toUsd(165)).encode()).isEqualTo("{\"cost\":0.000000165}");
        assertThat(new JsonObject().put("cost", Money.toUsd(10 * Money.NANOS_PER_USD)).encode())
                .isEqualTo("{\"cost\":10}");
    }
}
