package dev.ideproxy.internal.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PathGuardTest {
    static final String BASE = "/portal/__ide/a/";

    @ParameterizedTest
    @ValueSource(strings = {"/", "/x", "/static/app.js", "/a%20b", "/file.name", "/..x", "/x..", "/...",
            "/%2ex", "/100%25.txt", "/%e2%82%ac", "/stable-abc/static/out/vs/x.js", "/proxy/3000/",
            "/%", "/%zz", "/€"})
    void acceptsOrdinaryPaths(String path) {
        assertNull(PathGuard.problem(path), path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/..", "/../b/", "/x/../../b", "/.", "/./x", "/%2e%2e/b", "/%2E%2E/b", "/.%2e/b", "/%2e./b",
            "/%2e", "/%252e%252e/b", "/%25252e%25252e/b", "/..%2fb", "/%2fb", "/%2Fb", "/..%5cb", "/%5c", "/\\..\\b",
            "/;/../b", "/..;/b", "/x;jsessionid=1", "/%3b", "/%252f", "/%255c", "/%00", "/%0d%0aX-Injected:%201",
            "/%c0%ae%c0%ae/b", "/%ff", "/a\tb", "/%09", "/x//y", "//evil.example/x", "/%2f%2fevil.example"})
    void refusesTraversalAndAmbiguity(String path) {
        assertNotNull(PathGuard.problem(path), path);
    }

    @ParameterizedTest
    @ValueSource(strings = {BASE, BASE + "x/y", BASE + "?folder=/home/coder/project", BASE + "x?a=1&b=%2F..%2F",
            BASE + "proxy/3000/?q=a;b"})
    void landingPathsInsideTheTunnel(String path) {
        assertEquals(path, PathGuard.landingPath(path, BASE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
            "%2F%2Fevil.example", "/%2F/evil.example", "/portal/__ide/b/", "/portal/__ide/a", "/portal/__ide/a/../b/",
            "/portal/__ide/a/%2e%2e/b/", "/portal/__ide/a/%252e%252e/b/", "/portal/__ide/a/..%2f..%2fapi",
            "/portal/__ide/a/\\..\\b", "/portal/__ide/a/%5c..%5cb", "javascript:alert(1)",
            "/portal/__ide/a/%0d%0aSet-Cookie:x=1", "/portal/__ide/a/\r\nSet-Cookie:x=1", "/portal/__ide/a/#frag",
            "/portal/__ide/a/ x", "/portal/__ide/a/<script>", "http:/portal/__ide/a/", "/__ide/a/",
            "/portal/__ide/a/?x=\"y\"", "/portal/__ide/a/x%zz"})
    void landingPathsThatLeaveAreRefused(String path) {
        assertNull(PathGuard.landingPath(path, BASE), path);
    }

    @org.junit.jupiter.api.Test
    void landingDefaultsAndLimits() {
        assertEquals(BASE, PathGuard.landingPath(null, BASE));
        assertEquals(BASE, PathGuard.landingPath("", BASE));
        assertNull(PathGuard.landingPath(BASE + "x".repeat(PathGuard.MAX_LANDING_PATH), BASE));
    }
}
