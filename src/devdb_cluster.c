/*
 * devdb_cluster.c - the built-in development database's server: initdb,
 * pg_ctl start and stop, status and the connection URL; the contract is
 * in include/cairn/devdb.h.  Where the cluster lives, and the checks
 * made before it is used, are in src/devdb_location.c.
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

 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "devdb_internal.h"
#include "util/buf.h"
#include "cairn/devdb.h"
#include "util/error.h"
#include "util/spawn.h"
#include "util/util.h"

#define LOG_TAIL_LINES 8
#define CONF_NAME "cairn.conf"
#define CONF_INCLUDE "include '" CONF_NAME "'"

#define START_FAILED "cannot start the development database"
#define STOP_FAILED "cannot stop the development database"

static bool is_executable(const char *dir, const char *prog)
{
	char *p = cairn_devdb__join(dir, prog);
	bool ok = p && access(p, X_OK) == 0;

	free(p);
	return ok;
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
			vdir = cairn_devdb__join(root, e->d_name);
			bin = vdir ? cairn_devdb__join(vdir, "bin") : NULL;
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
	char *path = cairn_devdb__join(d->bindir, prog);
	size_t i;
	int rc = CAIRN_ERROR;

	memset(r, 0, sizeof(*r));
	if (!path)
		goto out;
	if (d->as_root) {
		if (cairn_strvec_push(&argv, cairn_devdb__runuser_path()) < 0 ||
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
	char *tail = log_path ? cairn_devdb__file_tail(d->dir_fd, "server.log",
						       LOG_TAIL_LINES, log_from)
			      : NULL;
	char *out =
	    tail ? NULL : cairn_devdb__tail_lines(r->out.ptr, LOG_TAIL_LINES);
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
	char *data = cairn_devdb__join(d->dir, "data");
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
	char *conf = cairn_devdb__join(d->dir, "data/" CONF_NAME);
	char *main_conf = cairn_devdb__join(d->dir, "data/postgresql.conf");
	char *have = NULL, *text = NULL;
	const char *p;
	int rc = CAIRN_ERROR, fd = -1, data_fd = -1;

	if (!conf || !main_conf)
		goto out;
	if ((data_fd = cairn_devdb__open_data(d)) < 0) {
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
	if (cairn_devdb__read_file(&have, data_fd, CONF_NAME, conf, 65536) < 0)
		cairn_error_clear();
	if ((!have || strcmp(have, want.ptr)) &&
	    (rc = cairn_devdb__write_file(data_fd, CONF_NAME, conf, want.ptr,
					  d)) < 0)
		goto out;

	/* read and appended through one descriptor, never through a link */
	rc = cairn_devdb__open_file_at(&fd, data_fd, "postgresql.conf",
				       main_conf, O_RDWR | O_APPEND);
	if (rc == CAIRN_ENOTFOUND)
		rc = cairn_error__set(CAIRN_ERRCLASS_OS, "cannot read '%s': %s",
				      main_conf, strerror(ENOENT));
	if (rc < 0 || (rc = cairn_devdb__read_fd(&text, fd, main_conf,
						 16 * 1024 * 1024)) < 0)
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
	char *data = cairn_devdb__join(d->dir, "data");
	char *log = cairn_devdb__join(d->dir, "server.log");
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
	if ((rc = cairn_devdb__init(&d, opts)) < 0 ||
	    (rc = cairn_devdb__require_pg_user(&d, START_FAILED)) < 0 ||
	    (rc = cairn_devdb__prepare_cairn_dir(&d)) < 0 ||
	    (rc = cairn_devdb__locate_or_create(&d)) < 0)
		goto out;
	if (!(url = make_url(d.dir))) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if (!wait_running(&d)) {
		if ((rc = find_bindir(&d, START_FAILED)) < 0)
			goto out;
		if (!cairn_devdb__has_cluster(&d) &&
		    (rc = create_cluster(&d)) < 0)
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
	cairn_devdb__dispose(&d);
	return rc;
}

static int stop_with(struct devdb *d, const char *mode, cairn_spawn_result *r)
{
	char *data = cairn_devdb__join(d->dir, "data");
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
	if ((rc = cairn_devdb__init(&d, opts)) < 0)
		goto out;
	if ((rc = cairn_devdb__open_cairn_dir(&d, false)) == CAIRN_ENOTFOUND) {
		rc = 0; /* never created: nothing to stop */
		goto out;
	}
	if (rc < 0 || (rc = cairn_devdb__take_lock(&d)) < 0)
		goto out;
	if ((rc = cairn_devdb__locate_existing(&d)) == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (!cairn_devdb__has_pid_file(&d))
		goto out; /* not running */
	if ((rc = cairn_devdb__require_pg_user(&d, STOP_FAILED)) < 0 ||
	    (rc = find_bindir(&d, STOP_FAILED)) < 0 ||
	    (rc = stop_with(&d, "fast", &r)) < 0)
		goto out;
	if (r.status == 0 ||
	    (!cairn_devdb__has_pid_file(&d) && !is_running(d.dir)))
		goto out;
	cairn_spawn_result_dispose(&r);
	if ((rc = stop_with(&d, "immediate", &r)) < 0)
		goto out;
	if (r.status != 0 && is_running(d.dir)) {
		char *log = cairn_devdb__join(d.dir, "server.log");

		rc = cairn_error__set(CAIRN_ERRCLASS_DB, STOP_FAILED);
		detail_from(&d, &r, "pg_ctl stop failed", NULL, 0);
		cairn_error__hint("See '%s'.", log ? log : d.dir);
		free(log);
	}
out:
	cairn_spawn_result_dispose(&r);
	cairn_devdb__dispose(&d);
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
	if ((rc = cairn_devdb__init(&d, opts)) < 0)
		goto out;
	if ((rc = cairn_devdb__locate_existing(&d)) == CAIRN_ENOTFOUND) {
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
	cairn_devdb__dispose(&d);
	return rc;
}

int cairn_devdb_url(char **url_out, const cairn_devdb_options *opts)
{
	struct devdb d;
	int rc;

	*url_out = NULL;
	if ((rc = cairn_devdb__init(&d, opts)) < 0 ||
	    (rc = cairn_devdb__locate_existing(&d)) < 0)
		goto out;
	if (!(*url_out = make_url(d.dir)))
		rc = CAIRN_ERROR;
out:
	cairn_devdb__dispose(&d);
	return rc;
}
