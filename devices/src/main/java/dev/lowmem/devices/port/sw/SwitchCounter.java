package dev.lowmem.devices.port.sw;

import java.util.Locale;

/**
 * What a switch port counts. "In" is what the port's side (its guest, or the host for the
 * uplink) sent into the switch, "out" what the switch delivered to that side. Every frame that
 * reached no one, or one receiver's copy of a flood that did not reach it, is counted once, under
 * one of the drop reasons, on the port it was lost for.
 */
public enum SwitchCounter {
    FRAMES_IN("frames this port's side sent into the switch"),
    BYTES_IN("bytes of those frames, headers excluded"),
    FLOODED("frames of those sent to every other port: broadcast, multicast, unknown unicast"),
    FRAMES_OUT("frames delivered to this port's side"),
    BYTES_OUT("bytes of those frames, headers excluded"),
    FRAMES_DIRECT("of the frames delivered, those their sender wrote straight into the guest's buffers (one copy, no"
            + " inbox)"),
    DROP_FLOOD_FULL("copies of flooded frames this port did not get: its inbox was full (floods never wait)"),
    DROP_NO_BUFFER("frames for this port the packet pool had no buffer for"),
    DROP_NO_RECEIVER("unicast frames for this port that found its inbox full while no driver received here (its guest"
            + " went, or has not started): dropped rather than stalling the sender until the MAC ages out"),
    DROP_RESET("frames in this port's inbox dropped when its guest's RX queue stopped or its device reset"),
    DROP_SAME_PORT("frames this port sent to a MAC learned on this port itself (never sent back)"),
    DROP_OFFLOAD("frames for this port whose header asks its guest for a checksum or segmentation offload it did not negotiate"),
    DROP_SHORT_FRAME("frames this port sent that were too short to carry an Ethernet header"),
    DROP_PORT_ERROR("frames for the uplink that its TAP refused (writev failed: the TAP is down, say)");

    private final String description;

    SwitchCounter(String description) {
        this.description = description;
    }

    /** "drop_flood_full": the name in stats lines and JSON. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    public boolean isDrop() {
        return name().startsWith("DROP_");
    }
}
