package co.corouter.payment.creem;

import org.pf4j.Plugin;

/** PF4J entry point. The plugin has no life-cycle of its own: each gateway owns its HTTP client. */
public class CreemPaymentPlugin extends Plugin {
}
