package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The time from each squeeze's end to the end of the first 100 ms at half the rate between squeezes. */
class SqueezeRecoveryTest {
    @Test
    void fromTheSqueezesEndToTheEndOfTheFirstIntervalBackAtHalfTheRateBetween() {
        // squeezes 0.2-0.4 and 1.2-1.4; between them the rate is 1000 (its median)
        RateSeries series = RateSeriesTest.every100Ms(1000, 1000, 0, 0, 0, 0, 800, 1000, 1000, 1000,
                1000, 1000, 0, 0, 400, 600, 1000, 1000, 1000, 1000);
        List<GuestClock.Window> squeezes = List.of(new GuestClock.Window(0.2, 0.4), new GuestClock.Window(1.2, 1.4));

        SqueezeRecovery recovery = SqueezeRecovery.of(series, squeezes);

        assertEquals(2, recovery.seconds().size());
        assertEquals(0.3, recovery.seconds().get(0), 1e-9, "0.4-0.6 still empty, 0.6-0.7 at 800");
        assertEquals(0.2, recovery.seconds().get(1), 1e-9, "1.4-1.5 at 400 is under 500, 1.5-1.6 at 600 is not");
        assertEquals("250 / 300 ms of 2", recovery.figures());
    }

    @Test
    void aRateThatNeverFellIsBackWithinTheIntervalTheSqueezeEndsIn() {
        RateSeries series = RateSeriesTest.every100Ms(1000, 1000, 900, 1000, 1000);

        SqueezeRecovery recovery = SqueezeRecovery.of(series, List.of(new GuestClock.Window(0.15, 0.25)));

        assertEquals(0.05, recovery.seconds().getFirst(), 1e-9, "the interval 0.2-0.3, in which it ends, is at 900");
    }

    @Test
    void aRateNotBackBeforeTheNextSqueezeIsCountedApart() {
        RateSeries series = RateSeriesTest.every100Ms(1000, 1000, 0, 0, 0, 0, 0, 1000, 1000, 1000);
        List<GuestClock.Window> squeezes = List.of(new GuestClock.Window(0.2, 0.3), new GuestClock.Window(0.6, 0.7),
                new GuestClock.Window(5, 5.2));

        SqueezeRecovery recovery = SqueezeRecovery.of(series, squeezes);

        assertEquals(0.1, recovery.seconds().getFirst(), 1e-9, "the second: back by 0.8; the third ends after the run");
        assertEquals(1, recovery.notRecovered());
        assertEquals("100 / 100 ms of 2, 1 not before the next", recovery.figures());
    }

    @Test
    void noSqueezeNoFigure() {
        assertEquals("-", SqueezeRecovery.of(RateSeriesTest.every100Ms(1000), List.of()).figures());
    }
}
