package dev.ideproxy.internal.web;

import jakarta.servlet.http.HttpServletRequest;

/** Whether the container can read a request's parameters at all. */
public final class Queries {
    private Queries() {
    }

    /**
     * True when the request's parameters can be read. Jetty 12 and Tomcat 11 throw from
     * {@code getParameter} on a query they cannot decode ({@code ?token=%zz}); left to the container,
     * the exception becomes its error page (Jetty's shows the stack and the whole address, token
     * included), so a servlet that reads parameters asks this first and answers 400 itself.
     */
    public static boolean decodes(HttpServletRequest request) {
        try {
            request.getParameterMap();
            return true;
        } catch (RuntimeException unparseable) {
            return false;
        }
    }
}
