// SPDX-License-Identifier: GPL-2.0
/*
 * A random sequence of /dev/thaw calls: every ioctl of the uapi (and
 * made-up ones of its magic, any direction and size) with arguments
 * mostly plausible and often not (bad fds, flags, offsets, lengths, names,
 * counts, pointers that are NULL, unmapped, or the kernel's), mmaps of
 * objects at any offset, length and protection, writes and reads through
 * them, munmap, mremap, madvise, fork, close of an object under its
 * mappings.  Seeded and single-threaded, so THAW_FUZZ_SEED=N replays a
 * run exactly; THAW_FUZZ_ITERS bounds it (default 50000, a few seconds).  Nothing is
 * asserted of each call but that the process lives: the test is that the
 * kernel neither oopses nor warns (the group's end reads its log) and
 * that, with everything closed and the cache dropped, thaw.ko holds no
 * object, clone or pinned page.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define MAX_SNAPS	8
#define MAX_MAPS	8
#define SCRATCH		(64 * 1024)

static uint64_t s;
static uint64_t created, opened, mapped, ioctls_ok;

static uint64_t rnd(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

/* One of @n values, the first ones likelier. */
static uint64_t pick(const uint64_t *v, size_t n)
{
	size_t i = rnd() % (2 * n);

	return v[i < n ? i : rnd() % n];
}

#define PICK(...) ({							\
	const uint64_t __v[] = { __VA_ARGS__ };				\
	pick(__v, sizeof(__v) / sizeof(__v[0]));			\
})

struct map {
	char *addr;
	size_t len;
};

struct state {
	long ps;
	int dev, fds[8];	/* sources: good, huge, ro, dir, pipe, ... */
	int nfds;
	int snaps[MAX_SNAPS];
	struct map maps[MAX_MAPS];
	char *scratch, *none;
};

static sigjmp_buf jump;

static void on_fault(int sig)
{
	siglongjmp(jump, sig);
}

/* A pointer for an ioctl's user buffer. */
static uint64_t user_ptr(struct state *st)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return (uintptr_t)st->none;
	case 2: return 0xffff888000000000ULL;
	case 3: return (uintptr_t)st->scratch + SCRATCH - 8;
	default: return (uintptr_t)st->scratch + (rnd() % 64) * 8;
	}
}

static int any_snap(struct state *st)
{
	return st->snaps[rnd() % MAX_SNAPS];
}

static uint64_t any_addr(struct state *st)
{
	struct map *m = &st->maps[rnd() % MAX_MAPS];

	if (m->addr && rnd() % 4)
		return (uintptr_t)m->addr + (rnd() % 3 ? 0 : st->ps);
	return PICK(0, (uintptr_t)st->scratch, (uintptr_t)st->none, 1);
}

static void fill_junk(void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)p)[i] = rnd();
}

static void name_of(uint8_t *name)
{
	memset(name, 0, THAW_NAME_MAX);
	switch (rnd() % 6) {
	case 0: break;				/* anonymous */
	case 1: memset(name, 'n', THAW_NAME_MAX); break;	/* no NUL */
	case 2: strcpy((char *)name, "../x"); break;
	default: snprintf((char *)name, THAW_NAME_MAX, "fz%d",
			  (int)(rnd() % 3));
	}
}

static void keep_snap(struct state *st, int fd, uint64_t *ok)
{
	int k = rnd() % MAX_SNAPS;

	if (fd < 0)
		return;
	(*ok)++;
	if (st->snaps[k] >= 0)
		close(st->snaps[k]);
	st->snaps[k] = fd;
}

