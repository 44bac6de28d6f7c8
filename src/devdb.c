/*
 * devdb.c - the built-in development database; the contract is in
 * include/cairn/devdb.h.
 *
 * How it works:
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
 *  - Settings.  Our settings (socket only, its directory, the port) live
 *    in data/cairn.conf, rewritten at every start when they differ (a
 *    repository that was moved gets its new socket directory), and
 *    included from postgresql.conf (the include line is added when
 *    missing, so a half-finished first start heals itself).
 *
 *  - Running or not.  A libpq ping on the socket with explicit parameters
 *    (PGPORT and friends in the environment cannot mislead it).  A server
 *    that answers "starting up" is waited for, not started twice.
 *
 *  - Programs.  initdb -N (no fsync: fast) and pg_ctl -w (returns once the
 *    server accepts connections) run through cairn_spawn_run() with an
 *    argument vector, as `runuser -u postgres -- prog ...` when we are
 *    root, from "/" (the caller's directory may be closed to postgres).
 *
 *  - Concurrency.  start and stop hold an flock() on .cairn/devdb.lock, so
 *    two cairn processes never initdb or start the same cluster at once.
 *
 *  - Hostile repositories.  .cairn/ and everything in it may come from a
 *    commit (a symbolic link .cairn/pg -> /etc, say) and cairn may run as
 *    root, so nothing there is reached by path: .cairn and the cluster
 *    directory are opened with O_DIRECTORY|O_NOFOLLOW and used through
 *    their descriptors (openat, fstatat, renameat, mkdirat), ownership and
 *    mode are changed with fchown/fchmod on descriptors, and every file is
 *    opened with O_NOFOLLOW and checked with fstat to be a regular file.
 *    One check, open_cluster_dir(), decides whether a directory may hold
 *    the cluster (a real directory, owned by the server's user, mode
 *    0700), for start, stop, status and url alike; a directory that fails
 *    it is refused, never adopted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "cairn/devdb.h"
#include "error.h"
#include "spawn.h"
#include "util.h"
#include "version_check.h"

#define PG_PORT "5432"
#define SOCKET_NAME "/.s.PGSQL." PG_PORT
/* sun_path is 108 bytes; keep well inside it, NUL included */
#define SOCKET_PATH_MAX 107
#define FALLBACK_TEMPLATE "/tmp/cairn-devdb-XXXXXX"
#define LOG_TAIL_LINES 8
#define CONF_NAME "cairn.conf"
#define CONF_INCLUDE "include '" CONF_NAME "'"

#define START_FAILED "cannot start the development database"
#define STOP_FAILED "cannot stop the development database"

struct devdb {
	const cairn_devdb_options *opts;
	char *workdir;	 /* canonical, no trailing slash */
	char *cairn_dir; /* <workdir>/.cairn */
	char *dir;	 /* the cluster directory */
	char *bindir;
	bool as_root;
	bool have_pg_user;
	uid_t pg_uid;
	gid_t pg_gid;
	int lock_fd;
	int work_fd;  /* the work dir */
	int cairn_fd; /* .cairn, once opened */
	int dir_fd;   /* the cluster directory, once located */
};

static char *join(const char *a, const char *b)
{
	cairn_buf buf = CAIRN_BUF_INIT;

	if (cairn_buf_printf(&buf, "%s/%s", a, b) < 0)
		return NULL;
	return cairn_buf_detach(&buf);
}

static bool is_executable(const char *dir, const char *prog)
{
	char *p = join(dir, prog);
	bool ok = p && access(p, X_OK) == 0;

	free(p);
	return ok;
}

