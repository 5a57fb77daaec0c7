package co.corouter.testkit.kafka;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;

import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Reads the broker's own metrics over JMX, attaching to its JVM through the JDK's attach API (a local socket; the
 * broker opens no JMX port). Connected on first use.
 */
final class BrokerMetrics implements AutoCloseable {

    private final long pid;
    private JMXConnector connector;

    BrokerMetrics(long pid) {
        this.pid = pid;
    }

    /** Connections the broker has accepted on {@code listener} since it started (all network processors). */
    synchronized long acceptedConnections(String listener) {
        try {
            MBeanServerConnection server = connection();
            ObjectName pattern = new ObjectName("kafka.server:type=socket-server-metrics,listener=" + listener
                    + ",networkProcessor=*");
            double total = 0;
            for (ObjectName name : server.queryNames(pattern, null)) {
                total += ((Number) server.getAttribute(name, "connection-creation-total")).doubleValue();
            }
            return Math.round(total);
        } catch (JMException e) {
            throw new IllegalStateException("cannot read the broker's connection metrics", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the broker's connection metrics", e);
        }
    }

    private MBeanServerConnection connection() throws IOException {
        if (connector == null) {
            String address;
            try {
                VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
                try {
                    address = vm.startLocalManagementAgent();
                } finally {
                    vm.detach();
                }
            } catch (AttachNotSupportedException e) {
                throw new IOException("cannot attach to the broker JVM " + pid, e);
            }
            connector = JMXConnectorFactory.connect(new JMXServiceURL(address));
        }
        return connector.getMBeanServerConnection();
    }

    @Override
    public synchronized void close() {
        if (connector != null) {
            try {
                connector.close();
            } catch (IOException ignored) {
                // the broker is gone; nothing to release on our side
            }
            connector = null;
        }
    }
}
