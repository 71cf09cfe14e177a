package dev.lowmem.tools.vhostusernet;

import java.time.ZoneId;
import java.util.Locale;

/** The choices of {@code --stats-format}. */
enum StatsFormat {
    /** For people: a table per report, times in the local zone, only the drops that happened. */
    TEXT {
        @Override
        StatsFormatter formatter() {
            return new TextStatsTable(ZoneId.systemDefault());
        }
    },
    /** For programs: one JSON object per line, every counter by its key. */
    JSON {
        @Override
        StatsFormatter formatter() {
            return new JsonStatsLine();
        }
    };

    abstract StatsFormatter formatter();

    /** "text" or "json", in any case. */
    static StatsFormat parse(String text) {
        for (StatsFormat format : values()) {
            if (format.name().equalsIgnoreCase(text)) {
                return format;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is neither text nor json");
    }

    /** "text": as the option takes it and the help shows it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
