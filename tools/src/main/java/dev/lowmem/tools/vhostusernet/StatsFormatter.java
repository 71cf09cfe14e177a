package dev.lowmem.tools.vhostusernet;

/** Turns a snapshot into what the command prints for it. */
interface StatsFormatter {

    /** The text to print, ending with a newline. */
    String format(StatsSnapshot snapshot);
}
