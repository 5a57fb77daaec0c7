package co.corouter.server.console;

/**
 * The signed-in user of a console request, put on the {@code RoutingContext} under {@link #KEY} by the session
 * handler of {@code /api/*} once the session cookie (and, on state-changing methods, the CSRF token) checked out.
 * Every {@code /api} handler takes the user from here and touches only objects of {@link #accountId()}.
 *
 * @param userId    {@code users.id}
 * @param accountId {@code accounts.id}, the wallet the user owns
 * @param sessionId {@code sessions.id} of the session that made the request
 * @param email     the user's email
 */
public record ConsoleUser(long userId, long accountId, long sessionId, String email) {

    /** The {@code RoutingContext} key. */
    public static final String KEY = "corouter.console.user";
}
