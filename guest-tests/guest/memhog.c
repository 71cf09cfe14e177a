/*
 * memhog: holds a Linux machine's free memory near its low watermark and churns on top of it,
 * for the test guest (built static by guest-tests/scripts/build-guest, run by guest-stress).
 *
 * A fixed fill (a tmpfs filled until a few MB are free) barely hurts a modern kernel: the
 * allocations that matter (socket buffers, the NIC's RX refill, atomic in softirq) find what
 * little is left and nothing competes for it. What can bite is churn: memory taken and given back
 * all the time, so that free memory keeps crossing the watermarks (kswapd woken, with nothing it
 * can reclaim without swap), the free lists are cut into single pages (higher orders fail, the
 * driver's 32 KiB page fragments among them), and an allocation in softirq races the hog for the
 * last pages.
 *
 * The floor: the min watermark as high as the kernel may boost it, + --guard-kb. After a
 * fragmenting fallback the kernel raises a zone's watermarks by a pageblock (2 MiB) at a time,
 * up to the larger of a pageblock and 1.5 x high (watermark_boost_factor), for a while: in a
 * small guest a boosted low watermark is about the floor, and a page fault below the boosted min,
 * with nothing to reclaim, is an OOM kill (seen here with a floor 2 MiB lower; and with a guard of
 * 256 KiB and a 16 MiB churn, iperf3's own allocation found the boosted min first). Every period
 * (default 100 ms)
 *   1. the base, blocks of 256 KiB held with every page written, follows free memory so that it
 *      stays at floor + churn: it grows by at most --step-kb a period, and gives back at once
 *      what the rest of the guest takes (iperf3's buffers, the TCP stack, the NIC's buffers):
 *      the hog yields, so the guest is never the one that runs out;
 *   2. the churn: --churn-kb mapped, every page written, unmapped; free memory dips to the
 *      floor, and the churn stops short where another allocation got there first ("cut").
 * Free memory is read with sysinfo(2) (the zones' free pages summed, as MemFree) before each
 * block and every 64 KiB of churn, the watermarks from /proc/zoneinfo once a second.
 * The first period it is within a block of its target it prints MEMHOG-READY (and creates
 * --ready-file). Every second one line says what it holds and how free memory fared:
 *
 *   MEMHOG t=12 held_mb=32.8 churn_mb=39.8 cut=3 free_mb=9.3 trough_mb=5.3 min_mb=1.0 low_mb=1.3
 *          avail_mb=14.9 cpu_pct=22 zones_at_dip=DMA:4.0/0.3,DMA32:1.3/1.0
 *
 * free_mb: free memory when the second ended (no churn held); trough_mb: the lowest seen in that
 * second (churn held); min_mb, low_mb: the watermarks then (boost included); cpu_pct: the hog's
 * share of a CPU (the page faults are most of it); zones_at_dip: each zone's free memory and low
 * watermark at the second's first dip (the kernel allocates from the highest zone until it is at
 * its low watermark, then falls back to the next). It asks to be the OOM killer's first choice
 * (oom_score_adj 1000), so that a miss kills the hog and not the guest's workload; it exits 0 on
 * SIGTERM or SIGINT, or after --seconds, printing MEMHOG-END.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096L
#define BLOCK (256L * 1024)
#define BLOCK_PAGES (BLOCK / PAGE)
#define MAX_BLOCKS (1L << 16) /* 16 GiB: far beyond a test guest */
#define CHURN_STEP 16          /* pages written between two looks at free memory */
#define PAGEBLOCK_PAGES 512    /* x86-64: a pageblock is a huge page, 2 MiB */
#define MAX_ZONES 8

struct zones {
    long free, min, low, high; /* pages, summed over the zones; the watermarks boosted */
    long boost, boost_max;     /* the boost now, the most it can be */
    int n;                     /* each zone with pages: its name, free pages, low watermark */
    char name[MAX_ZONES][16];
    long zone_free[MAX_ZONES], zone_low[MAX_ZONES];
};

static volatile sig_atomic_t stop;
static void *blocks[MAX_BLOCKS];
static long held; /* blocks in use */

static void on_signal(int sig) {
    (void) sig;
    stop = 1;
}

static void usage(FILE *out) {
    fputs("Usage: memhog [--churn-kb N] [--guard-kb N] [--period-ms N] [--step-kb N] [--seconds N]\n"
          "              [--ready-file PATH]\n"
          "Holds free memory at floor + churn (floor: the min watermark at its highest boost + guard)\n"
          "and churns every period: maps --churn-kb, writes every page, unmaps it.\n"
          "  --churn-kb N    memory taken and given back each period (default 4096)\n"
          "  --guard-kb N    the floor's distance above the highest boosted min watermark (default 1024)\n"
          "  --period-ms N   the control period (default 100)\n"
          "  --step-kb N     at most this much more held each period (default 8192)\n"
          "  --seconds N     stop after N seconds (default 0: until SIGTERM or SIGINT)\n"
          "  --ready-file P  created when free memory first reaches its target\n",
          out);
}

