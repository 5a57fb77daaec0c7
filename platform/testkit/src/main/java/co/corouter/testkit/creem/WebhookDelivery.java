package co.corouter.testkit.creem;

/**
 * One attempt of {@link FakeCreem} to deliver a webhook, and how the receiver answered.
 *
 * @param eventId   the event's {@code id}
 * @param eventType the event's {@code eventType}
 * @param body      the exact bytes sent, as text
 * @param signature the {@code creem-signature} header sent
 * @param validlySigned whether {@code signature} is the right one for {@code body}
 * @param dropped   the plan dropped it: nothing was sent, {@code status} is 0
 * @param status    the receiver's HTTP status, 0 when there was none (dropped, connection failed)
 * @param answer    the receiver's body, or the connection failure's message
 */
public record WebhookDelivery(String eventId, String eventType, String body, String signature,
                              boolean validlySigned, boolean dropped, int status, String answer) {

    /** Whether the receiver acknowledged it (2xx). */
    public boolean acknowledged() {
        return status / 100 == 2;
    }
}
