package dev.ideproxy.war;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Looks into a running container's JVM from outside, the way an operator would: the JDK's attach
 * mechanism starts its local JMX agent (no port, no password: local only), through which the
 * platform MXBeans and the container's own MBeans are read; open files from {@code /proc}; the live
 * objects per class from {@code jcmd GC.class_histogram}.
 */
final class JvmProbe implements AutoCloseable {
    private final long pid;
    private final JMXConnector connector;
    private final MBeanServerConnection server;

    private JvmProbe(long pid, JMXConnector connector) throws IOException {
        this.pid = pid;
        this.connector = connector;
        this.server = connector.getMBeanServerConnection();
    }

    static JvmProbe attach(long pid) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        return new JvmProbe(pid, JMXConnectorFactory.connect(new JMXServiceURL(address)));
    }

    MBeanServerConnection mbeans() {
        return server;
    }

    /** A full collection (twice: class loaders found dead in the first are unloaded for sure by the second). */
    void gc() throws IOException {
        ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.MEMORY_MXBEAN_NAME,
                java.lang.management.MemoryMXBean.class).gc();
        ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.MEMORY_MXBEAN_NAME,
                java.lang.management.MemoryMXBean.class).gc();
    }

    /** Live threads, by name with digits blanked (pool threads differ only by number), for a readable diff. */
    Map<String, Integer> threads() throws IOException {
        ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.THREAD_MXBEAN_NAME,
                ThreadMXBean.class);
        Map<String, Integer> byName = new TreeMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null) {
                byName.merge(info.getThreadName().replaceAll("[0-9]+", "#"), 1, Integer::sum);
            }
        }
        return byName;
    }

    int threadCount() throws IOException {
        return ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.THREAD_MXBEAN_NAME,
                ThreadMXBean.class).getThreadCount();
    }

    int loadedClasses() throws IOException {
        return ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.CLASS_LOADING_MXBEAN_NAME,
                java.lang.management.ClassLoadingMXBean.class).getLoadedClassCount();
    }

    long metaspaceUsed() throws IOException {
        for (MemoryPoolMXBean pool : ManagementFactory.getPlatformMXBeans(server, MemoryPoolMXBean.class)) {
            if (pool.getName().equals("Metaspace")) {
                return pool.getUsage().getUsed();
            }
        }
        throw new IllegalStateException("no Metaspace pool");
    }

    long heapUsed() throws IOException {
        return ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.MEMORY_MXBEAN_NAME,
                java.lang.management.MemoryMXBean.class).getHeapMemoryUsage().getUsed();
    }

    /** Open file descriptors of the process (sockets, jars, pipes). */
    int openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) fds.count();
        }
    }

    /** The open file descriptors by kind ({@code socket}, {@code pipe}, {@code anon_inode}, or the file's name). */
    java.util.Map<String, Long> openFileKinds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.map(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    int bracket = target.indexOf(":[");
                    return bracket > 0 ? target.substring(0, bracket) : target;
                } catch (IOException e) {
                    return "(closed)";
                }
            }).collect(java.util.stream.Collectors.groupingBy(k -> k, java.util.TreeMap::new,
                    java.util.stream.Collectors.counting()));
        }
    }

    /** One row of a class histogram: a class (of one loader) and its live instances. */
    record Row(String name, int instances) {
    }

    /** A histogram of the live objects, which collects first ({@code jcmd GC.class_histogram}): one row per class per loader. */
    List<Row> histogram() throws Exception {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IllegalStateException("jcmd GC.class_histogram failed:\n" + out);
        }
        List<Row> rows = new java.util.ArrayList<>();
        for (String line : out.split("\n")) {
            // "   1:   12345   678900  java.lang.String (java.base@17)"
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[0].endsWith(":")) {
                rows.add(new Row(f[3], Integer.parseInt(f[1])));
            }
        }
        return rows;
    }

    /**
     * For each class named in {@code names}: its live instances, summed over every class loader that
     * defined a class of that name, and how many loaders hold such instances (a copy of a web
     * application's class per loader still alive).
     */
    static Map<String, int[]> count(List<Row> histogram, List<String> names) {
        Map<String, int[]> counts = new TreeMap<>();
        names.forEach(n -> counts.put(n, new int[2]));
        for (Row row : histogram) {
            int[] c = counts.get(row.name());
            if (c != null) {
                c[0] += row.instances();
                c[1]++;
            }
        }
        return counts;
    }

    /** Class names with live instances in more than {@code loaders} loaders, most copies first: what a leaked loader keeps. */
    static List<String> inMoreLoaders(List<Row> histogram, int loaders) {
        Map<String, Integer> copies = new TreeMap<>();
        histogram.forEach(r -> copies.merge(r.name(), 1, Integer::sum));
        return copies.entrySet().stream().filter(e -> e.getValue() > loaders)
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .map(e -> e.getKey() + " x" + e.getValue()).limit(60).toList();
    }

    /** Invokes an operation of the container's MBean {@code name}. */
    Object invoke(String name, String operation, Object[] args, String[] signature) throws Exception {
        return server.invoke(new ObjectName(name), operation, args, signature);
    }

    /** Renders the result of {@link #count}. */
    static String describe(Map<String, int[]> counts) {
        StringBuilder s = new StringBuilder();
        counts.forEach((k, v) -> s.append(k).append('=').append(v[0]).append(" in ").append(v[1]).append(" loader(s); "));
        return s.toString();
    }

    /** What {@code after} has more of than {@code before}, by thread name. */
    static Map<String, Integer> grown(Map<String, Integer> before, Map<String, Integer> after) {
        Map<String, Integer> grown = new TreeMap<>();
        after.forEach((k, v) -> {
            int d = v - Objects.requireNonNullElse(before.get(k), 0);
            if (d > 0) {
                grown.put(k, d);
            }
        });
        return grown;
    }

    static String[] strings(Object result) {
        return result instanceof String[] a ? a : new String[] {String.valueOf(result)};
    }

    static String join(Object result) {
        return Arrays.toString(strings(result));
    }

    @Override
    public void close() throws IOException {
        connector.close();
    }
}
