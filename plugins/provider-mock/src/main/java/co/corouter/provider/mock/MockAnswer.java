package co.corouter.provider.mock;

/**
 * What the simulated model answers to one request.
 *
 * @param deltas           the answer split into stream deltas; concatenated they are the whole answer
 * @param promptTokens     tokens counted for the request's messages
 * @param completionTokens tokens in the answer (one word is one token)
 * @param finishReason     {@code "stop"}, or {@code "length"} when the request's max tokens cut the answer short
 */
record MockAnswer(String[] deltas, int promptTokens, int completionTokens, String finishReason) {

    String text() {
        return deltas.length == 1 ? deltas[0] : String.join("", deltas);
    }
}