static void op_create(struct state *st)
{
	struct thaw_snap_create c;
	uint64_t len;

	memset(&c, 0, sizeof(c));
	c.fd = rnd() % 8 ? st->fds[rnd() % st->nfds] :
	       PICK(-1, 9999, st->dev, any_snap(st));
	c.flags = PICK(0, THAW_SNAP_CREATE_HUGE, THAW_SNAP_CREATE_LAZY,
		       THAW_SNAP_CREATE_HUGE | THAW_SNAP_CREATE_LAZY,
		       rnd() & 0xff, 1u << 31);
	len = PICK(96, 1024 + 7, 1, 0, 4096, 1ULL << 40) * st->ps;
	c.length = rnd() % 16 ? len : rnd();
	c.offset = PICK(0, 0, st->ps, st->ps / 2, len, ~0ULL - st->ps + 1);
	name_of(c.name);
	c.huge_min_pages = PICK(0, 0, 1, 512, 513);
	if (!(rnd() % 16))
		c.pad = 1;
	if (!(rnd() % 16))
		c.reserved[rnd() % 3] = rnd();
	/* Half the time a good one, so that there are objects to work on. */
	if (rnd() & 1) {
		int k = rnd() % 3;	/* good, huge, read-only */

		memset(&c, 0, sizeof(c));
		c.fd = st->fds[k];
		c.length = (k == 1 ? 1024 + 7 : 96) * st->ps;
		c.flags = k == 2 && rnd() & 1 ? THAW_SNAP_CREATE_LAZY :
			  rnd() & 1 ? THAW_SNAP_CREATE_HUGE : 0;
		name_of(c.name);
		if (c.name[0] == 'n' || c.name[0] == '.')
			c.name[0] = 0;
	}
	keep_snap(st, ioctl(st->dev, THAW_IOC_SNAP_CREATE, &c), &created);
}

static void op_open(struct state *st)
{
	struct thaw_snap_open o;

	memset(&o, 0, sizeof(o));
	name_of(o.name);
	o.flags = PICK(0, 0, THAW_SNAP_OPEN_OWNER, rnd());
	o.owner_uid = PICK(0, 0, 65534, rnd());
	if (!(rnd() % 16))
		o.reserved[rnd() % 3] = rnd();
	keep_snap(st, ioctl(st->dev, THAW_IOC_SNAP_OPEN, &o), &opened);
}

static void op_wset(struct state *st)
{
	struct thaw_wset_io io;
	__u32 *set = (__u32 *)st->scratch;

	memset(&io, 0, sizeof(io));
	for (int k = 0; k < 64; k++)
		set[k] = PICK(0, 1, 95, 96, 1023, 1ULL << 30, rnd()) |
			 (rnd() & 1 ? THAW_WSET_WRITTEN : 0);
	io.pages = rnd() % 4 ? (uintptr_t)set : user_ptr(st);
	io.count = PICK(0, 1, 64, 1024, 1u << 31, rnd());
	if (io.count > 64 && io.pages == (uintptr_t)set && rnd() % 4)
		io.count = 64;
	io.flags = PICK(0, THAW_WSET_IO_WRITTEN, rnd());
	if (!(rnd() % 16))
		io.reserved[rnd() % 2] = rnd();
	ioctls_ok += !ioctl(any_snap(st), rnd() & 1 ? THAW_IOC_WSET_SET :
			    THAW_IOC_WSET_GET, &io);
}

static void op_clone(struct state *st)
{
	static const unsigned long cmds[] = {
		THAW_IOC_CLONE_RECORD, THAW_IOC_CLONE_STOP,
		THAW_IOC_CLONE_PREMAP, THAW_IOC_CLONE_RESET,
		THAW_IOC_CLONE_STATS,
	};
	struct thaw_clone_stats cs;
	struct thaw_clone_op op;
	unsigned long cmd = cmds[rnd() % 5];
	void *arg = &op;

	memset(&op, 0, sizeof(op));
	op.addr = any_addr(st);
	op.flags = PICK(0, 0, 1, 2, 4, 8, rnd());
	op.private_budget = PICK(0, 0, 1, 4096, rnd());
	if (!(rnd() % 16))
		op.pad = 1;
	if (cmd == THAW_IOC_CLONE_STATS) {
		memset(&cs, 0, sizeof(cs));
		cs.addr = op.addr;
		if (!(rnd() % 8))
			cs.flags = rnd();
		arg = &cs;
	}
	if (!(rnd() % 16))
		arg = (void *)(uintptr_t)user_ptr(st);
	ioctls_ok += ioctl(rnd() % 8 ? any_snap(st) : st->dev, cmd, arg) >= 0;
}

