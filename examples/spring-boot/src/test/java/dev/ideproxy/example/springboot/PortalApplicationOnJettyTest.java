package dev.ideproxy.example.springboot;

import org.springframework.boot.jetty.servlet.JettyServletWebServerFactory;
import org.springframework.context.annotation.Bean;

/**
 * The example on Spring Boot's embedded Jetty ({@code spring-boot-starter-jetty} in place of the
 * Tomcat starter): Jetty 12.1 with Servlet 6.1 (ee11), where ide-proxy relays WebSockets as messages.
 */
class PortalApplicationOnJettyTest extends PortalApplicationCases {
    @Override
    Class<?> server() {
        return OnJetty.class;
    }

    @Override
    String expectedServer() {
        return "JettyServletWebServerFactory";
    }

    /** A source of the application, not a scanned {@code @Configuration}: the other server's test must not see it. */
    static class OnJetty {
        @Bean
        JettyServletWebServerFactory jetty() {
            return new JettyServletWebServerFactory();
        }
    }
}