/* True when name exists under at (a symbolic link counts; not followed). */
static bool exists_at(int at, const char *name)
{
	struct stat st;

	return fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* data/ under the cluster directory, opened without following a link. */
static int open_data(const struct devdb *d)
{
	return openat(d->dir_fd, "data",
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* True when data/postmaster.pid exists (the server may be running). */
static bool has_pid_file(const struct devdb *d)
{
	int fd = open_data(d);
	bool ok;

	if (fd < 0)
		return false;
	ok = exists_at(fd, "postmaster.pid");
	close(fd);
	return ok;
}

/* True when the cluster directory holds an initialised cluster. */
static bool has_cluster(const struct devdb *d)
{
	struct stat st;
	int fd = open_data(d);
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

/* Reads up to max bytes from fd (from its offset) into *out. */
static int read_fd(char **out, int fd, const char *shown, size_t max)
{
	cairn_buf b = CAIRN_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int rc = 0;

	*out = NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = cairn_error__set(CAIRN_ERRCLASS_OS,
					      "cannot read '%s': %s", shown,
					      strerror(errno));
			break;
		}
		if (b.size + (size_t)n > max)
			n = (ssize_t)(max - b.size);
		if ((rc = cairn_buf_put(&b, chunk, (size_t)n)) < 0 ||
		    b.size == max)
			break;
	}
	if (rc == 0 && !(*out = cairn_buf_detach(&b)))
		rc = cairn_error__oom();
	cairn_buf_dispose(&b);
	return rc;
}

/*
 * Opens name under at for reading or appending: never through a
 * symbolic link, never a FIFO or device.  CAIRN_ENOTFOUND (no error) if
 * absent.
 */
static int open_file_at(int *out, int at, const char *name, const char *shown,
			int flags)
{
	struct stat st;
	int fd;

	*out = -1;
	fd = openat(at, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return CAIRN_ENOTFOUND;
	if (fd < 0 && errno == ELOOP) {
		cairn_error__set(CAIRN_ERRCLASS_OS,
				 "refusing to use '%s': it is a symbolic link",
				 shown);
		cairn_error__hint("Remove it; cairn never writes through "
				  "links in the development database's "
				  "directories.");
		return CAIRN_ERROR;
	}
	if (fd < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot open '%s': %s", shown,
					strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"refusing to use '%s': it is not a "
					"regular file",
					shown);
	}
	*out = fd;
	return 0;
}

/* Reads up to max bytes of name under at; CAIRN_ENOTFOUND if absent. */
static int read_file(char **out, int at, const char *name, const char *shown,
		     size_t max)
{
	int fd, rc;

	*out = NULL;
	if ((rc = open_file_at(&fd, at, name, shown, O_RDONLY)) < 0)
		return rc;
	rc = read_fd(out, fd, shown, max);
	close(fd);
	return rc;
}

/* The last lines of a file or text, for an error detail; NULL if none. */
static char *tail_lines(const char *text, int lines)
{
	const char *end, *p;
	int seen = 0;

	if (!text)
		return NULL;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (end == text)
		return NULL;
	for (p = end; p > text; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	return cairn__strndup(p, (size_t)(end - p));
}

/* The last lines of what was written to name under at after `from`. */
static char *file_tail(int at, const char *name, int lines, off_t from)
{
	char *text = NULL, *tail;
	struct stat st;
	int fd;
	ssize_t n;
	size_t want = 16384;

	/* a link planted there could show a file only root may read */
	fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	if (st.st_size - from > (off_t)want)
		from = st.st_size - (off_t)want;
	if (from > 0)
		lseek(fd, from, SEEK_SET);
	text = malloc(want + 1);
	if (text) {
		n = read(fd, text, want);
		text[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	tail = tail_lines(text, lines);
	free(text);
	return tail;
}

/*
 * Writes name under at through a temporary file and renameat(): a link
 * or anything else already at name is replaced, never written through.
 */
static int write_file(int at, const char *name, const char *shown,
		      const char *data, const struct devdb *d)
{
	char *tmp = NULL;
	size_t len = strlen(data), off = 0;
	int fd = -1, rc = CAIRN_ERROR;
	cairn_buf b = CAIRN_BUF_INIT;

	if (cairn_buf_printf(&b, "%s.tmp", name) < 0 ||
	    !(tmp = cairn_buf_detach(&b)))
		goto out;
	unlinkat(at, tmp, 0); /* a leftover (or a planted link) goes */
	fd = openat(at, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out_os;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_os;
		off += (size_t)n;
	}
	if (d && d->as_root && fchown(fd, d->pg_uid, d->pg_gid) < 0)
		goto out_os;
	if (close(fd) < 0) {
		fd = -1;
		goto out_os;
	}
	fd = -1;
	if (renameat(at, tmp, at, name) < 0)
		goto out_os;
	rc = 0;
	goto out;
out_os:
	cairn_error__set(CAIRN_ERRCLASS_OS, "cannot write '%s': %s", shown,
			 strerror(errno));
	unlinkat(at, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	cairn_buf_dispose(&b);
	return rc;
}

/* "postgresql:///postgres?host=%2Fpath&user=postgres" */
static char *make_url(const char *dir)
{
	cairn_buf b = CAIRN_BUF_INIT;
	const unsigned char *p;
	int rc;

	rc = cairn_buf_puts(&b, "postgresql:///postgres?host=");
	for (p = (const unsigned char *)dir; !rc && *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			rc = cairn_buf_putc(&b, (char)*p);
		else
			rc = cairn_buf_printf(&b, "%%%02X", *p);
	}
	if (!rc)
		rc = cairn_buf_puts(&b, "&user=postgres");
	if (rc < 0) {
		cairn_buf_dispose(&b);
		return NULL;
	}
	return cairn_buf_detach(&b);
}

static PGPing ping(const char *dir)
{
	const char *const keys[] = {
	    "host", "port", "dbname", "user", "connect_timeout", NULL};
	const char *const vals[] = {dir,	PG_PORT, "postgres",
				    "postgres", "5",	 NULL};

	return PQpingParams(keys, vals, 0);
}

static bool is_running(const char *dir)
{
	PGPing p = ping(dir);

	return p == PQPING_OK || p == PQPING_REJECT;
}

static int devdb_init(struct devdb *d, const cairn_devdb_options *opts)
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
	if (!(d->cairn_dir = join(d->workdir, ".cairn")))
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

static void devdb_dispose(struct devdb *d)
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

static int require_pg_user(const struct devdb *d, const char *primary)
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

/* Refuses a directory that is a link or not a directory at all. */
static int refuse_dir(const char *shown, const char *why)
{
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "refusing to use '%s' for the development database: "
			 "%s",
			 shown, why);
	cairn_error__hint("Remove it; cairn creates its own directories (a "
			  "repository must not commit .cairn/).");
	return CAIRN_ERROR;
}

/*
 * Opens name under at as a directory, never through a symbolic link.
 * CAIRN_ENOTFOUND (no error set) when absent.
 */
static int open_dir_at(int *out, int at, const char *name, const char *shown)
{
	struct stat st;
	int fd;

	*out = -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return CAIRN_ENOTFOUND;
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return refuse_dir(shown, "it is a symbolic link");
		return refuse_dir(shown, "it is not a directory");
	}
	if (fd < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot open directory '%s': %s", shown,
					strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return refuse_dir(shown, "it is not a directory");
	}
	*out = fd;
	return 0;
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
	return refuse_dir(shown, why);
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

	if ((rc = open_dir_at(&fd, at, name, shown)) < 0)
		return rc;
	if ((rc = check_cluster_fd(d, fd, shown)) < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* Opens .cairn (creating it when asked); CAIRN_ENOTFOUND if absent. */
static int open_cairn_dir(struct devdb *d, bool create)
{
	if (d->cairn_fd >= 0)
		return 0;
	if (create && mkdirat(d->work_fd, ".cairn", 0755) < 0 &&
	    errno != EEXIST)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot create directory '%s': %s",
					d->cairn_dir, strerror(errno));
	return open_dir_at(&d->cairn_fd, d->work_fd, ".cairn", d->cairn_dir);
}

static int take_lock(struct devdb *d)
{
	char *path = join(d->cairn_dir, "devdb.lock");
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
static int prepare_cairn_dir(struct devdb *d)
{
	char *ignore = NULL;
	int rc = 0;

	if ((rc = open_cairn_dir(d, true)) < 0 || (rc = take_lock(d)) < 0)
		return rc;
	if (!(ignore = join(d->cairn_dir, ".gitignore")))
		return CAIRN_ERROR;
	if (!exists_at(d->cairn_fd, ".gitignore"))
		rc = write_file(d->cairn_fd, ".gitignore", ignore, "*\n", NULL);
	free(ignore);
	return rc;
}

/* The path in .cairn/pg-location, or NULL (absent or not a path). */
static int read_location(const struct devdb *d, char **out)
{
	char *path = join(d->cairn_dir, "pg-location"), *text = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (!path)
		return CAIRN_ERROR;
	rc = read_file(&text, d->cairn_fd, "pg-location", path, 4096);
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
	if (!need_cluster || has_cluster(d))
		return 0;
	close(d->dir_fd);
	d->dir_fd = -1;
	free(d->dir);
	d->dir = NULL;
	return 0;
}

/* Finds an existing cluster; CAIRN_ENOTFOUND (error set) when none. */
static int locate_existing(struct devdb *d)
{
	char *def;
	int rc;

	if ((rc = open_cairn_dir(d, false)) == CAIRN_ENOTFOUND)
		goto none;
	if (rc < 0 || (rc = use_location(d, true)) < 0)
		return rc;
	if (d->dir)
		return 0;
	if (!(def = join(d->cairn_dir, "pg")))
		return CAIRN_ERROR;
	rc = open_cluster_dir(&d->dir_fd, d, d->cairn_fd, "pg", def);
	if (rc == CAIRN_ERROR) {
		free(def);
		return rc;
	}
	d->dir = def;
	if (rc == 0 && has_cluster(d))
		return 0;
none:
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "the development database has not been created");
	cairn_error__hint("Run 'cairn dev-db start'.");
	return CAIRN_ENOTFOUND;
}

/* runuser(1): where util-linux installs it, else from PATH. */
static const char *runuser_path(void)
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
	const char *argv[] = {runuser_path(), "-u", "postgres", "--",
			      "test",	      "-w", dir,	NULL};
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
	if (open_dir_at(&fd, AT_FDCWD, tmpl, tmpl) < 0 ||
	    make_private_dir(d, fd, tmpl) < 0)
		goto out_rmdir;
	if (!(loc = join(d->cairn_dir, "pg-location")) ||
	    cairn_buf_printf(&b, "%s\n", tmpl) < 0 ||
	    !(content = cairn_buf_detach(&b)) ||
	    write_file(d->cairn_fd, "pg-location", loc, content, NULL) < 0)
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
	if ((rc = open_dir_at(&fd, d->cairn_fd, "pg", def)) < 0)
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
static int locate_or_create(struct devdb *d)
{
	char *def = NULL;
	int rc;

	if ((rc = use_location(d, false)) < 0 || d->dir)
		return rc;
	if (!(def = join(d->cairn_dir, "pg")))
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
		if (has_cluster(d) ||
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

static int find_bindir(struct devdb *d, const char *primary)
{
	const char *argv[] = {"pg_config", "--bindir", NULL};
	const char *root = "/usr/lib/postgresql";
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	char *best = NULL;
	long best_major = -1, best_minor = -1;
	DIR *dh;
	struct dirent *e;

	if (d->opts->pg_bindir) {
		if (is_executable(d->opts->pg_bindir, "initdb") &&
		    is_executable(d->opts->pg_bindir, "pg_ctl"))
			return (d->bindir = cairn__strdup(d->opts->pg_bindir))
				   ? 0
				   : CAIRN_ERROR;
		cairn_error__set(CAIRN_ERRCLASS_DB, "%s", primary);
		cairn_error__detail("'%s' holds no initdb and pg_ctl.",
				    d->opts->pg_bindir);
		return CAIRN_ERROR;
	}

	o.argv = argv;
	o.cwd = "/";
	o.timeout_ms = 10000;
	if (cairn_spawn_run(&r, &o) == 0 && r.status == 0) {
		cairn_buf_truncate(&r.out, strcspn(r.out.ptr, "\r\n"));
		if (r.out.size && is_executable(r.out.ptr, "initdb") &&
		    is_executable(r.out.ptr, "pg_ctl")) {
			d->bindir = cairn__strdup(r.out.ptr);
			cairn_spawn_result_dispose(&r);
			return d->bindir ? 0 : CAIRN_ERROR;
		}
	}
	cairn_spawn_result_dispose(&r);
	cairn_error_clear();

	/* the newest /usr/lib/postgresql/<major>[.<minor>]/bin */
	if ((dh = opendir(root)) != NULL) {
		while ((e = readdir(dh)) != NULL) {
			char *end, *vdir, *bin;
			long major, minor = 0;

			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			major = strtol(e->d_name, &end, 10);
			if (*end == '.')
				minor = strtol(end + 1, &end, 10);
			if (*end)
				continue;
			if (major < best_major ||
			    (major == best_major && minor <= best_minor))
				continue;
			vdir = join(root, e->d_name);
			bin = vdir ? join(vdir, "bin") : NULL;
			free(vdir);
			if (bin && is_executable(bin, "initdb") &&
			    is_executable(bin, "pg_ctl")) {
				free(best);
				best = bin;
				best_major = major;
				best_minor = minor;
			} else {
				free(bin);
			}
		}
		closedir(dh);
	}
	if (best) {
		d->bindir = best;
		return 0;
	}
	cairn_error__set(CAIRN_ERRCLASS_DB, "%s", primary);
	cairn_error__detail("No PostgreSQL server programs (initdb, pg_ctl) "
			    "were found: not in the directory 'pg_config "
			    "--bindir' names, nor in %s/*/bin.",
			    root);
	cairn_error__hint("Install the PostgreSQL server (Debian and Ubuntu: "
			  "apt-get install postgresql), or set database_url "
			  "for the development environment.");
	return CAIRN_ERROR;
}

/*
 * Runs a server program (initdb, pg_ctl) from the bin directory, as the
 * postgres user when we are root.  Output is merged into r->out.
 */
static int run_pg(const struct devdb *d, cairn_spawn_result *r,
		  const char *prog, const char *const *args,
		  uint64_t timeout_ms)
{
	/* bare names: removed from the child's environment */
	static const char *const unset[] = {
	    "PGDATA", "PGPORT", "PGHOST", "PGHOSTADDR", "PGOPTIONS", NULL,
	};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_strvec argv = CAIRN_STRVEC_INIT;
	char *path = join(d->bindir, prog);
	size_t i;
	int rc = CAIRN_ERROR;

	memset(r, 0, sizeof(*r));
	if (!path)
		goto out;
	if (d->as_root) {
		if (cairn_strvec_push(&argv, runuser_path()) < 0 ||
		    cairn_strvec_push(&argv, "-u") < 0 ||
		    cairn_strvec_push(&argv, "postgres") < 0 ||
		    cairn_strvec_push(&argv, "--") < 0)
			goto out;
	}
	if (cairn_strvec_push(&argv, path) < 0)
		goto out;
	for (i = 0; args[i]; i++)
		if (cairn_strvec_push(&argv, args[i]) < 0)
			goto out;
	o.argv = (const char *const *)argv.items;
	o.env_add = unset;
	o.cwd = "/";
	o.merge_stderr = true;
	o.timeout_ms = timeout_ms;
	o.max_output = 256 * 1024;
	rc = cairn_spawn_run(r, &o);
out:
	cairn_strvec_dispose(&argv);
	free(path);
	return rc;
}

/* What went wrong with a server program, for an error detail. */
static void detail_from(const struct devdb *d, const cairn_spawn_result *r,
			const char *what, const char *log_path, off_t log_from)
{
	char *tail = log_path ? file_tail(d->dir_fd, "server.log",
					  LOG_TAIL_LINES, log_from)
			      : NULL;
	char *out = tail ? NULL : tail_lines(r->out.ptr, LOG_TAIL_LINES);
	char why[64];

	if (r->cancelled)
		snprintf(why, sizeof(why), "it was interrupted");
	else if (r->timed_out)
		snprintf(why, sizeof(why), "it timed out");
	else if (r->status > 128)
		snprintf(why, sizeof(why), "it was killed by signal %d",
			 r->status - 128);
	else
		snprintf(why, sizeof(why), "exit status %d", r->status);
	if (r->exec_failed)
		cairn_error__detail("%s: %s.", what, r->message);
	else if (tail)
		cairn_error__detail("%s (%s).  The server log '%s' ends "
				    "with:\n%s",
				    what, why, log_path, tail);
	else if (out)
		cairn_error__detail("%s (%s).  Its output ends with:\n%s", what,
				    why, out);
	else
		cairn_error__detail("%s (%s).", what, why);
	free(tail);
	free(out);
}

static int create_cluster(struct devdb *d)
{
	char *data = join(d->dir, "data");
	const char *args[] = {"-D",	      data, "-U",   "postgres",
			      "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
			      "-N",	      NULL};
	cairn_spawn_result r;
	int rc;

	if (!data)
		return CAIRN_ERROR;
	rc = run_pg(d, &r, "initdb", args, 300000);
	if (rc == 0 && r.status != 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_DB, START_FAILED);
		detail_from(d, &r, "initdb failed", NULL, 0);
		cairn_error__hint("Check that '%s' is writable by %s and "
				  "that the C.UTF-8 locale exists.",
				  d->dir,
				  d->as_root ? "the postgres user" : "you");
	}
	cairn_spawn_result_dispose(&r);
	free(data);
	return rc;
}

/*
 * Writes data/cairn.conf when it differs from what it should say, and
 * makes sure postgresql.conf includes it.
 */
static int write_settings(struct devdb *d)
{
	cairn_buf want = CAIRN_BUF_INIT, sockdir = CAIRN_BUF_INIT;
	char *conf = join(d->dir, "data/" CONF_NAME);
	char *main_conf = join(d->dir, "data/postgresql.conf");
	char *have = NULL, *text = NULL;
	const char *p;
	int rc = CAIRN_ERROR, fd = -1, data_fd = -1;

	if (!conf || !main_conf)
		goto out;
	if ((data_fd = open_data(d)) < 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot open '%s/data': %s", d->dir,
				      strerror(errno));
		goto out;
	}
	for (p = d->dir; *p; p++) /* '' quotes a ' in postgresql.conf */
		if (cairn_buf_putc(&sockdir, *p) < 0 ||
		    (*p == '\'' && cairn_buf_putc(&sockdir, '\'') < 0))
			goto out;
	if (cairn_buf_printf(
		&want,
		"# Written by cairn at every start of the development "
		"database:\n"
		"# a unix socket in the cluster's directory, no TCP port.\n"
		"listen_addresses = ''\n"
		"unix_socket_directories = '%s'\n"
		"port = " PG_PORT "\n",
		sockdir.ptr) < 0)
		goto out;
	/* anything but our own regular file there is simply replaced */
	if (read_file(&have, data_fd, CONF_NAME, conf, 65536) < 0)
		cairn_error_clear();
	if ((!have || strcmp(have, want.ptr)) &&
	    (rc = write_file(data_fd, CONF_NAME, conf, want.ptr, d)) < 0)
		goto out;

	/* read and appended through one descriptor, never through a link */
	rc = open_file_at(&fd, data_fd, "postgresql.conf", main_conf,
			  O_RDWR | O_APPEND);
	if (rc == CAIRN_ENOTFOUND)
		rc = cairn_error__set(CAIRN_ERRCLASS_OS, "cannot read '%s': %s",
				      main_conf, strerror(ENOENT));
	if (rc < 0 || (rc = read_fd(&text, fd, main_conf, 16 * 1024 * 1024)) < 0)
		goto out;
	rc = 0;
	if (!strstr(text, "\n" CONF_INCLUDE "\n")) {
		static const char line[] =
		    "\n# added by cairn\n" CONF_INCLUDE "\n";
		size_t off = 0;

		while (off < sizeof(line) - 1) {
			ssize_t n =
			    write(fd, line + off, sizeof(line) - 1 - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			off += (size_t)n;
		}
		if (off < sizeof(line) - 1)
			rc = cairn_error__set(CAIRN_ERRCLASS_OS,
					      "cannot write '%s': %s",
					      main_conf, strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	if (data_fd >= 0)
		close(data_fd);
	free(have);
	free(text);
	free(conf);
	free(main_conf);
	cairn_buf_dispose(&want);
	cairn_buf_dispose(&sockdir);
	return rc;
}

static int start_server(struct devdb *d)
{
	char *data = join(d->dir, "data");
	char *log = join(d->dir, "server.log");
	char secs[32];
	const char *args[] = {"-D", data, "-l",	   log, "-w",
			      "-t", secs, "start", NULL};
	uint64_t timeout =
	    d->opts->start_timeout_ms ? d->opts->start_timeout_ms : 60000;
	cairn_spawn_result r;
	struct stat st;
	off_t log_size = 0;
	int rc = CAIRN_ERROR;

	memset(&r, 0, sizeof(r));
	if (!data || !log)
		goto out;
	snprintf(secs, sizeof(secs), "%llu",
		 (unsigned long long)((timeout + 999) / 1000));
	if (fstatat(d->dir_fd, "server.log", &st, AT_SYMLINK_NOFOLLOW) == 0)
		log_size = st.st_size; /* the detail shows this start only */
	rc = run_pg(d, &r, "pg_ctl", args, timeout + 15000);
	if (rc == 0 && (r.status != 0 || !is_running(d->dir))) {
		rc = cairn_error__set(CAIRN_ERRCLASS_DB, START_FAILED);
		detail_from(d, &r, "pg_ctl start failed", log, log_size);
		cairn_error__hint("See '%s'.  If the cluster is damaged, "
				  "remove '%s' and start again (its data is "
				  "lost).",
				  log, d->dir);
	}
out:
	cairn_spawn_result_dispose(&r);
	free(data);
	free(log);
	return rc;
}

/*
 * True when the server answers (waiting, up to the start timeout, for
 * one that is still starting up).
 */
static bool wait_running(const struct devdb *d)
{
	uint64_t timeout =
	    d->opts->start_timeout_ms ? d->opts->start_timeout_ms : 60000;
	int64_t deadline = cairn__now_ms() + (int64_t)timeout;
	struct timespec ts = {0, 50 * 1000000L};

	for (;;) {
		PGPing p = ping(d->dir);

		if (p == PQPING_OK)
			return true;
		if (p != PQPING_REJECT || cairn__now_ms() > deadline)
			return false;
		nanosleep(&ts, NULL);
	}
}

int cairn_devdb_start(char **url_out, const cairn_devdb_options *opts)
{
	struct devdb d;
	char *url = NULL;
	int rc;

	if (url_out)
		*url_out = NULL;
	if ((rc = devdb_init(&d, opts)) < 0 ||
	    (rc = require_pg_user(&d, START_FAILED)) < 0 ||
	    (rc = prepare_cairn_dir(&d)) < 0 || (rc = locate_or_create(&d)) < 0)
		goto out;
	if (!(url = make_url(d.dir))) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if (!wait_running(&d)) {
		if ((rc = find_bindir(&d, START_FAILED)) < 0)
			goto out;
		if (!has_cluster(&d) && (rc = create_cluster(&d)) < 0)
			goto out;
		if ((rc = write_settings(&d)) < 0 ||
		    (rc = start_server(&d)) < 0)
			goto out;
	}
	if (url_out) {
		*url_out = url;
		url = NULL;
	}
	rc = 0;
out:
	free(url);
	devdb_dispose(&d);
	return rc;
}

static int stop_with(struct devdb *d, const char *mode, cairn_spawn_result *r)
{
	char *data = join(d->dir, "data");
	const char *args[] = {"-D", data, "-m",	  mode, "-w",
			      "-t", "60", "stop", NULL};
	int rc;

	if (!data) {
		memset(r, 0, sizeof(*r));
		return CAIRN_ERROR;
	}
	rc = run_pg(d, r, "pg_ctl", args, 75000);
	free(data);
	return rc;
}

int cairn_devdb_stop(const cairn_devdb_options *opts)
{
	struct devdb d;
	cairn_spawn_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = devdb_init(&d, opts)) < 0)
		goto out;
	if ((rc = open_cairn_dir(&d, false)) == CAIRN_ENOTFOUND) {
		rc = 0; /* never created: nothing to stop */
		goto out;
	}
	if (rc < 0 || (rc = take_lock(&d)) < 0)
		goto out;
	if ((rc = locate_existing(&d)) == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (!has_pid_file(&d))
		goto out; /* not running */
	if ((rc = require_pg_user(&d, STOP_FAILED)) < 0 ||
	    (rc = find_bindir(&d, STOP_FAILED)) < 0 ||
	    (rc = stop_with(&d, "fast", &r)) < 0)
		goto out;
	if (r.status == 0 || (!has_pid_file(&d) && !is_running(d.dir)))
		goto out;
	cairn_spawn_result_dispose(&r);
	if ((rc = stop_with(&d, "immediate", &r)) < 0)
		goto out;
	if (r.status != 0 && is_running(d.dir)) {
		char *log = join(d.dir, "server.log");

		rc = cairn_error__set(CAIRN_ERRCLASS_DB, STOP_FAILED);
		detail_from(&d, &r, "pg_ctl stop failed", NULL, 0);
		cairn_error__hint("See '%s'.", log ? log : d.dir);
		free(log);
	}
out:
	cairn_spawn_result_dispose(&r);
	devdb_dispose(&d);
	return rc;
}

int cairn_devdb_status(bool *running, char **url_out, char **dir_out,
		       const cairn_devdb_options *opts)
{
	struct devdb d;
	char *url = NULL;
	int rc;

	*running = false;
	if (url_out)
		*url_out = NULL;
	if (dir_out)
		*dir_out = NULL;
	if ((rc = devdb_init(&d, opts)) < 0)
		goto out;
	if ((rc = locate_existing(&d)) == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (url_out && !(url = make_url(d.dir))) {
		rc = CAIRN_ERROR;
		goto out;
	}
	*running = is_running(d.dir);
	if (url_out) {
		*url_out = url;
		url = NULL;
	}
	if (dir_out) {
		*dir_out = d.dir;
		d.dir = NULL;
	}
out:
	free(url);
	devdb_dispose(&d);
	return rc;
}

int cairn_devdb_url(char **url_out, const cairn_devdb_options *opts)
{
	struct devdb d;
	int rc;

	*url_out = NULL;
	if ((rc = devdb_init(&d, opts)) < 0 || (rc = locate_existing(&d)) < 0)
		goto out;
	if (!(*url_out = make_url(d.dir)))
		rc = CAIRN_ERROR;
out:
	devdb_dispose(&d);
	return rc;
}
