package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowIterator;
import io.vertx.sqlclient.RowSet;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bearer-key authentication on the ingress event loop. Unit ns/op.
 * <ul>
 *   <li>{@code authenticateCached}: {@link KeyAuthenticator#authenticate(String)} of a valid key that is in the
 *       node's cache: header parse, checksum check, SHA-256, hex and a map read, returning a completed future.
 *       One op = one request authenticated. The cache is filled the way production fills it, by one miss that
 *       asks {@link AccountRepository#findActiveKey}; here the repository runs over an in-memory {@link Pool}
 *       that answers that one query, so no database is involved. Each iteration starts by dropping and
 *       re-reading the key, so the entry's 60 s TTL cannot expire inside an iteration shorter than 60 s.</li>
 *   <li>{@code hash}: {@link ApiKeys#hash(String)} alone (SHA-256 of the key); one op = one key hashed.</li>
 *   <li>{@code wellFormed}: {@link ApiKeys#shaped(String)} and {@link ApiKeys#signed(String)} (shape and HMAC checksum); one op = one
 *       key checked.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class KeyAuthBench {

    private static final AccountsContract.Principal PRINCIPAL = new AccountsContract.Principal(7, 3, "bench");

    private String key;
    private String header;
    private KeyAuthenticator keys;
    private ApiKeys signing;
    private int lookups;

    @Setup
    public void setup() {
        ApiKeys apiKeys = new ApiKeys("a benchmark key-signing secret of 32+ bytes".getBytes());
        signing = apiKeys;
        key = apiKeys.generate();
        header = "Bearer " + key;
        keys = new KeyAuthenticator(new AccountRepository(onePrincipalPool()), apiKeys);
    }

    @Setup(Level.Iteration)
    public void fillCache() {
        keys.invalidate(HexFormat.of().formatHex(ApiKeys.hash(key)));
        int before = lookups;
        Future<AccountsContract.Principal> first = keys.authenticate(header);
        Future<AccountsContract.Principal> second = keys.authenticate(header);
        if (!first.succeeded() || !PRINCIPAL.equals(first.result()) || !second.succeeded()
                || !PRINCIPAL.equals(second.result())
                || lookups != before + 1) {
            throw new IllegalStateException("the key was not cached after one lookup: " + first + ", " + second
                    + ", lookups " + (lookups - before));
        }
    }

    @Benchmark
    public Future<AccountsContract.Principal> authenticateCached() {
        return keys.authenticate(header);
    }

    @Benchmark
    public byte[] hash() {
        return ApiKeys.hash(key);
    }

    @Benchmark
    public boolean wellFormed() {
        return ApiKeys.shaped(key) && signing.signed(key);
    }

    /**
     * A {@link Pool} that answers {@code AccountRepository.findActiveKey}'s prepared query with one row
     * {@code (id, account_id, label)} of {@link #PRINCIPAL}, synchronously; anything else is unsupported.
     */
    private Pool onePrincipalPool() {
        Row row = proxy(Row.class, (self, method, args) -> switch (method.getName()) {
            case "getLong" -> (int) args[0] == 0 ? PRINCIPAL.keyId() : PRINCIPAL.accountId();
            case "getString" -> PRINCIPAL.label();
            case "size" -> 3;
            default -> unsupported(method.getName());
        });
        RowSet<Row> rows = proxy(RowSet.class, (self, method, args) -> switch (method.getName()) {
            case "size", "rowCount" -> 1;
            case "iterator" -> proxy(RowIterator.class, new InvocationHandler() {
                private boolean given;

                @Override
                public Object invoke(Object self, java.lang.reflect.Method m, Object[] a) {
                    return switch (m.getName()) {
                        case "hasNext" -> !given;
                        case "next" -> {
                            given = true;
                            yield row;
                        }
                        default -> unsupported(m.getName());
                    };
                }
            });
            default -> unsupported(method.getName());
        });
        PreparedQuery<RowSet<Row>> query = proxy(PreparedQuery.class, (self, method, args) -> {
            if (method.getName().equals("execute") && args != null && args.length == 1) {
                lookups++;
                return Future.succeededFuture(rows);
            }
            return unsupported(method.getName());
        });
        return proxy(Pool.class, (self, method, args) -> {
            if (method.getName().equals("preparedQuery") && args.length == 1
                    && ((String) args[0]).contains("FROM api_keys WHERE key_hash")) {
                return query;
            }
            return unsupported(method.getName() + (args != null && args.length > 0 ? " " + args[0] : ""));
        });
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<?> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(KeyAuthBench.class.getClassLoader(), new Class<?>[] {type},
                (self, method, args) -> switch (method.getName()) {
                    case "toString" -> "bench " + type.getSimpleName();
                    case "hashCode" -> System.identityHashCode(self);
                    case "equals" -> self == args[0];
                    default -> handler.invoke(self, method, args);
                });
    }

    private static Object unsupported(String what) {
        throw new UnsupportedOperationException("the benchmark's in-memory pool does not do " + what);
    }
}
