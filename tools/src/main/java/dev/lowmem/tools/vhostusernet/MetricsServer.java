package dev.lowmem.tools.vhostusernet;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code --metrics}: every counter of a snapshot, in the Prometheus text format, at {@code
 * /metrics} over HTTP, from the JDK's own server on one thread of its own. A scrape takes a
 * snapshot as a stats line does, reading the counters and nothing more: the workers never see it.
 */
final class MetricsServer implements AutoCloseable {
    static final String PATH = "/metrics";

    private final HttpServer server;
    private final ExecutorService thread;

    private MetricsServer(HttpServer server, ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /**
     * {@code --metrics}'s value: "PORT" (on 127.0.0.1), "ADDR:PORT" or "[IPV6]:PORT"; a host name
     * is looked up now.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    static InetSocketAddress address(String text) {
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? "127.0.0.1" : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, [::1]:9100");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535 || host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not ADDR:PORT or PORT (0 to 65535), e.g."
                    + " 127.0.0.1:9100");
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("'" + text + "': no address for " + host);
        }
        return address;
    }

    /** Listens on {@code address} and serves snapshots from {@code snapshots}. */
    static MetricsServer start(InetSocketAddress address, Supplier<StatsSnapshot> snapshots) throws IOException {
        HttpServer server = HttpServer.create(address, 0);
        PrometheusStats prometheus = new PrometheusStats();
        server.createContext(PATH, exchange -> serve(exchange, prometheus, snapshots));
        ExecutorService thread = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("metrics").daemon()
                .factory());
        server.setExecutor(thread);
        server.start();
        return new MetricsServer(server, thread);
    }

    private static void serve(HttpExchange exchange, PrometheusStats prometheus, Supplier<StatsSnapshot> snapshots)
            throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                reply(exchange, 404, "text/plain; charset=utf-8", ("no such page; the metrics are at " + PATH + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(exchange, 405, "text/plain; charset=utf-8", "GET or HEAD\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            ByteArrayOutputStream text = new ByteArrayOutputStream(16 << 10);
            prometheus.write(snapshots.get(), text);
            reply(exchange, 200, prometheus.contentType(), exchange.getRequestMethod().equals("HEAD") ? null
                    : text.toByteArray());
        }
    }

    /** A reply with {@code body}; null for none (HEAD). */
    private static void reply(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body == null ? -1 : body.length);
        if (body != null) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Where it listens, with the port the system chose for port 0. */
    InetSocketAddress address() {
        return server.getAddress();
    }

    /** "http://127.0.0.1:9100/metrics". */
    String url() {
        InetSocketAddress address = address();
        String host = address.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort() + PATH;
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdown();
    }
}
