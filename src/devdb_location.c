/*
 * devdb_location.c - where the built-in development database lives and
 * who owns it: finding, choosing and creating the cluster directory, the
 * lock, and the one check every command makes before using it.  The
 * contract is in include/cairn/devdb.h; starting and stopping the server
 * is in src/devdb_cluster.c.
 *
 *  - Where.  The cluster directory is found in this order: the directory
 *    named by <workdir>/.cairn/pg-location (when it still exists and
 *    belongs to the server's user, mode 0700), then <workdir>/.cairn/pg.
 *    A new cluster goes to .cairn/pg unless its socket path would be too
 *    long, the path holds characters that pg_ctl's own shell command or
 *    the server's list syntax would misread, or (as root) the postgres
 *    user cannot write there (checked by running `test -w` as postgres,
 *    which is what the server would face).  In those cases a fresh
 *    mkdtemp() directory under /tmp is used and its path is written to
 *    pg-location.
 *
 *  - Concurrency.  start and stop hold an flock() on .cairn/devdb.lock, so
 *    two cairn processes never initdb or start the same cluster at once.
 *
 *  - Hostile repositories.  .cairn and the cluster directory are opened
 *    with O_DIRECTORY|O_NOFOLLOW and used through their descriptors
 *    (src/devdb_files.c), ownership and mode are changed with
 *    fchown/fchmod on descriptors.  One check, open_cluster_dir(),
 *    decides whether a directory may hold the cluster (a real directory,
 *    owned by the server's user, mode 0700), for start, stop, status and
 *    url alike; a directory that fails it is refused, never adopted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devdb_internal.h"
#include "util/buf.h"
#include "cairn/devdb.h"
#include "util/error.h"
#include "util/spawn.h"
#include "util/util.h"
#include "version_check.h"

#define SOCKET_NAME "/.s.PGSQL." PG_PORT
/* sun_path is 108 bytes; keep well inside it, NUL included */
#define SOCKET_PATH_MAX 107
#define FALLBACK_TEMPLATE "/tmp/cairn-devdb-XXXXXX"

/* data/ under the cluster directory, opened without following a link. */
int cairn_devdb__open_data(const struct devdb *d)
{
	return openat(d->dir_fd, "data",
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* True when data/postmaster.pid exists (the server may be running). */
bool cairn_devdb__has_pid_file(const struct devdb *d)
{
	int fd = cairn_devdb__open_data(d);
	bool ok;

	if (fd < 0)
		return false;
	ok = cairn_devdb__exists_at(fd, "postmaster.pid");
	close(fd);
	return ok;
}

/* True when the cluster directory holds an initialised cluster. */
bool cairn_devdb__has_cluster(const struct devdb *d)
{
	struct stat st;
	int fd = cairn_devdb__open_data(d);
	bool ok;

	if (fd < 0)
		return false;
	ok = fstatat(fd, "PG_VERSION", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	     S_ISREG(st.st_mode);
	close(fd);
	return ok;
}

/*
 * True when dir can hold the cluster: its socket path fits, and nothing
 * in it would be misread by pg_ctl (which quotes paths in "..." for
 * /bin/sh) or by unix_socket_directories (a comma-separated list) or by
 * postgresql.conf (one line per setting).
 */
static bool dir_is_usable(const char *dir)
{
	const char *p;

	if (strlen(dir) + strlen(SOCKET_NAME) >= SOCKET_PATH_MAX)
		return false;
	for (p = dir; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f || strchr("\"$`\\,", c))
			return false;
	}
	return true;
}

static uid_t server_uid(const struct devdb *d)
{
	return d->as_root ? d->pg_uid : geteuid();
}

int cairn_devdb__init(struct devdb *d, const cairn_devdb_options *opts)
{
	struct passwd pw, *found = NULL;
	char pwbuf[4096];
	char *real;

	memset(d, 0, sizeof(*d));
	d->lock_fd = d->work_fd = d->cairn_fd = d->dir_fd = -1;
	d->opts = opts;
	if (!opts)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"no development database options");
	CAIRN__CHECK_VERSION(opts, CAIRN_DEVDB_OPTIONS_VERSION,
			     "cairn_devdb_options");
	if (!opts->repo_workdir || !*opts->repo_workdir)
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "no repository directory for the development database");
	real = realpath(opts->repo_workdir, NULL);
	if (!real)
		return cairn_error__set(
		    CAIRN_ERRCLASS_OS,
		    "cannot use '%s' as the repository directory: %s",
		    opts->repo_workdir, strerror(errno));
	d->workdir = real;
	if (!(d->cairn_dir = cairn_devdb__join(d->workdir, ".cairn")))
		return CAIRN_ERROR;
	/* the work dir itself is the caller's; what is in it is not */
	d->work_fd = open(d->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->work_fd < 0)
		return cairn_error__set(
		    CAIRN_ERRCLASS_OS,
		    "cannot use '%s' as the repository directory: %s",
		    d->workdir, strerror(errno));
	d->as_root = geteuid() == 0;
	if (d->as_root &&
	    getpwnam_r("postgres", &pw, pwbuf, sizeof(pwbuf), &found) == 0 &&
	    found) {
		d->have_pg_user = true;
		d->pg_uid = pw.pw_uid;
		d->pg_gid = pw.pw_gid;
	}
	return 0;
}

