package dev.ideproxy.war;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects a child process's output lines on a daemon thread, for assertions and failure messages. */
final class ProcessLog {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Process process;

    ProcessLog(Process process, String name) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** The lines so far (a live, thread-safe view). */
    List<String> lines() {
        return lines;
    }

    /**
     * Waits until a line contains {@code fragment} (60 s at most); fails with the whole output when the
     * process ends first or the time runs out.
     */
    void awaitLine(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (lines.stream().anyMatch(l -> l.contains(fragment))) {
                return;
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("never printed '" + fragment + "':\n" + this);
    }

    @Override
    public String toString() {
        return String.join("\n", lines);
    }
}
