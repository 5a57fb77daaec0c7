package co.corouter.audit.kafka;

import org.pf4j.Plugin;

import java.security.Provider;
import java.security.Security;

/**
 * PF4J entry point. Each destination owns its producer; the plugin only cleans up after Kafka on unload: Kafka's
 * login modules register SASL providers JVM-wide ({@code Security.addProvider}), and left there they would pin this
 * plugin's class loader and shadow a reloaded plugin's own.
 */
public class KafkaAuditPlugin extends Plugin {

    @Override
    public void stop() {
        ClassLoader ours = KafkaAuditPlugin.class.getClassLoader();
        for (Provider provider : Security.getProviders()) {
            if (provider.getClass().getClassLoader() == ours) {
                Security.removeProvider(provider.getName());
            }
        }
    }
}