/*
 * The zones' free pages and watermarks, summed, and the most the kernel may boost the watermarks
 * (mm/page_alloc.c boost_watermark(): a zone of at least 4 pageblocks is boosted by up to
 * max(pageblock, high * watermark_boost_factor / 10000), each zone on its own).
 */
static int read_zones(struct zones *z, long boost_factor) {
    FILE *f = fopen("/proc/zoneinfo", "r");
    char line[256], key[32], name[16] = "";
    long value, free = 0, low = 0, high = 0, boost = 0;
    if (!f) {
        return -1;
    }
    memset(z, 0, sizeof *z);
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Node %*d, zone %15s", name) == 1) {
            continue;
        } else if (sscanf(line, " pages free %ld", &value) == 1) {
            z->free += free = value;
        } else if (sscanf(line, " %31s %ld", key, &value) == 2) {
            /* a zone's own lines, in this order; the pagesets' "high:" has a colon and is not one */
            if (strcmp(key, "boost") == 0) {
                z->boost += boost = value;
            } else if (strcmp(key, "min") == 0) {
                z->min += value;
            } else if (strcmp(key, "low") == 0) {
                z->low += low = value;
            } else if (strcmp(key, "high") == 0) {
                z->high += high = value;
            } else if (strcmp(key, "managed") == 0 && value > 0) {
                long most = (high - boost) * boost_factor / 10000;
                if (value >= 4 * PAGEBLOCK_PAGES) {
                    z->boost_max += most > PAGEBLOCK_PAGES ? most : PAGEBLOCK_PAGES;
                }
                if (z->n < MAX_ZONES) {
                    memcpy(z->name[z->n], name, sizeof name);
                    z->zone_free[z->n] = free;
                    z->zone_low[z->n++] = low;
                }
            }
        }
    }
    fclose(f);
    return 0;
}

/* The first number in a file, or fallback. */
static long read_long(const char *path, long fallback) {
    FILE *f = fopen(path, "r");
    long value = fallback;
    if (f) {
        if (fscanf(f, "%ld", &value) != 1) {
            value = fallback;
        }
        fclose(f);
    }
    return value;
}

static long mem_available_kb(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long kb = -1;
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}

/* Maps len bytes of anonymous memory in small pages and writes every page; NULL if refused. */
static char *take(long len) {
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    /* small pages: a huge page would be one fault and no fragmentation */
    madvise(p, len, MADV_NOHUGEPAGE);
    for (long off = 0; off < len; off += PAGE) {
        p[off] = (char) off;
    }
    return p;
}

/* Free pages now: the zones' free pages summed (MemFree), at the cost of one system call. */
static long free_pages(void) {
    struct sysinfo i;
    if (sysinfo(&i) != 0) {
        perror("memhog: sysinfo");
        exit(1);
    }
    return (long) ((unsigned long long) i.freeram * i.mem_unit / PAGE);
}

/* Adds blocks while free memory stays at target or above, at most pages; returns the pages added. */
static long grow(long pages, long target) {
    long added = 0;
    while (added + BLOCK_PAGES <= pages && held < MAX_BLOCKS && free_pages() - BLOCK_PAGES >= target) {
        char *p = take(BLOCK);
        if (!p) {
            break;
        }
        blocks[held++] = p;
        added += BLOCK_PAGES;
    }
    return added;
}

/* Gives back whole blocks, at least pages; returns the pages given back. */
static long shrink(long pages) {
    long freed = 0;
    while (freed < pages && held > 0) {
        munmap(blocks[--held], BLOCK);
        freed += BLOCK_PAGES;
    }
    return freed;
}

static double mb(long pages) {
    return pages * (double) PAGE / (1 << 20);
}

