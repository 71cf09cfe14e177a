// SPDX-License-Identifier: GPL-2.0
/*
 * squeeze: takes the page allocator's free memory, the atomic reserves included, down to near
 * nothing for squeeze_ms of every period_ms, then gives it all back. It is the test guest's way of
 * making atomic page allocations fail on purpose, as they fail under real memory pressure:
 * virtio_net's RX refill in NAPI (GFP_ATOMIC) fails, the RX ring runs dry and the driver's
 * refill_work retries in process context (GFP_KERNEL).
 *
 * Process context must survive it: an allocation that may sleep and finds nothing reaches the
 * OOM killer, and before the killer picks a victim this module's OOM notifier gives memory back
 * (as virtio_balloon deflates), so the allocation is retried and succeeds, and nothing is killed.
 * With oom_wait (the default) the notifier first waits for the squeeze to end, as an allocation
 * waits in direct reclaim under real pressure: process context stalls for the rest of the
 * squeeze (at most squeeze_ms) and then gets everything back, so virtio_net's refill_work, too,
 * refills only when the squeeze ends. Without it, the notifier gives back oom_release_pages at
 * once (they come back into the squeeze at its next top-up), and refill_work refills within
 * milliseconds of the failed atomic refill.
 *
 * Pages are taken with __GFP_MEMALLOC, which ignores every watermark, so nothing is left
 * above the atomic reserves; no page is taken below depth_pages left free (NR_FREE_PAGES, all
 * zones; the zones are drained in zonelist order, DMA32 before DMA). While a squeeze lasts,
 * the thread tops up every millisecond: what others free meanwhile is taken again.
 *
 * Each squeeze is logged when it ends (KERN_INFO, below a quiet console): its number and when it
 * held memory, in milliseconds on the boot-time clock, that of /proc/uptime, so that a reader can
 * place the squeezes beside what programs in the guest timed (guest-stress's iperf3 runs).
 *
 * Knobs (module parameters, also /sys/module/squeeze/parameters/): period_ms, squeeze_ms,
 * depth_pages, oom_wait, oom_release_pages, and stop: 1 gives everything back at once and pauses, 0
 * resumes. Read-only counters there too: squeezes, held_pages, peak_held_pages, oom_waits,
 * oom_releases, oom_released_pages, lowest_free_pages. Unloading gives everything back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/oom.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/vmstat.h>
#include <linux/wait.h>

/* The largest block tried first: 2 MiB, so a squeeze of 80 MB costs tens of allocations. */
#define SQUEEZE_MAX_ORDER 9
/* Allocation only: no reclaim, no kswapd wake-up, no warning, every watermark ignored. */
#define SQUEEZE_GFP (__GFP_HIGH | __GFP_MEMALLOC | __GFP_NOWARN | __GFP_NORETRY)

static unsigned int period_ms = 1000;
module_param(period_ms, uint, 0644);
MODULE_PARM_DESC(period_ms, "a squeeze starts every period_ms (default 1000)");

static unsigned int squeeze_ms = 200;
module_param(squeeze_ms, uint, 0644);
MODULE_PARM_DESC(squeeze_ms, "how long each squeeze holds the memory (default 200; at most period_ms)");

static unsigned long depth_pages;
module_param(depth_pages, ulong, 0644);
MODULE_PARM_DESC(depth_pages, "free pages left while squeezed, all zones together (default 0)");

static bool oom_wait = true;
module_param(oom_wait, bool, 0644);
MODULE_PARM_DESC(oom_wait, "an allocation that would OOM waits for the squeeze to end (default Y), else gets oom_release_pages at once");

static unsigned long oom_release_pages = 256;
module_param(oom_release_pages, ulong, 0644);
MODULE_PARM_DESC(oom_release_pages, "pages given back each time the OOM killer would run (default 256)");

static DECLARE_WAIT_QUEUE_HEAD(squeeze_wait);
/* Woken when a squeeze ends and its pages are back. */
static DECLARE_WAIT_QUEUE_HEAD(released_wait);
static bool squeezing;
static bool stop;

static int stop_set(const char *value, const struct kernel_param *kp)
{
	int err = param_set_bool(value, kp);

	if (!err)
		wake_up(&squeeze_wait);
	return err;
}

static const struct kernel_param_ops stop_ops = {
	.set = stop_set,
	.get = param_get_bool,
};
module_param_cb(stop, &stop_ops, &stop, 0644);
MODULE_PARM_DESC(stop, "1: give everything back now and squeeze no more until 0 is written");

/* A read-only counter, shown among the parameters. */
#define SQUEEZE_COUNTER(name, initial, description)		\
	static unsigned long name = initial;			\
	module_param(name, ulong, 0444);			\
	MODULE_PARM_DESC(name, description)

SQUEEZE_COUNTER(squeezes, 0, "squeezes begun");
SQUEEZE_COUNTER(held_pages, 0, "pages held now");
SQUEEZE_COUNTER(peak_held_pages, 0, "the most pages held at once");
SQUEEZE_COUNTER(oom_waits, 0, "times an allocation that would OOM waited for the squeeze to end");
SQUEEZE_COUNTER(oom_releases, 0, "times the OOM notifier gave pages back");
SQUEEZE_COUNTER(oom_released_pages, 0, "pages the OOM notifier gave back");
SQUEEZE_COUNTER(lowest_free_pages, ULONG_MAX, "the fewest free pages seen after a top-up");

/* The blocks held, each a page linked by its lru, its order in page->private. */
static LIST_HEAD(held);
static DEFINE_SPINLOCK(held_lock);
static struct task_struct *squeezer;

