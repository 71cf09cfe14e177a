package dev.lowmem.guest;

import java.nio.file.Path;

/** Where the guest tests keep their guests' consoles, the backend's logs and the host tools' output. */
final class GuestLogs {
    private GuestLogs() {
    }

    static Path root() {
        return Path.of(System.getProperty("lowmem.guest.logs", "target/guest-logs"));
    }

    static Path dirFor(Class<?> testClass, String... more) {
        return root().resolve(testClass.getSimpleName() + (more.length == 0 ? "" : "-" + String.join("-", more)));
    }
}
