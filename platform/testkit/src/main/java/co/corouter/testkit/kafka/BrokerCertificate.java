package co.corouter.testkit.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A fresh self-signed certificate for the broker's TLS listener, made with the JDK's {@code keytool}: valid for the
 * DNS name {@code localhost} only (no IP address), so a client that verifies host names must connect by that name.
 *
 * @param keystore    PKCS12 key store holding the key and certificate
 * @param password    its password (store and key)
 * @param certificate the certificate in PEM, for clients' trust stores
 */
record BrokerCertificate(Path keystore, String password, String certificate) {

    static final String HOST_NAME = "localhost";

    static BrokerCertificate create(Path dir, String password) {
        Path keystore = dir.resolve("broker.p12");
        Path pem = dir.resolve("broker.pem");
        keytool(dir, "-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + HOST_NAME, "-ext", "SAN=dns:" + HOST_NAME, "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", password, "-keypass", password);
        keytool(dir, "-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(),
                "-storepass", password, "-file", pem.toString());
        try {
            return new BrokerCertificate(keystore, password, Files.readString(pem, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void keytool(Path dir, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Path log = dir.resolve("keytool.log");
        try {
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("keytool " + args[0] + " did not finish within 60 s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed:\n" + Logs.tail(log, 20));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while keytool ran", e);
        }
    }
}
