package co.corouter.testkit.kafka;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Asks a broker for its API versions over a raw socket, in the Kafka wire protocol, without a Kafka client. An open
 * port is not readiness (the kernel accepts connections before the broker processes requests); an answer is.
 */
final class ApiVersionsProbe {

    private static final short API_VERSIONS_KEY = 18;
    private static final short VERSION_0 = 0;
    private static final byte[] CLIENT_ID = "corouter-testkit-probe".getBytes(StandardCharsets.UTF_8);

    private ApiVersionsProbe() {
    }

    /** Whether the broker at 127.0.0.1:{@code port} answers an ApiVersions v0 request within {@code timeoutMs}. */
    static boolean answers(int port, int timeoutMs) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            return answers(socket);
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a broker answers an ApiVersions v0 request on a connected socket (plain or TLS). */
    static boolean answers(Socket socket) throws IOException {
        int correlationId = (int) (System.nanoTime() & 0x7fffffff);
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        // request header v1: api key, api version, correlation id, client id (int16 length + bytes); empty body
        out.writeInt(2 + 2 + 4 + 2 + CLIENT_ID.length);
        out.writeShort(API_VERSIONS_KEY);
        out.writeShort(VERSION_0);
        out.writeInt(correlationId);
        out.writeShort(CLIENT_ID.length);
        out.write(CLIENT_ID);
        out.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int size = in.readInt();
        int answeredId = in.readInt();
        short errorCode = in.readShort();
        return size > 6 && answeredId == correlationId && errorCode == 0;
    }
}
