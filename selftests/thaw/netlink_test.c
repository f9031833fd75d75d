// SPDX-License-Identifier: GPL-2.0
/*
 * The "thaw" generic netlink family, read by thawctl stats (its code is
 * linked in): the totals and every object's and clone's counters match the
 * ioctls, dumps of many clones resume correctly, the counts return to zero,
 * and the family needs CAP_NET_ADMIN.
 */
#include <inttypes.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"
#include "tools/thawctl/thawctl.h"

#define NPAGES	64
#define OUTLEN	(1 << 20)

static int holes(unsigned long i)
{
	return i >= 48;
}

/*
 * thawctl stats ARGS, its stdout in @buf (its stderr dropped); returns its
 * exit status.
 */
static int run_stats(char *buf, size_t len, const char *arg)
{
	char *argv[] = { "stats", (char *)arg, NULL };
	int out, null, saved, saved_err, ret;
	ssize_t n;

	out = memfd_create("stats-out", MFD_CLOEXEC);
	if (out < 0)
		return -1;
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	fflush(stdout);
	fflush(stderr);
	saved = dup(1);
	saved_err = dup(2);
	dup2(out, 1);
	dup2(null, 2);
	ret = thawctl__stats(arg ? 2 : 1, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(saved_err, 2);
	close(saved);
	close(saved_err);
	close(null);
	n = pread(out, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	close(out);
	return ret;
}

struct totals {
	unsigned long long snapshots, clones, pinned, limit;
};

static int parse_totals(const char *buf, struct totals *t)
{
	return sscanf(buf, "thaw: %llu snapshots, %llu clones, %llu of %llu pages pinned",
		      &t->snapshots, &t->clones, &t->pinned, &t->limit) == 4;
}

/* The line of section @header whose first column is @id. */
static const char *find_row(const char *buf, const char *header,
			    unsigned long long id)
{
	const char *p = strstr(buf, header);

	if (!p)
		return NULL;
	p = strchr(p, '\n');
	while (p && p[1] && p[1] != '\n') {
		unsigned long long got;

		p++;
		if (sscanf(p, "%llu", &got) == 1 && got == id)
			return p;
		p = strchr(p, '\n');
	}
	return NULL;
}

static int count_rows(const char *buf, const char *header)
{
	const char *p = strstr(buf, header);
	int n = 0;

	if (!p)
		return -1;
	p = strchr(p, '\n');
	while (p && p[1] && p[1] != '\n') {
		n++;
		p = strchr(p + 1, '\n');
	}
	return n;
}

FIXTURE(nl) {
	int dev, src, snap;
	long ps;
	size_t len;
	char *buf;
};

FIXTURE_SETUP(nl)
{
	self->src = self->snap = -1;
	self->ps = thaw_page_size();
	self->len = NPAGES * self->ps;
	self->buf = malloc(OUTLEN);
	ASSERT_NE(NULL, self->buf);
	self->dev = thaw_open_api(NULL);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));
	self->src = thaw_memfd(NPAGES, 5, holes);
	ASSERT_LE(0, self->src);
	self->snap = thaw_snap_create(self->dev, self->src, 0, self->len,
				      "nl-test");
	ASSERT_LE(0, self->snap);
}

FIXTURE_TEARDOWN(nl)
{
	struct totals t;

	if (self->snap >= 0)
		close(self->snap);
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		/* thawctl sees nothing left either. */
		EXPECT_EQ(0, run_stats(self->buf, OUTLEN, "--summary"));
		EXPECT_TRUE(parse_totals(self->buf, &t));
		EXPECT_EQ(0, t.snapshots);
		EXPECT_EQ(0, t.clones);
		EXPECT_EQ(0, t.pinned);
		close(self->dev);
	}
	free(self->buf);
}

