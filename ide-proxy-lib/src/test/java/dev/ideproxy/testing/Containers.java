package dev.ideproxy.testing;

import dev.ideproxy.IdeProxy;
import jakarta.servlet.ServletContext;
import java.util.EnumMap;
import java.util.Map;

/**
 * Both containers started side by side for one test class, each with its own {@link IdeProxy}, so
 * that a {@code @ParameterizedTest @EnumSource(Container.class)} case runs on Jetty and on Tomcat:
 * <pre>{@code
 * servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(config).build());   // @BeforeAll
 * Container.Running server = servers.get(kind);                                    // in a case
 * servers.close();                                                                  // @AfterAll
 * }</pre>
 * {@link #close()} stops them in the reverse order of their start; a stop that fails does not keep the
 * others from stopping, and its exception is thrown at the end with the others' added as suppressed.
 */
public final class Containers implements AutoCloseable {
    private final Map<Container, Container.Running> running = new EnumMap<>(Container.class);
    private final Map<Container, IdeProxy> proxies = new EnumMap<>(Container.class);
    private final Map<Container, ServletContext> contexts = new EnumMap<>(Container.class);
    private final Closer started = new Closer();

    /** Makes the proxy a container is started with. */
    @FunctionalInterface
    public interface ProxyFactory {
        IdeProxy proxyFor(Container kind) throws Exception;
    }

    private Containers() {
    }

    /**
     * Starts every {@link Container} at {@code contextPath} with the proxy {@code proxies} makes for it.
     * If one fails to start, those already started are stopped before the failure is thrown.
     */
    public static Containers start(String contextPath, ProxyFactory proxies) throws Exception {
        Containers containers = new Containers();
        try {
            for (Container kind : Container.values()) {
                IdeProxy proxy = proxies.proxyFor(kind);
                containers.proxies.put(kind, proxy);
                Container.Running server = kind.start(contextPath, context -> {
                    proxy.install(context);
                    containers.contexts.put(kind, context);
                });
                containers.running.put(kind, containers.started.add(server));
            }
        } catch (Exception e) {
            throw containers.started.closeAfter(e);
        }
        return containers;
    }

    /** The started container of this kind. */
    public Container.Running get(Container kind) {
        return running.get(kind);
    }

    /** The proxy installed in the container of this kind. */
    public IdeProxy proxy(Container kind) {
        return proxies.get(kind);
    }

    /** The servlet context the proxy was installed in, in the container of this kind. */
    public ServletContext context(Container kind) {
        return contexts.get(kind);
    }

    @Override
    public void close() throws Exception {
        started.close();
    }
}