void cairn_devdb__dispose(struct devdb *d)
{
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* releases the flock */
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	if (d->cairn_fd >= 0)
		close(d->cairn_fd);
	if (d->work_fd >= 0)
		close(d->work_fd);
	free(d->workdir);
	free(d->cairn_dir);
	free(d->dir);
	free(d->bindir);
}

int cairn_devdb__require_pg_user(const struct devdb *d, const char *primary)
{
	if (!d->as_root || d->have_pg_user)
		return 0;
	cairn_error__set(CAIRN_ERRCLASS_DB, "%s", primary);
	cairn_error__detail("cairn is running as root, and PostgreSQL "
			    "refuses to run as root; there is no 'postgres' "
			    "user to run it as.");
	cairn_error__hint("Install the postgresql package (it creates the "
			  "user), or run cairn as an ordinary user.");
	return CAIRN_ERROR;
}

/*
 * THE check for a cluster directory, made by start, stop, status and url
 * alike: fd is a directory owned by the server's user and closed to
 * everyone else (0700).
 */
static int check_cluster_fd(const struct devdb *d, int fd, const char *shown)
{
	struct stat st;
	char why[160];

	if (fstat(fd, &st) < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS, "cannot stat '%s': %s",
					shown, strerror(errno));
	if (S_ISDIR(st.st_mode) && st.st_uid == server_uid(d) &&
	    (st.st_mode & 077) == 0)
		return 0;
	snprintf(why, sizeof(why),
		 "it belongs to uid %u with mode %04o, not to uid %u with "
		 "mode 0700",
		 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
		 (unsigned)server_uid(d));
	return cairn_devdb__refuse_dir(shown, why);
}

/*
 * Opens a cluster directory and checks it (check_cluster_fd).  0 with
 * *out set; CAIRN_ENOTFOUND (no error) when absent; CAIRN_ERROR (error
 * set) when it is a link, not a directory, or not the server's.
 */
