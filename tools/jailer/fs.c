// SPDX-License-Identifier: GPL-2.0
/*
 * The jail's files, made from outside before the VMM enters it: the
 * folders, the exec file with its ELF interpreter and shared libraries
 * (hard-linked on the same file system, else copied), and the device
 * nodes the VMM opens, owned by its uid:gid.  Nothing else of the host is
 * in the jail.  A path inside the jail is never followed through a link:
 * a reused jail may hold what its last VMM left there.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tools/jailer/jailer.h"

/* err__set() with the errno @ret names after the message. */
int jail__fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	snprintf(err + n, errlen - n, ": %s", strerror(-ret));
	return ret;
}

/* mkdir -p of @rel under @root; every part that exists must be a folder. */
static int mkdirs(const char *root, const char *rel, char *err,
		  size_t errlen)
{
	char path[4096];
	struct stat st;
	size_t n = strlen(root);
	const char *p = rel;

	if (n + strlen(rel) + 2 > sizeof(path))
		return jail__fail(err, errlen, -ENAMETOOLONG, "%s%s", root, rel);
	memcpy(path, root, n + 1);
	while (*p) {
		size_t k;

		while (*p == '/')
			p++;
		k = strcspn(p, "/");
		if (!k)
			break;
		path[n++] = '/';
		memcpy(path + n, p, k);
		n += k;
		path[n] = 0;
		p += k;
		if (!mkdir(path, 0755))
			continue;
		if (errno != EEXIST)
			return jail__fail(err, errlen, -errno, "mkdir %s", path);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			return jail__fail(err, errlen, -ENOTDIR, "%s", path);
	}
	return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in, out, ret = 0;
	char buf[65536];
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		   mode);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			ret = -EIO;
			break;
		}
	}
	if (n < 0)
		ret = -errno;
	close(in);
	if (close(out) && !ret)
		ret = -EIO;
	if (ret)
		unlink(dst);
	return ret;
}

/* The host file @src at @rel in the jail: a hard link, else a copy. */
static int place(const char *root, const char *src, const char *rel,
		 char *err, size_t errlen)
{
	char dst[4096], real[4096], dir[4096];
	struct stat st;
	char *slash;
	int ret;

	if (!realpath(src, real) || stat(real, &st))
		return jail__fail(err, errlen, -errno, "%s", src);
	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		ret = mkdirs(root, dir, err, errlen);
		if (ret)
			return ret;
	}
	if ((size_t)snprintf(dst, sizeof(dst), "%s%s", root, rel) >=
	    sizeof(dst))
		return jail__fail(err, errlen, -ENAMETOOLONG, "%s", rel);
	if (unlink(dst) && errno != ENOENT)
		return jail__fail(err, errlen, -errno, "unlink %s", dst);
	if (!link(real, dst))
		return 0;
	ret = copy_file(real, dst, st.st_mode & 0755);
	return ret ? jail__fail(err, errlen, ret, "copying %s to %s", real, dst) : 0;
}

/* --- the exec file's interpreter and libraries, from its ELF headers --- */

#define LIBS_MAX	64
static const char *const lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	"/usr/lib64", "/lib", "/usr/lib",
};

struct libs {
	char *name[LIBS_MAX];
	unsigned int n;
};

static int add_elf(const char *root, const char *path, struct libs *l,
		   bool top, char *err, size_t errlen);

static int add_lib(const char *root, const char *name, struct libs *l,
		   char *err, size_t errlen)
{
	char path[4096];
	unsigned int i;
	int ret;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name))
			return 0;
	if (l->n == LIBS_MAX || strchr(name, '/'))
		return jail__fail(err, errlen, -E2BIG, "library %s", name);
	l->name[l->n] = strdup(name);
	if (!l->name[l->n])
		return -ENOMEM;
	l->n++;
	for (i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", lib_dirs[i], name);
		if (access(path, R_OK))
			continue;
		ret = place(root, path, path, err, errlen);
		return ret ? ret : add_elf(root, path, l, false, err, errlen);
	}
	return jail__fail(err, errlen, -ENOENT,
		    "library %s (looked in /lib, /usr/lib and their x86_64-linux-gnu)",
		    name);
}

static bool in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/*
 * The libraries @path needs (DT_NEEDED of its .dynamic, through the
 * section headers), and for the exec file (@top) its PT_INTERP.
 */