static unsigned long free_pages_now(void)
{
	return global_zone_page_state(NR_FREE_PAGES);
}

/* Takes free memory down to depth_pages, largest blocks first. */
static void squeeze_top_up(void)
{
	unsigned long depth = READ_ONCE(depth_pages);
	unsigned int order = SQUEEZE_MAX_ORDER;
	unsigned long free;

	while ((free = free_pages_now()) > depth) {
		struct page *page;

		while (order > 0 && (1UL << order) > free - depth)
			order--;
		page = alloc_pages(SQUEEZE_GFP, order);
		if (!page) {
			if (order == 0)
				break;
			order--;
			continue;
		}
		set_page_private(page, order);
		spin_lock(&held_lock);
		list_add(&page->lru, &held);
		held_pages += 1UL << order;
		if (held_pages > peak_held_pages)
			peak_held_pages = held_pages;
		spin_unlock(&held_lock);
	}
	free = free_pages_now();
	if (free < lowest_free_pages)
		lowest_free_pages = free;
}

/* Gives back at least want pages (all with ULONG_MAX), or all held; returns how many. */
static unsigned long squeeze_release(unsigned long want)
{
	unsigned long released = 0;
	LIST_HEAD(going);

	spin_lock(&held_lock);
	while (released < want && !list_empty(&held)) {
		struct page *page = list_first_entry(&held, struct page, lru);

		list_move(&page->lru, &going);
		released += 1UL << page_private(page);
	}
	held_pages -= released;
	spin_unlock(&held_lock);

	while (!list_empty(&going)) {
		struct page *page = list_first_entry(&going, struct page, lru);
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		__free_pages(page, order);
		cond_resched();
	}
	return released;
}

static int squeeze_oom_notify(struct notifier_block *nb, unsigned long unused, void *freed)
{
	unsigned long released;

	if (READ_ONCE(oom_wait) && READ_ONCE(squeezing)) {
		unsigned long before = READ_ONCE(held_pages);

		/* The thread gives everything back when the squeeze ends; a margin for a late thread. */
		wait_event_timeout(released_wait, !READ_ONCE(squeezing),
				   msecs_to_jiffies(READ_ONCE(squeeze_ms) + 100));
		if (!READ_ONCE(squeezing)) {
			oom_waits++;
			*(unsigned long *)freed += max(before, 1UL);
			return NOTIFY_OK;
		}
	}
	released = squeeze_release(READ_ONCE(oom_release_pages));
	if (released) {
		oom_releases++;
		oom_released_pages += released;
		*(unsigned long *)freed += released;
	}
	return NOTIFY_OK;
}

static struct notifier_block squeeze_oom_nb = {
	.notifier_call = squeeze_oom_notify,
};

static bool squeeze_interrupted(void)
{
	return kthread_should_stop() || READ_ONCE(stop);
}

static int squeeze_thread(void *unused)
{
	while (!kthread_should_stop()) {
		unsigned int period = max(READ_ONCE(period_ms), 1U);
		unsigned int hold = min(READ_ONCE(squeeze_ms), period);
		ktime_t begin = ktime_get();
		ktime_t end = ktime_add_ms(begin, hold);
		s64 held_from = ktime_to_ms(ktime_get_boottime());
		s64 rest;

		if (READ_ONCE(stop)) {
			wait_event_interruptible(squeeze_wait, !READ_ONCE(stop) || kthread_should_stop());
			continue;
		}
		squeezes++;
		WRITE_ONCE(squeezing, true);
		while (!squeeze_interrupted() && ktime_before(ktime_get(), end)) {
			squeeze_top_up();
			usleep_range(1000, 1500);
		}
		squeeze_release(ULONG_MAX);
		WRITE_ONCE(squeezing, false);
		wake_up_all(&released_wait);
		pr_info("squeeze %lu held %lld-%lld ms since boot\n", squeezes, held_from,
			ktime_to_ms(ktime_get_boottime()));
		rest = ktime_ms_delta(ktime_add_ms(begin, period), ktime_get());
		if (rest > 0)
			wait_event_interruptible_timeout(squeeze_wait, squeeze_interrupted(), msecs_to_jiffies(rest));
	}
	return 0;
}

static int __init squeeze_init(void)
{
	int err = register_oom_notifier(&squeeze_oom_nb);

	if (err)
		return err;
	squeezer = kthread_run(squeeze_thread, NULL, "squeeze");
	if (IS_ERR(squeezer)) {
		unregister_oom_notifier(&squeeze_oom_nb);
		return PTR_ERR(squeezer);
	}
	pr_info("squeezing to %lu free pages for %u ms of every %u ms; an allocation that would OOM %s%s\n",
		depth_pages, squeeze_ms, period_ms,
		oom_wait ? "waits for the squeeze to end" : "gets pages back at once", stop ? " (stopped)" : "");
	return 0;
}

static void __exit squeeze_exit(void)
{
	kthread_stop(squeezer);
	unregister_oom_notifier(&squeeze_oom_nb);
	squeeze_release(ULONG_MAX);
	pr_info("unloaded after %lu squeezes: peak %lu pages held, %lu OOM waits, %lu OOM releases (%lu pages), lowest free %lu pages\n",
		squeezes, peak_held_pages, oom_waits, oom_releases, oom_released_pages, lowest_free_pages);
}

module_init(squeeze_init);
module_exit(squeeze_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lowmem-vnet test guest: squeezes free memory, atomic reserves included, on a duty cycle");
