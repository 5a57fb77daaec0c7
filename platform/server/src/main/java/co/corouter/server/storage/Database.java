package co.corouter.server.storage;

import co.corouter.server.config.ServerOptions;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL the node uses: an external one by URL, or an embedded real PostgreSQL 15 whose data lives
 * under {@code <data_dir>/pg} (kept between runs). Start-up and migration block, so they run at boot, before
 * any verticle is deployed.
 */
public final class Database implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Database.class);

    private final EmbeddedPostgres embedded;
    private final PgConnectOptions connectOptions;

    private Database(EmbeddedPostgres embedded, PgConnectOptions connectOptions) {
        this.embedded = embedded;
        this.connectOptions = connectOptions;
    }

    /** Connects (or starts the embedded server) and applies the schema migrations. */
    public static Database open(ServerOptions.DatabaseOptions options, Path dataDir) {
        if (options.url() != null) {
            PgConnectOptions connect = PgConnectOptions.fromUri(options.url());
            if (options.password() != null) {
                connect.setPassword(options.password());
            }
            migrate(connect);
            return new Database(null, connect);
        }
        return embedded(dataDir.resolve("pg"));
    }

    /** Starts an embedded PostgreSQL with its data in {@code dir} (reused when it already holds a cluster). */
    public static Database embedded(Path dir) {
        try {
            Files.createDirectories(dir);
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("fsync", "on")
                    .start();
            PgConnectOptions connect = new PgConnectOptions()
                    .setHost("127.0.0.1")
                    .setPort(pg.getPort())
                    .setDatabase("postgres")
                    .setUser("postgres");
            log.info("embedded PostgreSQL started on 127.0.0.1:{} with data in {}", pg.getPort(), dir);
            migrate(connect);
            return new Database(pg, connect);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the embedded PostgreSQL in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Applies {@code db/migration} with Flyway over JDBC (blocking; boot only). */
    static void migrate(PgConnectOptions connect) {
        String jdbcUrl = "jdbc:postgresql://" + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
        Flyway.configure()
                .dataSource(jdbcUrl, connect.getUser(), Objects.requireNonNullElse(connect.getPassword(), ""))
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }

    public PgConnectOptions connectOptions() {
        return new PgConnectOptions(connectOptions);
    }

    /** A pool bound to {@code vertx}; non-blocking, shareable by every verticle of the node. */
    public Pool pool(Vertx vertx, int size) {
        return PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(size).setName("corouter"))
                .connectingTo(connectOptions())
                .using(vertx)
                .build();
    }

    @Override
    public void close() {
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                log.warn("stopping the embedded PostgreSQL: {}", e.toString());
            }
        }
    }
}
