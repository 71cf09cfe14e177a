package dev.lowmem.virtio.vhostuser;

import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Fds.AT_MOST_ONE;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Fds.NONE;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Fds.ONE;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Fds.ONE_PER_REGION;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Fds.ONE_UNLESS_NOFD;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.CONFIG;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.EMPTY;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.INFLIGHT;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.LOG;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.MEMORY_REGION;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.MEMORY_TABLE;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.U64;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.VRING_ADDRESS;
import static dev.lowmem.virtio.vhostuser.VhostUserRequest.Payload.VRING_STATE;

import java.lang.foreign.MemorySegment;

/**
 * The front-end requests a net back-end meets (docs/interop/vhost-user.rst, "Front-end message
 * types"), each with the payload and file descriptors it must carry. {@link #checkShape} holds
 * every message to that before any handler sees it (STYLE.md 12).
 */
public enum VhostUserRequest {
    GET_FEATURES(1, EMPTY, NONE, true),
    SET_FEATURES(2, U64, NONE, false),
    SET_OWNER(3, EMPTY, NONE, false),
    RESET_OWNER(4, EMPTY, NONE, false),
    SET_MEM_TABLE(5, MEMORY_TABLE, ONE_PER_REGION, false),
    SET_LOG_BASE(6, LOG, ONE, true),
    SET_LOG_FD(7, EMPTY, ONE, false),
    SET_VRING_NUM(8, VRING_STATE, NONE, false),
    SET_VRING_ADDR(9, VRING_ADDRESS, NONE, false),
    SET_VRING_BASE(10, VRING_STATE, NONE, false),
    GET_VRING_BASE(11, VRING_STATE, NONE, true),
    SET_VRING_KICK(12, U64, ONE_UNLESS_NOFD, false),
    SET_VRING_CALL(13, U64, ONE_UNLESS_NOFD, false),
    SET_VRING_ERR(14, U64, ONE_UNLESS_NOFD, false),
    GET_PROTOCOL_FEATURES(15, EMPTY, NONE, true),
    SET_PROTOCOL_FEATURES(16, U64, NONE, false),
    GET_QUEUE_NUM(17, EMPTY, NONE, true),
    SET_VRING_ENABLE(18, VRING_STATE, NONE, false),
    SEND_RARP(19, U64, NONE, false),
    NET_SET_MTU(20, U64, NONE, false),
    SET_BACKEND_REQ_FD(21, EMPTY, ONE, false),
    GET_CONFIG(24, CONFIG, NONE, true),
    SET_CONFIG(25, CONFIG, NONE, false),
    GET_INFLIGHT_FD(31, INFLIGHT, NONE, true),
    SET_INFLIGHT_FD(32, INFLIGHT, ONE, false),
    GET_MAX_MEM_SLOTS(36, EMPTY, NONE, true),
    ADD_MEM_REG(37, MEMORY_REGION, ONE, false),
    // The spec allows one stray fd here "for compatibility with existing incorrect implementations".
    REM_MEM_REG(38, MEMORY_REGION, AT_MOST_ONE, false),
    SET_STATUS(39, U64, NONE, false),
    GET_STATUS(40, EMPTY, NONE, true);

    /** What a request's payload is, and so which sizes fit it. */
    enum Payload {
        EMPTY(0),
        U64(Long.BYTES),
        VRING_STATE(VringState.SIZE),
        VRING_ADDRESS(VringAddress.SIZE),
        MEMORY_TABLE(-1),
        MEMORY_REGION(MemoryRegionMessage.SIZE),
        LOG(16),
        INFLIGHT(InflightMessage.SIZE),
        CONFIG(-1);

        /** The one size that fits, or -1 when the payload says its own length. */
        final int fixedSize;

        Payload(int fixedSize) {
            this.fixedSize = fixedSize;
        }
    }

    /** How many file descriptors ride with a request. */
    enum Fds {
        NONE,
        ONE,
        AT_MOST_ONE,
        /** SET_VRING_KICK/CALL/ERR: one, unless bit 8 of the payload (no fd, poll instead) is set. */
        ONE_UNLESS_NOFD,
        /** SET_MEM_TABLE: one per region, in the regions' order. */
        ONE_PER_REGION
    }

    /** The most file descriptors any request carries: SET_MEM_TABLE's eight regions. */
    public static final int MAX_FDS = MemoryTableMessage.MAX_REGIONS;
    /** The largest payload of any request here: GET/SET_CONFIG with a whole config space. */
    public static final int MAX_PAYLOAD = ConfigSpaceMessage.HEADER_SIZE + ConfigSpaceMessage.MAX_SIZE;

    private static final VhostUserRequest[] BY_CODE = new VhostUserRequest[64];

    static {
        for (VhostUserRequest request : values()) {
            BY_CODE[request.code] = request;
        }
    }

    private final int code;
    private final Payload payload;
    private final Fds fds;
    private final boolean replies;

    VhostUserRequest(int code, Payload payload, Fds fds, boolean replies) {
        this.code = code;
        this.payload = payload;
        this.fds = fds;
        this.replies = replies;
    }

    /** The request with wire code {@code code}, or null for one we do not know. */
    public static VhostUserRequest of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** "SET_VRING_ADDR", or "request 99" for a code we do not know. */
    public static String nameOf(int code) {
        VhostUserRequest request = of(code);
        return request != null ? request.name() : "request " + Integer.toUnsignedString(code);
    }

    public int code() {
        return code;
    }

    /** Whether the request has a reply body of its own (REPLY_ACK then adds nothing). */
    public boolean replies() {
        return replies;
    }

    /**
     * Checks that {@code body} and {@code fdCount} fit this request.
     *
     * @throws VhostUserException naming the request and what does not fit
     */
    public void checkShape(MemorySegment body, int fdCount) throws VhostUserException {
        long size = body.byteSize();
        if (payload.fixedSize >= 0 && size != payload.fixedSize) {
            throw new VhostUserException(this + ": payload of " + size + " bytes; it takes " + payload.fixedSize);
        }
        if (payload == MEMORY_TABLE) {
            MemoryTableMessage.checkSize(body);
        } else if (payload == CONFIG) {
            ConfigSpaceMessage.checkSize(body);
        }
        int expected = switch (fds) {
            case NONE -> 0;
            case ONE -> 1;
            case AT_MOST_ONE -> Math.min(fdCount, 1);
            case ONE_UNLESS_NOFD -> VringFile.read(body).noFd() ? 0 : 1;
            case ONE_PER_REGION -> MemoryTableMessage.regionCount(body);
        };
        if (fdCount != expected) {
            throw new VhostUserException(this + ": came with " + fdCount + " file descriptors; it takes " + expected);
        }
    }
}