static void op_misc(struct state *st)
{
	union {
		struct thaw_api api;
		struct thaw_stats stats;
		struct thaw_snap_stats snap;
		struct thaw_cache_drop drop;
		uint8_t raw[256];
	} u;
	unsigned long cmd;

	memset(&u, 0, sizeof(u));
	switch (rnd() % 5) {
	case 0:
		u.api.api = PICK(THAW_API_VERSION, 0, 2, rnd());
		cmd = THAW_IOC_API;
		break;
	case 1:
		cmd = THAW_IOC_STATS;
		break;
	case 2:
		cmd = THAW_IOC_SNAP_STATS;
		break;
	case 3:
		u.drop.flags = PICK(0, 0, THAW_CACHE_DROP_ALL, rnd());
		cmd = THAW_IOC_CACHE_DROP;
		break;
	default:
		/* Made up: the magic, any number, direction and size. */
		cmd = _IOC(rnd() % 4, THAW_IOCTL_MAGIC, rnd() % 0x60,
			   PICK(0, 8, 40, 120, 256, rnd() % 256));
		fill_junk(&u, sizeof(u));
		break;
	}
	if (!(rnd() % 8))
		fill_junk(&u, 32);
	ioctls_ok += ioctl(rnd() % 2 ? st->dev : any_snap(st), cmd,
			   rnd() % 8 ? (void *)&u :
			   (void *)(uintptr_t)user_ptr(st)) >= 0;
}

/* A mapping of an object, touched; faults past its end are expected. */
static void op_mmap(struct state *st)
{
	struct map *m = &st->maps[rnd() % MAX_MAPS];
	size_t len = PICK(96, 1, 4, 512, 1024 + 7, 2048) * st->ps;
	off_t off = PICK(0, 0, 1, 512, 95) * st->ps;
	int prot = PICK(PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE,
			PROT_READ | PROT_WRITE | PROT_EXEC);
	int flags = PICK(MAP_PRIVATE, MAP_PRIVATE, MAP_SHARED,
			 MAP_PRIVATE | MAP_POPULATE);
	void *a;

	if (m->addr)
		munmap(m->addr, m->len);
	m->addr = NULL;
	/* Half the time a clone as a VMM maps one. */
	if (rnd() & 1) {
		len = 96 * st->ps;
		off = 0;
		prot = PROT_READ | PROT_WRITE;
		flags = MAP_PRIVATE;
	}
	a = mmap(NULL, len, prot, flags, any_snap(st), off);
	if (a == MAP_FAILED)
		return;
	m->addr = a;
	m->len = len;
	mapped++;
	if (!(prot & PROT_READ))
		return;
	if (!sigsetjmp(jump, 1)) {
		for (int k = 0; k < 8; k++) {
			size_t at = (rnd() % (len / st->ps)) * st->ps;

			if (prot & PROT_WRITE && rnd() & 1)
				m->addr[at] = rnd();
			else
				(void)((volatile char *)m->addr)[at];
		}
	}
}