static int open_cluster_dir(int *out, const struct devdb *d, int at,
			    const char *name, const char *shown)
{
	int fd, rc;

	if ((rc = cairn_devdb__open_dir_at(&fd, at, name, shown)) < 0)
		return rc;
	if ((rc = check_cluster_fd(d, fd, shown)) < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* Opens .cairn (creating it when asked); CAIRN_ENOTFOUND if absent. */
int cairn_devdb__open_cairn_dir(struct devdb *d, bool create)
{
	if (d->cairn_fd >= 0)
		return 0;
	if (create && mkdirat(d->work_fd, ".cairn", 0755) < 0 &&
	    errno != EEXIST)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot create directory '%s': %s",
					d->cairn_dir, strerror(errno));
	return cairn_devdb__open_dir_at(&d->cairn_fd, d->work_fd, ".cairn",
					d->cairn_dir);
}

int cairn_devdb__take_lock(struct devdb *d)
{
	char *path = cairn_devdb__join(d->cairn_dir, "devdb.lock");
	struct stat st;

	if (!path)
		return CAIRN_ERROR;
	d->lock_fd = openat(d->cairn_fd, "devdb.lock",
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
				O_CLOEXEC,
			    0644);
	if (d->lock_fd < 0 || fstat(d->lock_fd, &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		cairn_error__set(CAIRN_ERRCLASS_OS, "cannot open '%s': %s",
				 path,
				 d->lock_fd < 0 && errno != ELOOP
				     ? strerror(errno)
				     : "it is not a regular file");
		free(path);
		return CAIRN_ERROR;
	}
	while (flock(d->lock_fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		cairn_error__set(CAIRN_ERRCLASS_OS, "cannot lock '%s': %s",
				 path, strerror(errno));
		free(path);
		return CAIRN_ERROR;
	}
	free(path);
	return 0;
}

/* Creates .cairn/, takes the lock, writes .cairn/.gitignore. */
int cairn_devdb__prepare_cairn_dir(struct devdb *d)
{
	char *ignore = NULL;
	int rc = 0;

	if ((rc = cairn_devdb__open_cairn_dir(d, true)) < 0 ||
	    (rc = cairn_devdb__take_lock(d)) < 0)
		return rc;
	if (!(ignore = cairn_devdb__join(d->cairn_dir, ".gitignore")))
		return CAIRN_ERROR;
	if (!cairn_devdb__exists_at(d->cairn_fd, ".gitignore"))
		rc = cairn_devdb__write_file(d->cairn_fd, ".gitignore", ignore,
					     "*\n", NULL);
	free(ignore);
	return rc;
}

/* The path in .cairn/pg-location, or NULL (absent or not a path). */
static int read_location(const struct devdb *d, char **out)
{
	char *path = cairn_devdb__join(d->cairn_dir, "pg-location"),
	     *text = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (!path)
		return CAIRN_ERROR;
	rc = cairn_devdb__read_file(&text, d->cairn_fd, "pg-location", path,
				    4096);
	free(path);
	if (rc == CAIRN_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	n = strcspn(text, "\n");
	text[n] = '\0';
	if (text[0] != '/' || !dir_is_usable(text)) {
		free(text);
		return 0;
	}
	*out = text;
	return 0;
}

/*
 * The recorded location (pg-location) when it passes the check; a
 * stale or foreign one is ignored (0, nothing set), as start would.
 */
static int use_location(struct devdb *d, bool need_cluster)
{
	char *loc = NULL;
	int fd, rc;

	if ((rc = read_location(d, &loc)) < 0 || !loc)
		return rc;
	if (open_cluster_dir(&fd, d, AT_FDCWD, loc, loc) < 0) {
		cairn_error_clear();
		free(loc);
		return 0;
	}
	d->dir = loc;
	d->dir_fd = fd;
	if (!need_cluster || cairn_devdb__has_cluster(d))
		return 0;
	close(d->dir_fd);
	d->dir_fd = -1;
	free(d->dir);
	d->dir = NULL;
	return 0;
}

/* Finds an existing cluster; CAIRN_ENOTFOUND (error set) when none. */
int cairn_devdb__locate_existing(struct devdb *d)
{
	char *def;
	int rc;

	if ((rc = cairn_devdb__open_cairn_dir(d, false)) == CAIRN_ENOTFOUND)
		goto none;
	if (rc < 0 || (rc = use_location(d, true)) < 0)
		return rc;
	if (d->dir)
		return 0;
	if (!(def = cairn_devdb__join(d->cairn_dir, "pg")))
		return CAIRN_ERROR;
	rc = open_cluster_dir(&d->dir_fd, d, d->cairn_fd, "pg", def);
	if (rc == CAIRN_ERROR) {
		free(def);
		return rc;
	}
	d->dir = def;
	if (rc == 0 && cairn_devdb__has_cluster(d))
		return 0;
none:
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "the development database has not been created");
	cairn_error__hint("Run 'cairn dev-db start'.");
	return CAIRN_ENOTFOUND;
}

/* runuser(1): where util-linux installs it, else from PATH. */
const char *cairn_devdb__runuser_path(void)
{
	static const char *const paths[] = {
	    "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"};
	size_t i;

	for (i = 0; i < CAIRN_ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return "runuser";
}

/* As root: can the postgres user write to dir (every parent included)? */
static bool postgres_can_write(const char *dir)
{
	const char *argv[] = {cairn_devdb__runuser_path(), "-u", "postgres",
			      "--", "test", "-w", dir, NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	bool ok;

	o.argv = argv;
	o.cwd = "/";
	o.timeout_ms = 30000;
	ok = cairn_spawn_run(&r, &o) == 0 && r.status == 0;
	cairn_spawn_result_dispose(&r);
	cairn_error_clear();
	return ok;
}

/* Gives the directory open on fd to the server's user, mode 0700. */
static int make_private_dir(const struct devdb *d, int fd, const char *dir)
{
	if (d->as_root && fchown(fd, d->pg_uid, d->pg_gid) < 0)
		return cairn_error__set(
		    CAIRN_ERRCLASS_OS,
		    "cannot give '%s' to the postgres user: %s", dir,
		    strerror(errno));
	if (fchmod(fd, 0700) < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot change the mode of '%s': %s",
					dir, strerror(errno));
	return check_cluster_fd(d, fd, dir);
}

/* A new directory under /tmp, recorded in .cairn/pg-location. */
static int make_fallback(struct devdb *d)
{
	char tmpl[] = FALLBACK_TEMPLATE;
	char *loc = NULL, *content = NULL;
	cairn_buf b = CAIRN_BUF_INIT;
	int rc = CAIRN_ERROR, fd = -1;

	if (!mkdtemp(tmpl))
		return cairn_error__set(
		    CAIRN_ERRCLASS_OS,
		    "cannot create a directory under /tmp: %s",
		    strerror(errno));
	if (cairn_devdb__open_dir_at(&fd, AT_FDCWD, tmpl, tmpl) < 0 ||
	    make_private_dir(d, fd, tmpl) < 0)
		goto out_rmdir;
	if (!(loc = cairn_devdb__join(d->cairn_dir, "pg-location")) ||
	    cairn_buf_printf(&b, "%s\n", tmpl) < 0 ||
	    !(content = cairn_buf_detach(&b)) ||
	    cairn_devdb__write_file(d->cairn_fd, "pg-location", loc, content,
				    NULL) < 0)
		goto out_rmdir;
	if (!(d->dir = cairn__strdup(tmpl)))
		goto out_rmdir;
	d->dir_fd = fd;
	fd = -1;
	rc = 0;
	goto out;
out_rmdir:
	rmdir(tmpl);
out:
	if (fd >= 0)
		close(fd);
	free(loc);
	free(content);
	cairn_buf_dispose(&b);
	return rc;
}

/* Creates .cairn/pg (0700, the server's) and opens it into d->dir_fd. */
static int create_default(struct devdb *d, const char *def)
{
	int fd, rc;

	if (mkdirat(d->cairn_fd, "pg", 0700) < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot create directory '%s': %s", def,
					strerror(errno));
	if ((rc = cairn_devdb__open_dir_at(&fd, d->cairn_fd, "pg", def)) < 0)
		return rc == CAIRN_ENOTFOUND
			   ? cairn_error__set(CAIRN_ERRCLASS_OS,
					      "'%s' vanished", def)
			   : rc;
	if ((rc = make_private_dir(d, fd, def)) < 0) {
		close(fd);
		return rc;
	}
	d->dir_fd = fd;
	return 0;
}

/* Finds the cluster directory, choosing (and creating) one if needed. */
int cairn_devdb__locate_or_create(struct devdb *d)
{
	char *def = NULL;
	int rc;

	if ((rc = use_location(d, false)) < 0 || d->dir)
		return rc;
	if (!(def = cairn_devdb__join(d->cairn_dir, "pg")))
		return CAIRN_ERROR;
	rc = open_cluster_dir(&d->dir_fd, d, d->cairn_fd, "pg", def);
	if (rc == CAIRN_ENOTFOUND && dir_is_usable(def))
		rc = create_default(d, def);
	else if (rc == CAIRN_ENOTFOUND)
		rc = 1; /* unusable path: straight to the fallback */
	if (rc < 0) {
		free(def);
		return rc;
	}
	if (rc == 0) {
		d->dir = def;
		if (cairn_devdb__has_cluster(d) ||
		    (dir_is_usable(def) &&
		     (!d->as_root || postgres_can_write(def))))
			return 0;
		/* postgres cannot reach it: leave it (if empty) for /tmp */
		d->dir = NULL;
		close(d->dir_fd);
		d->dir_fd = -1;
		unlinkat(d->cairn_fd, "pg", AT_REMOVEDIR);
	}
	free(def);
	return make_fallback(d);
}
