package co.corouter.server.audit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server on 127.0.0.1 answering from a table the way a recursive resolver does: a CNAME chain is flattened into
 * the answer, each record under its own name. It can hold its answers back until {@link #release()}, to show that a
 * caller waits for DNS without holding its thread.
 */
final class FakeDnsServer {

    private static final int A = 1;
    private static final int CNAME = 5;
    private static final int AAAA = 28;
    private static final int NXDOMAIN = 3;

    private final Map<String, List<InetAddress>> addresses = new ConcurrentHashMap<>();
    private final Map<String, String> cnames = new ConcurrentHashMap<>();
    private final List<Runnable> held = new ArrayList<>();
    private final AtomicInteger queries = new AtomicInteger();
    private final DatagramSocket socket;
    private boolean holding;

    private FakeDnsServer(DatagramSocket socket) {
        this.socket = socket;
    }

    static Future<FakeDnsServer> start(Vertx vertx) {
        DatagramSocket socket = vertx.createDatagramSocket();
        FakeDnsServer server = new FakeDnsServer(socket);
        socket.handler(server::answer);
        return socket.listen(0, "127.0.0.1").map(server);
    }

    int port() {
        return socket.localAddress().port();
    }

    /** {@code name} has these A and AAAA records. */
    FakeDnsServer address(String name, String... literals) {
        List<InetAddress> list = new ArrayList<>();
        for (String literal : literals) {
            try {
                list.add(InetAddress.getByName(literal));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(literal, e);
            }
        }
        addresses.put(name, List.copyOf(list));
        return this;
    }

    /** {@code name} is a CNAME for {@code target}. */
    FakeDnsServer cname(String name, String target) {
        cnames.put(name, target);
        return this;
    }

    /** Answers nothing until {@link #release()}. */
    synchronized void hold() {
        holding = true;
    }

    /** Sends the answers held so far and answers at once from now on. */
    void release() {
        List<Runnable> answers;
        synchronized (this) {
            holding = false;
            answers = new ArrayList<>(held);
            held.clear();
        }
        answers.forEach(Runnable::run);
    }

    int queries() {
        return queries.get();
    }

    Future<Void> close() {
        return socket.close();
    }

    private void answer(DatagramPacket packet) {
        queries.incrementAndGet();
        Buffer query = packet.data();
        int end = 12;
        StringBuilder name = new StringBuilder();
        for (int length = query.getUnsignedByte(end); length != 0; length = query.getUnsignedByte(end)) {
            name.append(name.length() == 0 ? "" : ".").append(query.getString(end + 1, end + 1 + length));
            end += 1 + length;
        }
        end += 1;
        int type = query.getUnsignedShort(end);
        end += 4;
        Buffer response = response(query, end, name.toString().toLowerCase(Locale.ROOT), type);
        Runnable send = () -> socket.send(response, packet.sender().port(), packet.sender().host());
        synchronized (this) {
            if (holding) {
                held.add(send);
                return;
            }
        }
        send.run();
    }

    private Buffer response(Buffer query, int questionEnd, String name, int type) {
        List<Buffer> answers = new ArrayList<>();
        boolean known = addresses.containsKey(name) || cnames.containsKey(name);
        String current = name;
        for (int hop = 0; cnames.containsKey(current) && hop < 20; hop++) {
            String target = cnames.get(current);
            answers.add(record(current, CNAME, encodeName(target)));
            current = target;
            if (type == CNAME) {
                break;
            }
        }
        if (type == A || type == AAAA) {
            for (InetAddress address : addresses.getOrDefault(current, List.of())) {
                if ((address instanceof Inet4Address) == (type == A)) {
                    answers.add(record(current, type, Buffer.buffer(address.getAddress())));
                }
            }
        }
        Buffer response = Buffer.buffer()
                .appendUnsignedShort(query.getUnsignedShort(0))
                .appendUnsignedShort(0x8000 | (query.getUnsignedShort(2) & 0x0100) | 0x0080 | (known ? 0 : NXDOMAIN))
                .appendUnsignedShort(1).appendUnsignedShort(answers.size()).appendUnsignedShort(0)
                .appendUnsignedShort(0)
                .appendBuffer(query.getBuffer(12, questionEnd));
        answers.forEach(response::appendBuffer);
        return response;
    }

    private static Buffer record(String name, int type, Buffer data) {
        return encodeName(name).appendUnsignedShort(type).appendUnsignedShort(1).appendUnsignedInt(60)
                .appendUnsignedShort(data.length()).appendBuffer(data);
    }

    private static Buffer encodeName(String name) {
        Buffer encoded = Buffer.buffer();
        for (String label : name.split("\\.")) {
            encoded.appendUnsignedByte((short) label.length()).appendString(label);
        }
        return encoded.appendUnsignedByte((short) 0);
    }
}