/* "DMA:3.9/0.3,DMA32:1.1/1.0": each zone's free memory and low watermark, MB. */
static void describe_zones(const struct zones *z, char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < z->n && used < size; i++) {
        used += snprintf(out + used, size - used, "%s%s:%.1f/%.1f", i ? "," : "", z->name[i], mb(z->zone_free[i]),
                         mb(z->zone_low[i]));
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static long number(const char *option, const char *text) {
    char *end;
    long value;
    errno = 0;
    value = strtol(text ? text : "", &end, 10);
    if (!text || *text == '\0' || *end != '\0' || errno || value < 0) {
        fprintf(stderr, "memhog: %s needs a number of 0 or more, not '%s'\n", option, text ? text : "");
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    long churn = 4096 / 4, guard = 1024 / 4, period_ms = 100, step = 8192 / 4, seconds = 0;
    const char *ready_file = NULL;
    struct zones z;
    struct timespec next;
    int ready = 0, fd;
    double start, second_start, cpu_start;
    long churned = 0, cut = 0, trough = -1, tick = 0, boost_factor, floor, target;
    char trough_zones[256] = "";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--churn-kb") == 0) {
            churn = number(a, v) / 4, i++;
        } else if (strcmp(a, "--guard-kb") == 0) {
            guard = number(a, v) / 4, i++;
        } else if (strcmp(a, "--period-ms") == 0) {
            period_ms = number(a, v), i++;
        } else if (strcmp(a, "--step-kb") == 0) {
            step = number(a, v) / 4, i++;
        } else if (strcmp(a, "--seconds") == 0) {
            seconds = number(a, v), i++;
        } else if (strcmp(a, "--ready-file") == 0 && v) {
            ready_file = v, i++;
        } else {
            fprintf(stderr, "memhog: unknown argument '%s' (see --help)\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (period_ms < 1) {
        fputs("memhog: --period-ms must be at least 1\n", stderr);
        return 2;
    }
    boost_factor = read_long("/proc/sys/vm/watermark_boost_factor", 15000);
    if (read_zones(&z, boost_factor) != 0) {
        perror("memhog: /proc/zoneinfo");
        return 1;
    }
    /* stdout is the console or a pipe: each line must go out when it is printed, in one write */
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd < 0 || write(fd, "1000", 4) != 4) {
        perror("memhog: /proc/self/oom_score_adj");
    }
    if (fd >= 0) {
        close(fd);
    }
    floor = z.min - z.boost + (boost_factor > 0 ? z.boost_max : 0) + guard;
    target = floor + churn;
    printf("MEMHOG-START free_mb=%.1f min_mb=%.1f low_mb=%.1f high_mb=%.1f floor_mb=%.1f churn_mb=%.1f period_ms=%ld\n",
           mb(z.free), mb(z.min - z.boost), mb(z.low - z.boost), mb(z.high - z.boost), mb(floor), mb(churn), period_ms);

    start = second_start = now_s();
    cpu_start = cpu_s();
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!stop && (seconds == 0 || now_s() - start < seconds)) {
        long error = free_pages() - target;
        if (error >= BLOCK_PAGES) {
            error -= grow(error < step ? error : step, target);
        } else if (error < 0) {
            /* the guest needs it back: at once, all of it */
            error += shrink(-error);
        }
        if (!ready && error < BLOCK_PAGES && error > -BLOCK_PAGES) {
            ready = 1;
            printf("MEMHOG-READY held_mb=%.1f free_mb=%.1f after_s=%.1f\n", mb(held * BLOCK_PAGES),
                   mb(free_pages()), now_s() - start);
            if (ready_file && (fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
                close(fd);
            }
        }

        if (churn > 0) {
            char *p = mmap(NULL, churn * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) {
                long page = 0, free = free_pages();
                madvise(p, churn * PAGE, MADV_NOHUGEPAGE);
                while (page < churn) {
                    if (free - CHURN_STEP < floor) {
                        cut++;
                        break;
                    }
                    for (long end = page + CHURN_STEP < churn ? page + CHURN_STEP : churn; page < end; page++) {
                        p[page * PAGE] = (char) page;
                    }
                    free = free_pages();
                }
                if (trough < 0 || free < trough) {
                    trough = free;
                }
                if (trough_zones[0] == '\0') {
                    /* once a second, where the free pages are at the dip, zone by zone */
                    struct zones at;
                    read_zones(&at, boost_factor);
                    describe_zones(&at, trough_zones, sizeof trough_zones);
                }
                munmap(p, churn * PAGE);
                churned += page;
            }
        }

        if (now_s() - second_start >= 1.0) {
            double t = now_s(), cpu = cpu_s();
            long free = free_pages();
            read_zones(&z, boost_factor);
            printf("MEMHOG t=%ld held_mb=%.1f churn_mb=%.1f cut=%ld free_mb=%.1f trough_mb=%.1f min_mb=%.1f low_mb=%.1f"
                   " avail_mb=%.1f cpu_pct=%.0f zones_at_dip=%s\n",
                   ++tick, mb(held * BLOCK_PAGES), mb(churned), cut, mb(free), mb(trough < 0 ? free : trough), mb(z.min),
                   mb(z.low), mem_available_kb() / 1024.0, 100 * (cpu - cpu_start) / (t - second_start),
                   trough_zones[0] ? trough_zones : "-");
            second_start = t;
            cpu_start = cpu;
            churned = cut = 0;
            trough = -1;
            trough_zones[0] = '\0';
        }

        next.tv_nsec += period_ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        {
            /* a late period starts the next at once, and the schedule restarts from now */
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec > next.tv_sec || (t.tv_sec == next.tv_sec && t.tv_nsec > next.tv_nsec)) {
                next = t;
            }
        }
        /* a signal ends the sleep early, and the loop's test stops */
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    printf("MEMHOG-END held_mb=%.1f seconds=%.1f ready=%s\n", mb(held * BLOCK_PAGES), now_s() - start,
           ready ? "yes" : "no");
    shrink(held * BLOCK_PAGES);
    return 0;
}