TEST_F(nl, counts_match_ioctls)
{
	__u32 set[] = { 0, 1, 2, 3, 50 };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 5 };
	unsigned long long v[11];
	struct thaw_snap_stats ss;
	struct thaw_clone_stats cs;
	struct thaw_stats g;
	volatile char sink = 0;
	struct totals t;
	const char *row;
	char name[64];
	char *a, *b;
	int anon;

	anon = thaw_snap_create(self->dev, self->src, 0, self->ps, NULL);
	ASSERT_LE(0, anon);
	ASSERT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_WSET_SET, &io));
	a = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->snap, 0);
	b = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->snap, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, madvise(a, self->len, MADV_RANDOM));
	for (int i = 0; i < 10; i++)
		sink += a[i * self->ps];
	a[3 * self->ps] = 1;
	a[60 * self->ps] = 1;
	(void)sink;
	ASSERT_EQ(5, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, b, 0));
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, b, 0));
	b[20 * self->ps] = 1;

	ASSERT_EQ(0, run_stats(self->buf, OUTLEN, NULL));
	g = thaw_stats(self->dev);
	ASSERT_TRUE(parse_totals(self->buf, &t)) TH_LOG("%s", self->buf);
	EXPECT_EQ(g.snapshots, t.snapshots);
	EXPECT_EQ(2, t.snapshots);
	EXPECT_EQ(g.clones, t.clones);
	EXPECT_EQ(g.pinned_pages, t.pinned);
	EXPECT_EQ(g.pinned_limit, t.limit);

	ss = thaw_snap_stats(self->snap);
	row = find_row(self->buf, "SNAPSHOT NAME", ss.id);
	ASSERT_NE(NULL, row) TH_LOG("%s", self->buf);
	ASSERT_EQ(11, sscanf(row, "%llu %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			     &v[0], name, &v[1], &v[2], &v[3], &v[4], &v[5],
			     &v[6], &v[7], &v[8], &v[9]));
	EXPECT_STREQ("nl-test", name);
	/* The last column: the owner's uid, as the reader sees it. */
	snprintf(name, sizeof(name), " %u\n", (unsigned int)geteuid());
	EXPECT_EQ(0, strncmp(strchr(row, '\n') - strlen(name) + 1, name,
			     strlen(name))) TH_LOG("%.300s", row);
	EXPECT_EQ(ss.pages, v[1]);
	EXPECT_EQ(ss.data_pages, v[2]);
	EXPECT_EQ(16, v[3]);
	EXPECT_EQ(ss.pinned_pages, v[4]);
	EXPECT_EQ(2, v[5]);
	EXPECT_EQ(5, v[6]);
	EXPECT_EQ(ss.faults, v[7]);
	EXPECT_EQ(5, v[8]);
	EXPECT_EQ(3, v[9]);
	row = find_row(self->buf, "SNAPSHOT NAME", thaw_snap_stats(anon).id);
	ASSERT_NE(NULL, row);
	EXPECT_EQ(2, sscanf(row, "%llu %63s", &v[0], name));
	EXPECT_STREQ("-", name);

	cs = thaw_clone_stats(self->snap, a);
	row = find_row(self->buf, "CLONE SNAPSHOT", cs.id);
	ASSERT_NE(NULL, row) TH_LOG("%s", self->buf);
	EXPECT_EQ(9, sscanf(row, "%llu %llu %llu %llu %llu %llu %llu %llu %llu",
			    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			    &v[7], &v[8]));
	EXPECT_EQ(ss.id, v[1]);
	EXPECT_EQ(getpid(), v[2]);
	EXPECT_EQ(NPAGES, v[3]);
	EXPECT_EQ(cs.shared_pages, v[4]);
	EXPECT_EQ(9, v[4]);
	EXPECT_EQ(cs.zero_pages, v[5]);
	EXPECT_EQ(2, v[6]);
	EXPECT_EQ(11, v[7]);
	EXPECT_EQ(1, v[8]);
	cs = thaw_clone_stats(self->snap, b);
	row = find_row(self->buf, "CLONE SNAPSHOT", cs.id);
	ASSERT_NE(NULL, row);
	EXPECT_NE(NULL, strstr(row, "recording"));
	EXPECT_EQ(1, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, b,
				   THAW_CLONE_STOP_DISCARD));

	munmap(a, self->len);
	munmap(b, self->len);
	close(anon);
}

TEST_F(nl, summary_and_usage)
{
	struct totals t;

	EXPECT_EQ(0, run_stats(self->buf, OUTLEN, "--summary"));
	EXPECT_TRUE(parse_totals(self->buf, &t));
	EXPECT_EQ(1, t.snapshots);
	EXPECT_EQ(NULL, strstr(self->buf, "SNAPSHOT NAME"));
	EXPECT_EQ(2, run_stats(self->buf, OUTLEN, "--bogus"));
	EXPECT_EQ(2, run_stats(self->buf, OUTLEN, "extra"));
	EXPECT_EQ(0, run_stats(self->buf, OUTLEN, "--help"));
	EXPECT_NE(NULL, strstr(self->buf, "usage: thawctl stats"));
}

/* Enough clones to need several dump messages: none lost, none twice. */
TEST_F_TIMEOUT(nl, dump_many_clones, 120)
{
	enum { N = 300 };
	char *m[N];
	int rows;

	for (int i = 0; i < N; i++) {
		m[i] = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE, self->snap,
			    (i % NPAGES) * self->ps);
		ASSERT_NE(MAP_FAILED, m[i]);
	}
	ASSERT_EQ(0, run_stats(self->buf, OUTLEN, NULL));
	rows = count_rows(self->buf, "CLONE SNAPSHOT");
	EXPECT_EQ(N, rows);
	for (int i = 0; i < N; i += 37) {
		EXPECT_NE(NULL, find_row(self->buf, "CLONE SNAPSHOT",
			  thaw_clone_stats(self->snap, m[i]).id));
	}
	for (int i = 0; i < N; i++)
		munmap(m[i], self->ps);
}

TEST_F(nl, needs_cap_net_admin)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(100);
		_exit(run_stats(self->buf, OUTLEN, NULL));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
