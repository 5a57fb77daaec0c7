package co.corouter.server.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who holds a byte pattern in a heap dump (HPROF 1.0.2, as {@code jcmd GC.heap_dump} writes it): the primitive arrays
 * whose elements contain it, and the chains of objects referring to them ({@code byte[] <- java.lang.String.value <-
 * ...}), up to a GC root or a class's static field. A failure message's explanation, not an assertion: a canary in a
 * heap is found by {@link CanaryScanner}; this says where it lives.
 */
final class HeapDumpHolders {

    private static final int UTF8 = 0x01;
    private static final int LOAD_CLASS = 0x02;
    private static final int HEAP_DUMP = 0x0C;
    private static final int HEAP_DUMP_SEGMENT = 0x1C;
    private static final int OBJECT = 2;

    private final ByteBuffer dump;
    private final int idSize;
    private final int records;
    private final Map<Long, String> strings = new HashMap<>();
    private final Map<Long, String> classNames = new HashMap<>();
    /** Per class: its super class and its instance fields (name, type), in dump order. */
    private final Map<Long, long[]> superOf = new HashMap<>();
    private final Map<Long, List<long[]>> fieldsOf = new HashMap<>();
    private final Map<Long, String> roots = new HashMap<>();

    private HeapDumpHolders(Path hprof) {
        try (FileChannel channel = FileChannel.open(hprof, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            mapped.order(ByteOrder.BIG_ENDIAN);
            this.dump = mapped;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int at = 0;
        while (dump.get(at) != 0) {
            at++;
        }
        idSize = dump.getInt(at + 1);
        records = at + 1 + 4 + 8;
        readClasses();
    }

    /**
     * The holders of each pattern (by its name), one line a chain, innermost first, at most {@code limit} chains of
     * at most {@code depth} links.
     */
    static Map<String, List<String>> of(Path hprof, Map<String, byte[]> patterns, int depth, int limit) {
        HeapDumpHolders heap = new HeapDumpHolders(hprof);
        Map<String, List<String>> holders = new LinkedHashMap<>();
        patterns.forEach((name, pattern) -> holders.put(name, heap.chains(pattern, depth, limit)));
        return holders;
    }

    private List<String> chains(byte[] pattern, int depth, int limit) {
        Map<Long, String> arrays = arraysContaining(pattern);
        // referrer links: object id -> "class.field" of a referrer and its id
        Map<Long, List<Object[]>> referrers = new HashMap<>();
        Set<Long> wanted = new HashSet<>(arrays.keySet());
        Set<Long> seen = new HashSet<>(wanted);
        for (int level = 0; level < depth && !wanted.isEmpty(); level++) {
            Map<Long, List<Object[]>> found = referrersOf(wanted);
            referrers.putAll(found);
            Set<Long> next = new HashSet<>();
            found.values().forEach(list -> list.forEach(link -> {
                long from = (Long) link[1];
                if (from != 0 && seen.add(from)) {
                    next.add(from);
                }
            }));
            wanted = next;
        }
        List<String> chains = new ArrayList<>();
        for (Map.Entry<Long, String> array : arrays.entrySet()) {
            StringBuilder chain = new StringBuilder(array.getValue());
            long current = array.getKey();
            Set<Long> visited = new HashSet<>();
            for (int level = 0; level < depth; level++) {
                if (roots.containsKey(current)) {
                    chain.append(" <- GC root (").append(roots.get(current)).append(')');
                    break;
                }
                List<Object[]> links = referrers.get(current);
                if (links == null || links.isEmpty() || !visited.add(current)) {
                    break;
                }
                Object[] link = links.get(0);
                chain.append(" <- ").append(link[0]);
                if (links.size() > 1) {
                    chain.append(" (+").append(links.size() - 1).append(" more)");
                }
                current = (Long) link[1];
                if (current == 0) {
                    break;
                }
            }
            chains.add(chain.toString());
            if (chains.size() >= limit) {
                break;
            }
        }
        return chains;
    }

    private long id(int at) {
        return idSize == 8 ? dump.getLong(at) : dump.getInt(at) & 0xffffffffL;
    }

    private static int size(int type, int idSize) {
        return switch (type) {
            case OBJECT -> idSize;
            case 4, 8 -> 1;
            case 5, 9 -> 2;
            case 6, 10 -> 4;
            case 7, 11 -> 8;
            default -> throw new IllegalStateException("unknown HPROF type " + type);
        };
    }

    private interface SubRecords {
        void instance(long id, long classId, int fieldsAt, int length);

        default void objectArray(long id, long classId, int elementsAt, int count) {
        }

        default void primitiveArray(long id, int type, int elementsAt, int count) {
        }
    }

    /** The class names, the instance field layouts and the GC roots. */
    private void readClasses() {
        int at = records;
        while (at < dump.limit()) {
            int tag = dump.get(at) & 0xff;
            int length = dump.getInt(at + 5);
            int body = at + 9;
            if (tag == UTF8) {
                byte[] text = new byte[length - idSize];
                dump.get(body + idSize, text);
                strings.put(id(body), new String(text, StandardCharsets.UTF_8));
            } else if (tag == LOAD_CLASS) {
                classNames.put(id(body + 4), strings.getOrDefault(id(body + 8 + idSize), "?").replace('/', '.'));
            } else if (tag == HEAP_DUMP || tag == HEAP_DUMP_SEGMENT) {
                walk(body, body + length, null);
            }
            at = body + length;
        }
    }

    /** Walks a heap dump segment; with {@code visitor} null it records classes and roots. */
    private void walk(int at, int end, SubRecords visitor) {
        while (at < end) {
            int sub = dump.get(at) & 0xff;
            at++;
            switch (sub) {
                case 0xFF, 0x05, 0x07 -> {
                    root(id(at), sub == 0x05 ? "sticky class" : sub == 0x07 ? "monitor" : "unknown", visitor);
                    at += idSize;
                }
                case 0x01 -> {
                    root(id(at), "JNI global", visitor);
                    at += 2 * idSize;
                }
                case 0x02, 0x03 -> {
                    root(id(at), sub == 0x02 ? "JNI local" : "Java frame", visitor);
                    at += idSize + 8;
                }
                case 0x04, 0x06 -> {
                    root(id(at), sub == 0x04 ? "native stack" : "thread block", visitor);
                    at += idSize + 4;
                }
                case 0x08 -> {
                    root(id(at), "thread object", visitor);
                    at += idSize + 8;
                }
                case 0x20 -> at = classDump(at, visitor);
                case 0x21 -> {
                    long id = id(at);
                    long classId = id(at + idSize + 4);
                    int length = dump.getInt(at + 2 * idSize + 4);
                    int fieldsAt = at + 2 * idSize + 8;
                    if (visitor != null) {
                        visitor.instance(id, classId, fieldsAt, length);
                    }
                    at = fieldsAt + length;
                }
                case 0x22 -> {
                    long id = id(at);
                    int count = dump.getInt(at + idSize + 4);
                    long classId = id(at + idSize + 8);
                    int elementsAt = at + 2 * idSize + 8;
                    if (visitor != null) {
                        visitor.objectArray(id, classId, elementsAt, count);
                    }
                    at = elementsAt + count * idSize;
                }
                case 0x23 -> {
                    long id = id(at);
                    int count = dump.getInt(at + idSize + 4);
                    int type = dump.get(at + idSize + 8);
                    int elementsAt = at + idSize + 9;
                    if (visitor != null) {
                        visitor.primitiveArray(id, type, elementsAt, count);
                    }
                    at = elementsAt + count * size(type, idSize);
                }
                default -> throw new IllegalStateException("unknown HPROF heap sub-record " + sub + " at " + at);
            }
        }
    }

    private void root(long id, String kind, SubRecords visitor) {
        if (visitor == null) {
            roots.putIfAbsent(id, kind);
        }
    }

    private int classDump(int at, SubRecords visitor) {
        long classId = id(at);
        long superId = id(at + idSize + 4);
        at += 7 * idSize + 8; // id, stack, super, loader, signers, domain, 2 reserved, instance size
        int constants = dump.getShort(at) & 0xffff;
        at += 2;
        for (int i = 0; i < constants; i++) {
            at += 2 + 1 + size(dump.get(at + 2), idSize);
        }
        int statics = dump.getShort(at) & 0xffff;
        at += 2;
        List<long[]> staticRefs = new ArrayList<>();
        for (int i = 0; i < statics; i++) {
            long name = id(at);
            int type = dump.get(at + idSize);
            if (type == OBJECT) {
                staticRefs.add(new long[] {name, id(at + idSize + 1)});
            }
            at += idSize + 1 + size(type, idSize);
        }
        int fields = dump.getShort(at) & 0xffff;
        at += 2;
        List<long[]> layout = new ArrayList<>();
        for (int i = 0; i < fields; i++) {
            layout.add(new long[] {id(at), dump.get(at + idSize)});
            at += idSize + 1;
        }
        if (visitor == null) {
            superOf.put(classId, new long[] {superId});
            fieldsOf.put(classId, layout);
        } else if (visitor instanceof StaticsVisitor staticsVisitor) {
            for (long[] ref : staticRefs) {
                staticsVisitor.staticField(classId, strings.getOrDefault(ref[0], "?"), ref[1]);
            }
        }
        return at;
    }

    private interface StaticsVisitor extends SubRecords {
        void staticField(long classId, String name, long value);
    }

    private String className(long classId) {
        return classNames.getOrDefault(classId, "class@" + Long.toHexString(classId));
    }

    private static String arrayType(int type) {
        return switch (type) {
            case 4 -> "boolean";
            case 5 -> "char";
            case 6 -> "float";
            case 7 -> "double";
            case 8 -> "byte";
            case 9 -> "short";
            case 10 -> "int";
            case 11 -> "long";
            default -> "?";
        };
    }

    /** The primitive arrays whose elements contain the pattern, described. */
    private Map<Long, String> arraysContaining(byte[] pattern) {
        Map<Long, String> found = new LinkedHashMap<>();
        forEachSegment(new SubRecords() {
            @Override
            public void instance(long id, long classId, int fieldsAt, int length) {
            }

            @Override
            public void primitiveArray(long id, int type, int elementsAt, int count) {
                int bytes = count * size(type, idSize);
                outer:
                for (int i = 0; i + pattern.length <= bytes; i++) {
                    for (int j = 0; j < pattern.length; j++) {
                        if (dump.get(elementsAt + i + j) != pattern[j]) {
                            continue outer;
                        }
                    }
                    found.put(id, arrayType(type) + "[" + count + "]@" + Long.toHexString(id));
                    return;
                }
            }
        });
        return found;
    }

    /** Per wanted id, the objects referring to it: {"class.field" or "class[]", referrer id}. */
    private Map<Long, List<Object[]>> referrersOf(Set<Long> wanted) {
        Map<Long, List<Object[]>> found = new HashMap<>();
        forEachSegment(new StaticsVisitor() {
            @Override
            public void instance(long id, long classId, int fieldsAt, int length) {
                int at = fieldsAt;
                for (long current = classId; current != 0 && fieldsOf.containsKey(current);
                        current = superOf.get(current)[0]) {
                    for (long[] field : fieldsOf.get(current)) {
                        int type = (int) field[1];
                        if (type == OBJECT) {
                            long value = id(at);
                            if (wanted.contains(value)) {
                                found.computeIfAbsent(value, k -> new ArrayList<>()).add(new Object[] {
                                        className(classId) + "." + strings.getOrDefault(field[0], "?"), id});
                            }
                        }
                        at += size(type, idSize);
                    }
                }
            }

            @Override
            public void objectArray(long id, long classId, int elementsAt, int count) {
                for (int i = 0; i < count; i++) {
                    long value = id(elementsAt + i * idSize);
                    if (wanted.contains(value)) {
                        found.computeIfAbsent(value, k -> new ArrayList<>()).add(new Object[] {
                                className(classId) + "[" + i + " of " + count + "]", id});
                    }
                }
            }

            @Override
            public void staticField(long classId, String name, long value) {
                if (wanted.contains(value)) {
                    found.computeIfAbsent(value, k -> new ArrayList<>()).add(new Object[] {
                            "static " + className(classId) + "." + name, 0L});
                }
            }
        });
        return found;
    }

    private void forEachSegment(SubRecords visitor) {
        int at = records;
        while (at < dump.limit()) {
            int tag = dump.get(at) & 0xff;
            int length = dump.getInt(at + 5);
            int body = at + 9;
            if (tag == HEAP_DUMP || tag == HEAP_DUMP_SEGMENT) {
                walk(body, body + length, visitor);
            }
            at = body + length;
        }
    }
}
