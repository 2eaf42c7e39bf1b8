package dev.ideproxy.example.springboot;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.context.annotation.Bean;

/** The example on Spring Boot's embedded Tomcat, its default server. */
class PortalApplicationTest extends PortalApplicationCases {
    @Override
    Class<?> server() {
        return OnTomcat.class;
    }

    @Override
    String expectedServer() {
        return "TomcatServletWebServerFactory";
    }

    /** A source of the application, not a scanned {@code @Configuration}: the other server's test must not see it. */
    static class OnTomcat {
        @Bean
        TomcatServletWebServerFactory tomcat() {
            return new TomcatServletWebServerFactory();
        }
    }
}
