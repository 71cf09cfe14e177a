package dev.lowmem.tools.vhostusernet;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The project's version, which the build writes into version.properties. */
final class Version implements IVersionProvider {
    private static final String RESOURCE = "version.properties";

    /** "0.1.0-SNAPSHOT". */
    static String current() {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing next to " + Version.class.getName()
                        + "; the build puts it there");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** "vhost-user-net 0.1.0-SNAPSHOT (JDK 25.0.1)": the first line of the banner too. */
    static String line() {
        return "vhost-user-net " + current() + " (JDK " + Runtime.version() + ")";
    }

    @Override
    public String[] getVersion() {
        return new String[] {line()};
    }
}
