package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The payload of SET_MEM_TABLE: {@code struct { u32 nregions; u32 padding; region[nregions]; }},
 * where the sender may send the whole eight-region array or just the regions it uses.
 */
public final class MemoryTableMessage {
    /** VHOST_MEMORY_BASELINE_NREGIONS: the most regions one SET_MEM_TABLE carries. */
    public static final int MAX_REGIONS = 8;
    private static final int REGIONS_OFFSET = 8;

    private MemoryTableMessage() {
    }

    static int regionCount(MemorySegment body) {
        return Wire.u32(body, 0);
    }

    static void checkSize(MemorySegment body) throws VhostUserException {
        if (body.byteSize() < REGIONS_OFFSET) {
            throw new VhostUserException("SET_MEM_TABLE: payload of " + body.byteSize() + " bytes is shorter than its header");
        }
        int count = regionCount(body);
        if (count < 0 || count > MAX_REGIONS) {
            throw new VhostUserException("SET_MEM_TABLE: " + Integer.toUnsignedString(count) + " regions; at most "
                    + MAX_REGIONS + " fit one message");
        }
        long needed = REGIONS_OFFSET + (long) count * MemoryRegionMessage.REGION_SIZE;
        long whole = REGIONS_OFFSET + (long) MAX_REGIONS * MemoryRegionMessage.REGION_SIZE;
        if (body.byteSize() < needed || body.byteSize() > whole) {
            throw new VhostUserException("SET_MEM_TABLE: payload of " + body.byteSize() + " bytes for " + count
                    + " regions; it takes " + needed + " to " + whole);
        }
    }

    public static List<MemoryRegionMessage> read(MemorySegment body) {
        int count = regionCount(body);
        List<MemoryRegionMessage> regions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            regions.add(MemoryRegionMessage.readRegion(body, REGIONS_OFFSET + (long) i * MemoryRegionMessage.REGION_SIZE));
        }
        return regions;
    }

    /** Encodes just the regions used, as QEMU does. */
    public static MemorySegment encode(List<MemoryRegionMessage> regions) {
        MemorySegment body = Wire.payload(REGIONS_OFFSET + regions.size() * MemoryRegionMessage.REGION_SIZE);
        Wire.putU32(body, 0, regions.size());
        for (int i = 0; i < regions.size(); i++) {
            regions.get(i).writeRegion(body, REGIONS_OFFSET + (long) i * MemoryRegionMessage.REGION_SIZE);
        }
        return body;
    }
}
