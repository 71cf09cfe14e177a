package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class VhostUserRequestTest {
    private static final MemoryRegionMessage REGION = new MemoryRegionMessage(0, 1 << 20, 0x7f00_0000_0000L, 0);

    @Test
    void requestsOfTheRightShapeAreAccepted() {
        assertDoesNotThrow(() -> VhostUserRequest.GET_FEATURES.checkShape(Wire.payload(0), 0));
        assertDoesNotThrow(() -> VhostUserRequest.SET_VRING_NUM.checkShape(new VringState(0, 256).encode(), 0));
        assertDoesNotThrow(() -> VhostUserRequest.SET_VRING_ADDR.checkShape(
                new VringAddress(0, 0, 0x1000, 0x3000, 0x2000, 0).encode(), 0));
        assertDoesNotThrow(() -> VhostUserRequest.SET_MEM_TABLE.checkShape(
                MemoryTableMessage.encode(List.of(REGION, REGION)), 2));
        assertDoesNotThrow(() -> VhostUserRequest.ADD_MEM_REG.checkShape(REGION.encode(), 1));
        assertDoesNotThrow(() -> VhostUserRequest.SET_CONFIG.checkShape(
                new ConfigSpaceMessage(0, 0, new byte[6]).encode(), 0));
    }

    @Test
    void aFixedSizePayloadOfAnotherSizeIsRefused() {
        refused(VhostUserRequest.SET_VRING_NUM, Wire.payload(VringState.SIZE + 4), 0, "payload of 12 bytes");
    }

    @Test
    void aMemoryTableOfMoreThanEightRegionsIsRefused() {
        MemorySegment body = MemoryTableMessage.encode(Collections.nCopies(MemoryTableMessage.MAX_REGIONS, REGION));
        Wire.putU32(body, 0, MemoryTableMessage.MAX_REGIONS + 1);

        refused(VhostUserRequest.SET_MEM_TABLE, body, MemoryTableMessage.MAX_REGIONS + 1, "9 regions");
    }

    @Test
    void aMemoryTableShorterThanItsRegionCountIsRefused() {
        MemorySegment body = MemoryTableMessage.encode(List.of(REGION));
        Wire.putU32(body, 0, 2);

        refused(VhostUserRequest.SET_MEM_TABLE, body, 2, "for 2 regions");
    }

    @Test
    void aConfigPayloadWhoseSizeFieldDisagreesWithItsLengthIsRefused() {
        MemorySegment body = new ConfigSpaceMessage(0, 0, new byte[4]).encode();
        Wire.putU32(body, 4, 8);

        refused(VhostUserRequest.SET_CONFIG, body, 0, "holds 8 bytes");
    }

    @Test
    void aVringKickWithTheNoFdBitMustComeWithoutOne() {
        MemorySegment noFd = VringFile.of(0, true).encode();

        assertDoesNotThrow(() -> VhostUserRequest.SET_VRING_KICK.checkShape(noFd, 0));
        refused(VhostUserRequest.SET_VRING_KICK, noFd, 1, "came with 1 file descriptors; it takes 0");
    }

    @Test
    void aVringKickWithoutTheNoFdBitMustComeWithOne() {
        MemorySegment withFd = VringFile.of(0, false).encode();

        assertDoesNotThrow(() -> VhostUserRequest.SET_VRING_KICK.checkShape(withFd, 1));
        refused(VhostUserRequest.SET_VRING_KICK, withFd, 0, "came with 0 file descriptors; it takes 1");
    }

    @Test
    void remMemRegTakesTheStrayDescriptorTheSpecToleratesButNoMore() {
        assertDoesNotThrow(() -> VhostUserRequest.REM_MEM_REG.checkShape(REGION.encode(), 0));
        assertDoesNotThrow(() -> VhostUserRequest.REM_MEM_REG.checkShape(REGION.encode(), 1));
        refused(VhostUserRequest.REM_MEM_REG, REGION.encode(), 2, "came with 2 file descriptors");
    }

    private static void refused(VhostUserRequest request, MemorySegment body, int fdCount, String reason) {
        VhostUserException e = assertThrows(VhostUserException.class, () -> request.checkShape(body, fdCount));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
