package dev.ideproxy.internal.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.BufferRecyclers;
import java.lang.ref.SoftReference;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A container thread that ran ide-proxy's token code keeps Jackson's buffer pool; once the context is
 * destroyed it must keep nothing of the application's classes (see RedeployIT for the whole effect:
 * without this, Jetty 12 kept every copy of the WAR ever deployed).
 */
class JsonBuffersTest {
    /** Reads the current thread's Jackson buffer reference, as the library does. */
    static final class Peek extends BufferRecyclers {
        static SoftReference<BufferRecycler> ref() {
            return _recyclerRef.get();
        }
    }

    @Test
    void aThreadThatServedARequestKeepsNoBufferPoolAfterTheRelease() throws Exception {
        JsonBuffers.release();
        CompletableFuture<Void> served = new CompletableFuture<>();
        CompletableFuture<Void> released = new CompletableFuture<>();
        CompletableFuture<String> after = new CompletableFuture<>();
        // A long-lived "container thread": serves a request through the filter, then outlives the release.
        Thread container = new Thread(() -> {
            try {
                JsonBuffers.filter().doFilter(null, null, (request, response) -> {
                    Algorithm hmac = Algorithm.HMAC256("json-buffers-test-secret-0123456789abcdef");
                    String token = JWT.create().withSubject("alice").sign(hmac);
                    JWT.require(hmac).build().verify(token);
                });
                assertNotNull(Peek.ref().get(), "Jackson pooled its buffers on this thread");
                served.complete(null);
                released.get(10, TimeUnit.SECONDS);
                after.complete(Peek.ref().get() == null ? "empty" : "still holds a BufferRecycler");
                // Jackson carries on with a new pool on the same thread.
                Algorithm hmac = Algorithm.HMAC256("json-buffers-test-secret-0123456789abcdef");
                JWT.require(hmac).build().verify(JWT.create().withSubject("bob").sign(hmac));
                assertNotNull(Peek.ref().get());
            } catch (Throwable e) {
                served.completeExceptionally(e);
                after.completeExceptionally(e);
            }
        }, "json-buffers-test-container-thread");
        container.start();
        served.get(10, TimeUnit.SECONDS);

        assertTrue(JsonBuffers.release() >= 1, "the request thread's pool was noted");
        released.complete(null);
        assertEquals("empty", after.get(10, TimeUnit.SECONDS));
        container.join(10_000);
        JsonBuffers.release();
    }

    @Test
    void aThreadThatNoRequestReachedIsNotNoted() throws Exception {
        JsonBuffers.release();
        Thread idle = new Thread(JsonBuffers::track);
        idle.start();
        idle.join(10_000);
        assertEquals(0, JsonBuffers.release());
    }
}
