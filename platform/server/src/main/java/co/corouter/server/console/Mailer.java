package co.corouter.server.console;

import co.corouter.server.config.ServerOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import io.vertx.ext.mail.mailencoder.MailEncoder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the console's mails: over SMTP when {@code mail.host} is configured, otherwise written as {@code .eml} files
 * under {@code <node.data_dir>/mail} (where they went is logged once, at start-up). Nothing of a mail — address,
 * body, link — is ever logged; a failed delivery costs one warning naming only its kind.
 */
public final class Mailer {

    private static final Logger log = LoggerFactory.getLogger(Mailer.class);

    private final Vertx vertx;
    private final String from;
    private final MailClient smtp;
    private final Path directory;

    private Mailer(Vertx vertx, String from, MailClient smtp, Path directory) {
        this.vertx = vertx;
        this.from = from;
        this.smtp = smtp;
        this.directory = directory;
    }

    public static Mailer create(Vertx vertx, ServerOptions.MailOptions options, Path dataDir) {
        if (options.smtp()) {
            MailConfig config = new MailConfig(options.host(), options.port())
                    .setStarttls(StartTLSOptions.valueOf(options.starttls()))
                    .setKeepAlive(true)
                    .setMaxPoolSize(4);
            if (!options.username().isBlank()) {
                config.setLogin(LoginOption.REQUIRED).setUsername(options.username()).setPassword(options.password());
            } else {
                config.setLogin(LoginOption.DISABLED);
            }
            log.info("console mail goes to SMTP {}:{}", options.host(), options.port());
            return new Mailer(vertx, options.from(), MailClient.createShared(vertx, config, "corouter-console"), null);
        }
        Path directory = dataDir.resolve("mail").toAbsolutePath();
        log.info("no SMTP configured (mail.host): console mail is written as .eml files under {}", directory);
        return new Mailer(vertx, options.from(), null, directory);
    }

    /** Sends (or writes) one plain-text mail; {@code kind} names it in a warning if it fails (e.g. "verification"). */
    public Future<Void> send(String kind, String to, String subject, String text) {
        MailMessage message = new MailMessage().setFrom(from).setTo(to).setSubject(subject).setText(text);
        Future<Void> sent = smtp != null ? smtp.sendMail(message).mapEmpty() : write(message);
        return sent.onFailure(e -> log.warn("a {} mail could not be sent: {}", kind, e.getClass().getSimpleName()));
    }

    private Future<Void> write(MailMessage message) {
        String file = Instant.now().toString().replace(':', '-') + "-" + UUID.randomUUID() + ".eml";
        String encoded = new MailEncoder(message, "corouter.local").encode();
        return vertx.fileSystem().mkdirs(directory.toString())
                .compose(v -> vertx.fileSystem().writeFile(directory.resolve(file).toString(), Buffer.buffer(encoded)));
    }

    public Future<Void> close() {
        return smtp == null ? Future.succeededFuture() : smtp.close();
    }
}