static void op_vma(struct state *st)
{
	struct map *m = &st->maps[rnd() % MAX_MAPS];
	void *a;

	if (!m->addr)
		return;
	switch (rnd() % 6) {
	case 0:
		munmap(m->addr, m->len);
		m->addr = NULL;
		break;
	case 1:
		/*
		 * Part of it: a clone refuses to be split.  Where it worked,
		 * the rest goes at once, before a later mapping can land in
		 * the hole and be hit by what this one's range is given.
		 */
		if (m->len > 2 * st->ps && !munmap(m->addr + st->ps, st->ps)) {
			munmap(m->addr, st->ps);
			munmap(m->addr + 2 * st->ps, m->len - 2 * st->ps);
			m->addr = NULL;
		}
		break;
	case 2: {
		size_t len = PICK(m->len, m->len / 2, m->len * 2);

		a = mremap(m->addr, m->len, len, MREMAP_MAYMOVE);
		if (a != MAP_FAILED) {
			m->addr = a;
			m->len = len;
		}
		break;
	}
	case 3:
		madvise(m->addr, m->len, PICK(MADV_DONTNEED, MADV_DOFORK,
					      MADV_DONTFORK, MADV_HUGEPAGE,
					      MADV_NOHUGEPAGE, MADV_RANDOM,
					      MADV_WILLNEED));
		break;
	case 4:
		mprotect(m->addr, m->len, PICK(PROT_READ, PROT_READ |
					       PROT_WRITE, PROT_NONE));
		break;
	default: {
		pid_t pid = fork();

		if (pid == 0) {
			if (!sigsetjmp(jump, 1))
				(void)((volatile char *)m->addr)[0];
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	}
}

static void op_close(struct state *st)
{
	int k = rnd() % MAX_SNAPS;

	if (st->snaps[k] >= 0)
		close(st->snaps[k]);
	st->snaps[k] = -1;
}

/* Every mapping of an object left (pieces a partial munmap left too). */
static void unmap_objects(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long lo[256], hi[256];
	char line[512];
	int n = 0;

	if (!f)
		return;
	while (n < 256 && fgets(line, sizeof(line), f))
		if (strstr(line, "[thaw-snap]") &&
		    sscanf(line, "%lx-%lx", &lo[n], &hi[n]) == 2)
			n++;
	fclose(f);
	while (n--)
		munmap((void *)lo[n], hi[n] - lo[n]);
}

TEST(ioctl_sequence)
{
	const char *seed_env = getenv("THAW_FUZZ_SEED");
	const char *iters_env = getenv("THAW_FUZZ_ITERS");
	long iters = iters_env ? atol(iters_env) : 50000;
	struct sigaction sa = { .sa_handler = on_fault };
	uint64_t counts[8] = { 0 };
	struct state st;
	int p[2], good;

	memset(&st, 0, sizeof(st));
	st.ps = thaw_page_size();
	st.dev = thaw_open_api(NULL);
	if (st.dev < 0)
		SKIP(return, THAW_DEV " not usable: %s", strerror(-st.dev));
	s = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	if (!s)
		s = 1;
	TH_LOG("seed %llu (THAW_FUZZ_SEED=%llu replays it), %ld calls",
	       (unsigned long long)s, (unsigned long long)s, iters);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	/*
	 * The buffers the calls may write: a guard page after them, so a
	 * buffer the kernel fills past its end faults instead of writing
	 * into whatever mapping came next.
	 */
	st.scratch = mmap(NULL, SCRATCH + st.ps, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st.scratch);
	ASSERT_EQ(0, mprotect(st.scratch + SCRATCH, st.ps, PROT_NONE));
	st.none = mmap(NULL, st.ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	ASSERT_NE(MAP_FAILED, st.scratch);
	ASSERT_NE(MAP_FAILED, st.none);
	good = thaw_memfd(96, 3, NULL);
	ASSERT_LE(0, good);
	st.fds[st.nfds++] = good;
	st.fds[st.nfds++] = thaw_memfd(1024 + 7, 4, NULL);
	st.fds[st.nfds++] = thaw_reopen_ro(thaw_memfd(96, 5, NULL));
	st.fds[st.nfds++] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_EQ(0, pipe(p));
	st.fds[st.nfds++] = p[0];
	st.fds[st.nfds++] = p[1];
	for (int k = 0; k < MAX_SNAPS; k++)
		st.snaps[k] = -1;
	st.snaps[0] = thaw_snap_create(st.dev, good, 0, 96 * st.ps, NULL);
	ASSERT_LE(0, st.snaps[0]);

	for (long i = 0; i < iters; i++) {
		int op = rnd() % 8;

		counts[op]++;
		switch (op) {
		case 0: op_create(&st); break;
		case 1: op_open(&st); break;
		case 2: op_wset(&st); break;
		case 3: case 4: op_clone(&st); break;
		case 5: op_misc(&st); break;
		case 6: op_mmap(&st); break;
		default:
			if (rnd() % 4)
				op_vma(&st);
			else
				op_close(&st);
		}
	}
	TH_LOG("objects made %llu, opened by name %llu, mapped %llu; other ioctls that succeeded %llu",
	       (unsigned long long)created, (unsigned long long)opened,
	       (unsigned long long)mapped, (unsigned long long)ioctls_ok);
	TH_LOG("calls: create %llu, open %llu, wset %llu, clone ops %llu, other ioctls %llu, mmaps %llu, vma/close %llu",
	       (unsigned long long)counts[0], (unsigned long long)counts[1],
	       (unsigned long long)counts[2],
	       (unsigned long long)(counts[3] + counts[4]),
	       (unsigned long long)counts[5], (unsigned long long)counts[6],
	       (unsigned long long)counts[7]);
	unmap_objects();
	for (int k = 0; k < MAX_SNAPS; k++)
		if (st.snaps[k] >= 0)
			close(st.snaps[k]);
	for (int k = 0; k < st.nfds; k++)
		if (st.fds[k] >= 0)
			close(st.fds[k]);
	EXPECT_NO_THAW_OBJECTS(st.dev);
	close(st.dev);
}

TEST_HARNESS_MAIN