static int add_elf(const char *root, const char *path, struct libs *l,
		   bool top, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const uint8_t *m;
	struct stat st;
	size_t size;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return jail__fail(err, errlen, ret, "%s", path);
	}
	size = (size_t)st.st_size;
	m = size >= sizeof(*eh) ?
	    mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (m == MAP_FAILED)
		return jail__fail(err, errlen, -ENOEXEC, "%s", path);
	eh = (const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 ||
	    !in_file(size, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) ||
	    !in_file(size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))) {
		ret = jail__fail(err, errlen, -ENOEXEC, "%s: not an x86-64 ELF file",
			   path);
		goto out;
	}
	for (unsigned int i = 0; top && i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(m + eh->e_phoff) + i;
		char interp[256];

		if (ph->p_type != PT_INTERP)
			continue;
		if (!in_file(size, ph->p_offset, ph->p_filesz) ||
		    ph->p_filesz >= sizeof(interp) || ph->p_filesz < 2) {
			ret = jail__fail(err, errlen, -ENOEXEC, "%s: PT_INTERP", path);
			goto out;
		}
		memcpy(interp, m + ph->p_offset, ph->p_filesz);
		interp[ph->p_filesz - 1] = 0;
		ret = place(root, interp, interp, err, errlen);
		if (ret)
			goto out;
	}
	sh = (const void *)(m + eh->e_shoff);
	for (unsigned int i = 0; i < eh->e_shnum && !ret; i++) {
		const Elf64_Shdr *str;

		if (sh[i].sh_type != SHT_DYNAMIC)
			continue;
		if (sh[i].sh_link >= eh->e_shnum ||
		    !in_file(size, sh[i].sh_offset, sh[i].sh_size)) {
			ret = jail__fail(err, errlen, -ENOEXEC, "%s: .dynamic", path);
			break;
		}
		str = &sh[sh[i].sh_link];
		if (!in_file(size, str->sh_offset, str->sh_size) ||
		    !str->sh_size || m[str->sh_offset + str->sh_size - 1]) {
			ret = jail__fail(err, errlen, -ENOEXEC, "%s: .dynstr", path);
			break;
		}
		for (const Elf64_Dyn *d = (const void *)(m + sh[i].sh_offset);
		     !ret && (const uint8_t *)(d + 1) <= m + sh[i].sh_offset + sh[i].sh_size &&
		     d->d_tag != DT_NULL; d++) {
			if (d->d_tag != DT_NEEDED)
				continue;
			if (d->d_un.d_val >= str->sh_size) {
				ret = jail__fail(err, errlen, -ENOEXEC,
					   "%s: DT_NEEDED", path);
				break;
			}
			ret = add_lib(root, (const char *)m + str->sh_offset +
				      d->d_un.d_val, l, err, errlen);
		}
	}
out:
	munmap((void *)m, size);
	return ret;
}

/* --- device nodes --- */

static const struct {
	const char *path;
	bool needed;
} devices[] = {
	{ "/dev/kvm", true },
	{ "/dev/thaw", false },
	{ "/dev/net/tun", false },
	{ "/dev/urandom", false },
	{ "/dev/userfaultfd", false },
};

static int make_node(const struct jail_opts *o, const char *root,
		     const char *dev, bool needed, char *err, size_t errlen)
{
	char dst[4096];
	struct stat st;
	int ret;

	if (stat(dev, &st) || !S_ISCHR(st.st_mode)) {
		if (!needed)
			return 0;
		return jail__fail(err, errlen, -ENODEV, "%s", dev);
	}
	ret = mkdirs(root, "/dev/net", err, errlen);
	if (ret)
		return ret;
	snprintf(dst, sizeof(dst), "%s%s", root, dev);
	if (unlink(dst) && errno != ENOENT)
		return jail__fail(err, errlen, -errno, "unlink %s", dst);
	if (mknod(dst, S_IFCHR | 0600, st.st_rdev))
		return jail__fail(err, errlen, -errno, "mknod %s (%u:%u)", dst,
			    major(st.st_rdev), minor(st.st_rdev));
	if (lchown(dst, o->uid, o->gid))
		return jail__fail(err, errlen, -errno, "chown %s", dst);
	return 0;
}

int jail__build(const struct jail_opts *o, const char *root, char *err,
		size_t errlen)
{
	char exec_rel[512], path[4096];
	struct libs l = { .n = 0 };
	unsigned int i;
	int ret;

	snprintf(exec_rel, sizeof(exec_rel), "/%s", o->exec_name);
	ret = place(root, o->exec_file, exec_rel, err, errlen);
	if (!ret)
		ret = add_elf(root, o->exec_file, &l, true, err, errlen);
	for (i = 0; i < l.n; i++)
		free(l.name[i]);
	for (i = 0; !ret && i < sizeof(devices) / sizeof(devices[0]); i++)
		ret = make_node(o, root, devices[i].path, devices[i].needed,
				err, errlen);
	if (ret)
		return ret;
	/* The VMM makes its sockets in the root or in /run. */
	ret = mkdirs(root, "/run", err, errlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/run", root);
	if (lchown(path, o->uid, o->gid) || lchown(root, o->uid, o->gid))
		return jail__fail(err, errlen, -errno, "chown %s", root);
	if (o->new_pid_ns)
		return mkdirs(root, "/proc", err, errlen);
	return 0;
}

void jail__remove(int at, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (!unlinkat(at, name, 0) || errno == ENOENT)
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			jail__remove(dirfd(d), de->d_name);
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}
