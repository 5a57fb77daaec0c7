package co.corouter.plugin.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.ByteSourceJsonBootstrapper;
import com.fasterxml.jackson.core.json.ReaderBasedJsonParser;
import com.fasterxml.jackson.core.sym.ByteQuadsCanonicalizer;
import com.fasterxml.jackson.core.sym.CharsToNameCanonicalizer;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.RecyclerPool;
import io.vertx.core.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * JSON that carries request or response content, read and written so that none of it stays behind in the heap
 * (privacy policy §1: content is not retained). Every parser and generator of prompts or answers — the host's and the
 * plugins' — comes from {@link #FACTORY}. A Jackson factory keeps two things for the life of the process:
 * <ul>
 *   <li>every field name it reads, in the factory's name table (and Jackson's intern cache); the keys of a client's
 *       tool schemas, {@code response_format} or {@code metadata} are content. Here an event loop reads with a name
 *       table of its own, holding only the names of the wire formats corouter speaks (so the usual body costs no
 *       name lookups beyond a hash probe); once a body has added any other name, the table is replaced by a fresh
 *       one — at the next parse on that loop, or when its request ends ({@link #forget}). Any other thread reads
 *       with a new table per parser, which dies with it. Nothing is interned. (Canonicalization stays on: without
 *       it Jackson's byte parser falls back to a reader, whose locations are char offsets, and the splicers copy
 *       by byte offset.)</li>
 *   <li>the buffers of its parsers and generators, recycled per thread: the last prompt parsed and the last answer
 *       written on an event loop. Here each thread's recycler notes which buffers came back, and {@link #forget}
 *       zeroes those — the few kilobytes a request used, not every buffer the thread ever had.</li>
 * </ul>
 * Whatever ran a request on a thread calls {@link #forget} on that thread once the request has ended.
 */
public final class ContentJson {

    /**
     * The names of the wire formats (OpenAI chat and embeddings, Anthropic messages, Gemini), which every loop's name
     * table starts with and may keep: protocol, not content.
     */
    private static final String[] PROTOCOL_NAMES = {
        "id", "object", "created", "model", "provider", "choices", "index", "message", "delta", "role", "content",
        "name", "refusal", "annotations", "tool_calls", "tool_call_id", "type", "function", "arguments", "finish_reason",
        "native_finish_reason", "logprobs", "usage", "prompt_tokens", "completion_tokens", "total_tokens",
        "prompt_tokens_details", "cached_tokens", "cache_write_tokens", "completion_tokens_details", "reasoning_tokens",
        "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens", "cost", "is_byok",
        "system_fingerprint", "service_tier", "messages", "stream", "stream_options", "include_usage", "max_tokens",
        "max_completion_tokens", "temperature", "top_p", "top_k", "stop", "n", "seed", "user", "tools", "tool_choice",
        "parallel_tool_calls", "response_format", "json_schema", "schema", "strict", "description", "parameters",
        "properties", "required", "frequency_penalty", "presence_penalty", "logit_bias", "top_logprobs", "reasoning",
        "effort", "exclude", "enabled", "metadata", "models", "route", "transforms", "prediction", "modalities", "text",
        "image_url", "url", "detail", "input_audio", "data", "format", "file", "error", "code", "param", "input",
        "encoding_format", "dimensions", "embedding", "system", "stop_sequences", "stop_reason", "stop_sequence",
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "thinking",
        "budget_tokens", "signature", "source", "media_type", "tool_use_id", "is_error", "input_schema",
        "content_block", "contents", "parts", "candidates", "finishReason", "usageMetadata", "promptTokenCount",
        "candidatesTokenCount", "totalTokenCount", "thoughtsTokenCount", "cachedContentTokenCount",
        "generationConfig", "maxOutputTokens", "topP", "topK", "stopSequences", "systemInstruction", "modelVersion",
        "responseId", "functionCall", "functionResponse", "args", "inlineData", "mimeType",
    };
    private static final byte[] PROTOCOL_DOCUMENT = protocolDocument();

    private static final ThreadLocal<ThreadRecycler> RECYCLERS = ThreadLocal.withInitial(ThreadRecycler::new);

    private static final int FACTORY_FEATURES = JsonFactory.Feature.collectDefaults()
            & ~JsonFactory.Feature.INTERN_FIELD_NAMES.getMask();
    private static final ContentFactory CONTENT = new ContentFactory((JsonFactoryBuilder) new JsonFactoryBuilder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .recyclerPool(new ThreadPool()));

    /** The factory of content. Money is written as plain decimals ({@code 0.000000165}, never {@code 1.65E-7}). */
    public static final JsonFactory FACTORY = CONTENT;

    private ContentJson() {
    }

    /** A parser of content (UTF-8 JSON bytes), with the byte offsets of its tokens and names. */
    public static JsonParser parser(byte[] json) throws IOException {
        return FACTORY.createParser(json);
    }

    /** A parser of content. */
    public static JsonParser parser(String json) throws IOException {
        return FACTORY.createParser(json);
    }

    /**
     * Forgets what the calling thread read and wrote as content: zeroes the recycled buffers it used (those of a parser
     * or generator still open are not in the pool, and so untouched) and replaces its name table if a body added a
     * name to it. Costs a few hundred nanoseconds when there was anything to forget, a few when there was not.
     */
    public static void forget() {
        RECYCLERS.get().forget();
    }

    private static byte[] protocolDocument() {
        StringJoiner names = new StringJoiner(",", "{", "}");
        for (String name : PROTOCOL_NAMES) {
            names.add("\"" + name + "\":0");
        }
        return names.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A thread's recycled buffers, noting which came back since the last {@link #forget}, and its name table. */
    private static final class ThreadRecycler extends BufferRecycler {

        private int usedBytes;
        private int usedChars;
        private ByteQuadsCanonicalizer names;
        private int protocolNames;

        @Override
        public void releaseByteBuffer(int ix, byte[] buffer) {
            usedBytes |= 1 << ix;
            super.releaseByteBuffer(ix, buffer);
        }

        @Override
        public void releaseCharBuffer(int ix, char[] buffer) {
            usedChars |= 1 << ix;
            super.releaseCharBuffer(ix, buffer);
        }

        /** The name table of this thread, with nothing but the protocol's names in it. */
        ByteQuadsCanonicalizer names() {
            if (names == null || names.size() != protocolNames) {
                ByteQuadsCanonicalizer fresh = ByteQuadsCanonicalizer.createRoot();
                try (JsonParser parser = new ByteSourceJsonBootstrapper(CONTENT.context(), PROTOCOL_DOCUMENT, 0,
                        PROTOCOL_DOCUMENT.length)
                        .constructParser(0, null, fresh, CharsToNameCanonicalizer.createRoot(), FACTORY_FEATURES)) {
                    while (parser.nextToken() != null) {
                        // reading the names adds them to the table, once the parser closes
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("the protocol's names are valid JSON", e);
                }
                names = fresh;
                protocolNames = fresh.size();
            }
            return names;
        }

        void forget() {
            for (int ix = 0; usedBytes != 0; ix++, usedBytes >>>= 1) {
                byte[] buffer = (usedBytes & 1) == 0 ? null : _byteBuffers.get(ix);
                if (buffer != null) {
                    Arrays.fill(buffer, (byte) 0);
                }
            }
            for (int ix = 0; usedChars != 0; ix++, usedChars >>>= 1) {
                char[] buffer = (usedChars & 1) == 0 ? null : _charBuffers.get(ix);
                if (buffer != null) {
                    Arrays.fill(buffer, '\0');
                }
            }
            if (names != null && names.size() != protocolNames) {
                names = null; // a fresh table on the next parse
            }
        }
    }

    /** One recycler per thread, never handed to another (Jackson's default pool is shaped the same). */
    private static final class ThreadPool extends RecyclerPool.ThreadLocalPoolBase<BufferRecycler> {

        private static final long serialVersionUID = 1L;

        @Override
        public BufferRecycler acquirePooled() {
            return RECYCLERS.get();
        }
    }

    /** Reads names into the event loop's table, or a parser's own on any other thread. */
    private static final class ContentFactory extends JsonFactory {

        private static final long serialVersionUID = 1L;

        ContentFactory(JsonFactoryBuilder builder) {
            super(builder);
        }

        IOContext context() {
            return _createContext(_createContentReference(PROTOCOL_DOCUMENT), false);
        }

        private static ByteQuadsCanonicalizer names() {
            return Context.isOnEventLoopThread() ? RECYCLERS.get().names() : ByteQuadsCanonicalizer.createRoot();
        }

        @Override
        protected JsonParser _createParser(byte[] data, int offset, int len, IOContext context) throws IOException {
            return new ByteSourceJsonBootstrapper(context, data, offset, len).constructParser(_parserFeatures,
                    _objectCodec, names(), CharsToNameCanonicalizer.createRoot(this), _factoryFeatures);
        }

        @Override
        protected JsonParser _createParser(InputStream in, IOContext context) throws IOException {
            return new ByteSourceJsonBootstrapper(context, in).constructParser(_parserFeatures, _objectCodec,
                    names(), CharsToNameCanonicalizer.createRoot(this), _factoryFeatures);
        }

        @Override
        protected JsonParser _createParser(char[] data, int offset, int len, IOContext context, boolean recyclable) {
            return new ReaderBasedJsonParser(context, _parserFeatures, null, _objectCodec,
                    CharsToNameCanonicalizer.createRoot(this).makeChild(), data, offset, offset + len, recyclable);
        }

        @Override
        protected JsonParser _createParser(Reader reader, IOContext context) {
            return new ReaderBasedJsonParser(context, _parserFeatures, reader, _objectCodec,
                    CharsToNameCanonicalizer.createRoot(this).makeChild());
        }

        @Override
        public JsonFactory copy() {
            throw new UnsupportedOperationException("the content factory is shared, never copied");
        }
    }
}
