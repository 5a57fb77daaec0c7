package co.corouter.server.console;

import io.vertx.ext.web.Router;

/**
 * A group of signed-in {@code /api} routes. The console router mounts each group on its {@code /api} sub-router
 * after the session and CSRF handlers, so a handler always finds a {@link ConsoleUser} under {@link ConsoleUser#KEY}
 * and a parsed JSON body (when one was sent). Paths are relative to {@code /api} (e.g. {@code "/keys/:id"}).
 */
public interface ConsoleRoutes {

    void mount(Router api);
}
