package co.corouter.testkit.creem;

/**
 * How {@link FakeCreem} delivers one webhook event: as Creem does (once, signed, retried on failure) or hostile.
 *
 * <pre>
 * WebhookPlan.normal()                         // one signed POST
 * WebhookPlan.normal().copies(3).concurrently() // the same bytes three times at once (at-least-once delivery)
 * WebhookPlan.normal().delayMillis(200)        // after a timer
 * WebhookPlan.dropped()                        // never sent (recorded as dropped)
 * WebhookPlan.normal().misSigned()             // creem-signature made with another secret
 * WebhookPlan.normal().retries(4)              // re-sent at once after a non-2xx or a connection failure
 * </pre>
 *
 * @param copies       how many times the same bytes are sent (at least 1)
 * @param concurrent   whether the copies are sent at once rather than one after the other's answer
 * @param delayMillis  wait before the first send (0: none, no timer)
 * @param drop         never send it
 * @param badSignature sign with a wrong secret
 * @param retries      how many more attempts a copy gets after a non-2xx answer or a failed connection; Creem
 *                     waits 30 s, 1 min, 5 min, 1 h between them, the fake does not wait
 */
public record WebhookPlan(int copies, boolean concurrent, long delayMillis, boolean drop, boolean badSignature,
                          int retries) {

    public WebhookPlan {
        if (copies < 1 || delayMillis < 0 || retries < 0) {
            throw new IllegalArgumentException("copies >= 1, delayMillis >= 0 and retries >= 0");
        }
    }

    /** One correctly signed delivery, no retries. */
    public static WebhookPlan normal() {
        return new WebhookPlan(1, false, 0, false, false, 0);
    }

    /** Not delivered at all. */
    public static WebhookPlan dropped() {
        return new WebhookPlan(1, false, 0, true, false, 0);
    }

    public WebhookPlan copies(int n) {
        return new WebhookPlan(n, concurrent, delayMillis, drop, badSignature, retries);
    }

    public WebhookPlan concurrently() {
        return new WebhookPlan(copies, true, delayMillis, drop, badSignature, retries);
    }

    public WebhookPlan delayMillis(long millis) {
        return new WebhookPlan(copies, concurrent, millis, drop, badSignature, retries);
    }

    public WebhookPlan misSigned() {
        return new WebhookPlan(copies, concurrent, delayMillis, drop, true, retries);
    }

    public WebhookPlan retries(int n) {
        return new WebhookPlan(copies, concurrent, delayMillis, drop, badSignature, n);
    }
}
