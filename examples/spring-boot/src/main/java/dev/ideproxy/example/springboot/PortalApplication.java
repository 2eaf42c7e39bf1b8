package dev.ideproxy.example.springboot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot portal with an "Open IDE" API: ide-proxy installed as a library
 * ({@link IdeProxyConfiguration}), the portal's own users (Spring Security) deciding who may open
 * which workspace, and the portal's own registry ({@link WorkspaceRegistry}) saying where each runs.
 */
@SpringBootApplication
public class PortalApplication {
    public static void main(String[] args) {
        SpringApplication.run(PortalApplication.class, args);
    }
}
