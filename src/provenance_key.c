/*
 * provenance_key.c - the key that seals this user's provenance cache
 * entries (see provenance_cache.c).
 *
 * A cache entry's checksum alone can be recomputed by anyone who can
 * write it, so an unsealed entry holds claims that are each checked
 * against the object database before use - which costs about as much
 * as walking history when every migration is asked for.  An entry
 * sealed with HMAC-SHA256 under a key only this user can read can be
 * trusted as written: nobody else can produce one, and a repository
 * copied from elsewhere (a tarball, a shared disk) brings entries sealed
 * with a key that is not ours.  The key therefore lives outside every
 * repository, in $XDG_CACHE_HOME/cairn/provenance.key (default
 * ~/.cache/cairn/), 32 random bytes, mode 0600 in a 0700 directory.
 *
 * It is handled as hostile ground like the cache itself: each directory
 * is opened O_NOFOLLOW|O_DIRECTORY relative to its parent, the key is
 * opened O_NOFOLLOW|O_NONBLOCK and used only when it is a regular file
 * of exactly 32 bytes, owned by us and readable by nobody else.  It is
 * created through a temporary file linked into place, so a concurrent
 * reader never sees a short key.  Anything odd means "no key": entries
 * are then written with a plain checksum and their claims verified, as
 * before - slower, never wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provenance_internal.h"
#include "util/util.h"

#define KEY_NAME "provenance.key"

/* Opens (creating when asked) name under dfd as a private directory. */
static int open_subdir(int dfd, const char *name, bool create)
{
	int fd;

	if (create && mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			       O_CLOEXEC);
	return fd;
}

/* The directory that holds the key: $XDG_CACHE_HOME/cairn or ~/.cache/cairn. */
static int open_keydir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int base, sub;

	if (xdg && xdg[0] == '/') {
		base = open(xdg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else if (home && home[0] == '/') {
		int h = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (h < 0)
			return -1;
		base = open_subdir(h, ".cache", true);
		close(h);
	} else {
		return -1;
	}
	if (base < 0)
		return -1;
	sub = open_subdir(base, "cairn", true);
	close(base);
	return sub;
}

/* Reads the key when it is a private 32-byte regular file of ours. */
static bool read_key(int dfd, unsigned char key[CAIRN_PROVCACHE_KEYLEN])
{
	struct stat st;
	bool ok;
	int fd;

	fd = openat(dfd, KEY_NAME,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) ||
	    st.st_size != CAIRN_PROVCACHE_KEYLEN) {
		close(fd);
		return false;
	}
	ok = cairn__read_exact(fd, key, CAIRN_PROVCACHE_KEYLEN) == 0;
	close(fd);
	return ok;
}

/* Creates the key: random bytes in a temporary file linked into place. */
static void create_key(int dfd)
{
	unsigned char key[CAIRN_PROVCACHE_KEYLEN];
	char tmp[64];
	size_t got = 0;
	int fd;

	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	snprintf(tmp, sizeof(tmp), ".tmp-key-%ld", (long)getpid());
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			      O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (cairn__write_all(fd, key, sizeof(key)) == 0 && fsync(fd) == 0) {
		/* fails with EEXIST when another process won: the caller
		 * reads theirs; any other failure leaves no key */
		linkat(dfd, tmp, dfd, KEY_NAME, 0);
	}
	close(fd);
	unlinkat(dfd, tmp, 0);
	memset(key, 0, sizeof(key));
}

bool cairn_provcache__key(unsigned char key[CAIRN_PROVCACHE_KEYLEN])
{
	static unsigned char cached[CAIRN_PROVCACHE_KEYLEN];
	static int state; /* 0 not looked, 1 have it, -1 none */
	int dfd;

	if (state == 0) {
		const char *off = getenv("CAIRN_PROVENANCE_KEY");

		state = -1;
		/* CAIRN_PROVENANCE_KEY=off: verify every claim (tests) */
		if (off && !strcmp(off, "off"))
			goto done;
		dfd = open_keydir();
		if (dfd < 0)
			goto done;
		if (!read_key(dfd, cached)) {
			create_key(dfd);
			if (!read_key(dfd, cached)) {
				close(dfd);
				goto done;
			}
		}
		close(dfd);
		state = 1;
	}
done:
	if (state == 1)
		memcpy(key, cached, CAIRN_PROVCACHE_KEYLEN);
	return state == 1;
}
