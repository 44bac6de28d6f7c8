/*
 * devdb_internal.h - what the files of the built-in development database
 * share (the contract is include/cairn/devdb.h): the state of one
 * command (struct devdb), the file helpers that work under directory
 * descriptors (src/devdb_files.c), and finding the cluster directory and
 * checking its ownership (src/devdb_location.c).  Starting, stopping and
 * asking about the server is src/devdb_cluster.c.
 */
#ifndef CAIRN_SRC_DEVDB_INTERNAL_H
#define CAIRN_SRC_DEVDB_INTERNAL_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cairn/devdb.h"

#define PG_PORT "5432"

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

/* ---- src/devdb_files.c ------------------------------------------------ */

/* "a/b", newly allocated; NULL when out of memory. */
char *cairn_devdb__join(const char *a, const char *b);

/* True when name exists under at (a symbolic link counts; not followed). */
bool cairn_devdb__exists_at(int at, const char *name);

/* Reads up to max bytes from fd (from its offset) into *out. */
CAIRN_WARN_UNUSED int cairn_devdb__read_fd(char **out, int fd,
					   const char *shown, size_t max);

/*
 * Opens name under at for reading or appending: never through a
 * symbolic link, never a FIFO or device.  CAIRN_ENOTFOUND (no error) if
 * absent.
 */
CAIRN_WARN_UNUSED int cairn_devdb__open_file_at(int *out, int at,
						const char *name,
						const char *shown, int flags);

/* Reads up to max bytes of name under at; CAIRN_ENOTFOUND if absent. */
CAIRN_WARN_UNUSED int cairn_devdb__read_file(char **out, int at,
					     const char *name,
					     const char *shown, size_t max);

/* The last lines of a file or text, for an error detail; NULL if none. */
char *cairn_devdb__tail_lines(const char *text, int lines);

/* The last lines of what was written to name under at after `from`. */
char *cairn_devdb__file_tail(int at, const char *name, int lines,
			     off_t from);

/*
 * Writes name under at through a temporary file and renameat(): a link
 * or anything else already at name is replaced, never written through.
 * When d is given and we are root, the file goes to the postgres user.
 */
CAIRN_WARN_UNUSED int cairn_devdb__write_file(int at, const char *name,
					      const char *shown,
					      const char *data,
					      const struct devdb *d);

/* Refuses a directory that is a link or not a directory at all. */
CAIRN_WARN_UNUSED int cairn_devdb__refuse_dir(const char *shown,
					      const char *why);

/*
 * Opens name under at as a directory, never through a symbolic link.
 * CAIRN_ENOTFOUND (no error set) when absent.
 */
CAIRN_WARN_UNUSED int cairn_devdb__open_dir_at(int *out, int at,
					       const char *name,
					       const char *shown);

/* ---- src/devdb_location.c --------------------------------------------- */

/* Fills d for one command from opts (the work dir, the postgres user). */
CAIRN_WARN_UNUSED int cairn_devdb__init(struct devdb *d,
					const cairn_devdb_options *opts);

/* Closes d's descriptors (releasing the lock) and frees its paths. */
void cairn_devdb__dispose(struct devdb *d);

/* As root, refuses (with primary as the message) when there is no
 * postgres user to run the server as. */
CAIRN_WARN_UNUSED int cairn_devdb__require_pg_user(const struct devdb *d,
						   const char *primary);

/* data/ under the cluster directory, opened without following a link. */
CAIRN_WARN_UNUSED int cairn_devdb__open_data(const struct devdb *d);

/* True when data/postmaster.pid exists (the server may be running). */
bool cairn_devdb__has_pid_file(const struct devdb *d);

/* True when the cluster directory holds an initialised cluster. */
bool cairn_devdb__has_cluster(const struct devdb *d);

/* Opens .cairn (creating it when asked); CAIRN_ENOTFOUND if absent. */
CAIRN_WARN_UNUSED int cairn_devdb__open_cairn_dir(struct devdb *d,
						  bool create);

/* Takes the flock on .cairn/devdb.lock (.cairn must be open). */
CAIRN_WARN_UNUSED int cairn_devdb__take_lock(struct devdb *d);

/* Creates .cairn/, takes the lock, writes .cairn/.gitignore. */
CAIRN_WARN_UNUSED int cairn_devdb__prepare_cairn_dir(struct devdb *d);

/* Finds an existing cluster; CAIRN_ENOTFOUND (error set) when none. */
CAIRN_WARN_UNUSED int cairn_devdb__locate_existing(struct devdb *d);

/* Finds the cluster directory, choosing (and creating) one if needed. */
CAIRN_WARN_UNUSED int cairn_devdb__locate_or_create(struct devdb *d);

/* runuser(1): where util-linux installs it, else from PATH. */
const char *cairn_devdb__runuser_path(void);

#endif
