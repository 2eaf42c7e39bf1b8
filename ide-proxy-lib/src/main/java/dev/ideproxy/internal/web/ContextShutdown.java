package dev.ideproxy.internal.web;

import jakarta.servlet.GenericServlet;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Runs something when a servlet context is destroyed: through a {@link ServletContextListener} when the
 * context accepts one (during a {@code ServletContainerInitializer}); when {@code IdeProxy.install}
 * runs inside a listener, where the specification forbids adding another, through the destroy of a
 * servlet without mapping.
 */
public final class ContextShutdown {
    private ContextShutdown() {
    }

    /** @param name a name for the servlet, unique in the context */
    public static void register(ServletContext context, String name, Runnable onDestroy) {
        try {
            context.addListener(new Listener(onDestroy));
        } catch (IllegalArgumentException | UnsupportedOperationException | IllegalStateException e) {
            ServletRegistration.Dynamic lifecycle = context.addServlet(name, new OnDestroy(onDestroy));
            if (lifecycle != null) {
                lifecycle.setLoadOnStartup(1);
            }
        }
    }

    private static final class Listener implements ServletContextListener {
        private final Runnable onDestroy;

        Listener(Runnable onDestroy) {
            this.onDestroy = onDestroy;
        }

        @Override
        public void contextDestroyed(ServletContextEvent event) {
            onDestroy.run();
        }
    }

    /** Has no mapping and serves nothing; its destroy is the point. */
    private static final class OnDestroy extends GenericServlet {
        private static final long serialVersionUID = 1L;
        private final transient Runnable onDestroy;

        OnDestroy(Runnable onDestroy) {
            this.onDestroy = onDestroy;
        }

        @Override
        public void service(ServletRequest request, ServletResponse response) throws IOException {
            ((HttpServletResponse) response).sendError(HttpServletResponse.SC_NOT_FOUND);
        }

        @Override
        public void destroy() {
            onDestroy.run();
        }
    }
}
