/*
 * cmd_new.c - `cairn new NAME`: create the next migration's files.
 *
 * The next version is one above the highest found at HEAD and in the
 * working tree (so two uncommitted migrations do not collide), written in
 * the width the project already uses; projects whose versions are 14-digit
 * timestamps get the current UTC time instead.  File names follow the
 * configured layout (layout: in cairn.yaml): V/U files for flyway, one
 * file with -- migrate:up/-- migrate:down sections for dbmate.
 *
 * Dotted versions (1.2.3): the next is the first part plus one ("2");
 * `--version V` writes the version the user chose instead (Flyway users
 * usually do), refused when a migration has it already.  With
 * `versions: per-directory` the next version is the next number in the
 * highest directory; `--version DIR/N` starts or continues another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

struct new_opts {
	bool no_down;
	bool timestamp;
	const char *version;
};

static int new_option(struct cli *cli, int c, const char *arg, void *payload)
{
	struct new_opts *o = payload;

	(void)cli;
	if (c == 'n')
		o->no_down = true;
	else if (c == 't')
		o->timestamp = true;
	else if (c == 'V')
		o->version = arg;
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Decimal increment of a digit string into out (width at least `width`). */
static int next_version(char *out, size_t outlen, const char *max,
			size_t width)
{
	char digits[32];
	size_t len = strlen(max), i;
	int carry = 1;

	if (len >= sizeof(digits) - 1)
		return -1;
	memcpy(digits, max, len + 1);
	for (i = len; i-- > 0 && carry;) {
		if (digits[i] == '9') {
			digits[i] = '0';
		} else {
			digits[i]++;
			carry = 0;
		}
	}
	if (carry) {
		memmove(digits + 1, digits, len + 1);
		digits[0] = '1';
		len++;
	}
	if (len > 20)
		return -1;
	if (width > 20)
		width = 20;
	if (width < len)
		width = len;
	if (width + 1 > outlen)
		return -1;
	memset(out, '0', width - len);
	memcpy(out + (width - len), digits, len + 1);
	return 0;
}

/* The number of a version, after its directory part ("0/12" -> "12"). */
static const char *number_of(const char *v)
{
	const char *slash = strrchr(v, '/');

	return slash ? slash + 1 : v;
}

static void consider(cairn_migration_set *set, const char **max,
		     size_t *width)
{
	size_t n = cairn_migration_set_count(set);

	for (size_t i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(set, i);
		/* the width of the first part as written */
		size_t w = strcspn(number_of(m->version_text), "._");

		if (!*max || cairn_version_compare(m->version, *max) > 0)
			*max = m->version;
		if (w > *width)
			*width = w;
	}
}

/*
 * --version V: a version the layout can name, that no migration has.
 * Fills prefix with its directory part ("" or "billing/").
 */
static int chosen_version(struct cli *cli, const struct cli_command *cmd,
			  const char *v, cairn_layout layout,
			  cairn_migration_set *wt, cairn_migration_set *head,
			  char *version, size_t vsize, char *prefix,
			  size_t psize)
{
	const char *num = number_of(v);
	bool dotted = strcspn(num, "._") != strlen(num);
	cairn_layout kind = CAIRN_LAYOUT_KIND(layout);

	if (!cairn_version_is_valid(v) || strlen(num) >= vsize ||
	    (size_t)(num - v) >= psize)
		return cli_usage_error(cli, cmd, "'%s' is not a migration version", v);
	if (num != v && !(layout & CAIRN_LAYOUT_PER_DIRECTORY))
		return cli_usage_error(cli, cmd,
			"'%s' names a directory, which only 'versions: per-directory' in cairn.yaml allows", v);
	if (dotted && (kind == CAIRN_LAYOUT_DBMATE ||
		       kind == CAIRN_LAYOUT_GOLANG_MIGRATE ||
		       (kind == CAIRN_LAYOUT_CAIRN && strchr(num, '_'))))
		return cli_usage_error(cli, cmd,
			"'%s' is not a version the %s layout can name", v,
			cairn_layout_name(layout));
	if (cairn_migration_set_find(wt, v) ||
	    (head && cairn_migration_set_find(head, v))) {
		cli_errorf(cli, "version %s exists already", v);
		return CLI_EXIT_FAIL;
	}
	snprintf(version, vsize, "%s", num);
	snprintf(prefix, psize, "%.*s", (int)(num - v), v);
	return 0;
}

