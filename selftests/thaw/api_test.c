// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/thaw handshake: THAW_IOC_API and the rules every thaw ioctl
 * follows (version, flags, reserved fields, structure size, bad pointers).
 */
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

FIXTURE(api) {
	int fd;
};

FIXTURE_SETUP(api)
{
	self->fd = open(THAW_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SETUP_SKIP(THAW_DEV " not present (thaw.ko not loaded): %s",
		     strerror(errno));
}

FIXTURE_TEARDOWN(api)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(api, good_version)
{
	struct thaw_api api = { .api = THAW_API_VERSION };

	ASSERT_EQ(0, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
	EXPECT_EQ(THAW_API_VERSION, api.api);
	EXPECT_TRUE(api.features & THAW_FEATURE_EXTENSIBLE_IOCTLS);
	EXPECT_TRUE(api.features & THAW_FEATURE_SNAPSHOT);
	EXPECT_TRUE(api.features & THAW_FEATURE_WSET);
	EXPECT_TRUE(api.features & THAW_FEATURE_RESET);
	EXPECT_TRUE(api.features & THAW_FEATURE_STATS);
	/* The handshake may be repeated. */
	ASSERT_EQ(0, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
}

TEST_F(api, require_supported_features)
{
	struct thaw_api api = { .api = THAW_API_VERSION };
	__u64 all;

	ASSERT_EQ(0, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
	all = api.features;
	memset(&api, 0, sizeof(api));
	api.api = THAW_API_VERSION;
	api.features = all;
	EXPECT_EQ(0, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
	EXPECT_EQ(all, api.features);
}

TEST_F(api, bad_version)
{
	static const __u32 bad[] = { 0, THAW_API_VERSION + 1, 0xffffffff };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct thaw_api api = { .api = bad[i] };

		EXPECT_EQ(-EINVAL, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
		/* A refused call writes nothing back. */
		EXPECT_EQ(0, api.features);
	}
}

TEST_F(api, flags_must_be_zero)
{
	struct thaw_api api = { .api = THAW_API_VERSION, .flags = 1 };

	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
}

TEST_F(api, reserved_must_be_zero)
{
	for (size_t i = 0; i < sizeof(((struct thaw_api *)0)->reserved) /
			       sizeof(__u64); i++) {
		struct thaw_api api = { .api = THAW_API_VERSION };

		api.reserved[i] = 1ULL << (i * 7);
		EXPECT_EQ(-EINVAL, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
	}
}

TEST_F(api, unknown_feature_bits)
{
	struct thaw_api api = { .api = THAW_API_VERSION, .features = 1ULL << 63 };

	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->fd, THAW_IOC_API, &api));
}

/* The size encoded in the ioctl number is the caller's structure size. */
TEST_F(api, wrong_size)
{
	struct {
		struct thaw_api api;
		__u64 tail[2];
	} big = { .api.api = THAW_API_VERSION };
	unsigned long small_cmd = _IOWR(THAW_IOCTL_MAGIC, 0x00, __u64[2]);
	unsigned long big_cmd = _IOWR(THAW_IOCTL_MAGIC, 0x00, big);
	__u64 small[2] = { THAW_API_VERSION, 0 };

	EXPECT_EQ(-EINVAL, __thaw_ioctl(self->fd, small_cmd, small));
	/* Larger than known: fine if the unknown tail is zero... */
	EXPECT_EQ(0, __thaw_ioctl(self->fd, big_cmd, &big));
	EXPECT_EQ(0, big.tail[0]);
	/* ...and E2BIG if it is not. */
	big.tail[1] = 1;
	EXPECT_EQ(-E2BIG, __thaw_ioctl(self->fd, big_cmd, &big));
}

TEST_F(api, unknown_ioctl)
{
	struct thaw_api api = { .api = THAW_API_VERSION };

	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->fd,
					_IOWR(THAW_IOCTL_MAGIC, 0xff, api), &api));
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->fd,
					_IOWR('x', 0x00, api), &api));
	/* Right number, wrong direction. */
	EXPECT_EQ(-ENOTTY, __thaw_ioctl(self->fd,
					_IOW(THAW_IOCTL_MAGIC, 0x00, api), &api));
}

TEST_F(api, bad_user_pointer)
{
	void *unmapped;

	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->fd, THAW_IOC_API, NULL));
	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->fd, THAW_IOC_API,
					(void *)(uintptr_t)0xffff800000000000ULL));
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->fd, THAW_IOC_API, unmapped));
	munmap(unmapped, 4096);
}

/* Output does not reach past the caller's structure. */
TEST_F(api, read_only_page_output)
{
	struct thaw_api *api;

	api = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, api);
	api->api = THAW_API_VERSION;
	ASSERT_EQ(0, mprotect(api, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, __thaw_ioctl(self->fd, THAW_IOC_API, api));
	munmap(api, 4096);
}

TEST_HARNESS_MAIN
