package co.corouter.payment.creem;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class CreemSignaturesTest {

    /** specs/creem.md §2.2. */
    private static final String SPEC_BODY = "{\"id\":\"evt_test1\",\"eventType\":\"checkout.completed\","
            + "\"created_at\":1728734325927,\"object\":{\"id\":\"ch_test1\",\"object\":\"checkout\","
            + "\"request_id\":\"topup_42\",\"status\":\"completed\"}}";
    private static final String SPEC_SIGNATURE = "732b9b5122f203539a6e1f4d2b17436c8aae3d670a141bb6cfaed844c2af7861";
    /** specs/creem.md §3. */
    private static final String SPEC_QUERY = "checkout_id=ch_1QyIQDw9cbFWdA1ry5Qc6I&order_id=ord_4ucZ7Ts3r7EhSrl5yQE4G6"
            + "&customer_id=cust_2KaCAtu6l3tpjIr8Nr9XOp&product_id=prod_6tW66i0oZM7w1qXReHJrwg&request_id=topup_42";
    private static final String SPEC_RETURN_SIGNATURE =
            "c3a5f2ed91636208bf1d50fd3731edf5b6f82762a30e4d732c1543a251cabd76";

    private final CreemSignatures signatures = new CreemSignatures("whsec_test_corouter", "creem_test_KEY123");

    @Test
    void theWebhookSignatureOfTheSpecsVectorIsTheSpecsValue() {
        byte[] body = SPEC_BODY.getBytes(StandardCharsets.UTF_8);
        assertThat(signatures.webhookSignature(body)).isEqualTo(SPEC_SIGNATURE);
        assertThat(signatures.webhookSignatureMatches(body, SPEC_SIGNATURE)).isTrue();
        assertThat(signatures.webhookSignatureMatches(body, " " + SPEC_SIGNATURE.toUpperCase() + " ")).isTrue();
    }

    @Test
    void aChangedByteAWrongSecretOrAMalformedHeaderDoNotVerify() {
        byte[] body = SPEC_BODY.getBytes(StandardCharsets.UTF_8);
        byte[] reserialised = SPEC_BODY.replace(",", ", ").getBytes(StandardCharsets.UTF_8);
        assertThat(signatures.webhookSignatureMatches(reserialised, SPEC_SIGNATURE)).isFalse();
        assertThat(new CreemSignatures("whsec_other", "k").webhookSignatureMatches(body, SPEC_SIGNATURE)).isFalse();
        assertThat(signatures.webhookSignatureMatches(body, null)).isFalse();
        assertThat(signatures.webhookSignatureMatches(body, "")).isFalse();
        assertThat(signatures.webhookSignatureMatches(body, "sha256=" + SPEC_SIGNATURE)).isFalse();
        assertThat(signatures.webhookSignatureMatches(body, SPEC_SIGNATURE.replace('7', 'z'))).isFalse();
    }

    @Test
    void theReturnUrlOfTheSpecsVectorVerifiesInReceivedOrder() {
        CreemSignatures.ReturnQuery query = signatures.verifyReturn(SPEC_QUERY + "&signature=" + SPEC_RETURN_SIGNATURE);
        assertThat(query.signatureValid()).isTrue();
        assertThat(query.params()).containsEntry("request_id", "topup_42")
                .containsEntry("checkout_id", "ch_1QyIQDw9cbFWdA1ry5Qc6I").doesNotContainKey("signature");
    }

    @Test
    void aReturnUrlWithATamperedValueAnotherOrderOrNoSignatureDoesNotVerify() {
        assertThat(signatures.verifyReturn(SPEC_QUERY.replace("topup_42", "topup_43") + "&signature="
                + SPEC_RETURN_SIGNATURE).signatureValid()).isFalse();
        String reordered = "request_id=topup_42&" + SPEC_QUERY.replace("&request_id=topup_42", "");
        assertThat(signatures.verifyReturn(reordered + "&signature=" + SPEC_RETURN_SIGNATURE).signatureValid())
                .isFalse();
        assertThat(signatures.verifyReturn(SPEC_QUERY).signatureValid()).isFalse();
        assertThat(new CreemSignatures("s", "creem_live_OTHER").verifyReturn(SPEC_QUERY + "&signature="
                + SPEC_RETURN_SIGNATURE).signatureValid()).isFalse();
        assertThat(signatures.verifyReturn("checkout_id=%zz&signature=" + SPEC_RETURN_SIGNATURE).signatureValid())
                .isFalse();
    }
}
