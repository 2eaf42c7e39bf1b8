package dev.ideproxy.testing;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A {@link ServletContextListener} that the containers treat as declared in {@code web.xml} (as the
 * WAR's is), which runs the installer a test registered under the id in its context parameter.
 * The servlet specification forbids such a listener to add another {@code ServletContextListener}.
 */
public final class DeclaredListener implements ServletContextListener {
    static final String PARAMETER = "test.installer";
    private static final Map<String, Consumer<ServletContext>> INSTALLERS = new ConcurrentHashMap<>();

    /** Keeps {@code installer} until a context started with the returned id runs it. */
    static String register(Consumer<ServletContext> installer) {
        String id = UUID.randomUUID().toString();
        INSTALLERS.put(id, installer);
        return id;
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        Consumer<ServletContext> installer = INSTALLERS.remove(context.getInitParameter(PARAMETER));
        if (installer == null) {
            throw new IllegalStateException("no installer registered for this context");
        }
        installer.accept(context);
    }
}
