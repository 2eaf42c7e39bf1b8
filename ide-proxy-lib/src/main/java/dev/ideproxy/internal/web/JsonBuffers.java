package dev.ideproxy.internal.web;

import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.BufferRecyclers;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import java.io.IOException;
import java.lang.ref.SoftReference;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets a redeployed web application go. Jackson (under java-jwt, which parses and writes every token,
 * and under {@link Responses}) keeps a buffer pool per thread: a {@code ThreadLocal} holding a
 * {@link SoftReference} to a {@link BufferRecycler}. The container's request threads outlive the
 * application, so each of them would keep that recycler, hence its class, hence the application's
 * class loader with all its classes and their metaspace, until the heap runs short (a soft reference
 * is not cleared for metaspace). Every copy of the WAR ever deployed stayed loaded in Jetty 12.
 *
 * <p>{@link #track()} notes the current thread's reference (cheap: a {@code ThreadLocal} read and a
 * set lookup), after every request through the {@link #filter()} and wherever Jackson may run outside
 * one; {@link #release()}, when the context is destroyed, clears them all. The threads are left
 * holding empty references of the JDK's own class, which pin nothing, and Jackson makes a new pool on
 * a thread whose reference is empty, so the pooling between requests is kept.
 */
public final class JsonBuffers extends BufferRecyclers {
    /** Above this many references noted, those already cleared by the collector are dropped. */
    private static final int PURGE_ABOVE = 1024;
    private static final Set<SoftReference<BufferRecycler>> NOTED = ConcurrentHashMap.newKeySet();

    private JsonBuffers() {
    }

    /** Notes the current thread's Jackson buffer pool, if it has one, for {@link #release()}. */
    public static void track() {
        SoftReference<BufferRecycler> ref = _recyclerRef.get();
        if (ref != null && NOTED.add(ref) && NOTED.size() > PURGE_ABOVE) {
            NOTED.removeIf(r -> r.get() == null);
        }
    }

    /**
     * Empties every buffer pool noted so far (the threads keep only empty references).
     *
     * @return how many there were
     */
    public static int release() {
        int released = 0;
        for (Iterator<SoftReference<BufferRecycler>> it = NOTED.iterator(); it.hasNext(); ) {
            it.next().clear();
            it.remove();
            released++;
        }
        return released;
    }

    /** A filter that {@linkplain #track() notes} the thread's buffer pool after each request through it. */
    public static Filter filter() {
        return new Tracking();
    }

    private static final class Tracking implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            try {
                chain.doFilter(request, response);
            } finally {
                track();
            }
        }
    }
}