static int write_new(struct cli *cli, const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	size_t len = strlen(text);

	if (fd < 0) {
		cli_errorf(cli, "cannot create '%s': %s", path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		cli_errorf(cli, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return CLI_EXIT_FAIL;
	}
	close(fd);
	return 0;
}

/* The dbmate layout: one file with both sections; frees the sets. */
static int new_dbmate(struct cli *cli, const char *wd, const char *dir,
		      const char *version, const char *name,
		      cairn_migration_set *wt, cairn_migration_set *head)
{
	char path[4400], text[600];
	int rc;

	snprintf(path, sizeof(path), "%s/%s_%s.sql", dir, version, name);
	snprintf(text, sizeof(text),
		 "-- migrate:up\n"
		 "-- %s_%s: write the change here (transaction:false on the "
		 "marker line runs it outside a transaction).\n"
		 "\n"
		 "-- migrate:down\n"
		 "-- %s_%s: undo the change here.\n",
		 version, name, version, name);
	rc = write_new(cli, path, text);
	if (rc == 0 && cli->verbosity >= 0)
		printf("%s\n", path + strlen(wd));
	cairn_migration_set_free(head);
	cairn_migration_set_free(wt);
	return rc;
}

int cmd_new(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-down", no_argument, NULL, 'n' },
		{ "timestamp", no_argument, NULL, 't' },
		{ "version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("new");
	struct new_opts o = { false, false, NULL };
	cairn_migration_set *head = NULL, *wt = NULL;
	const cairn_config *cfg;
	cairn_repo *repo = NULL;
	const char *max = NULL, *name, *wd;
	size_t width = 0, minw = 4;
	cairn_layout layout;
	char version[32], dir[4096], up[4400], down[4400], text[600];
	char prefix[300] = "", first_part[32];
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", new_option, &o,
			       &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first + 1 != argc)
		return cli_usage_error(cli, cmd, first >= argc ?
				       "a migration name is needed" :
				       "too many arguments");
	name = argv[first];
	if (!valid_name(name))
		return cli_usage_error(cli, cmd,
			"bad migration name '%s': use letters, digits, '_' and '-'",
			name);
	if ((rc = cli_repo(cli, &repo)) || (rc = cli_config(cli, &cfg)))
		return rc;
	wd = cairn_repo_workdir(repo);
	if (!wd) {
		cli_errorf(cli, "cannot create migrations in a bare repository");
		return CLI_EXIT_GIT;
	}
	/* HEAD may not exist yet in a new repository */
	if (cli_load_set(cli, NULL, true, &wt))
		return CLI_EXIT_FAIL;
	{
		cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;

		lo.rev = "HEAD";
		lo.dir = cfg->migrations_dir;
		lo.layout = (cairn_layout)cfg->layout;
		lo.dialect = cfg->dialect;
		if (cairn_migration_set_load(&head, repo, &lo) < 0)
			cairn_error_clear();
	}
	consider(wt, &max, &width);
	if (head)
		consider(head, &max, &width);
	layout = CAIRN_LAYOUT_KIND(cfg->layout);
	if (o.version) {
		rc = chosen_version(cli, cmd, o.version, (cairn_layout)cfg->layout,
				    wt, head, version, sizeof(version), prefix,
				    sizeof(prefix));
		if (rc)
			goto out;
		goto named;
	}
	if (max) {
		/* the next number in the highest directory; a dotted
		 * version's first part plus one */
		const char *num = number_of(max);
		size_t fl = strcspn(num, ".");

		snprintf(prefix, sizeof(prefix), "%.*s", (int)(num - max), max);
		snprintf(first_part, sizeof(first_part), "%.*s", (int)fl, num);
		max = first_part;
	}
	if (layout == CAIRN_LAYOUT_DBMATE && !max)
		o.timestamp = true; /* dbmate's own versions are timestamps */
	if ((layout == CAIRN_LAYOUT_FLYWAY ||
	     (cfg->layout & CAIRN_LAYOUT_PER_DIRECTORY)) && width < 4)
		minw = width ? width : 1;
	if (o.timestamp || width >= 14) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(version, sizeof(version), "%Y%m%d%H%M%S", &tm);
		if (max && cairn_version_compare(version, max) <= 0 &&
		    next_version(version, sizeof(version), max, 14) < 0)
			goto toobig;
	} else if (!max) {
		snprintf(version, sizeof(version), "%0*d", (int)minw, 1);
	} else if (next_version(version, sizeof(version), max,
				width < minw ? minw : width) < 0) {
		goto toobig;
	}
named:
	snprintf(dir, sizeof(dir), "%s%s%s%.*s", wd, cfg->migrations_dir,
		 *prefix ? "/" : "", *prefix ? (int)strlen(prefix) - 1 : 0,
		 prefix);
	{
		/* create the directory (and parents) when missing */
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s", dir);
		for (char *p = tmp + strlen(wd); *p; p++) {
			if (*p == '/') {
				*p = '\0';
				mkdir(tmp, 0755);
				*p = '/';
			}
		}
		mkdir(tmp, 0755);
	}
	if (layout == CAIRN_LAYOUT_DBMATE)
		return new_dbmate(cli, wd, dir, version, name, wt, head);
	if (layout == CAIRN_LAYOUT_FLYWAY) {
		snprintf(up, sizeof(up), "%s/V%s__%s.sql", dir, version, name);
		snprintf(down, sizeof(down), "%s/U%s__%s.sql", dir, version,
			 name);
	} else {
		snprintf(up, sizeof(up), "%s/%s_%s.up.sql", dir, version, name);
		snprintf(down, sizeof(down), "%s/%s_%s.down.sql", dir, version,
			 name);
	}
	snprintf(text, sizeof(text),
		 "-- %s_%s: write the change here.\n"
		 "-- Directives go on leading lines, e.g. -- cairn: no-transaction\n",
		 version, name);
	if ((rc = write_new(cli, up, text)))
		goto out;
	if (!o.no_down) {
		snprintf(text, sizeof(text),
			 "-- %s_%s: undo the change of the up file here.\n",
			 version, name);
		if ((rc = write_new(cli, down, text))) {
			unlink(up);
			goto out;
		}
	}
	if (cli->verbosity >= 0) {
		printf("%s\n", up + strlen(wd));
		if (!o.no_down)
			printf("%s\n", down + strlen(wd));
	}
	rc = 0;
	goto out;
toobig:
	cli_errorf(cli, "no version left above %s (versions have at most 20 digits)",
		   max);
	rc = CLI_EXIT_FAIL;
out:
	cairn_migration_set_free(head);
	cairn_migration_set_free(wt);
	return rc;
}
