package dev.lowmem.devices.net;

import dev.lowmem.devices.wire.VirtioNetConfig;
import dev.lowmem.virtio.Feature;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The commands of the control virtqueue (virtio 1.2, 5.1.6.5) and the state they set: the
 * receive filter every pair's RX path reads, the MAC, and how many pairs receive. Commands run
 * on the thread that serves the control queue; the RX paths read {@link #filter()} and
 * {@link #receivingPairs()} from theirs.
 *
 * <p>A device without a control queue (vhost-user: QEMU keeps it) has one of these that never
 * changes: everything passes and every pair receives.
 */
final class NetControl {
    static final byte OK = 0;
    static final byte ERR = 1;

    static final int CLASS_RX = 0;
    static final int CLASS_MAC = 1;
    static final int CLASS_VLAN = 2;
    static final int CLASS_MQ = 4;
    static final int MAC_TABLE_SET = 0;
    static final int MAC_ADDR_SET = 1;
    static final int VLAN_ADD = 0;
    static final int VLAN_DEL = 1;
    static final int MQ_VQ_PAIRS_SET = 0;
    /** The class and command bytes in front of a command's data. */
    static final int COMMAND_HEADER = 2;

    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final int MAC_SIZE = 6;
    private static final int VLAN_IDS = 4096;

    private static final System.Logger LOG = System.getLogger(NetControl.class.getName());

    private final NetConfigSpace config;
    private final int maxPairs;
    private final PairsListener pairsListener;
    private volatile long features;
    private volatile RxFilter filter;
    private volatile int receivingPairs;

    /** Told when the pairs that receive change: the port, which gives the host's frames to those alone. */
    interface PairsListener {
        void receivingPairs(int pairs) throws IOException;
    }

    NetControl(NetConfigSpace config, int maxPairs, PairsListener pairsListener) {
        this.config = config;
        this.maxPairs = maxPairs;
        this.pairsListener = pairsListener;
        reset();
    }

    RxFilter filter() {
        return filter;
    }

    /** Pairs {@code 0 .. receivingPairs() - 1} put frames in their RX queues; the others hold back (5.1.6.5.5). */
    int receivingPairs() {
        return receivingPairs;
    }

    /** The driver's features, before any queue runs: VLAN filtering and multiqueue are theirs to turn on. */
    void configure(long negotiated) {
        features = negotiated;
        filter = RxFilter.initial(config.mac(), Feature.NET_CTRL_VLAN.in(negotiated));
        receivingPairs = Feature.NET_CTRL_VQ.in(negotiated) ? 1 : maxPairs;
        try {
            pairsListener.receivingPairs(receivingPairs);
        } catch (IOException e) {
            // The port keeps giving frames to the pairs it gave them to: those for the others wait.
            LOG.log(System.Logger.Level.WARNING, "the port cannot take " + receivingPairs + " receiving pairs: "
                    + e.getMessage());
        }
    }

    /** The driver went: back to taking everything on every pair until the next one negotiates. */
    void reset() {
        configure(0);
    }

    /**
     * Runs one command: {@code length} bytes in {@code command}, class and command first.
     *
     * @return {@link #OK}, or {@link #ERR} for a command the device does not know, one whose
     *         feature was not negotiated, or data of the wrong size or out of range
     */
    byte execute(MemorySegment command, int length) {
        if (length < COMMAND_HEADER) {
            return ERR;
        }
        int commandClass = command.get(ValueLayout.JAVA_BYTE, 0) & 0xff;
        int code = command.get(ValueLayout.JAVA_BYTE, 1) & 0xff;
        MemorySegment data = command.asSlice(COMMAND_HEADER, length - COMMAND_HEADER);
        boolean done = switch (commandClass) {
            case CLASS_RX -> setRxMode(code, data);
            case CLASS_MAC -> code == MAC_TABLE_SET ? setMacTables(data) : code == MAC_ADDR_SET && setMac(data);
            case CLASS_VLAN -> (code == VLAN_ADD || code == VLAN_DEL) && setVlan(data, code == VLAN_ADD);
            case CLASS_MQ -> code == MQ_VQ_PAIRS_SET && setPairs(data);
            default -> false;
        };
        return done ? OK : ERR;
    }

    /** PROMISC and ALLMULTI come with CTRL_RX, the other four with CTRL_RX_EXTRA. */
    private boolean setRxMode(int code, MemorySegment data) {
        Feature needed = code <= RxFilter.ALLMULTI ? Feature.NET_CTRL_RX : Feature.NET_CTRL_RX_EXTRA;
        if (code > RxFilter.NOBCAST || !needed.in(features) || data.byteSize() != 1) {
            return false;
        }
        filter = filter.withMode(code, data.get(ValueLayout.JAVA_BYTE, 0) != 0);
        return true;
    }

    /** Two tables, unicast then multicast, each a le32 count and that many addresses, filling the data exactly. */
    private boolean setMacTables(MemorySegment data) {
        if (!Feature.NET_CTRL_RX.in(features)) {
            return false;
        }
        long unicastSize = tableSize(data, 0);
        long multicastSize = unicastSize < 0 ? -1 : tableSize(data, unicastSize);
        if (multicastSize < 0 || unicastSize + multicastSize != data.byteSize()) {
            return false;
        }
        filter = filter.withMacTables(macTable(data, 0), macTable(data, unicastSize));
        return true;
    }

    /** The bytes of the table at {@code offset}, or -1 when it runs past the data. */
    private static long tableSize(MemorySegment data, long offset) {
        if (data.byteSize() - offset < Integer.BYTES) {
            return -1;
        }
        long size = Integer.BYTES + Integer.toUnsignedLong(data.get(LE32, offset)) * MAC_SIZE;
        return size <= data.byteSize() - offset ? size : -1;
    }

    /** The addresses of a table {@link #tableSize} found whole; null when it holds more than a filter keeps. */
    private static long[] macTable(MemorySegment data, long offset) {
        long entries = Integer.toUnsignedLong(data.get(LE32, offset));
        if (entries > RxFilter.MAC_TABLE_ENTRIES) {
            return null;
        }
        long[] table = new long[(int) entries];
        for (int i = 0; i < table.length; i++) {
            table[i] = RxFilter.address(data.asSlice(offset + Integer.BYTES + (long) i * MAC_SIZE, MAC_SIZE));
        }
        return table;
    }

    private boolean setMac(MemorySegment data) {
        if (!Feature.NET_CTRL_MAC_ADDR.in(features) || data.byteSize() != MAC_SIZE) {
            return false;
        }
        config.write(VirtioNetConfig.MAC_OFFSET, data.toArray(ValueLayout.JAVA_BYTE));
        filter = filter.withMac(RxFilter.address(data));
        return true;
    }

    private boolean setVlan(MemorySegment data, boolean add) {
        if (data.byteSize() != Short.BYTES) {
            return false;
        }
        int id = data.get(LE16, 0) & 0xffff;
        RxFilter next = id < VLAN_IDS ? filter.withVlan(id, add) : null;
        if (next == null) {
            return false;
        }
        filter = next;
        return true;
    }

    private boolean setPairs(MemorySegment data) {
        if (!Feature.NET_MQ.in(features) || data.byteSize() != Short.BYTES) {
            return false;
        }
        int pairs = data.get(LE16, 0) & 0xffff;
        if (pairs < 1 || pairs > maxPairs) {
            return false;
        }
        try {
            pairsListener.receivingPairs(pairs);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "MQ_VQ_PAIRS_SET " + pairs + " refused: " + e.getMessage());
            return false;
        }
        receivingPairs = pairs;
        return true;
    }
}
